/**
 * Service groups over the network (RSMS §IV.B, issue 19): the MSRP service forms a group and
 * relays its rounds through its mailbox; the user and the RNs take part as clients, each with its
 * own keys; the user asks for the key update that evicts a member the trust layer flagged. One
 * process, the in-process chain, the same code as `rsms:serve msrp`. Threats: a round message
 * relayed (signed by another party), swapped (another group's session or body), replayed (the same
 * bytes again, the same id with other bytes, an old one) or equivocated (another message for a
 * filled slot); a retry with no second effect; a crash between the chain and the reply; an
 * evicted member that tries to read the new key.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { msrpRequest, rsmsServices, tmp } from "../helpers/rsms-services";
import { naming, recordRpc } from "../helpers/rpc-record";
import { Keystore } from "../../offchain/storage/keystore";
import { GroupParty } from "../../offchain/rsms/group";
import { equalBytes, toHex } from "../../offchain/crypto/bytes";
import { TrustLedger } from "../../offchain/trust/ledger";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { MsrpService } from "../../offchain/services/rsms/msrp-service";
import { joinRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import {
  heldKey,
  localParty,
  registerUserRemote,
  rekeyRemote,
  requestGroupRemote,
  takePart,
} from "../../offchain/services/rsms/group-clients";
import { Round, decodeGroupMailbox, encodeGroupFetch, encodeGroupPost, groupSession } from "../../offchain/services/rsms/group-wire";
import { Route, Scheme, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { onFault } from "../../offchain/services/faults";
import { ServiceError, postEnvelope } from "../../offchain/services/client";
import { ServiceGroupRegistry__factory, TrustManager__factory } from "../../typechain-types";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

async function system() {
  const s = await rsmsServices({ groups: true });
  const tmAddress = s.f.deployment.contracts.TrustManager.address;
  const signers = await hre.ethers.getSigners();
  const detector = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[TRUST_ROLE_SIGNERS.detector]));
  const controller = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[9]));
  return { ...s, detector, controller };
}

const post = (url: string, body: Uint8Array) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: Buffer.from(body) });

describe("services/rsms: service groups through the MSRP's mailbox", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof system>>;
  let msrp: MsrpService;
  /** each party's own machine */
  const machines = new Map<string, Keystore>();
  const ks = (name: string) => machines.get(name)!;
  const rns = ["a", "b", "c", "d"];
  let gid: Uint8Array;
  let members: string[] = [];
  const nameOf = (pid: Uint8Array) => [...machines.keys()].find((n) => equalBytes(localParty(ks(n), n).pid, pid))!;
  const fields = (route: number, session: Uint8Array, body: Uint8Array) => msrpRequest(s.dep, route, session, body);
  const groupFormedCount = async () => {
    const reg = ServiceGroupRegistry__factory.connect(s.groupsAddress, hre.ethers.provider);
    return (await reg.queryFilter(reg.filters.GroupFormed())).length;
  };

  before(async () => {
    s = await system();
    msrp = s.msrp;
    for (const n of [...rns, "alice"]) machines.set(n, new Keystore(tmp(`m-${n}`), ""));
    for (const n of rns)
      await registerRnRemote({ msrpUrl: s.msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: s.enrol(n), keystore: ks(n), dep: s.dep });
    expect(await msrp.publishDue()).to.equal(1);
    for (const n of rns) await joinRemote({ name: n, poolId: 1, keystore: ks(n), dep: s.dep });
  });
  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    await s?.rpm.stop();
    await msrp?.stop();
  });

  it("a user registers over HTTP: her machine holds sk_User and PID_User, the MSRP its copy; a retry gets the same keys", async () => {
    const r = await registerUserRemote({
      msrpUrl: s.msrpUrl,
      name: "alice",
      rid: "user:alice",
      token: s.enrol("alice", "user"),
      keystore: ks("alice"),
      dep: s.dep,
    });
    expect(toHex(r.pid)).to.equal(toHex(msrp.msrp.userCredentials("alice").pid));
    expect(localParty(ks("alice"), "alice").pk.equals(msrp.msrp.userCredentials("alice").pk)).to.equal(true);
    const again = await registerUserRemote({
      msrpUrl: s.msrpUrl,
      name: "alice",
      rid: "user:alice",
      keystore: ks("alice"),
      dep: s.dep,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(again?.message).to.match(/already registered here/);
  });

  it("formation: the MSRP records the group on-chain once (a retried request gets the same reply); user and RNs agree on the key through the mailbox", async () => {
    const before = await groupFormedCount();
    const g = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "alice", size: 2, keystore: ks("alice"), dep: s.dep });
    gid = g.groupId;
    members = g.pids.slice(1).map(nameOf);
    expect(members).to.have.length(2);
    expect(await groupFormedCount()).to.equal(before + 1);
    // the RNs learn of the group from the chain
    const { groupsOf } = await import("../../offchain/services/rsms/group-clients");
    const reg = ServiceGroupRegistry__factory.connect(s.groupsAddress, hre.ethers.provider);
    for (const m of members) expect((await groupsOf(reg, localParty(ks(m), m).pid)).map(toHex)).to.include(toHex(gid));
    const parties = ["alice", ...members];
    const out = await Promise.all(
      parties.map((n) => takePart({ msrpUrl: s.msrpUrl, name: n, groupId: gid, keystore: ks(n), dep: s.dep, pollMs: 50 })),
    );
    expect(new Set(out.map((o) => toHex(o.key))).size).to.equal(1);
    expect(out.every((o) => o.epoch === 0 && !o.already && o.parties === 3)).to.equal(true);
    // a second run changes nothing: the key is kept in each party's keystore
    const again = await takePart({ msrpUrl: s.msrpUrl, name: members[0], groupId: gid, keystore: ks(members[0]), dep: s.dep });
    expect(again.already).to.equal(true);
    expect(toHex(again.key)).to.equal(toHex(out[0].key));
  });

  it("a retried group request (the same envelope) gets the same reply bytes and forms nothing more; the same group id in a new request, or a request signed by another key, is refused", async () => {
    const me = localParty(ks("alice"), "alice");
    const { encodeGroupRequest } = await import("../../offchain/services/rsms/group-wire");
    const g2 = new Uint8Array(32).fill(7);
    const env = sealEnvelope(fields(Route.GroupRequest, groupSession(g2, 0), encodeGroupRequest({ groupId: g2, size: 1, user: "alice" })), {
      scheme: Scheme.Schnorr,
      sk: me.sk,
    });
    const before = await groupFormedCount();
    const r1 = await postEnvelope(s.msrpUrl, "/v1/group/request", env, once);
    const r2 = await postEnvelope(s.msrpUrl, "/v1/group/request", env, once);
    expect(toHex(r2)).to.equal(toHex(r1));
    expect(await groupFormedCount()).to.equal(before + 1);
    // the same group id in a new request: refused, nothing formed
    const env2 = sealEnvelope(
      fields(Route.GroupRequest, groupSession(g2, 0), encodeGroupRequest({ groupId: g2, size: 1, user: "alice" })),
      {
        scheme: Scheme.Schnorr,
        sk: me.sk,
      },
    );
    const res = await post(`${s.msrpUrl}/v1/group/request`, env2);
    expect(res.status).to.equal(422);
    expect(((await res.json()) as { reason: string }).reason).to.equal("GROUP_EXISTS");
    // signed by an RN, not by the user the request names: refused
    const rn = localParty(ks("a"), "a");
    const g3 = new Uint8Array(32).fill(8);
    const forged = sealEnvelope(
      fields(Route.GroupRequest, groupSession(g3, 0), encodeGroupRequest({ groupId: g3, size: 1, user: "alice" })),
      {
        scheme: Scheme.Schnorr,
        sk: rn.sk,
      },
    );
    expect((await post(`${s.msrpUrl}/v1/group/request`, forged)).status).to.equal(401);
    expect(await groupFormedCount()).to.equal(before + 1);
  });

  it("round messages: a relayed, swapped, replayed or equivocated one is refused; a retry stores nothing twice", async () => {
    // a fresh group whose rounds nobody has run yet
    const g = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "alice", size: 2, keystore: ks("alice"), dep: s.dep });
    const me = localParty(ks("alice"), "alice");
    const other = nameOf(g.pids[1]);
    const rn = localParty(ks(other), other);
    const fetchEnv = sealEnvelope(
      fields(Route.GroupFetch, groupSession(g.groupId, 0), encodeGroupFetch({ groupId: g.groupId, pid: me.pid })),
      {
        scheme: Scheme.Schnorr,
        sk: me.sk,
      },
    );
    const box = decodeGroupMailbox(openEnvelope(await postEnvelope(s.msrpUrl, "/v1/group/fetch", fetchEnv, once)).body);
    const scratch = new GroupParty("alice", me.pid, me.sk);
    const view = await s.dep.groups.view(g.groupId);
    const m1 = scratch.acceptAllocation(box.mine, view);
    const body = encodeGroupPost({ groupId: g.groupId, epoch: 0, round: Round.Membership, from: 0, messages: [m1] });
    const status = async (env: Uint8Array) => {
      const r = await post(`${s.msrpUrl}/v1/group/post`, env);
      return [r.status, r.ok ? "accepted" : ((await r.json()) as { reason?: string }).reason];
    };
    const filled = () => (msrp.desk!.mailbox(g.groupId)!.rounds[Round.Membership] ?? {})["0"];
    // relayed: the user's broadcast signed by an RN
    expect(
      await status(sealEnvelope(fields(Route.GroupPost, groupSession(g.groupId, 0), body), { scheme: Scheme.Schnorr, sk: rn.sk })),
    ).to.deep.equal([401, "BAD_SIGNATURE"]);
    // swapped: signed for the first group's session, or carrying the first group's id
    expect(
      await status(sealEnvelope(fields(Route.GroupPost, groupSession(gid, 0), body), { scheme: Scheme.Schnorr, sk: me.sk })),
    ).to.deep.equal([400, "WRONG_SESSION"]);
    const moved = encodeGroupPost({ groupId: gid, epoch: 0, round: Round.Membership, from: 0, messages: [m1] });
    expect(
      (await status(sealEnvelope(fields(Route.GroupPost, groupSession(gid, 0), moved), { scheme: Scheme.Schnorr, sk: me.sk })))[0],
    ).to.be.oneOf([422, 400]);
    // another party's slot
    const asOther = encodeGroupPost({ groupId: g.groupId, epoch: 0, round: Round.Membership, from: 1, messages: [m1] });
    expect(
      await status(sealEnvelope(fields(Route.GroupPost, groupSession(g.groupId, 0), asOther), { scheme: Scheme.Schnorr, sk: rn.sk })),
    ).to.deep.equal([422, "WRONG_INDEX"]);
    expect(filled()).to.equal(undefined);
    // the honest post, then its retry: the same reply bytes, one entry
    const env = sealEnvelope(fields(Route.GroupPost, groupSession(g.groupId, 0), body), { scheme: Scheme.Schnorr, sk: me.sk });
    const r1 = await postEnvelope(s.msrpUrl, "/v1/group/post", env, once);
    const r2 = await postEnvelope(s.msrpUrl, "/v1/group/post", env, once);
    expect(toHex(r2)).to.equal(toHex(r1));
    expect(filled()).to.deep.equal([toHex(m1)]);
    // the same id with other bytes: refused
    const raw = openEnvelope(env);
    const sameId = sealEnvelope(
      { ...fields(Route.GroupPost, groupSession(g.groupId, 0), body), requestId: raw.requestId, issuedAt: raw.issuedAt + 1 },
      {
        scheme: Scheme.Schnorr,
        sk: me.sk,
      },
    );
    expect(await status(sameId)).to.deep.equal([409, "REQUEST_ID_REUSED"]);
    // a replay from outside the window: refused
    const old = sealEnvelope(
      { ...fields(Route.GroupPost, groupSession(g.groupId, 0), body), issuedAt: Date.now() - 3_600_000 },
      { scheme: Scheme.Schnorr, sk: me.sk },
    );
    expect(await status(old)).to.deep.equal([400, "STALE"]);
    // the same broadcast in a new envelope: accepted, no second effect
    expect(
      (
        await post(
          `${s.msrpUrl}/v1/group/post`,
          sealEnvelope(fields(Route.GroupPost, groupSession(g.groupId, 0), body), { scheme: Scheme.Schnorr, sk: me.sk }),
        )
      ).status,
    ).to.equal(200);
    // another broadcast for the filled slot (a fresh proof): equivocation, refused
    const m1b = new GroupParty("alice", me.pid, me.sk).acceptAllocation(box.mine, view);
    const body2 = encodeGroupPost({ groupId: g.groupId, epoch: 0, round: Round.Membership, from: 0, messages: [m1b] });
    expect(
      await status(sealEnvelope(fields(Route.GroupPost, groupSession(g.groupId, 0), body2), { scheme: Scheme.Schnorr, sk: me.sk })),
    ).to.deep.equal([422, "EQUIVOCATION"]);
    expect(filled()).to.deep.equal([toHex(m1)]);
    // key shares before every broadcast is in: refused
    const early = encodeGroupPost({ groupId: g.groupId, epoch: 0, round: Round.KeyShares, from: 0, messages: [m1] });
    expect(
      (await status(sealEnvelope(fields(Route.GroupPost, groupSession(g.groupId, 0), early), { scheme: Scheme.Schnorr, sk: me.sk })))[0],
    ).to.be.oneOf([400, 422]);
    // an outsider cannot read the mailbox
    const outsiderName = rns.find((n) => !g.pids.some((p) => equalBytes(p, localParty(ks(n), n).pid)))!;
    const outsider = localParty(ks(outsiderName), outsiderName);
    const peek = sealEnvelope(fields(Route.GroupFetch, groupSession(g.groupId, 0), encodeGroupFetch({ groupId: g.groupId, pid: me.pid })), {
      scheme: Scheme.Schnorr,
      sk: outsider.sk,
    });
    const pr = await post(`${s.msrpUrl}/v1/group/fetch`, peek);
    const pj = (await pr.json()) as { reason?: string; message: string };
    expect([pr.status, pj.reason], pj.message).to.deep.equal([401, "BAD_SIGNATURE"]);
  });

  it("rekey: the member the trust layer flagged is evicted, a fresh RN added; the rest read the new key, the evicted one cannot", async () => {
    const victim = members[1];
    const vpid = localParty(ks(victim), victim).pid;
    const oldKey = heldKey(localParty(ks("alice"), "alice").party, gid, 0);
    // not flagged: refused, nothing changes
    const refused = await rekeyRemote({
      msrpUrl: s.msrpUrl,
      user: "alice",
      groupId: gid,
      evict: [vpid],
      keystore: ks("alice"),
      dep: s.dep,
      retry: once,
    }).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(refused?.reason).to.equal("NOT_FLAGGED");
    expect((await s.dep.groups.view(gid)).epoch).to.equal(0);
    // the detector flags it (on-off attack, kind 1) on the TrustManager
    await s.controller.register(toHex(vpid), "resource-node", s.msrpWallet);
    await s.detector.flag(toHex(vpid), 1, new Uint8Array(32), 0);
    const { out: r, calls } = await recordRpc(() =>
      rekeyRemote({ msrpUrl: s.msrpUrl, user: "alice", groupId: gid, keystore: ks("alice"), dep: s.dep }),
    );
    expect(r.epoch).to.equal(1);
    expect(r.evicted.map(toHex)).to.deep.equal([toHex(vpid)]);
    // the desk reads the flag log once and the flagged member's entity once (s14 final read 6)
    const flagTopic = TrustManager__factory.createInterface().getEvent("EntityFlagged").topicHash.slice(2);
    expect(
      {
        flagLogReads: calls.filter((c) => c.method === "eth_getLogs" && c.params.includes(flagTopic)).length,
        entityReads: naming(calls, vpid),
      },
      "chain reads of one rekey",
    ).to.deep.equal({ flagLogReads: 1, entityReads: 1 });
    expect(r.added).to.have.length(1);
    expect(await s.dep.groups.isMember(gid, vpid)).to.equal(false);
    expect(msrp.msrp.suspiciousRns()).to.include(victim);
    const added = nameOf(r.added[0]);
    const stay = ["alice", members[0], added];
    const out = await Promise.all(stay.map((n) => takePart({ msrpUrl: s.msrpUrl, name: n, groupId: gid, keystore: ks(n), dep: s.dep })));
    expect(new Set(out.map((o) => toHex(o.key))).size).to.equal(1);
    expect(toHex(out[0].key)).to.not.equal(toHex(oldKey));
    // the evicted member: the mailbox refuses it, and the key sealed to a remaining member does not open for it
    const err = await takePart({ msrpUrl: s.msrpUrl, name: victim, groupId: gid, keystore: ks(victim), dep: s.dep, retry: once }).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(err?.reason).to.equal("NOT_A_MEMBER");
    const stayer = localParty(ks(members[0]), members[0]);
    const fetchEnv = sealEnvelope(fields(Route.GroupFetch, groupSession(gid, 0), encodeGroupFetch({ groupId: gid, pid: stayer.pid })), {
      scheme: Scheme.Schnorr,
      sk: stayer.sk,
    });
    const box = decodeGroupMailbox(openEnvelope(await postEnvelope(s.msrpUrl, "/v1/group/fetch", fetchEnv, once)).body);
    const evicted = localParty(ks(victim), victim).party;
    const view1 = await s.dep.groups.view(gid);
    expect(() => evicted.acceptRekey(box.mine, view1, box.roster)).to.throw();
    // traffic of the new epoch does not open for it
    const ct = localParty(ks("alice"), "alice").party.seal(gid, new TextEncoder().encode("epoch 1"));
    expect(() => evicted.open(ct)).to.throw(/epoch|CHANNEL|key/i);
    expect(new TextDecoder().decode(localParty(ks(added), added).party.open(ct).plaintext)).to.equal("epoch 1");
  });

  it("a replayed rekey request (the same bytes) gets the same reply and rekeys once; a request for an old epoch is refused", async () => {
    const me = localParty(ks("alice"), "alice");
    const { encodeRekeyRequest } = await import("../../offchain/services/rsms/group-wire");
    const stale = sealEnvelope(fields(Route.GroupRekey, groupSession(gid, 0), encodeRekeyRequest({ groupId: gid, epoch: 0, evict: [] })), {
      scheme: Scheme.Schnorr,
      sk: me.sk,
    });
    const r = await post(`${s.msrpUrl}/v1/group/rekey`, stale);
    expect(r.status).to.equal(422);
    expect(((await r.json()) as { reason: string }).reason).to.equal("STALE_EPOCH");
    expect((await s.dep.groups.view(gid)).epoch).to.equal(1);
    // flag the remaining original member, and send the same request twice
    const pid = localParty(ks(members[0]), members[0]).pid;
    await s.controller.register(toHex(pid), "resource-node", s.msrpWallet);
    await s.detector.flag(toHex(pid), 1, new Uint8Array(32), 0);
    const env = sealEnvelope(fields(Route.GroupRekey, groupSession(gid, 1), encodeRekeyRequest({ groupId: gid, epoch: 1, evict: [pid] })), {
      scheme: Scheme.Schnorr,
      sk: me.sk,
    });
    const reg = ServiceGroupRegistry__factory.connect(s.groupsAddress, hre.ethers.provider);
    const rekeys = async () => (await reg.queryFilter(reg.filters.GroupRekeyed(toHex(gid)))).length;
    const before = await rekeys();
    const r1 = await postEnvelope(s.msrpUrl, "/v1/group/rekey", env, once);
    const r2 = await postEnvelope(s.msrpUrl, "/v1/group/rekey", env, once);
    expect(toHex(r2)).to.equal(toHex(r1));
    expect(await rekeys()).to.equal(before + 1);
    expect((await s.dep.groups.view(gid)).epoch).to.equal(2);
    expect(await s.dep.groups.isMember(gid, pid)).to.equal(false);
  });

  it("the MSRP killed between formGroup on-chain and its reply: after a restart the retry gets the reply; the group is on-chain once and its mailbox open", async () => {
    process.env.METATRUST_FAULT = "msrp:after-chain-write";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    const before = await groupFormedCount();
    const failed = await requestGroupRemote({
      msrpUrl: s.msrpUrl,
      user: "alice",
      size: 2,
      keystore: ks("alice"),
      dep: s.dep,
      retry: once,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(failed).to.be.instanceOf(Error);
    expect(ks("alice").exists("rsms-user-alice-group-request")).to.equal(true);
    expect(await groupFormedCount()).to.equal(before + 1);
    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    await msrp.stop();
    msrp = new MsrpService(s.msrpDeps);
    await msrp.start({ port: Number(new URL(s.msrpUrl).port) });
    const g = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "alice", size: 2, keystore: ks("alice"), dep: s.dep });
    expect(await groupFormedCount()).to.equal(before + 1);
    expect(msrp.desk!.mailbox(g.groupId)!.epoch).to.equal(0);
    expect(msrp.msrp.groupInfo(g.groupId).members).to.have.length(2);
    expect(fs.readdirSync(path.join(s.msrpDeps.dir, "journal"))).to.have.length(0);
  });
});
