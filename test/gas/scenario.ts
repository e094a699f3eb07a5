/**
 * The gas snapshot's scenario: every contract's main state-changing calls, each measured once as
 * the gas its transaction used (the receipt's gasUsed, what a user pays), on the system deployed
 * through the one deployment path (`deploySystem`, as `npx hardhat deploy` and the fixtures).
 *
 * Gas is deterministic only if everything a transaction's cost can depend on is fixed:
 * - the chain: the scenario starts from a reset in-process chain, so the deployer's nonce, hence
 *   every contract address (in calldata, in EIP-712 domains), and every block number are the same
 *   in every run, whatever ran before in the same process;
 * - time: every transaction's block timestamp is pinned (`setNextBlockTimestamp`) from a fixed
 *   start, because timestamps go into calldata (deadlines) and storage, and elapsed times into
 *   loops (trust decay per epoch); a zero byte in calldata costs 4 gas, another 16;
 * - inputs: ids, salts, keys and CIDs are fixed values; ethers signs deterministically (RFC 6979),
 *   so the EIP-712 signatures are fixed too.
 * Deployment gas is not measured: the creation code ends in the compiler's metadata hash, which
 * moves with every comment edit.
 */
import hre from "hardhat";
import { AbiCoder, ContractTransactionResponse, keccak256 as ethersKeccak, toUtf8Bytes, MaxUint256 } from "ethers";
import { mine, reset, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deploySystem } from "../../offchain/chain/deploy";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { DEFAULT_DISPUTE_PARAMS as DP } from "../../offchain/disputes/params";
import { DEFAULT_ELECTION_PARAMS as EP } from "../../offchain/mssa/election";
import { attestReclaim, attestRegistration, signAgreementConsent } from "../../offchain/trust/ledger";
import { consentToRegistration } from "../../offchain/mssa/ledger";
import { packFactors, toWad } from "../../offchain/trust/fixed";
import { mulBase } from "../../offchain/crypto/group";
import { toHex } from "../../offchain/crypto/bytes";
import * as cps from "../../offchain/crypto/cps";
import {
  AuthorityElection__factory,
  CPSVerifier__factory,
  CredentialLedger__factory,
  DisputeResolution__factory,
  MITRegistry__factory,
  ResourcePoolRegistry__factory,
  ServiceGroupRegistry__factory,
  TrustManager__factory,
} from "../../typechain-types";
import { GasSnapshot, sortSnapshot } from "../../scripts/lib/gas-snapshot";
import { encodedEvidence } from "../helpers/encoded-evidence";

/** The pinned start: 2033-05-18T03:33:20Z, after any wall clock a run meets (the chain refuses going back). */
export const START_TIMESTAMP = 2_000_000_000;

/** A fixed 32-byte value named by a label. */
export const fixed = (label: string) => ethersKeccak(toUtf8Bytes(`gas-snapshot:${label}`));

/** A fixed CIDv1 string of the usual length (59 characters, dag-json/sha2-256 in base32). */
const CID = "bafyreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";

const factors = packFactors([0.8, 0.9, 0.7, 0.85, 0.4, 0.6]);

/**
 * Resets the in-process chain, deploys the system and measures every call of the scenario.
 * @returns the snapshot, keys sorted
 * @throws Error off the in-process `hardhat` network (the scenario resets the chain)
 */
export async function measureGas(): Promise<GasSnapshot> {
  if (hre.network.name !== "hardhat") throw new Error(`measureGas: runs on the in-process hardhat network, not ${hre.network.name}`);
  await reset(); // also forgets loadFixture's snapshots: later fixtures rebuild on the fresh chain
  try {
    return await scenario();
  } finally {
    await reset(); // later suites start at the wall clock again, not in 2033
  }
}

