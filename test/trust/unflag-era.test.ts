/**
 * s18-fixo (era class, docs/specs/trust.md §8.7): a detector's withdrawal of a flag judged one era
 * must not clear a flag of the next. `TrustManager.unflag(id, kind)` named the id only: a detector
 * that flagged a squatter's avatar and later withdrew that flag (a false positive on review) could,
 * if the owner reclaimed the id in between and the owner's own era was flagged for the same kind,
 * clear the owner's flag, which was set on a detection of her, not of the squatter. Now unflag names
 * the generation it judged and reverts `TrustManager__StaleEra` on another, as flag, rate and
 * setOracle do.
 *
 * Secure behaviour asserted: the late withdrawal is refused and the new era's flag stays.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployTrustFixture, Kind } from "../fixtures/trust";
import { avatarOwner } from "../helpers/avatar-owner";

describe("unflag names its era (s18-fixo): a withdrawal about a squatter's era leaves the owner's flag", function () {
  this.timeout(180_000);

  it("a detector's unflag of the squatter's era, mined after the reclaim, reverts StaleEra and the new era's flag stays", async () => {
    const f = await loadFixture(deployTrustFixture);
    const { login, account, attest, fox } = await avatarOwner(f, "s18-fixo-unflag");
    const [alice, squatter] = [await account(), await account()];
    const det = f.trust.connect(f.detector);
    const ev = "0x" + "11".repeat(32);
    await f.trust.connect(squatter).register(fox, Kind.Avatar);
    const g0 = await f.trust.generationOf(fox);
    await (await det.flag(fox, 2, ev, g0)).wait(); // a detection of the squatter
    await login(fox);
    const a = await attest(fox, alice);
    await (await f.trust.connect(alice).registerAttested(fox, Kind.Avatar, a.deadline, a.a)).wait();
    const g1 = await f.trust.generationOf(fox);
    expect(g1, "setup: the reclaim moved the generation").to.not.equal(g0);
    expect((await f.trust.entity(fox)).flags & 0x7fn, "setup: the reclaim cleared the squatter's flag").to.equal(0n);
    await (await det.flag(fox, 2, ev, g1)).wait(); // a detection of alice's own era
    // the withdrawal of the squatter's flag, decided on its era and mined now
    await expect(det.unflag(fox, 2, g0, 1))
      .to.be.revertedWithCustomError(f.trust, "TrustManager__StaleEra")
      .withArgs(fox, g0, g1);
    expect((await f.trust.entity(fox)).flags & 0x7fn, "alice's own flag was cleared by the squatter's withdrawal").to.equal(1n << 2n);
    await expect(det.unflag(fox, 2, g1 + 1n, 2)).to.be.revertedWithCustomError(f.trust, "TrustManager__StaleEra");
    await expect(det.unflag(fox, 2, g1, 2)).to.emit(f.trust, "EntityUnflagged");
    expect((await f.trust.entity(fox)).flags & 0x7fn).to.equal(0n);
  });
});
