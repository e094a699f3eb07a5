/**
 * `TrustManager.jurorAt(id, block)` (session 26) is what the court reads of a juror in one call: it
 * must answer exactly what `entity(id)` (controller, flags), `hasIdentityStandingAsOf(id, block)`
 * (s26-rtx: standing as of the dispute's snapshot) and `standingAt(id, block)` answer, for the jurors the court tells apart (admin-verified, attested,
 * plain, flagged, below the minimum, unverified by the admin, unregistered), and refuse a block that
 * is not past as they do.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployDisputeFixture, ghostUnderSpare } from "../fixtures/disputes";
import { id } from "../fixtures/trust";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";

async function jurors() {
  const f = await deployDisputeFixture();
  const { ghost, main, registry } = await ghostUnderSpare(f);
  const detector = (await ethers.getSigners())[TRUST_ROLE_SIGNERS.detector];
  await f.trust.connect(detector).flag(f.voters[1], 3, id("juror-at: a report"), 0);
  await f.trust.setIdentityVerified(f.voters[2], false); // the admin's bit cleared: no standing now
  await mine(2);
  return { ...f, ghost, main, registry };
}

describe("TrustManager.jurorAt: the three views the court read, in one call", () => {
  it("answers what entity, hasIdentityStandingAsOf and standingAt answer, now and at past blocks", async () => {
    const f = await loadFixture(jurors);
    const now = await ethers.provider.getBlockNumber();
    const ids = [...f.voters.slice(0, 3), id("lowrep"), f.main, f.ghost, id("juror-at: nobody")];
    let compared = 0;
    for (const who of ids)
      for (const at of [now - 1, now - 5_000, 1]) {
        const [controller, flags, standing, reputation, grantedAt] = await f.trust.jurorAt(who, at);
        const e = await f.trust.entity(who);
        expect([controller, flags], who).to.deep.equal([e.controller, e.flags]);
        expect(standing, `${who} at ${at}`).to.equal(await f.trust.hasIdentityStandingAsOf(who, at));
        expect([reputation, grantedAt], `${who} at ${at}`).to.deep.equal([...(await f.trust.standingAt(who, at))]);
        compared++;
      }
    expect(compared).to.equal(ids.length * 3);
    // the set covers what the court tells apart: standing and none, flagged, attested, unregistered
    const [, flagged] = await f.trust.jurorAt(f.voters[1], now - 1);
    expect(flagged & 0x7fn).to.not.equal(0n);
    expect((await f.trust.jurorAt(f.voters[2], now - 1))[2], "unverified by the admin").to.equal(false);
    expect((await f.trust.jurorAt(f.main, now - 1))[2], "the attested avatar").to.equal(true);
    expect((await f.trust.jurorAt(f.ghost, now - 1))[2], "a plain entry").to.equal(false);
    expect((await f.trust.jurorAt(id("juror-at: nobody"), now - 1))[0]).to.equal(ethers.ZeroAddress);
  });

  it("refuses a block that is not past, as standingAt does", async () => {
    const f = await loadFixture(jurors);
    const next = (await ethers.provider.getBlockNumber()) + 1;
    await expect(f.trust.jurorAt(f.voters[0], next)).to.be.revertedWithCustomError(f.trust, "TrustManager__FutureLookup").withArgs(next);
  });
});
