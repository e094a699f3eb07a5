/**
 * Threat model (session 22, docs/specs/disputes.md "One interaction, one court case"): evidence
 * without a handshake names no counterparty and can never trace anyone (the IdP rejects it:
 * handshakeFault). Until session 22 `openAvatarDispute` accepted it as the hearing (key, none),
 * anyone's to claim first: whoever copied the bytes of an interaction (from the mempool, from a
 * victim's filed case) and stripped the handshake could open a dispute over a case that cannot
 * end in a trace, and move the loser penalty (upheld) or the claimant's and the deposit
 * (rejected); the accused's sock could hold that hearing with a sham. Now the court refuses such
 * evidence outright (`EvidenceWithoutHandshake(case)`), before anything is written, whoever opens
 * it, the counterparty's owner included; the victim's evidence with its handshake opens as before.
 * Evidence is simulated (test/helpers/encoded-evidence.ts: parsed like the IdP's, no signature
 * verifies). With real evidence and the IdP: interaction-heard-twice.test.ts (R1).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployDisputeFixture } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { TraceStatus } from "../../offchain/avatars/protocols";
import { MITRegistry__factory } from "../../typechain-types";
import { attestClaimantAvatar, CLAIMANT_AVATAR, encodedEvidence } from "../helpers/encoded-evidence";

const RESPONDENT = id("accused");
/** The victim's evidence: its handshake names his attested avatar (msrp's, the claimant's controller). */
const REAL = encodedEvidence(RESPONDENT, { reporter: CLAIMANT_AVATAR, receipt: true });
/** Copies of the same interaction without the handshake, with and without the receipt: the same trace key. */
const STRIPPED = [encodedEvidence(RESPONDENT, { handshake: 0 }), encodedEvidence(RESPONDENT, { handshake: 0, receipt: true })];

async function world() {
  const f = await deployDisputeFixture();
  const registry = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
  const notAfter = (await time.latest()) + 365 * 86_400;
  await registry.issueMIT(id("accused-mit"), id("key"), "params-cid");
  await registry.recordLogin(RESPONDENT, id("accused-mit"), id("warrant"), id("vid"), notAfter);
  await attestClaimantAvatar({ registry, trust: f.trust, msrp: f.msrp });
  // a copier and the accused's sock, each with a claimant entity of its own
  const [copier, sock] = [f.others[5], f.others[6]];
  await f.trust.connect(copier).register(id("copier-claims"), Kind.Organization);
  await f.trust.connect(sock).register(id("sock-claims"), Kind.Organization);
  return { ...f, registry, copier, sock, court: await f.disputes.getAddress() };
}

describe("DisputeResolution.openAvatarDispute: evidence without a handshake opens no dispute (session 22)", () => {
  it("a copier, the accused's sock and the victim himself are refused EvidenceWithoutHandshake over stripped bytes; nothing is written; the victim's evidence with its handshake opens", async () => {
    const f = await loadFixture(world);
    const key = (await f.disputes.interactionOf(REAL)).key;
    const held = await ethers.provider.getBalance(f.court);
    const openers = [
      [f.copier, id("copier-claims")],
      [f.sock, id("sock-claims")],
      [f.msrp, id("claimant")],
    ] as const;
    for (const bytes of STRIPPED) {
      // the same interaction (the IdP's trace key), no counterparty, heard by nobody
      const read = await f.disputes.interactionOf(bytes);
      expect([read.parsed, read.about, read.key]).to.deep.equal([true, RESPONDENT, key]);
      expect([...(await f.disputes.hearingOf(bytes))]).to.deep.equal([ethers.ZeroHash, ethers.ZeroAddress, 0n]);
      for (const [who, claimant] of openers) {
        // each files the stripped copy as its own case (the registry takes any hash), then opens it
        const caseId = await f.registry.connect(who).requestTrace.staticCall(RESPONDENT, ethers.keccak256(bytes));
        await (await f.registry.connect(who).requestTrace(RESPONDENT, ethers.keccak256(bytes))).wait();
        await expect(f.disputes.connect(who).openAvatarDispute(claimant, RESPONDENT, 2, bytes, caseId, { value: P.deposit }))
          .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__EvidenceWithoutHandshake")
          .withArgs(caseId);
        expect(Number((await f.registry.traceCase(caseId)).status)).to.equal(TraceStatus.Open);
      }
    }
    expect(await f.disputes.disputeCount()).to.equal(0n);
    expect(await ethers.provider.getBalance(f.court)).to.equal(held);
    // the victim's own evidence (its handshake names his avatar) opens, and holds the interaction's hearing
    const mine = await f.registry.requestTrace.staticCall(RESPONDENT, ethers.keccak256(REAL));
    await (await f.registry.requestTrace(RESPONDENT, ethers.keccak256(REAL))).wait();
    await (await f.disputes.openAvatarDispute(id("claimant"), RESPONDENT, 2, REAL, mine, { value: P.deposit })).wait();
    expect([...(await f.disputes.hearingOf(REAL))]).to.deep.equal([CLAIMANT_AVATAR, f.msrp.address, 1n]);
    expect(Number((await f.registry.traceCase(mine)).status)).to.equal(TraceStatus.AwaitingCourt);
    // a stripped copy is still refused for what it is, not as the heard interaction
    const late = await f.registry.connect(f.sock).requestTrace.staticCall(RESPONDENT, ethers.keccak256(STRIPPED[0]));
    await (await f.registry.connect(f.sock).requestTrace(RESPONDENT, ethers.keccak256(STRIPPED[0]))).wait();
    await expect(f.disputes.connect(f.sock).openAvatarDispute(id("sock-claims"), RESPONDENT, 2, STRIPPED[0], late, { value: P.deposit }))
      .to.be.revertedWithCustomError(f.disputes, "DisputeResolution__EvidenceWithoutHandshake")
      .withArgs(late);
    expect(await f.disputes.disputeCount()).to.equal(1n);
  });
});
