/**
 * s25-review finding H1 (fixed in the same session): with s25-fxt's first fix
 * (R1 + R4), an ordinary dispute (nature 0) upheld against a squatted further-avatar entry costs
 * the avatar's owner loserPenalty on his attested avatar, even after he reclaimed the id from the
 * squatter. docs/specs/trust.md ("A reclaimed id starts afresh", the court) says a claim upheld
 * against the squatter's id leaves the owner's reputation alone. Now the entry's controller (the
 * squatter) is the party and the owner is only kept off the jury (M1: the squatter is too).
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { byVoter, deployDisputeFixture, ghostUnderSpare, nextEvidence, salt } from "../fixtures/disputes";
import { id } from "../fixtures/trust";
import { commitmentOf } from "../../offchain/disputes/tally";
import { attestReclaim } from "../../offchain/trust/ledger";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";

describe("s25-review (disputes; fixed)", () => {
  it("H1: a claim upheld against a squatter's entry of a further avatar leaves the owner's attested avatar alone (after the owner's reclaim too)", async () => {
    const f = await loadFixture(deployDisputeFixture);
    // a stranger (the fixture's spare account) took the id of the owner's further avatar while it was logged out
    const { ghost, main, owner, spare: squatter } = await ghostUnderSpare(f);
    const mainBefore = (await f.trust.entity(main)).reputation;
    // a claim about the squatter's service under the id (its era, generation 0)
    await f.disputes.openDispute(id("claimant"), ghost, 0, 2, nextEvidence(), "bafkrei-s25rev-h1", 0, { value: P.deposit });
    expect((await f.disputes.dispute(1n)).respondentController, "the squatter, whose entry it is, is the party").to.equal(squatter.address);
    // the owner takes his id back from the squatter
    const deadline = BigInt(await time.latest()) + 3600n;
    const ra = await attestReclaim(f.msrp, f.trust, ghost, owner.address, 0n, deadline);
    await f.trust.connect(owner).reclaimAvatar(ghost, 0n, deadline, ra);
    const jury = byVoter(f.disputes, f.signerOf);
    const jurors = f.voters.slice(0, 3);
    for (const v of jurors) await jury.commit(1n, v, commitmentOf(1n, v, 0, salt(`s25rev-${v}`)));
    await time.increase(Number(P.commitPeriod) + 1);
    for (const v of jurors) await jury.reveal(1n, v, 0, salt(`s25rev-${v}`));
    await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    await f.disputes.resolve(1n);
    expect((await f.disputes.dispute(1n)).outcome).to.equal(0n); // upheld: the squatter served badly
    expect(mainBefore - (await f.trust.entity(main)).reputation, "the owner pays for the squatter's era").to.equal(0n);
  });
});
