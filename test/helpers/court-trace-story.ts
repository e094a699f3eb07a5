/**
 * The court-trace story shared by the idp-court-trace* tests (moved here unchanged from
 * test/services/idp-court-trace.test.ts, of which two other files held copies).
 */
import hre from "hardhat";
import { mine, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { idpSystem, startIdp } from "./idp-services";

/** What idpSystem makes. */
type IdpSystem = Awaited<ReturnType<typeof idpSystem>>;
import { AvatarParty } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import type { IdpService } from "../../offchain/services/avatars/idp-service";
import { toHex } from "../../offchain/crypto/bytes";
import { issueEnrolmentToken } from "../../offchain/services/enrolment";
import { delegateRemote, issueRemote, loginRemote, mutualAuthRemote } from "../../offchain/services/avatars/clients";
import { DisputeLedger } from "../../offchain/disputes/ledger";
import { entityId, TrustLedger } from "../../offchain/trust/ledger";
import { DisputeResolution__factory, TrustManager__factory } from "../../typechain-types";

/** An avatar id of a party's MIT. */
export const avatar = (p: AvatarParty, n: string) => avatarIdOf(p.mit!.serial, n);

/**
 * The IdP service of `sys` started (handed to `onService` first, so that the suite stops it
 * whatever fails next); alice and bob (users, their eyes seeded `seeds`) and an AI proxy bot
 * issued, alice's avatar A delegated to the bot, bob logged in as B; and one mutual authentication
 * (at the latest block's time) in which the bot drives A with bob's B.
 */
export async function botMeetsBob(sys: IdpSystem, seeds: [number, number], onService: (svc: IdpService) => void) {
  const { dep, ks, client } = sys;
  const up = await startIdp(sys);
  onService(up.svc);
  const info = up.info;
  const eye = { alice: new SimulatedEye(seeds[0]), bob: new SimulatedEye(seeds[1]) };
  const issue = (name: string, kind: "user" | "proxy", enrollment?: Uint8Array) =>
    issueRemote({
      idp: info,
      dep,
      keystore: client,
      name,
      kind,
      label: name,
      enrollment,
      token: issueEnrolmentToken(ks, { service: "idp", kind, identity: name, ttlSec: 600 }).token,
    });
  const alice = (await issue("alice", "user", eye.alice.capture())).party;
  const bob = (await issue("bob", "user", eye.bob.capture())).party;
  const bot = (await issue("bot", "proxy")).party;
  await loginRemote({ idp: info, dep, user: alice, sample: () => eye.alice.capture(), avatarId: avatar(alice, "A"), appearance: "a" });
  const d = await delegateRemote({
    idp: info,
    dep,
    user: alice,
    sample: () => eye.alice.capture(),
    proxy: bot,
    avatarId: avatar(alice, "A"),
  });
  const b = await loginRemote({
    idp: info,
    dep,
    user: bob,
    sample: () => eye.bob.capture(),
    avatarId: avatar(bob, "B"),
    appearance: "b",
  });
  const t = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  // the AI proxy drives alice's avatar A in the interaction with bob
  const m = await mutualAuthRemote({
    idp: info,
    dep,
    A: { credential: d.credential, driver: bot },
    B: { credential: b.credential, driver: bob },
    now: () => t,
  });
  return { info, alice, bob, bot, m };
}

/**
 * The IdP service, alice's bot-driven avatar A after one interaction with bob, the trust layer
 * around them: avatar A attested as the respondent, bob's avatar B attested as his (the
 * counterparty, whose owner's account may claim the interaction, and bob's claimant), three verified jurors,
 * past the court's minimum age; `judge` has the jurors vote in a dispute and waits out the appeal.
 * @param onService - receives the running IdP service (the suite stops it)
 */
export async function courtTraceStory(name: string, onService: (svc: IdpService) => void) {
  const sys = await idpSystem(name);
  const { dep, ks, f } = sys;
  const { info, alice, bob, m } = await botMeetsBob(sys, [411, 412], onService);
  const e = m.evidenceAboutA;

  // The trust layer: bob's claimant entity (his account), avatar A as the respondent (attested by
  // the IdP's registrar, the deployer here), bob's avatar B attested as his, three jurors of other
  // accounts, verified by the admin.
  const signers = await hre.ethers.getSigners();
  const [admin, bobAccount, aliceAccount] = [f.msrp, signers[1], signers[2]];
  const tm = TrustManager__factory.connect(f.deployment.contracts.TrustManager.address, admin);
  const court = DisputeResolution__factory.connect(f.deployment.contracts.DisputeResolution.address, admin);
  const respondent = toHex(avatar(alice, "A"));
  await new TrustLedger(tm.connect(aliceAccount)).register(respondent, "avatar", admin);
  // bob's avatar B, the counterparty the evidence's handshake names, attested as his (the IdP's
  // registrar signs): his account is B's owner's account, the only one that may claim the
  // interaction in court (docs/specs/disputes.md, "One interaction, one court case"), and B is
  // his claimant: a claim is answered for by an entity with identity standing and reputation
  // (s23-rtt R4; a plain registration of his account has neither)
  const bobAvatar = toHex(avatar(bob, "B"));
  await new TrustLedger(tm.connect(bobAccount)).register(bobAvatar, "avatar", admin);
  const claimant = bobAvatar;
  const jurors = signers.slice(12, 15);
  const voters = jurors.map((_, i) => entityId(`court-trace-juror-${i}`));
  for (const [i, j] of jurors.entries()) {
    await (await tm.connect(j).register(voters[i], 1)).wait();
    await (await tm.setIdentityVerified(voters[i], true)).wait();
  }
  const params = await court.params();
  await mine(Number(params.minAge) + 1);
  const reporter = dep.registry.connect(bobAccount);
  const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
  /** Three jurors vote `choice` in dispute `id`; past the appeal window. */
  const judge = async (id: bigint, choice: number) => {
    const salts: string[] = [];
    for (const [i, v] of voters.entries()) salts.push((await new DisputeLedger(court.connect(jurors[i])).commit(id, v, choice)).salt);
    await time.increase(Number(params.commitPeriod) + 1);
    for (const [i, v] of voters.entries()) await new DisputeLedger(court.connect(jurors[i])).reveal(id, v, choice, salts[i]);
    await time.increase(Number(params.revealPeriod + params.appealPeriod) + 1);
  };
  return { dep, ks, info, alice, bob, e, court, tm, claimant, respondent, params, reporter, bobAccount, bobAvatar, signers, once, judge };
}
