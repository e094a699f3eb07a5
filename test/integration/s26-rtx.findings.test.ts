/**
 * s26-rtx: outside red team on the joints between the four papers. Each `it` is a finding: it
 * fails now and passes once the joint is fixed (findings file: the lead decides the fixes).
 *
 * R1 (M) flag -> S_RN -> revokePid -> court: a detector flag set after a dispute opened takes a
 *   resource node's committed vote away. The court's flag rule (s20-redt F3, s25-rtt R3,
 *   disputes.md "door 1") fixes each juror's flags at the opening: a flag set later, "front-running
 *   the reveal whose choice it reads", does not take the vote away, and in a flag contest the
 *   detector is the other side. But for a resource node the same flag reaches the MSRP's flag
 *   sync, which puts the RN in S_RN (flag-held), and the revocation sync marks its trust identity
 *   revoked on the ResourcePoolRegistry (`revokePid`, s22-redx F2): `hasIdentityStanding` is false
 *   and `reveal` refuses `IdentityRevoked`. disputes.md argues the revocation rule holds "in a flag
 *   contest too" because "the revoker (the IdP, the admin) is no party"; for an RN the revoker acts
 *   on the detector's flag within one sync (seconds), so the detector strikes any RN juror it likes
 *   after the commits, and the vote is not even penalized (settlement skips it): a rule bypassed
 *   at the joint.
 *
 * R2 (M) S_RN lifted -> settle: an RN juror whose reveal the court refused (its trust identity
 *   marked revoked while the MSRP held it in S_RN) is penalized for that reveal once the MSRP lets
 *   it out of S_RN. `_feedback` excuses an unrevealed vote when the voter's identity is revoked
 *   *now*, at settlement, not when its reveal was refused; `settle` may be called by anyone at any
 *   time after `resolve`, and leaving S_RN is routine (the operator's `rsms:rn:clear`, a lifted
 *   flag, both reinstating the PID at the next sync). rsms-group.md §8 and
 *   test/disputes/rn-juror-revoked.test.ts promise "settlement does not penalize the reveal it was
 *   refused"; whoever settles after the reinstatement takes `voterPenalty` from the honest juror.
 *
 * R3 (L) the court's eligibility view ignores the RSMS revocation: `eligibleWeight` ("0 if it
 *   could not reveal", IDisputeResolution) answers the full weight for an RN whose trust identity
 *   the MSRP marked revoked, which can neither commit (`NotVerified`) nor reveal (`IdentityRevoked`);
 *   `dispute:commit` pre-checks with it ("a vote that could never count"), so that check passes
 *   it and the contract's refusal is what the voter gets.
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

const vote = (dId: bigint, v: string, choice = 0) => commitmentOf(dId, v, choice, salt(`s26-rtx-${v}`));

describe("s26-rtx: the joints between the papers (findings)", function () {
  this.timeout(300_000);

  it("R1 (M): a detector flag set after the opening takes an RN juror's committed vote away (flag sync -> S_RN -> revokePid)", async () => {
    const w = await rsmsCourt();
    const { trust, disputes, detector, voters, pid, jury } = w;
    await disputes.openDispute(id("claimant"), id("respondent"), 0, 2, ethers.id("s26-rtx R1 evidence"), "bafkrei-r1", 0, {
      value: P.deposit,
    });
    const dId = 1n;
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
    // the same flag, through the RSMS joint, takes the RN's
    let refused = "";
    try {
      await jury.reveal(dId, pid, 1, salt(`s26-rtx-${pid}`));
    } catch (e) {
      refused = (e as Error).message.split("\n")[0];
    }
    expect(
      refused,
      "a flag set after the opening must not take the vote away (s25-rtt R3); via the MSRP's flag sync and revokePid it does",
    ).to.equal("");
  });

  it("R2 (M): an RN juror refused its reveal while in S_RN is penalized for it when settled after the MSRP lets it out", async () => {
    const w = await rsmsCourt();
    const { trust, disputes, voters, rn, pid, jury } = w;
    await disputes.openDispute(id("claimant"), id("respondent"), 0, 2, ethers.id("s26-rtx R2 evidence"), "bafkrei-r2", 0, {
      value: P.deposit,
    });
    const dId = 1n;
    for (const v of [pid, ...voters]) await jury.commit(dId, v, vote(dId, v));
    // the operator holds the RN suspicious (rsms:rn:flag) after its commit; the revocation sync marks it
    w.msrp.flagRn(rn.pid);
    expect((await syncRevocations(w.ledger, w.msrp)).revoked).to.deep.equal([pid.toLowerCase()]);
    await time.increase(Number(P.commitPeriod) + 1);
    // the documented rule: marked after its commit, it cannot reveal
    await expect(jury.reveal(dId, pid, 0, salt(`s26-rtx-${pid}`))).to.be.revertedWithCustomError(
      disputes,
      "DisputeResolution__IdentityRevoked",
    );
    for (const v of voters) await jury.reveal(dId, v, 0, salt(`s26-rtx-${v}`));
    await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    await disputes.resolve(dId);
    // the operator's review clears the RN (rsms:rn:clear): the next sync reinstates its trust identity
    w.msrp.clearSuspicious(rn.name);
    expect((await syncRevocations(w.ledger, w.msrp)).reinstated).to.deep.equal([pid.toLowerCase()]);
    // anyone settles it now
    const before = (await trust.entity(pid)).reputation;
    const anyone = (await hre.ethers.getSigners())[19];
    await disputes.connect(anyone).settle(dId, pid);
    expect(
      (await trust.entity(pid)).reputation,
      "settlement must not penalize the reveal the court refused it (rsms-group.md §8); settled after the reinstatement, it does",
    ).to.equal(before);
  });

  it("R3 (L): eligibleWeight answers a weight for an RN juror the MSRP revoked, which can neither commit nor reveal", async () => {
    const w = await rsmsCourt();
    const { disputes, rn, pid, jury } = w;
    await disputes.openDispute(id("claimant"), id("respondent"), 0, 2, ethers.id("s26-rtx R3 evidence"), "bafkrei-r3", 0, {
      value: P.deposit,
    });
    const dId = 1n;
    w.msrp.flagRn(rn.pid);
    await syncRevocations(w.ledger, w.msrp);
    await expect(jury.commit(dId, pid, vote(dId, pid))).to.be.revertedWithCustomError(disputes, "DisputeResolution__NotVerified");
    expect(await disputes.eligibleWeight(dId, pid), "0 if it could not reveal (IDisputeResolution.eligibleWeight)").to.equal(0n);
  });
});
