/**
 * s26-rtx (closed by s26-fxx): the joint between paper 1's RSMS (the MSRP's flag sync puts a
 * flagged resource node in S_RN, and the revocation sync marks its trust identity revoked,
 * `revokePid`) and paper 4's court (which reads that revocation). The court judges a juror's
 * standing as of the dispute's snapshot (the block before the opening), for every source of
 * exclusion it reads: the detector's flags (by flag run, s20-redt F3, s25-rtt R3) and the identity's
 * revocation (`TrustManager.isIdentityVerifiedAsOf` / `hasIdentityStandingAsOf`, which ask the
 * registry `revokedSince` / `isVerifiedAsOf`), at `commit`, `reveal`, `settle`'s excusal and
 * `eligibleWeight` (docs/specs/disputes.md "Standing as of the snapshot").
 *
 * R1 (M) a detector flag set after a dispute opened took a resource node's committed vote away:
 *   the MSRP's flag sync mirrored it into S_RN and `revokePid` marked its trust identity, so
 *   `reveal` refused `IdentityRevoked`; in a flag contest the detector is the other side. Now a
 *   revocation made after the snapshot neither bars the commit nor the reveal, as the flag does not.
 * R2 (M) `settle` excused an unrevealed vote if the voter was revoked *at settlement*: flag,
 *   strike, unflag, settle penalized the struck juror. Now there is no strike, and the excusal reads
 *   the standing as of the snapshot: a juror revoked later that withholds its reveal is a withholder.
 * R3 (L) `eligibleWeight` ("0 if it could not reveal") answered the full weight for an RN revoked
 *   at or before the snapshot, which can neither commit nor reveal (`dispute:commit`'s pre-check).
 */
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { loadAliceWorld } from "../rsms/fixtures";
import { byVoter, salt } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { commitmentOf } from "../../offchain/disputes/tally";
import { attestRegistration } from "../../offchain/trust/ledger";
import { rnTrustFlagged } from "../../offchain/trust/rn-flags";
import { syncRevocations } from "../../offchain/rsms/revocations";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { toHex } from "../../offchain/crypto/bytes";
import { DisputeResolution__factory, TrustManager__factory } from "../../typechain-types";
import type { Signer } from "ethers";

/** The RSMS world (MSRP agent, joined RNs) with the trust layer and the court over the same deployment. */
async function rsmsCourt() {
  const w = await loadAliceWorld();
  const signers = await hre.ethers.getSigners();
  // the deployer: the TrustManager's admin and the MSRP's account (MSRP_ROLE: it signs RN attestations)
  const admin = signers[0];
  const trust = TrustManager__factory.connect(w.deployment.contracts.TrustManager.address, admin);
  const disputes = DisputeResolution__factory.connect(w.deployment.contracts.DisputeResolution.address, admin);
  const detector = signers[TRUST_ROLE_SIGNERS.detector];
  const signerOf = new Map<string, Signer>();
  // the parties: the operator's entities (admin-verified), as the dispute fixture's
  for (const n of ["claimant", "respondent"]) {
    await trust.register(id(n), Kind.Avatar);
    await trust.setIdentityVerified(id(n), true);
  }
  // three ordinary jurors, each its own account
  const voters: string[] = [];
  for (let i = 0; i < 3; i++) {
    const v = id(`s26-rtx-v${i}`);
    await trust.connect(signers[10 + i]).register(v, Kind.Organization);
    await trust.setIdentityVerified(v, true);
    signerOf.set(v, signers[10 + i]);
    voters.push(v);
  }
  // a joined RN holds its trust identity: the MSRP binds and attests its PID, its controller registers it
  const rn = w.msrp.joinedRns()[0];
  w.msrp.bindTrustId(rn.name, rn.pid);
  const pid = toHex(rn.pid);
  const ctrl = ethers.Wallet.createRandom().connect(ethers.provider);
  await setBalance(ctrl.address, 10n ** 20n);
  const deadline = BigInt(await time.latest()) + 3600n;
  await trust
    .connect(ctrl)
    .registerAttested(
      pid,
      Kind.ResourceNode,
      deadline,
      await attestRegistration(admin, trust, pid, "resource-node", ctrl.address, deadline),
    );
  signerOf.set(pid, ctrl);
  await mine(Number(P.minAge) + 1);
  return { ...w, trust, disputes, detector, voters, rn, pid, jury: byVoter(disputes, signerOf) };
}

