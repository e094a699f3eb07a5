/**
 * s25-review finding H1 (fixed in the same session): with s25-fxt's first fix
 * (R1 + R4), an ordinary dispute (nature 0) upheld against a squatted further-avatar entry costs
 * the avatar's owner loserPenalty on his attested avatar, even after he reclaimed the id from the
 * squatter. docs/specs/trust.md ("A reclaimed id starts afresh", the court) says a claim upheld
 * against the squatter's id leaves the owner's reputation alone. Now the entry's controller (the
 * squatter) is the party and the owner is only kept off the jury (M1: the squatter is too).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { byVoter, deployDisputeFixture, nextEvidence, salt } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { commitmentOf } from "../../offchain/disputes/tally";
import { attestReclaim, attestRegistration } from "../../offchain/trust/ledger";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { MITRegistry__factory } from "../../typechain-types";

describe("s25-review (disputes; fixed)", () => {
  it("H1: a claim upheld against a squatter's entry of a further avatar leaves the owner's attested avatar alone (after the owner's reclaim too)", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const registry = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
    const [squatter, owner] = [
      ethers.Wallet.createRandom().connect(ethers.provider),
      ethers.Wallet.createRandom().connect(ethers.provider),
    ];
    for (const w of [squatter, owner]) await setBalance(w.address, 10n ** 20n);
    const [ghost, main] = [id("s25rev-ghost"), id("s25rev-main")];
    // a stranger takes the id of the owner's further avatar while it is logged out
    await f.trust.connect(squatter).register(ghost, Kind.Avatar);
    const notAfter = (await time.latest()) + 365 * 86_400;
    await registry.issueMIT(id("s25rev-mit"), id("key"), "params-cid");
    await registry.recordLogin(ghost, id("s25rev-mit"), id("warrant"), id("vid"), notAfter);
    await registry.recordLogin(main, id("s25rev-mit"), id("warrant-m"), id("vid-m"), notAfter);
    let deadline = BigInt(await time.latest()) + 3600n;
    const att = await attestRegistration(f.msrp, f.trust, main, "avatar", owner.address, deadline);
    await f.trust.connect(owner).registerAttested(main, Kind.Avatar, deadline, att);
    await mine(Number(P.minAge) + 1);
    const mainBefore = (await f.trust.entity(main)).reputation;
    // a claim about the squatter's service under the id (its era, generation 0)
    await f.disputes.openDispute(id("claimant"), ghost, 0, 2, nextEvidence(), "bafkrei-s25rev-h1", 0, { value: P.deposit });
    expect((await f.disputes.dispute(1n)).respondentController, "the squatter, whose entry it is, is the party").to.equal(squatter.address);
    // the owner takes his id back from the squatter
    deadline = BigInt(await time.latest()) + 3600n;
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
