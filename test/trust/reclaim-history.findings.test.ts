/**
 * Open finding (session 13, h13-reclaim; docs/specs/trust.md §6 "A reclaimed id starts afresh", "Not
 * closed"): a vote the squatter's id cast in a dispute is settled on the owner's reputation after
 * she reclaims the id. `DisputeResolution.settle(id, voter)` moves the voter entity's reputation by
 * its feedback, and a `Vote` keeps neither the controller that cast it nor the id's generation, so
 * a reclaim between the reveal and the settlement hands the squatter's reward (or penalty) to the
 * owner. The precondition is narrow: a squatted avatar votes only if the admin verified it
 * (`setIdentityVerified`; the registry never verifies a plain registration), and the reclaim clears
 * that verification. Proposed fix: keep the voter's generation (8 bits are free in the vote's slot)
 * at commit and settle nothing on a later generation; it costs `commit` a read of the generation
 * (an external call and a cold slot), over its 60,000 gas goal (57,343 now).
 * Fails while the owner's reputation moves by the squatter's vote.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployDisputeFixture, salt } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { attestRegistration } from "../../offchain/trust/ledger";
import { commitmentOf } from "../../offchain/disputes/tally";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { MITRegistry__factory } from "../../typechain-types";

const label = (s: string) => keccak256(new TextEncoder().encode(`reclaim-vote:${s}`));

describe("a reclaimed id starts afresh: the squatter's vote (open finding, h13-reclaim)", () => {
  it("a vote the squatter's verified owl revealed is settled on alice's owl after she reclaims it", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
    const serial = label("alice-serial");
    await mit.issueMIT(toHex(serial), toHex(label("alice-key")), "bafy-params");
    const owl = toHex(avatarIdOf(serial, "owl"));
    const [alice, squatter] = [
      ethers.Wallet.createRandom().connect(ethers.provider),
      ethers.Wallet.createRandom().connect(ethers.provider),
    ];
    for (const w of [alice, squatter]) await setBalance(w.address, 10n ** 20n);
    // the squatter registers owl before alice logs it in; the admin verifies it (its mistake)
    await f.trust.connect(squatter).register(owl, Kind.Avatar);
    await f.trust.setIdentityVerified(owl, true);
    await mine(Number(P.minAge) + 1);
    await f.disputes.openDispute(id("claimant"), id("respondent"), 1, 2, ethers.ZeroHash, "", { value: P.deposit });
    // five jurors and the squatter's owl uphold, one juror rejects (a loser pays the winners' reward)
    const voters = [...f.voters];
    const choice = (i: number) => (i < 5 ? 0 : 1);
    for (const [i, v] of voters.entries())
      await f.disputes.connect(f.signerOf.get(v)!).commit(1, v, commitmentOf(1n, v, choice(i), salt(v)));
    await f.disputes.connect(squatter).commit(1, owl, commitmentOf(1n, owl, 0, salt("owl")));
    await time.increase(Number(P.commitPeriod) + 1);
    for (const [i, v] of voters.entries()) await f.disputes.connect(f.signerOf.get(v)!).reveal(1, v, choice(i), salt(v));
    await f.disputes.connect(squatter).reveal(1, owl, 0, salt("owl"));
    // alice logs owl in and takes it back (her first avatar: registerAttested, reputation R0)
    await mit.recordLogin(owl, toHex(serial), toHex(label("w")), toHex(label("v")), (await time.latest()) + 86_400);
    const deadline = BigInt(await time.latest()) + 3600n;
    const a = await attestRegistration(f.msrp, f.trust, owl, "avatar", alice.address, deadline);
    await expect(f.trust.connect(alice).registerAttested(owl, Kind.Avatar, deadline, a)).to.emit(f.trust, "EntityReclaimed");
    const r0 = (await f.trust.entity(owl)).reputation;
    await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    await f.disputes.resolve(1);
    expect((await f.disputes.dispute(1)).margin, "precondition: a verdict with a margin pays its winners").to.be.greaterThan(0n);
    await f.disputes.settle(1, owl);
    expect((await f.trust.entity(owl)).reputation, "alice's owl moved by the squatter's vote").to.equal(r0);
  });
});