/** What `rsms:serve msrp` does at each flag sync (GroupDesk.syncTrustFlags, then the revocation sync), in process. */
async function msrpFlagSync(w: Awaited<ReturnType<typeof rsmsCourt>>) {
  const flagged: string[] = [];
  const unflagged: string[] = [];
  for (const { name } of w.msrp.summary().rns) {
    let f = false;
    for (const p of w.msrp.rnPids(name)) if (await rnTrustFlagged(w.trust, p)) f = true;
    (f ? flagged : unflagged).push(name);
  }
  w.msrp.applyTrustFlags(flagged, unflagged);
  return syncRevocations(w.ledger, w.msrp);
}

/** Opens the world's first dispute, an ordinary one of the claimant against the respondent; its id (1). */
async function openCase(disputes: Awaited<ReturnType<typeof rsmsCourt>>["disputes"], tag: string): Promise<bigint> {
  await disputes.openDispute(
    id("claimant"),
    id("respondent"),
    0,
    2,
    ethers.id(`s26-rtx ${tag} evidence`),
    `bafkrei-${tag.toLowerCase()}`,
    0,
    {
      value: P.deposit,
    },
  );
  return 1n;
}

const vote = (dId: bigint, v: string, choice = 0) => commitmentOf(dId, v, choice, salt(`s26-rtx-${v}`));

