/**
 * `npm run demo`: one story through metatrust on the selected network (in-process Hardhat by
 * default, or `--network localhost`), printing every step with its time and gas, ending with a
 * summary table. Exits non-zero if any step fails.
 *
 *   1. deploy the system (one deployment path: the `deploy` task's)
 *   2. crypto self-check and IPFS round trip
 *   3. resource pools (RSMS §IV.A): an MSRP, two pools, six RNs, joins, a move across pools, a trace
 *   4. service groups (RSMS §IV.B): alice's 4-RN group, encrypted traffic, an eviction and an
 *      addition with a rekey, traffic under the new key
 *   5. trust (trust paper): ratings of the group's RNs, one turning on and off; the detectors
 *      flag it on-chain and the service group evicts it and renews its key
 *   6. avatars (avatar paper): alice delegates her avatar to an AI proxy, it authenticates with
 *      bob's avatar, bob disputes its conduct, the dispute is upheld and the IdP traces it to alice
 */
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { deploySystem } from "../offchain/chain/deploy";
import { TRUST_ROLE_SIGNERS, operatorElectionKey } from "../offchain/chain/system";
import { dataDir } from "../offchain/chain/paths";
import { runSelfCheck } from "../offchain/selfcheck";
import { createContentStore } from "../offchain/storage/content-store";
import { ResourcePoolRegistry__factory, ServiceGroupRegistry__factory } from "../typechain-types";
import { GroupLedger, formServiceGroup, rekeyServiceGroup, requireDelivered } from "../offchain/rsms/group-flows";
import { GroupParty } from "../offchain/rsms/group";
import { Role } from "../offchain/rsms/messages";
import { TrustManager__factory } from "../typechain-types";
import { TrustLedger, entityId } from "../offchain/trust/ledger";
import { fromWad } from "../offchain/trust/fixed";
import type { InteractionRecord } from "../offchain/trust/evidence";
import { rateWithEvidence, signReceipt, verifyRating } from "../offchain/trust/rater";
import { runDetectors } from "../offchain/trust/pipeline";
import { evictFlaggedMembers } from "../offchain/integration/evict";
import { DisputeResolution__factory, MITRegistry__factory } from "../typechain-types";
import { AvatarParty, IdentityProvider } from "../offchain/avatars/agents";
import { SimulatedEye } from "../offchain/avatars/iris";
import {
  avatarIdOf,
  ChallengeBook,
  delegate,
  issueProxyMit,
  issueUserMit,
  login,
  mutualAuth,
  judgeTrace,
  requestTrace,
  TraceStatus,
  platformNow,
} from "../offchain/avatars/protocols";
import { avatarDisputeEvidence, DisputeLedger, Nature } from "../offchain/disputes/ledger";
import { encodeEvidence } from "../offchain/avatars/wire";
import { hashToBytes, keccak256 } from "../offchain/crypto/hash";
import { RsmsLedger } from "../offchain/rsms/ledger";
import { DEFAULT_FILTER_POLICY, Msrp } from "../offchain/rsms/msrp";
import { initialJoinBatch, poolInfo, publishFilter, reauthenticate, registerRn, serveJoin, setupPool } from "../offchain/rsms/flows";
import type { ResourceNode } from "../offchain/rsms/rn";
import type { ResourcePoolManager } from "../offchain/rsms/rpm";
import { toHex } from "../offchain/crypto/bytes";
import { Steps } from "./lib/steps";
import { AuthorityElection__factory, CredentialLedger__factory } from "../typechain-types";
import { AuthorityAgent, accessSigner, fresh32, placeId, proveAccess, register, RegistrationError } from "../offchain/mssa/registration";
import { Wallet } from "ethers";
import { DEFAULT_ELECTION_PARAMS } from "../offchain/mssa/election";
import { consentToRegistration, recordRegistration } from "../offchain/mssa/ledger";
import { bestForgery, classicalLinks, linkState, passProbability, phaseOf } from "../offchain/mssa/qblock";

const short = (b: Uint8Array) => `${toHex(b).slice(0, 10)}…`;

