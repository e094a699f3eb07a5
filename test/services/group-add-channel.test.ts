/**
 * A service group grows and talks over the network (issue 19): the user asks the MSRP service to
 * add a fresh RN without an eviction (`POST /v1/group/add`), and the parties send and read the
 * group's sealed traffic through the MSRP's mailbox (`/v1/group/send`, `/v1/group/read`). One
 * process, the in-process chain, the same code as `rsms:serve msrp`. Threats: a request relayed
 * (signed by another party) or swapped (another group's or epoch's session), replayed (the same
 * bytes, an older sequence number), a forged channel signature, an outsider or an evicted member
 * that reads or sends; a retry with no second effect; a crash between the chain and the reply;
 * traffic that survives a restart.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { formedGroup, msrpRequest, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { equalBytes, toHex } from "../../offchain/crypto/bytes";
import { TrustLedger } from "../../offchain/trust/ledger";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { MsrpService } from "../../offchain/services/rsms/msrp-service";
import { ChannelLog } from "../../offchain/services/rsms/channel-log";
import { addRemote, heldKey, localParty, readRemote, rekeyRemote, sendRemote, takePart } from "../../offchain/services/rsms/group-clients";
import {
  decodeGroupChannel,
  decodeGroupSent,
  encodeGroupAdd,
  encodeGroupRead,
  groupSession,
} from "../../offchain/services/rsms/group-wire";
import { Route, Scheme, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { onFault } from "../../offchain/services/faults";
import { ServiceError, postEnvelope } from "../../offchain/services/client";
import { ServiceGroupRegistry__factory, TrustManager__factory } from "../../typechain-types";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
const text = (s: string) => new TextEncoder().encode(s);

const post = (url: string, body: Uint8Array) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: Buffer.from(body) });

describe("services/rsms: a group grows without an eviction, and its traffic goes through the MSRP's mailbox", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  let msrp: MsrpService;
  const machines = new Map<string, Keystore>();
  const ks = (name: string) => machines.get(name)!;
  const rns = ["a", "b", "c", "d", "e"];
  let gid: Uint8Array;
  let members: string[] = [];
  const nameOf = (pid: Uint8Array) => [...machines.keys()].find((n) => equalBytes(localParty(ks(n), n).pid, pid))!;
  const fields = (route: number, session: Uint8Array, body: Uint8Array) => msrpRequest(s.dep, route, session, body);
  const refusal = async (url: string, env: Uint8Array) => {
    const r = await post(url, env);
    return [r.status, r.ok ? "accepted" : ((await r.json()) as { reason?: string }).reason];
  };
  const rekeys = async () => {
    const reg = ServiceGroupRegistry__factory.connect(s.groupsAddress, hre.ethers.provider);
    return (await reg.queryFilter(reg.filters.GroupRekeyed(toHex(gid)))).length;
  };
  /** the channel log as the MSRP's folder holds it (read from disk by a fresh reader), by epoch */
  const logOf = () =>
    Object.fromEntries([...new ChannelLog(path.join(s.msrpDeps.dir, "groups")).epochs(gid)].map(([e, l]) => [String(e), l]));

  before(async () => {
    ({ s, gid, members } = await formedGroup(machines, rns));
    msrp = s.msrp;
  });
  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    await s?.rpm.stop();
    await msrp?.stop();
  });

  describe("# channel traffic", () => {
    it("the user's message reaches both RNs through the mailbox; a second read finds nothing new; the MSRP holds only ciphertext", async () => {
      const sent = await sendRemote({
        msrpUrl: s.msrpUrl,
        name: "alice",
        groupId: gid,
        message: text("render the garden"),
        keystore: ks("alice"),
        dep: s.dep,
      });
      expect(sent).to.include({ epoch: 0, index: 0 });
      for (const m of members) {
        const r = await readRemote({ msrpUrl: s.msrpUrl, name: m, groupId: gid, keystore: ks(m), dep: s.dep });
        expect(r.refused).to.deep.equal([]);
        expect(r.messages.map((x) => new TextDecoder().decode(x.plaintext))).to.deep.equal(["render the garden"]);
        expect(r.messages[0].sender).to.equal(toHex(localParty(ks("alice"), "alice").pid));
        const again = await readRemote({ msrpUrl: s.msrpUrl, name: m, groupId: gid, keystore: ks(m), dep: s.dep });
        expect(again.messages).to.deep.equal([]);
      }
      const back = await sendRemote({
        msrpUrl: s.msrpUrl,
        name: members[0],
        groupId: gid,
        message: text("frame 1 ready"),
        keystore: ks(members[0]),
        dep: s.dep,
      });
      expect(back.index).to.equal(1);
      const r = await readRemote({ msrpUrl: s.msrpUrl, name: "alice", groupId: gid, keystore: ks("alice"), dep: s.dep });
      expect(r.messages.map((x) => new TextDecoder().decode(x.plaintext))).to.deep.equal(["frame 1 ready"]);
      expect(JSON.stringify(logOf())).to.not.include(Buffer.from("render the garden").toString("hex"));
    });

    it("a retried send (the same envelope) gets the same reply and is stored once; the same message in a new envelope gets its index again; an older sequence number is refused", async () => {
      const me = localParty(ks("alice"), "alice");
      const m1 = me.party.seal(gid, text("one"));
      const m2 = me.party.seal(gid, text("two"));
      const url = `${s.msrpUrl}/v1/group/send`;
      const env2 = sealEnvelope(fields(Route.GroupSend, groupSession(gid, 0), m2), { scheme: Scheme.Schnorr, sk: me.sk });
      const before = logOf()["0"].messages.length;
      const r1 = await postEnvelope(s.msrpUrl, "/v1/group/send", env2, once);
      const r2 = await postEnvelope(s.msrpUrl, "/v1/group/send", env2, once);
      expect(toHex(r2)).to.equal(toHex(r1));
      const copy = sealEnvelope(fields(Route.GroupSend, groupSession(gid, 0), m2), { scheme: Scheme.Schnorr, sk: me.sk });
      expect(decodeGroupSent(openEnvelope(await postEnvelope(s.msrpUrl, "/v1/group/send", copy, once)).body).index).to.equal(before);
      expect(logOf()["0"].messages).to.have.length(before + 1);
      // m1 was sealed before m2: its sequence number is below the last one stored from alice
      expect(
        await refusal(url, sealEnvelope(fields(Route.GroupSend, groupSession(gid, 0), m1), { scheme: Scheme.Schnorr, sk: me.sk })),
      ).to.deep.equal([422, "REPLAYED"]);
      expect(logOf()["0"].messages).to.have.length(before + 1);
      // the agents' own replay check agrees: the RNs read m2 once
      const r = await readRemote({ msrpUrl: s.msrpUrl, name: members[1], groupId: gid, keystore: ks(members[1]), dep: s.dep });
      expect(r.messages.map((x) => new TextDecoder().decode(x.plaintext))).to.deep.equal(["frame 1 ready", "two"]);
    });

    it("a relayed, swapped or forged message is refused and nothing is stored; an outsider can neither send nor read", async () => {
      const me = localParty(ks("alice"), "alice");
      const rn = localParty(ks(members[0]), members[0]);
      const url = `${s.msrpUrl}/v1/group/send`;
      const before = logOf()["0"].messages.length;
      const m = me.party.seal(gid, text("three"));
      // relayed: alice's message in an envelope signed by an RN of the group
      expect(
        await refusal(url, sealEnvelope(fields(Route.GroupSend, groupSession(gid, 0), m), { scheme: Scheme.Schnorr, sk: rn.sk })),
      ).to.deep.equal([401, "BAD_SIGNATURE"]);
      // swapped: bound to another epoch's session
      expect(
        await refusal(url, sealEnvelope(fields(Route.GroupSend, groupSession(gid, 1), m), { scheme: Scheme.Schnorr, sk: me.sk })),
      ).to.deep.equal([400, "WRONG_SESSION"]);
      // forged: a bit of the ciphertext flipped (the envelope signed afresh by alice's key): the channel signature fails
      const forged = m.slice();
      forged[forged.length - 70] ^= 1;
      expect(
        await refusal(url, sealEnvelope(fields(Route.GroupSend, groupSession(gid, 0), forged), { scheme: Scheme.Schnorr, sk: me.sk })),
      ).to.deep.equal([422, "FORGED_SENDER"]);
      expect(logOf()["0"].messages).to.have.length(before);
      // an outsider (a joined RN outside the group)
      const outName = rns.find((n) => !members.includes(n))!;
      const out = localParty(ks(outName), outName);
      const read = (pid: Uint8Array, sk: bigint) =>
        sealEnvelope(fields(Route.GroupRead, groupSession(gid, 0), encodeGroupRead({ groupId: gid, pid, epoch: 0, from: 0 })), {
          scheme: Scheme.Schnorr,
          sk,
        });
      expect(await refusal(`${s.msrpUrl}/v1/group/read`, read(out.pid, out.sk))).to.deep.equal([422, "NOT_A_MEMBER"]);
      expect(await refusal(`${s.msrpUrl}/v1/group/read`, read(me.pid, out.sk))).to.deep.equal([401, "BAD_SIGNATURE"]);
      // the honest read of the same log
      const page = decodeGroupChannel(openEnvelope(await postEnvelope(s.msrpUrl, "/v1/group/read", read(me.pid, me.sk), once)).body);
      expect(page.total).to.equal(before);
    });
  });

  describe("# add without an eviction", () => {
    it("only the group's user may ask, for the current epoch; more RNs than can join is refused; nothing changes", async () => {
      const rn = localParty(ks(members[0]), members[0]);
      const me = localParty(ks("alice"), "alice");
      const url = `${s.msrpUrl}/v1/group/add`;
      const body = encodeGroupAdd({ groupId: gid, epoch: 0, count: 1 });
      const n0 = await rekeys();
      expect(
        await refusal(url, sealEnvelope(fields(Route.GroupAdd, groupSession(gid, 0), body), { scheme: Scheme.Schnorr, sk: rn.sk })),
      ).to.deep.equal([401, "BAD_SIGNATURE"]);
      const stale = encodeGroupAdd({ groupId: gid, epoch: 3, count: 1 });
      expect(
        await refusal(url, sealEnvelope(fields(Route.GroupAdd, groupSession(gid, 3), stale), { scheme: Scheme.Schnorr, sk: me.sk })),
      ).to.deep.equal([422, "STALE_EPOCH"]);
      const many = encodeGroupAdd({ groupId: gid, epoch: 0, count: 4 });
      expect(
        await refusal(url, sealEnvelope(fields(Route.GroupAdd, groupSession(gid, 0), many), { scheme: Scheme.Schnorr, sk: me.sk })),
      ).to.deep.equal([422, "NO_FRESH_RN"]);
      expect(await rekeys()).to.equal(n0);
      expect((await s.dep.groups.view(gid)).epoch).to.equal(0);
      expect(msrp.msrp.groupInfo(gid).members).to.have.length(2);
    });

    it("the MSRP killed between the new epoch on-chain and its reply: the retry after a restart gets the reply; one epoch on-chain; every party opens the new key, nobody evicted", async () => {
      const oldKey = heldKey(localParty(ks("alice"), "alice").party, gid, 0);
      const n0 = await rekeys();
      process.env.METATRUST_FAULT = "msrp:after-chain-write";
      onFault((p) => {
        throw new Error(`crash at ${p}`);
      });
      const me = localParty(ks("alice"), "alice");
      const env = sealEnvelope(fields(Route.GroupAdd, groupSession(gid, 0), encodeGroupAdd({ groupId: gid, epoch: 0, count: 1 })), {
        scheme: Scheme.Schnorr,
        sk: me.sk,
      });
      const failed = await postEnvelope(s.msrpUrl, "/v1/group/add", env, once).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(failed).to.be.instanceOf(Error);
      expect(await rekeys()).to.equal(n0 + 1);
      delete process.env.METATRUST_FAULT;
      onFault(undefined);
      await msrp.stop();
      msrp = new MsrpService(s.msrpDeps);
      await msrp.start({ port: Number(new URL(s.msrpUrl).port) });
      const r1 = await postEnvelope(s.msrpUrl, "/v1/group/add", env, once);
      const r2 = await postEnvelope(s.msrpUrl, "/v1/group/add", env, once);
      expect(toHex(r2)).to.equal(toHex(r1));
      expect(await rekeys()).to.equal(n0 + 1);
      expect(fs.readdirSync(path.join(s.msrpDeps.dir, "journal"))).to.have.length(0);
      const info = msrp.msrp.groupInfo(gid);
      expect(info.epoch).to.equal(1);
      expect(info.members.map((m) => m.name).slice(0, 2)).to.deep.equal(members);
      expect(info.members).to.have.length(3);
      expect(msrp.msrp.suspiciousRns()).to.deep.equal([]);
      const added = info.members[2].name;
      expect(await s.dep.groups.isMember(gid, localParty(ks(added), added).pid)).to.equal(true);
      const parties = ["alice", ...members, added];
      const out = await Promise.all(
        parties.map((n) => takePart({ msrpUrl: s.msrpUrl, name: n, groupId: gid, keystore: ks(n), dep: s.dep })),
      );
      expect(new Set(out.map((o) => toHex(o.key))).size).to.equal(1);
      expect(out.every((o) => o.epoch === 1 && o.parties === 4)).to.equal(true);
      expect(toHex(out[0].key)).to.not.equal(toHex(oldKey));
      // the traffic of epoch 1: the newcomer reads it, and epoch 0's log is still kept after the restart
      await sendRemote({ msrpUrl: s.msrpUrl, name: "alice", groupId: gid, message: text("welcome"), keystore: ks("alice"), dep: s.dep });
      const r = await readRemote({ msrpUrl: s.msrpUrl, name: added, groupId: gid, keystore: ks(added), dep: s.dep });
      expect(r.epoch).to.equal(1);
      expect(r.messages.map((x) => new TextDecoder().decode(x.plaintext))).to.deep.equal(["welcome"]);
      expect(logOf()["0"].messages.length).to.be.greaterThan(0);
    });

    it("addRemote, then an eviction: the evicted member can no longer send or read the new epoch", async () => {
      const a = await addRemote({ msrpUrl: s.msrpUrl, user: "alice", groupId: gid, count: 1, keystore: ks("alice"), dep: s.dep });
      expect(a.epoch).to.equal(2);
      expect(a.evicted).to.deep.equal([]);
      const added = nameOf(a.added[0]);
      const parties = ["alice", ...msrp.msrp.groupInfo(gid).members.map((m) => m.name)];
      expect(parties).to.include(added);
      await Promise.all(parties.map((n) => takePart({ msrpUrl: s.msrpUrl, name: n, groupId: gid, keystore: ks(n), dep: s.dep })));
      // the detector flags the first member; the user evicts it
      const tm = s.f.deployment.contracts.TrustManager.address;
      const signers = await hre.ethers.getSigners();
      const victim = members[0];
      const vpid = localParty(ks(victim), victim).pid;
      await new TrustLedger(TrustManager__factory.connect(tm, signers[9])).register(toHex(vpid), "resource-node", s.msrpWallet);
      await new TrustLedger(TrustManager__factory.connect(tm, signers[TRUST_ROLE_SIGNERS.detector])).flag(
        toHex(vpid),
        1,
        new Uint8Array(32),
        0,
      );
      const r = await rekeyRemote({ msrpUrl: s.msrpUrl, user: "alice", groupId: gid, keystore: ks("alice"), dep: s.dep });
      expect(r.evicted.map(toHex)).to.deep.equal([toHex(vpid)]);
      const stay = ["alice", ...msrp.msrp.groupInfo(gid).members.map((m) => m.name)];
      await Promise.all(stay.map((n) => takePart({ msrpUrl: s.msrpUrl, name: n, groupId: gid, keystore: ks(n), dep: s.dep })));
      const e1 = await sendRemote({
        msrpUrl: s.msrpUrl,
        name: victim,
        groupId: gid,
        message: text("still here"),
        keystore: ks(victim),
        dep: s.dep,
        retry: once,
      }).then(
        () => undefined,
        (e: ServiceError) => e,
      );
      expect(e1?.reason).to.be.oneOf(["NOT_A_MEMBER", "WRONG_SESSION"]);
      const v = localParty(ks(victim), victim);
      const env = sealEnvelope(
        fields(Route.GroupRead, groupSession(gid, 3), encodeGroupRead({ groupId: gid, pid: v.pid, epoch: 3, from: 0 })),
        {
          scheme: Scheme.Schnorr,
          sk: v.sk,
        },
      );
      expect(await refusal(`${s.msrpUrl}/v1/group/read`, env)).to.deep.equal([422, "NOT_A_MEMBER"]);
    });
  });
});
