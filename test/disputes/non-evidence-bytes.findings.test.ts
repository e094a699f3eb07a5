/**
 * FINDING (s19-redd F3, severity L, open): an avatar dispute opens on bytes that are no evidence.
 * `openAvatarDispute` checks the bytes against the case's hash, and since s19-redd F1/F2 reads the
 * avatar and the interaction of bytes in the wire encoding (`interactionOf`); bytes without the
 * evidence header are accepted unread. The IdP can never judge them (`judgeTrace` re-encodes the
 * evidence it is shown and compares the case hash), so jurors who uphold such a claim leave the
 * case `CourtUpheld` for ever (only a manual `recordVerdict` by the IdP's account closes it) and
 * put the loser penalty on the respondent. Not fixed: refusing them needs every contract test that
 * sends placeholder bytes (trace-case*, the forge trace campaigns) to send encoded evidence
 * (docs/specs/disputes.md, "One interaction, one court case", residuals).
 * The test fails while bytes without the evidence header open an avatar dispute.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployDisputeFixture } from "../fixtures/disputes";
import { id } from "../fixtures/trust";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { MITRegistry__factory } from "../../typechain-types";

describe("FINDING s19-redd F3: an avatar dispute over bytes that are no evidence", () => {
  it("placeholder bytes filed as a case open an avatar dispute (the IdP could never judge its upheld case)", async () => {
    const f = await deployDisputeFixture();
    const registry = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
    const notAfter = (await time.latest()) + 365 * 86_400;
    await registry.issueMIT(id("owner-mit"), id("key"), "params-cid");
    await registry.recordLogin(id("respondent"), id("owner-mit"), id("warrant"), id("vid"), notAfter);
    const junk = ethers.toUtf8Bytes("no evidence at all, just bytes the claimant filed");
    await registry.requestTrace(id("respondent"), ethers.keccak256(junk));
    expect((await f.disputes.interactionOf(junk)).parsed).to.equal(false);
    let opened = true;
    try {
      await (await f.disputes.openAvatarDispute(id("claimant"), id("respondent"), 2, junk, 1n, { value: P.deposit })).wait();
    } catch {
      opened = false;
    }
    expect(opened, "an avatar dispute opened over bytes that are not encoded evidence").to.equal(false);
  });
});