async function scenario(): Promise<GasSnapshot> {
  const d = await deploySystem(hre, { write: false });
  const s = await hre.ethers.getSigners();
  const [admin] = s; // deployer: admin, MSRP, IdP, place admin, election registrar and arbiter (the detector is s[18])
  const at = (name: keyof typeof d.contracts) => d.contracts[name].address;
  const pools = ResourcePoolRegistry__factory.connect(at("ResourcePoolRegistry"), admin);
  const groups = ServiceGroupRegistry__factory.connect(at("ServiceGroupRegistry"), admin);
  const tm = TrustManager__factory.connect(at("TrustManager"), admin);
  const mit = MITRegistry__factory.connect(at("MITRegistry"), admin);
  const verifier = CPSVerifier__factory.connect(at("CPSVerifier"), admin);
  const court = DisputeResolution__factory.connect(at("DisputeResolution"), admin);
  const election = AuthorityElection__factory.connect(at("AuthorityElection"), admin);
  const ledger = CredentialLedger__factory.connect(at("CredentialLedger"), admin);

  const out: GasSnapshot = {};
  let clock = START_TIMESTAMP;
  await time.increaseTo(clock);
  /** Sends a transaction in the next second; records its gas under `key` if one is given. */
  const send = async (key: string | undefined, tx: () => Promise<ContractTransactionResponse>) => {
    clock = Math.max(clock, await time.latest()) + 1;
    await time.setNextBlockTimestamp(clock);
    const r = (await (await tx()).wait())!;
    if (key !== undefined) {
      if (key in out) throw new Error(`measureGas: ${key} measured twice`);
      out[key] = Number(r.gasUsed);
    }
    return r;
  };
  /** Lets `seconds` pass (the next transaction is that much later). */
  const wait = (seconds: number | bigint) => {
    clock += Number(seconds);
  };

  // ---------------------------------------------------------------- RSMS pools
  const pk = (k: bigint) => toHex(mulBase(k).toBytes(true));
  await send("ResourcePoolRegistry.createPool", () => pools.createPool(1, s[3].address, fixed("pid-rpm-1"), pk(3n)));
  await send("ResourcePoolRegistry.updatePool (new RPM keys)", () => pools.updatePool(1, s[3].address, fixed("pid-rpm-1b"), pk(5n)));
  await send("ResourcePoolRegistry.publishFilter (epoch 0)", () => pools.publishFilter(1, fixed("root-0"), CID, 64, 20));
  await send("ResourcePoolRegistry.publishFilter (renewal, epoch 1)", () => pools.publishFilter(1, fixed("root-1"), CID, 64, 20));
  await send("ResourcePoolRegistry.recordJoin (initial, the registry's first join)", () =>
    pools.recordJoin(fixed("pid-0"), fixed("tag-0"), 1, 1),
  );
  // Re-authentication rotates the pseudonym: a new PID with a new tag.
  await send("ResourcePoolRegistry.recordJoin (re-authentication, new PID)", () =>
    pools.recordJoin(fixed("pid-0b"), fixed("tag-0b"), 1, 2),
  );
  const pid = (i: number) => fixed(`pid-${i}`);
  const joins = Array.from({ length: 8 }, (_, i) => ({ pid: pid(1 + i), tag: fixed(`tag-${1 + i}`), poolId: 1, kind: 1 }));
  await send("ResourcePoolRegistry.recordJoins (8 joins)", () => pools.recordJoins(joins));
  // The MSRP marks an RN's trust identity revoked while the RN is in S_RN, and lifts it (s22-redx F2).
  await send("ResourcePoolRegistry.revokePid", () => pools.revokePid(fixed("pid-0b")));
  await send("ResourcePoolRegistry.reinstatePid", () => pools.reinstatePid(fixed("pid-0b")));

  // ---------------------------------------------------------------- RSMS service groups
  const members = [1, 2, 3, 4].map(pid);
  await send("ServiceGroupRegistry.formGroup (4 members)", () =>
    groups.formGroup(fixed("group-1"), fixed("user-pid"), members, pk(7n), fixed("commitments-0")),
  );
  await send("ServiceGroupRegistry.rekey (evict 1, add 1)", () =>
    groups.rekey(fixed("group-1"), 1, [pid(1)], [pid(5)], pk(11n), fixed("commitments-1")),
  );
  await send("ServiceGroupRegistry.rekey (key renewal only)", () =>
    groups.rekey(fixed("group-1"), 2, [], [], pk(13n), fixed("commitments-2")),
  );

  // ---------------------------------------------------------------- avatars (MIT registry)
  await send("MITRegistry.issueMIT", () => mit.issueMIT(fixed("mit-user"), fixed("key-user"), CID));
  await send(undefined, () => mit.issueMIT(fixed("mit-proxy"), fixed("key-proxy"), CID));
  await send(undefined, () => mit.issueMIT(fixed("mit-old"), fixed("key-old"), CID));
  await send("MITRegistry.recordLogin", () =>
    mit.recordLogin(fixed("avatar-1"), fixed("mit-user"), fixed("warrant-1"), fixed("vid-1"), 4_102_444_800n),
  );
  await send("MITRegistry.recordDelegation", () =>
    mit.recordDelegation(fixed("avatar-1"), fixed("mit-proxy"), fixed("warrant-2"), 4_102_444_800n),
  );
  await send("MITRegistry.revokeDelegation", () => mit.revokeDelegation(1));
  await send("MITRegistry.requestTrace", () => mit.connect(s[2]).requestTrace(fixed("avatar-1"), fixed("evidence-1")));
  await send("MITRegistry.recordVerdict (traced)", () => mit.recordVerdict(1, true, fixed("verdict-1")));
  await send("MITRegistry.revokeMIT", () => mit.revokeMIT(fixed("mit-old")));

  // CPS verification as another contract pays for it (execution only, through GasProbe):
  // fixed keys, warrant, check parameter and message.
  const original = cps.cpsKeyGen(0x1234567n);
  const proxy = cps.cpsKeyGen(0x7654321n);
  const w: cps.Warrant = {
    irisCommitment: bytes32("iris"),
    proxy: proxy.pk,
    avatarId: bytes32("avatar-1"),
    scope: cps.Scope.all,
    notBefore: 0,
    notAfter: START_TIMESTAMP + 10 ** 8,
  };
  const { h, r } = cps.cpsCHash(original.pk, cps.warrantDigest(w), bytes32("chash-r"));
  const o = { h, r, sig: cps.warrantPoint(h).multiply(original.sk) };
  const m = { type: cps.Scope.interaction, time: START_TIMESTAMP, body: new Uint8Array([3]) };
  const args = cps.cpsVerifierArgs(original.pk, w, o, m, cps.cpsPSign(proxy, w, o, m));
  const probe = await (await hre.ethers.getContractFactory("GasProbe", admin)).deploy();
  const [used, ok, ret] = await probe.measure(await verifier.getAddress(), verifier.interface.encodeFunctionData("verify", [...args]));
  if (!ok || !verifier.interface.decodeFunctionResult("verify", ret)[0]) throw new Error("measureGas: CPS verification failed");
  out["CPSVerifier.verify (from a contract, execution only)"] = Number(used);

  // ---------------------------------------------------------------- trust
  const id = (n: string) => fixed(`entity:${n}`);
  const avatars = ["a", "b", "c"];
  const ctrl = (i: number) => s[4 + i]; // each avatar its own controller: none rates its own
  await send("TrustManager.register (avatar)", () => tm.connect(ctrl(0)).register(id("a"), 1));
  for (let i = 1; i < avatars.length; i++) await send(undefined, () => tm.connect(ctrl(i)).register(id(avatars[i]), 1));
  await send(undefined, () => tm.register(id("org"), 2));
  await send(undefined, () => tm.setIdentityVerified(id("org"), true));
  // A joined PID's owner registers it with the MSRP's EIP-712 attestation (a fixed deadline).
  const deadline = BigInt(START_TIMESTAMP + 10 ** 7);
  const attestation = await attestRegistration(admin, tm, pid(6), "resource-node", s[13].address, deadline);
  await send("TrustManager.registerAttested (resource node)", () => tm.connect(s[13]).registerAttested(pid(6), 3, deadline, attestation));
  const Z = "0x" + "00".repeat(32);
  await send("TrustManager.rate (new pair)", () => tm.connect(ctrl(0)).rate(id("a"), id("b"), factors, Z, Z, 0, 0));
  wait(86_400); // one rating per pair per decay epoch
  await send("TrustManager.rate (existing pair, one epoch later, with evidence)", () =>
    tm.connect(ctrl(0)).rate(id("a"), id("b"), factors, fixed("evidence-rate"), Z, 0, 0),
  );
  await send("TrustManager.setOracle", () => tm.connect(s[TRUST_ROLE_SIGNERS.oracle]).setOracle(id("a"), id("b"), toWad(0.5), 0, 0));
  await send("TrustManager.flag", () => tm.connect(s[TRUST_ROLE_SIGNERS.detector]).flag(id("c"), 0, fixed("report-1"), 0));
  await send("TrustManager.unflag", () => tm.connect(s[TRUST_ROLE_SIGNERS.detector]).unflag(id("c"), 0, 0, 1));
  for (const [i, n] of avatars.slice(0, 2).entries())
    await send(undefined, () => tm.connect(ctrl(i)).rate(id(n), id("org"), packFactors(Array(6).fill(0.95)), Z, Z, 0, 0));
  // The organization credits with its standing a day of blocks ago (TrustManager.CREDIT_MATURITY),
  // and only identity-verified avatars (s20-redt F1): measure an agreement that moves both reputations.
  for (const n of ["a", "b"]) await send(undefined, () => tm.setIdentityVerified(id(n), true));
  await mine(Number(await tm.CREDIT_MATURITY()));
  const pair = [id("a"), id("b")].sort();
  const consent = { org: id("org"), avatars: pair, thresholds: [0n, 0n], termsHash: fixed("terms"), nonce: 0n, deadline: MaxUint256 };
  const signatures: string[] = [];
  for (const a of pair) signatures.push(await signAgreementConsent(ctrl(a === id("a") ? 0 : 1), tm, consent));
  await send("TrustManager.proposeAgreement (2 avatars)", () =>
    tm.proposeAgreement(id("org"), pair, [0n, 0n], fixed("terms"), { deadline: MaxUint256, signatures }),
  );

  // ---------------------------------------------------------------- disputes
  // The parties are the admin's; three voters, each with its own controller, identity verified.
  for (const n of ["claimant", "respondent"]) await send(undefined, () => tm.register(id(n), 1));
  // a claimant answers for its claim with identity standing and reputation (s23-rtt R4)
  await send(undefined, () => tm.setIdentityVerified(id("claimant"), true));
  const voters = [0, 1, 2].map((i) => ({ id: id(`voter-${i}`), by: s[14 + i], choice: i === 2 ? 1 : 0, salt: fixed(`salt-${i}`) }));
  for (const v of voters) {
    await send(undefined, () => tm.connect(v.by).register(v.id, 1));
    await send(undefined, () => tm.setIdentityVerified(v.id, true));
  }
  await mine(Number(DP.minAge) + 1); // the voters are old enough (one block per second)
  await send("DisputeResolution.openDispute", () =>
    court.openDispute(id("claimant"), id("respondent"), 0, 2, fixed("evidence-dispute"), CID, 0, { value: DP.deposit }),
  );
  const commitment = (v: (typeof voters)[number]) =>
    ethersKeccak(AbiCoder.defaultAbiCoder().encode(["uint256", "bytes32", "uint8", "bytes32"], [1, v.id, v.choice, v.salt]));
  for (const [i, v] of voters.entries())
    await send(i === 0 ? "DisputeResolution.commit (first)" : i === 1 ? "DisputeResolution.commit (later)" : undefined, () =>
      court.connect(v.by).commit(1, v.id, commitment(v)),
    );
  wait(DP.commitPeriod);
  for (const [i, v] of voters.entries())
    await send(i === 0 ? "DisputeResolution.reveal (first)" : i === 1 ? "DisputeResolution.reveal (later)" : undefined, () =>
      court.connect(v.by).reveal(1, v.id, v.choice, v.salt),
    );
  wait(DP.revealPeriod + DP.appealPeriod); // a decided round is final once nobody appealed in time
  await send("DisputeResolution.resolve (upheld)", () => court.resolve(1));
  await send("DisputeResolution.settle (majority voter)", () => court.settle(1, voters[0].id));
  await send("DisputeResolution.settle (minority voter)", () => court.settle(1, voters[2].id));
  await send("DisputeResolution.withdraw (deposit)", () => court.withdraw());

  // ---------------------------------------------------------------- MSSA registration
  // Round 0's authorities are signers 1-3 (the deploy path's genesis); place PL with two of them, k = 2.
  const place = fixed("place-1");
  await send("CredentialLedger.setPlace (2 authorities)", () => ledger.setPlace(place, [s[1].address, s[2].address], 2));
  // service discovery (issue 19): an authority announces its service's endpoint for the place
  await send("CredentialLedger.setAuthorityEndpoint (first, 30 bytes)", () =>
    ledger.connect(s[1]).setAuthorityEndpoint(place, "https://pl1-a.example.org:8443"),
  );
  const user = s[12];
  // an elector registration (it carries the user's election nullifier: h11-red2 M1)
  const c = await consentToRegistration(
    ledger,
    user,
    place,
    fixed("commitment-1"),
    fixed("nullifier-1"),
    fixed("session-1"),
    fixed("elector-1"),
  );
  await send("CredentialLedger.propose", () =>
    ledger
      .connect(s[1])
      .propose(place, user.address, fixed("commitment-1"), c.nullifier, c.electorNullifier, c.session, c.deadline, c.signature),
  );
  const regId = await ledger.registrationId(place, user.address, fixed("commitment-1"));
  await send("CredentialLedger.approve (k-th: access, chain link, enrolment)", () => ledger.connect(s[2]).approve(regId));

  // ---------------------------------------------------------------- MSSA election
  // Members: the 3 genesis authorities, the registered user (12) and signers 4-10 enrolled here by the
  // registrar, each as the elector of a person of her own (every member carries an election nullifier).
  const enrolled = [4, 5, 6, 7, 8, 9, 10].map((i) => s[i]);
  for (const [i, e] of enrolled.entries())
    await send(i === 0 ? "AuthorityElection.enrolElector (registrar)" : undefined, () =>
      election.enrolElector(e.address, fixed(`elector-${i + 4}`)),
    );
  await send("AuthorityElection.openRound", () => election.openRound());
  // Nominees 4-8 (5 > seats, so the round goes on; up to 2m = 6 candidates).
  const nominations: [number, number][] = [
    [4, 5],
    [5, 6],
    [6, 7],
    [7, 8],
    [8, 4],
    [9, 5],
    [10, 6],
  ];
  // the nominees stand first (s23-rtm F3)
  for (const nominee of new Set(nominations.map(([, n]) => n)))
    await send(nominee === nominations[0][1] ? "AuthorityElection.stand" : undefined, () => election.connect(s[nominee]).stand(1));
  for (const [i, [by, nominee]] of nominations.entries())
    await send(
      i === 0 ? "AuthorityElection.nominate (new nominee)" : i === 5 ? "AuthorityElection.nominate (existing nominee)" : undefined,
      () => election.connect(s[by]).nominate(1, s[nominee].address),
    );
  wait(EP.nominationPeriod);
  await send("AuthorityElection.closeNomination (5 nominees)", () => election.closeNomination());
  const candidates = (await election.round(1)).candidates.length;
  const ranking = Array.from({ length: candidates }, (_, i) => i);
  for (const [i, by] of [4, 5, 6, 7, 8, 9, 10].entries())
    await send(i === 0 ? "AuthorityElection.vote (first ballot)" : i === 1 ? "AuthorityElection.vote (later ballot)" : undefined, () =>
      election.connect(s[by]).vote(1n, i % 2 ? [...ranking].reverse() : ranking),
    );
  wait(EP.votingPeriod);
  await send("AuthorityElection.elect", () => election.elect());
  await send("AuthorityElection.report (detector, applied at once)", () =>
    election.connect(s[TRUST_ROLE_SIGNERS.detector]).report(s[9].address, 0, fixed("evidence-mssa-1")),
  );
  const [au1, au2] = await election.authorities();
  const target = s[10].address;
  const byAddr = (a: string) => s.find((x) => x.address === a)!;
  await send("AuthorityElection.report (authority, first attestation)", () =>
    election.connect(byAddr(au1)).report(target, 1, fixed("evidence-mssa-2")),
  );
  await send("AuthorityElection.report (authority, quorum reached)", () =>
    election.connect(byAddr(au2)).report(target, 1, fixed("evidence-mssa-2")),
  );
  // A report about a nominee of the open round counts from the round's end (s20-redm F1): round 2
  // opens, member 9 (reported above) is nominated, and the detector's report about it waits.
  await send(undefined, () => election.openRound());
  await send(undefined, () => election.connect(s[9]).stand(2));
  await send(undefined, () => election.connect(s[4]).nominate(2, s[9].address));
  await send("AuthorityElection.report (detector, deferred: about a nominee)", () =>
    election.connect(s[TRUST_ROLE_SIGNERS.detector]).report(s[9].address, 0, fixed("evidence-mssa-3")),
  );

  // ---------------------------------------------------------------- RSMS: one join through recordJoins
  // With the 8-join batch above: the fixed part and the per-join gas of a batch, from which the MSRP's
  // static gas limit of recordJoins is computed (offchain/chain/sender.ts, recordJoinsGas).
  await send("ResourcePoolRegistry.recordJoins (1 join)", () =>
    pools.recordJoins([{ pid: fixed("pid-batch-1"), tag: fixed("tag-batch-1"), poolId: 1, kind: 1 }]),
  );

  // ---------------------------------------------------------------- trust, an avatar's attested registration
  // Last, so that no earlier entry moves: the user's avatar logs in (a day) and its owner registers
  // it with the IdP's attestation, the first of its owner tag (it writes the tag's binding too).
  await send(undefined, () =>
    mit.recordLogin(fixed("avatar-2"), fixed("mit-user"), fixed("warrant-3"), fixed("vid-2"), BigInt(clock + 86_400)),
  );
  const avatarDeadline = BigInt(clock + 3_600);
  const avatarAttestation = await attestRegistration(admin, tm, fixed("avatar-2"), "avatar", s[14].address, avatarDeadline);
  await send("TrustManager.registerAttested (avatar, its owner's first)", () =>
    tm.connect(s[14]).registerAttested(fixed("avatar-2"), 1, avatarDeadline, avatarAttestation),
  );
  // A further avatar of the same owner, registered by a squatter while it was not logged in, then
  // logged in and taken back by its owner as a newcomer (reputation 0, unverified).
  await send(undefined, () => tm.connect(s[15]).register(fixed("avatar-3"), 1));
  await send(undefined, () =>
    mit.recordLogin(fixed("avatar-3"), fixed("mit-user"), fixed("warrant-4"), fixed("vid-3"), BigInt(clock + 86_400)),
  );
  const reclaimAttestation = await attestReclaim(admin, tm, fixed("avatar-3"), s[14].address, 0n, avatarDeadline);
  await send("TrustManager.reclaimAvatar (a squatted further avatar)", () =>
    tm.connect(s[14]).reclaimAvatar(fixed("avatar-3"), 0n, avatarDeadline, reclaimAttestation),
  );

  // ---------------------------------------------------------------- the court files the trace
  // Last, so that no earlier entry moves: the claimant's controller files a case about avatar-2,
  // an avatar dispute claims it (case 2, dispute 2), three voters uphold it, resolve releases
  // the case and the IdP traces it (CourtTraced).
  // avatar-2's controller (s[14]) is a party now: voter-0 (its entity) cannot vote; a fourth joins
  const jury = [...voters.slice(1), { id: id("voter-3"), by: s[17], choice: 0, salt: fixed("salt-3") }];
  await send(undefined, () => tm.connect(s[17]).register(jury[2].id, 1));
  await send(undefined, () => tm.setIdentityVerified(jury[2].id, true));
  await mine(Number(DP.minAge) + 1);
  // The dispute sends the case's encoded evidence (h14-red2 G3): 1,308 bytes, a transcript
  // signature's evidence with its handshake (test/helpers/encoded-evidence: simulated fields, the
  // generators as points). Since s19-redd F2/F3 the court reads the whole encoding (header, every
  // length and flag, times, warrants, points' encodings, the ephemeral keys on secp256k1): each
  // opening's evidence is about its respondent.
  // The handshake names the claimant's own avatar (avatar-5: a user of its own, logged in, attested
  // to the claimant's controller): an interaction is claimed by its counterparty, whose owner's
  // account alone may open the dispute (s19-redd F1, "One interaction, one court case").
  await send(undefined, () => mit.issueMIT(fixed("mit-claimant"), fixed("key-claimant"), CID));
  await send(undefined, () =>
    mit.recordLogin(fixed("avatar-5"), fixed("mit-claimant"), fixed("warrant-6"), fixed("vid-5"), BigInt(clock + 86_400)),
  );
  const counterpartyDeadline = BigInt(clock + 3_600);
  const counterpartyAttestation = await attestRegistration(admin, tm, fixed("avatar-5"), "avatar", admin.address, counterpartyDeadline);
  await send(undefined, () => tm.registerAttested(fixed("avatar-5"), 1, counterpartyDeadline, counterpartyAttestation));
  const evidenceAbout = (avatar: string) => encodedEvidence(avatar, { seed: `evidence-court-${avatar}`, reporter: fixed("avatar-5") });
  const caseEvidence = evidenceAbout(fixed("avatar-2"));
  await send(undefined, () => mit.requestTrace(fixed("avatar-2"), ethersKeccak(caseEvidence)));
  await send("DisputeResolution.openAvatarDispute", () =>
    court.openAvatarDispute(id("claimant"), fixed("avatar-2"), 2, caseEvidence, 2, { value: DP.deposit }),
  );
  const upheld = (v: (typeof jury)[number]) =>
    ethersKeccak(AbiCoder.defaultAbiCoder().encode(["uint256", "bytes32", "uint8", "bytes32"], [2, v.id, 0, v.salt]));
  for (const v of jury) await send(undefined, () => court.connect(v.by).commit(2, v.id, upheld(v)));
  wait(DP.commitPeriod);
  for (const v of jury) await send(undefined, () => court.connect(v.by).reveal(2, v.id, 0, v.salt));
  wait(DP.revealPeriod + DP.appealPeriod);
  await send("DisputeResolution.resolve (avatar, upheld: rules on its trace case)", () => court.resolve(2));
  await send("MITRegistry.recordVerdict (court-upheld case)", () => mit.recordVerdict(2, true, fixed("verdict-2")));
  // An avatar dispute against a logged-in avatar of the same owner that has no trust entry
  // (h14-red2 G5): the court looks up the owner's account (the registry's owner tag, the
  // TrustManager's attested avatar of that tag, avatar-2, and its controller) instead of the entry.
  await send(undefined, () =>
    mit.recordLogin(fixed("avatar-4"), fixed("mit-user"), fixed("warrant-5"), fixed("vid-4"), BigInt(clock + 86_400)),
  );
  const evidence4 = evidenceAbout(fixed("avatar-4"));
  await send(undefined, () => mit.requestTrace(fixed("avatar-4"), ethersKeccak(evidence4)));
  await send("DisputeResolution.openAvatarDispute (respondent without a trust entry)", () =>
    court.openAvatarDispute(id("claimant"), fixed("avatar-4"), 2, evidence4, 3, { value: DP.deposit }),
  );

  return sortSnapshot(out);
}

function bytes32(label: string): Uint8Array {
  return Uint8Array.from(Buffer.from(fixed(label).slice(2), "hex"));
}
