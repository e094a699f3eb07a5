/**
 * Red team h14-red2 finding G5 (open): the court's trace (docs/specs/disputes.md, "The court files
 * the trace") reaches only an avatar its owner registered in the TrustManager. `openAvatarDispute`
 * needs the respondent to be a trust entity (`_respondentController`: `UnknownRespondent`), and while
 * the avatar is logged in or delegated (verified by the MITRegistry) nobody but its owner may
 * register it (`register` refuses with `AttestationRequired`, `registerAttested` needs the IdP's
 * attestation naming the owner's account). An impersonating avatar used only in avatar-to-avatar
 * interactions, which need no trust entry, and kept logged in is beyond the court: its victim gets
 * at most a reporter's `InteractionTraced` ("no verdict of misbehaviour"), never `CourtTraced`.
 * Fails while the hole is open: the claimant's avatar dispute is refused.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployDisputeFixture } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { TraceStatus } from "../../offchain/avatars/protocols";
import { MITRegistry__factory } from "../../typechain-types";

/** The claimant's case's encoded evidence: the dispute sends it (openAvatarDispute checks it is the case's). */
const EV = ethers.toUtf8Bytes("the interaction's encoded evidence");

async function filed() {
  const f = await deployDisputeFixture();
  const registry = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
  const notAfter = (await time.latest()) + 365 * 86_400;
  await registry.issueMIT(id("ghost-owner-mit"), id("key"), "params-cid");
  // the impersonating avatar: logged in (verified) for a year, never registered in the TrustManager
  await registry.recordLogin(id("ghost"), id("ghost-owner-mit"), id("warrant"), id("vid"), notAfter);
  await registry.requestTrace(id("ghost"), ethers.keccak256(EV)); // the claimant's case #1
  return { ...f, registry };
}

describe("h14-red2 G5 (findings): an avatar without a trust entry is beyond the court's trace", () => {
  it("the victim's avatar dispute over a logged-in, unregistered avatar opens and claims the case", async () => {
    const f = await loadFixture(filed);
    // the victim cannot give the avatar a trust entry either
    await expect(f.trust.register(id("ghost"), Kind.Avatar)).to.be.revertedWithCustomError(f.trust, "TrustManager__AttestationRequired");
    // the finding: refused (UnknownRespondent), so the case can only ever be a reporter's InteractionTraced
    await f.disputes.openAvatarDispute(id("claimant"), id("ghost"), 2, EV, 1n, { value: P.deposit });
    expect(Number((await f.registry.traceCase(1n)).status)).to.equal(TraceStatus.AwaitingCourt);
  });
});