describe("s26-rtx: the court judges RSMS revocation as of the dispute's snapshot", function () {
  this.timeout(300_000);

  it("R1 (M): a detector flag set after the opening does not take an RN juror's committed vote away through flag sync -> S_RN -> revokePid", async () => {
    const w = await rsmsCourt();
    const { trust, disputes, detector, voters, pid, jury } = w;
    const dId = await openCase(disputes, "R1");
    expect(await disputes.eligibleWeight(dId, pid), "the RN is an eligible juror at the opening").to.be.greaterThan(0n);
    for (const v of [pid, ...voters]) await jury.commit(dId, v, vote(dId, v, v === pid ? 1 : 0));
    // after the commits, the detector flags the RN juror and one ordinary juror (a run of its own)
    await trust.connect(detector).flag(pid, 2, ethers.id("s26-rtx report"), 0);
    await trust.connect(detector).flag(voters[0], 2, ethers.id("s26-rtx report"), 0);
    // the MSRP's next flag sync mirrors the flag into S_RN and marks the RN's trust identity revoked
    const sync = await msrpFlagSync(w);
    expect(sync.revoked, "the revocation sync marked the RN's trust identity").to.deep.equal([pid.toLowerCase()]);
    await time.increase(Number(P.commitPeriod) + 1);
    // control: the flag alone does not take an ordinary juror's vote (the court's flag rule)
    await expect(jury.reveal(dId, voters[0], 0, salt(`s26-rtx-${voters[0]}`))).to.emit(disputes, "VoteRevealed");
    // the same flag, through the RSMS joint, does not take the RN's: its vote counts with its snapshot weight
    const weight = await disputes.eligibleWeight(dId, pid);
    await expect(jury.reveal(dId, pid, 1, salt(`s26-rtx-${pid}`)))
      .to.emit(disputes, "VoteRevealed")
      .withArgs(dId, pid, 1, weight, 0);
    expect((await disputes.tally(dId))[1], "the revoked-after-opening RN's weight is in the tally").to.equal(weight);
  });

  it("R1: an RN the MSRP revoked after the opening, before its commit, still commits (the flag rule's commit too)", async () => {
    const w = await rsmsCourt();
    const { trust, disputes, detector, voters, pid, jury } = w;
    const dId = await openCase(disputes, "R1b");
    await trust.connect(detector).flag(pid, 2, ethers.id("s26-rtx report"), 0);
    expect((await msrpFlagSync(w)).revoked).to.deep.equal([pid.toLowerCase()]);
    expect([await trust.isIdentityVerified(pid), await trust.hasIdentityStanding(pid)], "revoked now").to.deep.equal([false, false]);
    const snapshot = (await disputes.dispute(dId)).snapshot;
    expect([await trust.isIdentityVerifiedAsOf(pid, snapshot), await trust.hasIdentityStandingAsOf(pid, snapshot)]).to.deep.equal([
      true,
      true,
    ]);
    expect(await disputes.eligibleWeight(dId, pid)).to.be.greaterThan(0n);
    await expect(jury.commit(dId, pid, vote(dId, pid))).to.emit(disputes, "VoteCommitted");
    for (const v of voters) await jury.commit(dId, v, vote(dId, v));
    await time.increase(Number(P.commitPeriod) + 1);
    await expect(jury.reveal(dId, pid, 0, salt(`s26-rtx-${pid}`))).to.emit(disputes, "VoteRevealed");
  });

  it("R2 (M): flag, strike, unflag, settle: an RN marked after its commit reveals, and settlement after its reinstatement does not penalize it", async () => {
    const w = await rsmsCourt();
    const { trust, disputes, voters, rn, pid, jury } = w;
    const dId = await openCase(disputes, "R2");
    for (const v of [pid, ...voters]) await jury.commit(dId, v, vote(dId, v));
    // the operator holds the RN suspicious (rsms:rn:flag) after its commit; the revocation sync marks it
    w.msrp.flagRn(rn.pid);
    expect((await syncRevocations(w.ledger, w.msrp)).revoked).to.deep.equal([pid.toLowerCase()]);
    await time.increase(Number(P.commitPeriod) + 1);
    // marked after the snapshot: no strike, its vote counts
    for (const v of [pid, ...voters]) await expect(jury.reveal(dId, v, 0, salt(`s26-rtx-${v}`))).to.emit(disputes, "VoteRevealed");
    await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    await disputes.resolve(dId);
    // the operator's review clears the RN (rsms:rn:clear): the next sync reinstates its trust identity
    w.msrp.clearSuspicious(rn.name);
    expect((await syncRevocations(w.ledger, w.msrp)).reinstated).to.deep.equal([pid.toLowerCase()]);
    // anyone settles it now: a unanimous majority voter neither gains nor loses (nobody lost)
    const before = (await trust.entity(pid)).reputation;
    const anyone = (await hre.ethers.getSigners())[19];
    await expect(disputes.connect(anyone).settle(dId, pid)).to.emit(disputes, "VoterSettled").withArgs(dId, pid, 0);
    expect((await trust.entity(pid)).reputation).to.equal(before);
  });

  it("R2: settle's excusal reads the standing as of the snapshot: an RN revoked after it that withholds its reveal is penalized, revoked or not", async () => {
    const w = await rsmsCourt();
    const { trust, disputes, voters, rn, pid, jury } = w;
    const dId = await openCase(disputes, "R2b");
    for (const v of [pid, ...voters]) await jury.commit(dId, v, vote(dId, v));
    w.msrp.flagRn(rn.pid);
    expect((await syncRevocations(w.ledger, w.msrp)).revoked).to.deep.equal([pid.toLowerCase()]);
    await time.increase(Number(P.commitPeriod) + 1);
    // it could reveal (R1) but withholds; the others reveal
    for (const v of voters) await jury.reveal(dId, v, 0, salt(`s26-rtx-${v}`));
    await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    await disputes.resolve(dId);
    expect(await trust.hasIdentityStanding(pid), "still marked at settlement").to.equal(false);
    const before = (await trust.entity(pid)).reputation;
    await expect(disputes.settle(dId, pid)).to.emit(disputes, "VoterSettled").withArgs(dId, pid, -P.voterPenalty);
    expect((await trust.entity(pid)).reputation, "a withholder whose revocation came after the snapshot").to.equal(before - P.voterPenalty);
  });

  it("R3 (L): an RN the MSRP revoked at or before the snapshot has no vote: eligibleWeight 0, commit NotVerified, nothing changes", async () => {
    const w = await rsmsCourt();
    const { trust, disputes, rn, pid, jury } = w;
    w.msrp.flagRn(rn.pid);
    await syncRevocations(w.ledger, w.msrp);
    const dId = await openCase(disputes, "R3");
    const snapshot = (await disputes.dispute(dId)).snapshot;
    expect([await trust.isIdentityVerifiedAsOf(pid, snapshot), await trust.hasIdentityStandingAsOf(pid, snapshot)]).to.deep.equal([
      false,
      false,
    ]);
    expect(await disputes.eligibleWeight(dId, pid), "0 if it could not reveal (IDisputeResolution.eligibleWeight)").to.equal(0n);
    const before = await disputes.voteOf(dId, pid);
    await expect(jury.commit(dId, pid, vote(dId, pid)))
      .to.be.revertedWithCustomError(disputes, "DisputeResolution__NotVerified")
      .withArgs(dId, pid);
    expect(await disputes.voteOf(dId, pid)).to.deep.equal(before);
  });

  it("R3: revoked before the opening and reinstated after it, the RN judges (the revocation in force decides, as a withdrawn flag)", async () => {
    const w = await rsmsCourt();
    const { disputes, rn, pid, jury } = w;
    w.msrp.flagRn(rn.pid);
    await syncRevocations(w.ledger, w.msrp);
    const dId = await openCase(disputes, "R3b");
    w.msrp.clearSuspicious(rn.name);
    expect((await syncRevocations(w.ledger, w.msrp)).reinstated).to.deep.equal([pid.toLowerCase()]);
    expect(await disputes.eligibleWeight(dId, pid)).to.be.greaterThan(0n);
    await expect(jury.commit(dId, pid, vote(dId, pid))).to.emit(disputes, "VoteCommitted");
  });
});