async function main(): Promise<void> {
  const steps = new Steps();
  console.log(`metatrust demo on network "${hre.network.name}"`);

  steps.begin("1. deploy");
  let deployment!: Awaited<ReturnType<typeof deploySystem>>;
  await steps.run(
    "deploy the system",
    async () => {
      deployment = await deploySystem(hre, { log: (l) => console.log(`        ${l}`) });
      return `${Object.keys(deployment.contracts).length} contract(s) on chain ${deployment.chainId}, EIP-2537 ${deployment.eip2537 ? "yes" : "no"}`;
    },
    true,
  );

  steps.begin("2. crypto self-check and IPFS round trip");
  // The demo keeps its IPFS blocks apart from the tasks' data unless METATRUST_DATA_DIR says otherwise.
  const store = createContentStore(
    process.env.METATRUST_DATA_DIR ? dataDir(hre.network.name) : fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-demo-")),
  );
  for (const r of await runSelfCheck(store)) steps.record(r.name, r.ok, r.ms, r.detail);

  steps.begin("3. resource pools (RSMS §IV.A)");
  const [msrpSigner, rpmA, rpmB] = await hre.ethers.getSigners();
  const ledger = new RsmsLedger(ResourcePoolRegistry__factory.connect(deployment.contracts.ResourcePoolRegistry.address, msrpSigner));
  const ctx = { ledger, store };
  const msrp = Msrp.setup({ ...DEFAULT_FILTER_POLICY, capacity: 3, lambda: 20 });
  const rpms: Record<number, ResourcePoolManager> = {};
  const rns: ResourceNode[] = [];
  await steps.run("MSRP setup (msk, PK_pub)", async () => `PK_pub ${short(msrp.pkPubBytes)}`);
  for (const [poolId, account] of [
    [1, rpmA.address],
    [2, rpmB.address],
  ] as const) {
    await steps.run(`RPM setup + createPool ${poolId}`, async () => {
      const { rpm, tx } = await setupPool(ctx, msrp, { name: `rpm-${poolId}`, poolId, rid: `rpm-operator-${poolId}`, account });
      rpms[poolId] = rpm;
      return { detail: `PID_RPM ${short(rpm.pid)}, RPM account ${account.slice(0, 10)}…`, gas: tx!.gasUsed };
    });
  }
  for (let i = 0; i < 6; i++) {
    const poolId = i < 3 ? 1 : 2;
    await steps.run(`RN setup edge-${i} (pool ${poolId})`, async () => {
      const { rn, published } = await registerRn(ctx, msrp, { name: `edge-${i}`, poolId, rid: `device-serial-${1000 + i}` });
      rns.push(rn);
      return published
        ? {
            detail: `PID_0 ${short(rn.state.pid)}; filter full: epoch ${published.epoch} published, CID ${published.cid.slice(0, 16)}…`,
            gas: published.tx?.gasUsed ?? 0n,
          }
        : `PID_0 ${short(rn.state.pid)}`;
    });
  }
  await steps.run("publish pending filters", async () => {
    const left = [1, 2].filter((p) => msrp.pendingCount(p) > 0);
    let gas = 0n;
    for (const p of left) gas += (await publishFilter(ctx, msrp, p)).tx?.gasUsed ?? 0n;
    return { detail: left.length ? `pools ${left.join(", ")}` : "none pending (filled filters were published on registration)", gas };
  });
  let edge0Request: Uint8Array = new Uint8Array();
  await steps.run("edge-0 joins pool 1 (initial authentication)", async () => {
    // The three messages, as bytes: RN -> RPM, RPM -> MSRP, RPM -> RN.
    const { request, pending } = rns[0].buildJoinRequest(await poolInfo(ctx, 1));
    const served = await serveJoin(ctx, rpms[1], msrp, request);
    rns[0].acceptJoinReply(served.reply, pending);
    edge0Request = request;
    return {
      detail: `H4(a) recorded with PID ${short(served.record.pid)}; ${request.length}+${served.forward?.length ?? 0}+${served.reply.length} bytes`,
      gas: served.tx?.gasUsed ?? 0n,
    };
  });
  await steps.run("the same request replayed records nothing (answered as a retry)", async () => {
    const before = await ledger.joinCount();
    const again = await serveJoin(ctx, rpms[1], msrp, edge0Request);
    if ((await ledger.joinCount()) !== before || again.tx || !again.retried) throw new Error("the replay was recorded again");
    return "the RPM re-sent A = a*P from the chain record; nothing written, and the RN refuses a reply it already accepted";
  });
  await steps.run("edge-1, edge-2 join pool 1 (one batched record)", async () => {
    const r = await initialJoinBatch(ctx, rns.slice(1, 3), rpms[1], msrp);
    return { detail: `${r.records.length} records in one transaction`, gas: r.tx.gasUsed };
  });
  await steps.run("edge-3..5 join pool 2 (one batched record)", async () => {
    const r = await initialJoinBatch(ctx, rns.slice(3), rpms[2], msrp);
    return { detail: `${r.records.length} records in one transaction`, gas: r.tx.gasUsed };
  });
  let movedPid: Uint8Array = new Uint8Array();
  await steps.run("edge-0 moves to pool 2 (re-authentication)", async () => {
    const r = await reauthenticate(ctx, rns[0], rpms[2], msrp);
    movedPid = r.record.pid;
    return { detail: `PID_1 ${short(r.record.pid)} unlinkable to PID_0 on-chain`, gas: r.tx?.gasUsed ?? 0n };
  });
  await steps.run("MSRP traces PID_1 to its real identity", async () => {
    const t = msrp.trace(movedPid);
    if (t.rid !== "device-serial-1000") throw new Error(`traced to ${t.rid}`);
    return `${short(movedPid)} -> ${t.name} ("${t.rid}"), pseudonym #${t.k}`;
  });
  await steps.run(
    "chain state",
    async () =>
      `${await ledger.joinCount()} join records, pool 1 has ${(await ledger.pool(1))!.epochs} filter(s), pool 2 ${(await ledger.pool(2))!.epochs}`,
  );

  steps.begin("4. service groups (RSMS §IV.B)");
  const groupLedger = new GroupLedger(ServiceGroupRegistry__factory.connect(deployment.contracts.ServiceGroupRegistry.address, msrpSigner));
  const agents = new Map<string, GroupParty>();
  const party = (name: string): GroupParty => {
    if (!agents.has(name)) {
      const rn = rns.find((r) => r.state.name === name);
      const u = rn ? undefined : msrp.userCredentials(name);
      agents.set(name, rn ? rn.groupParty() : new GroupParty(name, u!.pid, u!.sk));
    }
    return agents.get(name)!;
  };
  let gid: Uint8Array = new Uint8Array();
  let members: GroupParty[] = [];
  await steps.run("alice registers as a user", async () => {
    const u = msrp.registerUser("alice", Msrp.registrationRequest(msrp.params.pkPub, Role.User, 0, "Alice Liddell"));
    return `PID_User ${short(u.pid)}`;
  });
  await steps.run("alice requests a 4-RN service group", async () => {
    const g = await formServiceGroup(groupLedger, msrp, party, { user: "alice", size: 4 });
    gid = g.groupId;
    members = g.parties;
    if (new Set(g.keys.map(toHex)).size !== 1) throw new Error("parties derived different keys");
    return {
      detail: `${g.parties
        .slice(1)
        .map((p) => p.name)
        .join(", ")}: Shamir membership authenticated, one key agreed by all ${g.parties.length}`,
      gas: g.tx.gasUsed,
    };
  });
  let epoch0Msg: Uint8Array = new Uint8Array();
  await steps.run("encrypted service traffic (epoch 0)", async () => {
    epoch0Msg = members[0].seal(gid, new TextEncoder().encode("render the garden scene"));
    const replies = members.slice(1).map((p) => p.open(epoch0Msg));
    const back = members[2].seal(gid, new TextEncoder().encode("frame 1 ready"));
    members[0].open(back);
    return `alice -> ${replies.length} RNs, ${members[2].name} -> alice; ${epoch0Msg.length} bytes a message`;
  });
  const suspicious = () => members[1];
  let evicted!: GroupParty;
  await steps.run("evict a suspicious RN, add a fresh one, rekey", async () => {
    evicted = suspicious();
    const spare = msrp.joinedRns().find((r) => !members.some((m) => toHex(m.pid) === toHex(r.pid)))!;
    const r = await rekeyServiceGroup(groupLedger, msrp, party, { groupId: gid, evict: [evicted.pid], add: [spare.name] });
    requireDelivered(r, "demo: rekey"); // a party without the new key fails the step, named
    members = r.parties;
    return {
      detail: `epoch ${r.epoch}: ${evicted.name} out, ${spare.name} in; fresh key sealed to ${r.parties.length} parties`,
      gas: r.tx.gasUsed,
    };
  });
  await steps.run("traffic goes on under the new key", async () => {
    const m = members[0].seal(gid, new TextEncoder().encode("render the lake scene"));
    for (const p of members.slice(1)) p.open(m);
    let evictedRead = true;
    try {
      evicted.open(m);
    } catch {
      evictedRead = false;
    }
    let newcomerReadOld = true;
    try {
      members[members.length - 1].open(epoch0Msg);
    } catch {
      newcomerReadOld = false;
    }
    if (evictedRead || newcomerReadOld) throw new Error("forward or backward security broken");
    return `${members.length - 1} RNs read it; ${evicted.name} cannot (forward security); the newcomer cannot read epoch 0 (backward)`;
  });

  steps.begin("5. trust and detection (trust paper §IV, §VI)");
  const trust = TrustManager__factory.connect(deployment.contracts.TrustManager.address, msrpSigner);
  const trustLedger = new TrustLedger(trust);
  const raters = ["alice", "bob-avatar", "carol-avatar", "dave-avatar"];
  // Each rater is controlled by an account of its own (signers 4-7): a controller cannot rate its
  // own entities, and the RNs are the operator's. Flags come from the detector's account.
  const allSigners = await hre.ethers.getSigners();
  const raterLedgers = raters.map((_, i) => new TrustLedger(trust.connect(allSigners[4 + i])));
  const detectorLedger = new TrustLedger(trust.connect(allSigners[TRUST_ROLE_SIGNERS.detector]));
  await steps.run("register raters and the group's RNs", async () => {
    let gas = 0n;
    for (const [i, r] of raters.entries()) {
      gas += (await raterLedgers[i].register(entityId(r), "avatar")).gasUsed;
      // The raters are people with MITs (section 6 issues them): verified identities, the seeds the
      // Sybil defence trusts. Here the admin marks them, as `trust:register --verified` does.
      gas += (await (await trust.setIdentityVerified(entityId(r), true)).wait())!.gasUsed;
    }
    // A joined PID is registered with the MSRP's attestation (here the operator runs the RNs).
    for (const m of members.slice(1)) gas += (await trustLedger.register(toHex(m.pid), "resource-node", msrpSigner)).gasUsed;
    const verified = await Promise.all(members.slice(1).map((m) => trust.isIdentityVerified(toHex(m.pid))));
    return {
      detail: `${raters.length} verified avatars, ${members.length - 1} RNs (identity verified by their pool join: ${verified.filter(Boolean).length}/${verified.length})`,
      gas,
    };
  });
  const onOffNode = members[2];
  let ratingGas = 0n;
  let ratingCount = 0;
  // Ratings from evidence (issue 15): each round every rater uses every RN twice; the RN's
  // controller (the operator here) signs a receipt for each service, and the rater's agent turns
  // the records into the factor scores, puts the signed record set on IPFS and its digest on-chain.
  const terms = {
    latencyBoundMs: 50,
    terms: [
      { id: "availability", weight: 2 },
      { id: "correct-results", weight: 1 },
    ],
  };
  const chainId = Number((await hre.ethers.provider.getNetwork()).chainId);
  const tmAddress = await trust.getAddress();
  let last = { from: "", to: "", cid: "", name: "" };
  await steps.run(`service ratings from signed interaction records over 12 daily rounds (${onOffNode.name} turns on and off)`, async () => {
    for (let round = 0; round < 12; round++) {
      if (round > 0) await hre.network.provider.send("evm_increaseTime", [86_400]); // one rating per pair per day
      const at = (await hre.ethers.provider.getBlock("latest"))!.timestamp + 1;
      for (const [i, r] of raters.entries()) {
        for (const m of members.slice(1)) {
          const bad = m === onOffNode && Math.floor(round / 3) % 2 === 1;
          const records: InteractionRecord[] = [];
          for (let k = 0; k < 2; k++) {
            // a good node is occasionally slow (one service in three over the bound); a bad one fails
            const slow = (round + i + k + ratingCount) % 3 === 0;
            const rec = { seq: k, request: toHex(keccak256(new TextEncoder().encode(`${r}/${m.name}/${round}/${k}`))), at };
            records.push({
              ...rec,
              outcome: bad ? "failure" : "success",
              latencyMs: bad ? 400 : slow ? 80 : 20,
              kept: bad ? [false, false] : [true, true],
              receipt: await signReceipt(msrpSigner, {
                chainId,
                trustManager: tmAddress,
                from: entityId(r),
                to: toHex(m.pid),
                ...rec,
                terms,
              }),
            });
          }
          const res = await rateWithEvidence(raterLedgers[i], store, entityId(r), toHex(m.pid), terms, records);
          last = { from: r, to: toHex(m.pid), cid: res.cid, name: m.name };
          ratingGas += res.tx.gasUsed;
          ratingCount++;
        }
      }
    }
    return {
      detail: `${ratingCount} evidence-backed ratings, each checked against the off-chain model; ${(ratingGas / BigInt(ratingCount)).toLocaleString("en-US")} gas a rating on average`,
      gas: ratingGas,
    };
  });
  await steps.run("anyone recomputes a rating from its evidence (chain + IPFS)", async () => {
    const v = await verifyRating(trust, store, entityId(last.from), last.to);
    if (v.cid !== last.cid) throw new Error(`verified ${v.cid}, rated with ${last.cid}`);
    return `${last.from} -> ${last.name} #${v.index}: factors [${v.scores.bps.join(", ")}] bps recomputed from ${v.cid.slice(0, 16)}…, rating ${fromWad(v.rating).toFixed(3)} as on-chain`;
  });
  await steps.run("trust scores now", async () => {
    const good = fromWad(await trust.trustOf(entityId("alice"), toHex(members[1].pid)));
    const bad = fromWad(await trust.trustOf(entityId("alice"), toHex(onOffNode.pid)));
    return `alice -> ${members[1].name}: ${good.toFixed(3)}, alice -> ${onOffNode.name}: ${bad.toFixed(3)}`;
  });
  let detected: string[] = [];
  await steps.run("detectors flag the on-off node on-chain", async () => {
    const report = await runDetectors(detectorLedger, store, { flag: true });
    detected = report.detections.map((d) => d.entity.toLowerCase());
    if (!detected.includes(toHex(onOffNode.pid).toLowerCase()))
      throw new Error(`not detected: ${JSON.stringify(report.detections.map((d) => d.reason))}`);
    const kinds = report.detections.map((d) => d.kindName).join(", ");
    return `${report.detections.length} detection(s) (${kinds}) over ${report.ratings} ratings; report ${report.cid.slice(0, 16)}…`;
  });
  await steps.run("the service group evicts it and renews its key", async () => {
    const r = await evictFlaggedMembers(trust, groupLedger, msrp, party, gid);
    if (!r.rekey) throw new Error("nothing evicted");
    const evictedNode = agents.get(r.flagged[0].name)!;
    members = r.rekey.parties;
    const m = members[0].seal(gid, new TextEncoder().encode("render the mountain scene"));
    for (const p of members.slice(1)) p.open(m);
    let read = true;
    try {
      evictedNode.open(m);
    } catch {
      read = false;
    }
    if (read) throw new Error("the evicted node still reads the traffic");
    return {
      detail: `epoch ${r.rekey.epoch}: ${r.flagged.map((f) => f.name).join(", ")} out, ${r.added?.join(", ")} in; it cannot read the new traffic`,
      gas: r.rekey.tx.gasUsed,
    };
  });

  steps.begin("6. traceable avatars and a dispute (avatar paper, trust paper §IV.E)");
  const mit = MITRegistry__factory.connect(deployment.contracts.MITRegistry.address, msrpSigner);
  const disputesC = DisputeResolution__factory.connect(deployment.contracts.DisputeResolution.address, msrpSigner);
  const idp = new IdentityProvider();
  // the platform's clock, as the IdP service and the tasks keep it: the earliest time the next block can
  // have (latest + 1; docs/specs/avatars.md, "The platform's clock")
  const chainNow = () => platformNow(hre.ethers.provider);
  let clock = await chainNow();
  const actx = { registry: mit, idp, store, now: () => clock };
  const aliceA = new AvatarParty("alice");
  const bobA = new AvatarParty("bob");
  const aiA = new AvatarParty("ai-assistant");
  const eyes = { alice: new SimulatedEye(7), bob: new SimulatedEye(8) };
  await steps.run("IdP issues MITs (alice, bob: SIMULATED iris; an AI proxy)", async () => {
    let gas = 0n;
    gas += (await issueUserMit(actx, aliceA, "Alice Liddell", eyes.alice)).gas;
    gas += (await issueUserMit(actx, bobA, "Bob Builder", eyes.bob)).gas;
    gas += (await issueProxyMit(actx, aiA, "assistant service")).gas;
    return { detail: "keys proven possessed; iris templates stay with the IdP", gas };
  });
  const server = new ChallengeBook();
  // names are per owner: alice's "alice" is avatarIdOf(her serial, "alice"), nobody else's to claim
  const avId = (p: typeof aliceA, n: string) => avatarIdOf(p.mit!.serial, n);
  let bobLogin!: Awaited<ReturnType<typeof login>>;
  await steps.run("alice and bob log in (fresh iris samples)", async () => {
    clock = await chainNow();
    const a = await login(actx, server, aliceA, eyes.alice, { avatarId: avId(aliceA, "alice"), appearance: "red fox" });
    bobLogin = await login(actx, server, bobA, eyes.bob, { avatarId: avId(bobA, "bob"), appearance: "blue whale" });
    return { detail: "both avatars human-driven", gas: a.gas + bobLogin.gas };
  });
  let del!: Awaited<ReturnType<typeof delegate>>;
  await steps.run("alice delegates her avatar to the AI proxy", async () => {
    clock = await chainNow();
    del = await delegate(actx, server, aliceA, eyes.alice, aiA, { avatarId: avId(aliceA, "alice") });
    return {
      detail: `delegation #${del.delegationId}: a fresh iris sample of alice, CPS warrant over her iris commitment and the proxy key; alice forced offline`,
      gas: del.gas,
    };
  });
  let session!: Awaited<ReturnType<typeof mutualAuth>>;
  let traceCase = 0n; // bob's trace case, claimed by his dispute
  await steps.run("the AI avatar and bob's avatar authenticate each other", async () => {
    clock = await chainNow();
    session = await mutualAuth(actx, { credential: del.credential, driver: aiA }, { credential: bobLogin.credential, driver: bobA });
    return `session fingerprint ${toHex(hashToBytes("METATRUST-V1-AVATAR-SESSION-FINGERPRINT", session.key, 8))}; bob keeps the AI avatar's signed identity parameters`;
  });
  await steps.run("bob disputes the AI avatar's conduct; voters uphold it", async () => {
    const tl = trustLedger;
    let gas = 0n;
    gas += (await tl.register(toHex(avId(aliceA, "alice")), "avatar", msrpSigner)).gasUsed; // an MIT avatar: the IdP attests
    // bob's avatar, attested to his account, is his claimant: the interaction is claimed by its
    // counterparty (the avatar the evidence's handshake names), through its owner's account
    // (docs/specs/disputes.md, "One interaction, one court case"), and a claimant answers for its
    // claim with identity standing and reputation (s23-rtt R4)
    gas += (await tl.register(toHex(avId(bobA, "bob")), "avatar", msrpSigner)).gasUsed;
    // Jurors: verified avatars of three other accounts (no entity of a party's controller votes),
    // registered at least minAge blocks before the dispute's snapshot.
    const params = await disputesC.params();
    const jurors = (await hre.ethers.getSigners()).slice(12, 15);
    const voters = jurors.map((_, i) => entityId(`juror-${i}`));
    for (const [i, j] of jurors.entries()) {
      gas += (await (await trust.connect(j).register(voters[i], 1)).wait())!.gasUsed;
      // jurors' identities are verified (here by the admin; avatars with an MIT through the registry)
      gas += (await (await trust.setIdentityVerified(voters[i], true)).wait())!.gasUsed;
    }
    await hre.network.provider.send("hardhat_mine", ["0x" + (params.minAge + 1n).toString(16)]);
    // bob files the interaction's evidence as a trace case from the account that controls his
    // entity; the dispute claims it, and the IdP may judge it only once the claim is upheld
    const filed = await requestTrace(mit.connect(msrpSigner), session.evidenceAboutA);
    gas += filed.gas;
    traceCase = filed.caseId;
    const dl = new DisputeLedger(disputesC);
    const opened = await dl.open(
      toHex(avId(bobA, "bob")),
      toHex(avId(aliceA, "alice")),
      0n, // an avatar dispute names no era: its party is the avatar's owner
      Nature.avatar,
      2,
      // the jurors judge the case's own evidence: its bytes, whose sha256 is the dispute's digest
      avatarDisputeEvidence(encodeEvidence(session.evidenceAboutA)).evidence,
      "",
      params.deposit,
      undefined,
      { id: filed.caseId, evidence: encodeEvidence(session.evidenceAboutA) },
    );
    gas += opened.tx!.gasUsed;
    const jurorLedgers = jurors.map((j) => new DisputeLedger(disputesC.connect(j)));
    const salts: string[] = [];
    for (const [i, v] of voters.entries()) {
      const c = await jurorLedgers[i].commit(opened.id, v, 0);
      salts.push(c.salt);
      gas += c.tx!.gasUsed;
    }
    await hre.network.provider.send("evm_increaseTime", [3_601]);
    for (const [i, v] of voters.entries()) gas += (await jurorLedgers[i].reveal(opened.id, v, 0, salts[i]))!.gasUsed;
    // the reveal period, then the appeal window (nobody appeals: the verdict is final)
    await hre.network.provider.send("evm_increaseTime", [Number(params.revealPeriod + params.appealPeriod) + 1]);
    const r = await dl.resolveAndSettle(opened.id);
    gas += r.resolve!.gasUsed + r.settles.reduce((g, x) => g + x.gasUsed, 0n);
    if (Number((await mit.traceCase(filed.caseId)).status) !== TraceStatus.CourtUpheld)
      throw new Error("the court did not uphold the trace case");
    return {
      detail: `dispute #${opened.id} upheld by ${voters.length} reputation-weighted voters; trace case #${filed.caseId} released to the IdP`,
      gas,
    };
  });
  await steps.run("the IdP traces the AI avatar to alice", async () => {
    clock = await chainNow();
    const t = await judgeTrace(actx, traceCase, session.evidenceAboutA);
    if (t.realId !== "Alice Liddell") throw new Error(`traced to ${t.realId}`);
    if (Number((await mit.traceCase(traceCase)).status) !== TraceStatus.CourtTraced) throw new Error("the case is not CourtTraced");
    return { detail: `case #${t.caseId}: "${t.realId}" (the chain only holds a verdict commitment)`, gas: t.gas };
  });

  steps.begin("7. authority election and place access (MSSA; quantum channel and ledger SIMULATED)");
  const signers = await hre.ethers.getSigners();
  const election = AuthorityElection__factory.connect(deployment.contracts.AuthorityElection.address, signers[0]);
  const places = CredentialLedger__factory.connect(deployment.contracts.CredentialLedger.address, signers[0]);
  const PL1 = placeId("PL1");
  const genesis = [...(await election.authorities())];
  const signerOf = (a: string) => signers.find((s) => s.address === a)!;
  const approved: { id: string; commitment: string }[] = [];
  const placeKey = hre.ethers.getBytes(fresh32()); // PL1's authorities' shared nullifier key
  // the deployment's election key (one elector per person): the one deploy computed the genesis
  // authorities' nullifiers with, so that a genesis authority cannot register a second elector account
  const electionKey = (await operatorElectionKey(hre, false))!;
  /** Steps 1-9 off-chain, the user's consent, then the proposal and the k-th approval on-chain. */
  const registerAt = async (user: string, infos: string[], eve?: number) => {
    const out = register({
      place: PL1,
      user,
      infos,
      authorities: genesis.slice(0, 2).map((a) => new AuthorityAgent(a)),
      channel: { decoys: 64, threshold: 0.11, eve: eve ? { fraction: eve } : undefined },
      placeKey,
      electionKey,
    });
    // the user's registration at PL1 makes her an elector: it carries her election nullifier
    const consent = await consentToRegistration(
      places,
      signerOf(user),
      PL1,
      out.commitment,
      out.nullifier!,
      out.session,
      out.electorNullifier,
    );
    const { id, gas } = await recordRegistration(places, PL1, user, out.commitment, genesis.slice(0, 2).map(signerOf), consent);
    approved.push({ id, commitment: out.commitment });
    return { out, gas: gas.reduce((x, y) => x + y, 0n) };
  };
  const aliceAccount = signers[4];
  await steps.run("place PL1: two sitting authorities, k = 2", async () => {
    const rc = await (await places.setPlace(PL1, genesis.slice(0, 2), 2)).wait();
    return {
      detail: `authorities ${genesis
        .slice(0, 2)
        .map((a) => a.slice(0, 8) + "…")
        .join(", ")} (round 0)`,
      gas: rc!.gasUsed,
    };
  });
  await steps.run("alice registers at PL1 (XOR credential, 2 approvals)", async () => {
    const { out, gas } = await registerAt(aliceAccount.address, ["mail:alice@example.org", "passport:UTO:X1234567", "born:1990-01-01"]);
    const acc = await places.access(aliceAccount.address, PL1);
    if (!acc.granted) throw new Error("no access granted");
    return {
      detail: `|CR| = ${out.credentialBits} bits, S1 = S2 = 0, decoy errors ${out.transmission.decoyErrors}/64; on-chain: a commitment only`,
      gas,
    };
  });
  await steps.run("an eavesdropped registration is rejected", async () => {
    const before = await places.head();
    try {
      await registerAt(signers[11].address, ["mail:mallory-target@example.org", "passport:UTO:M0000011"], 1);
    } catch (e) {
      if (!(e instanceof RegistrationError) || e.reason !== "eavesdropping") throw e;
      const after = await places.head();
      if (after.count !== before.count) throw new Error("the ledger changed");
      return `intercept-resend on every photon: ${e.message.split(":")[0]}; nothing recorded`;
    }
    throw new Error("the eavesdropper went unnoticed");
  });
  await steps.run("six more residents register (they join the electorate)", async () => {
    let gas = 0n;
    for (let u = 5; u <= 10; u++)
      gas += (await registerAt(signers[u].address, [`mail:resident${u}@example.org`, `passport:UTO:R${u}`])).gas;
    return { detail: `M = ${await election.memberCount()} members (> 2m = ${2 * DEFAULT_ELECTION_PARAMS.seats})`, gas };
  });
  let candidates: string[] = [];
  await steps.run("round 1: nominations, top 2m candidates by Eq. 2", async () => {
    let gas = (await (await election.openRound()).wait())!.gasUsed;
    const nominate = [
      [4, 4],
      [5, 4],
      [6, 5],
      [7, 5],
      [8, 6],
      [9, 7],
      [10, 8],
      [1, 9],
    ];
    // Two sitting authorities (the quorum; neither is a nominee) attest the top nominee's failures
    // before its nomination: they count at once and its ratio is frozen with them at the close (a
    // report about a nominee made after her nomination counts from the round's end, s20-redm F1).
    for (let i = 0; i < 8; i++) {
      const type = i < 3 ? 3 : 0;
      for (const au of genesis.slice(0, 2))
        gas += (await (await election.connect(signerOf(au)).report(signers[4].address, type, hre.ethers.id(`demo-evidence-${i}`))).wait())!
          .gasUsed;
    }
    // each nominee accepts first (s23-rtm F3: only a member who stands can be nominated)
    for (const nominee of new Set(nominate.map(([, n]) => n)))
      gas += (await (await election.connect(signers[nominee]).stand(1)).wait())!.gasUsed;
    for (const [from, nominee] of nominate)
      gas += (await (await election.connect(signers[from]).nominate(1, signers[nominee].address)).wait())!.gasUsed;
    await hre.network.provider.send("evm_increaseTime", [DEFAULT_ELECTION_PARAMS.nominationPeriod + 1]);
    gas += (await (await election.closeNomination()).wait())!.gasUsed;
    candidates = [...(await election.round(1)).candidates];
    const m = await election.misbehaviour(signers[4].address);
    return {
      detail: `${candidates.length} candidates; the top nominee's counts [${m.counts.join(", ")}], R_bw = ${(Number(m.ratio) / 1e18).toFixed(2)}`,
      gas,
    };
  });
  const misbehaving = signers[4].address;
  await steps.run("ballots (Borda preference orders) that all put the misbehaving candidate first", async () => {
    let gas = 0n;
    const first = candidates.indexOf(misbehaving);
    const ranking = [first, ...candidates.map((_, i) => i).filter((i) => i !== first)];
    for (const v of [4, 5, 6, 7, 8, 9, 10]) gas += (await (await election.connect(signers[v]).vote(1, ranking)).wait())!.gasUsed;
    return { detail: `candidate ${first} leads every ballot`, gas };
  });
  await steps.run("elect: top m by Borda score x (1 - R_bw frozen at voting open)", async () => {
    await hre.network.provider.send("evm_increaseTime", [DEFAULT_ELECTION_PARAMS.votingPeriod + 1]);
    const rc = await (await election.elect()).wait();
    const seated = [...(await election.authorities())];
    if (seated.includes(misbehaving)) throw new Error("the misbehaving candidate was elected");
    const scores = await election.tally(1);
    return {
      detail: `Borda [${scores.join(", ")}]; the misbehaving candidate demoted; ${seated.length} new authorities sit`,
      gas: rc!.gasUsed,
    };
  });
  await steps.run("alice proves her access to PL1", async () => {
    const nonce = fresh32();
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    // The proof names its verifier (s20-redm F4): here the operator's account verifies; the same
    // proof relayed to any other verifier recovers someone else.
    const verifier = await (await hre.ethers.getSigners())[0].getAddress();
    const ledger = await places.getAddress();
    const sig = await proveAccess(aliceAccount, PL1, nonce, chainId, ledger, verifier);
    if (accessSigner(sig, PL1, nonce, chainId, ledger, verifier) !== aliceAccount.address) throw new Error("bad signature");
    if (accessSigner(sig, PL1, nonce, chainId, ledger, Wallet.createRandom().address) === aliceAccount.address)
      throw new Error("the proof verified at another verifier");
    const { granted } = await places.access(aliceAccount.address, PL1);
    if (!granted) throw new Error("no access");
    return "challenge signed by alice's account for this verifier (refused at any other); the approved block is on-chain";
  });
  await steps.run("block linking: the chain head and the simulated witness", async () => {
    const links = classicalLinks(approved);
    const head = await places.head();
    if (links[links.length - 1] !== head.link) throw new Error("chain head mismatch");
    const { state, layout } = linkState(phaseOf(approved[0].commitment), phaseOf(approved[1].commitment), 2);
    const honest = passProbability(state.probabilities(), layout);
    const forged = bestForgery(state, layout);
    return `${head.count} blocks chained on-chain; witness check passes w.p. ${honest.toFixed(3)}, a rewritten block w.p. ${forged.toFixed(4)}`;
  });

  steps.summary();
  if (steps.failed > 0) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exitCode = 1;
});
