/**
 * Finding (red team h16-red2, R6): a rating built against one era of the provider is recorded
 * against the next. `TrustManager.rate(from, to, factors, evidence, expected)` applies the rating
 * to the pair of both ids' generations at mining time; nothing in the call names the era (or the
 * pair's rating count) the rater built it for. A consumer's evidenced rating of a squatter's plain
 * entry, mined just after the owner reclaims the id, is stored on the owner's fresh pair: the
 * consumer's verdict on the squatter's service becomes its trust in the owner, and the detector
 * pipeline reads it as a rating of the owner's era. Its record set, which every verifier refuses
 * now (records before the era; `nonce` not the new pair's), counts as an unevidenced rating, and
 * the consumer's agent has spent the records (`trust:rate` prunes by the pair's `updatedAt`).
 * docs/specs/trust.md §8.1 says of a provider move between the agent's check and the mining that
 * the rating "still verifies by §8.5's receipts rule": since the eras rule (session 13) it does not.
 *
 * Secure behaviour asserted: the rating is either refused by the contract, or verifies.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import { avatarOwner } from "../helpers/avatar-owner";
import type { EvidenceTerms, InteractionRecord } from "../../offchain/trust/evidence";
import { evidenceBlock } from "../../offchain/trust/evidence";
import { buildEvidence, signReceipt, verifyRating } from "../../offchain/trust/rater";
import { FileContentStore } from "../../offchain/storage/content-store";

const TERMS: EvidenceTerms = { latencyBoundMs: 200, terms: [{ id: "uptime", weight: 1 }] };

describe("finding R6 (h16-red2): a rating in flight across the provider's reclaim lands on the owner's era", function () {
  this.timeout(120_000);

  it("a rating built for the squatter's entry and mined after the owner's reclaim is refused, or verifies", async () => {
    const f = await loadFixture(deployTrustFixture);
    const { login, account, attest, fox } = await avatarOwner(f, "h16-red2-r6");
    const [alice, squatter, consumer] = [await account(), await account(), await account()];
    await f.trust.connect(consumer).register(id("consumer"), Kind.Organization);
    await f.trust.connect(squatter).register(fox, Kind.Avatar); // alice's first avatar, squatted
    // two interactions of the consumer with the squatter's fox, receipted by the squatter's account
    const at = (await time.latest()) - 10;
    const records: InteractionRecord[] = [];
    for (const seq of [0, 1]) {
      const request = ethers.keccak256(ethers.toUtf8Bytes(`r6 request ${seq}`));
      const receipt = await signReceipt(squatter, {
        chainId: 31337,
        trustManager: await f.trust.getAddress(),
        from: id("consumer"),
        to: fox,
        seq,
        request,
        at: at + seq,
        terms: TERMS,
      });
      records.push({ seq, request, at: at + seq, outcome: "failure", latencyMs: 900, kept: [false], receipt });
    }
    // the consumer's agent builds and checks the set (E1) and stores it: all good at this block
    const tm = f.trust.connect(consumer);
    const { evidence, scores } = await buildEvidence(tm, consumer, id("consumer"), fox, TERMS, records);
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "h16-red2-r6-")));
    await store.putJson(evidence);
    const digest = evidenceBlock(evidence).digest;
    // alice reclaims fox before the rating is mined
    await login(fox);
    const a = await attest(fox, alice);
    await expect(f.trust.connect(alice).registerAttested(fox, Kind.Avatar, a.deadline, a.a)).to.emit(f.trust, "EntityReclaimed");

    let mined = true;
    try {
      await (await tm.rate(id("consumer"), fox, scores.packed, digest, ethers.ZeroHash)).wait();
    } catch {
      mined = false; // refused: the era it was built for is gone
    }
    if (!mined) return;
    let verified = true;
    let why = "";
    try {
      await verifyRating(f.trust, store, id("consumer"), fox);
    } catch (e) {
      verified = false;
      why = (e as Error).message;
    }
    expect(verified, `recorded on alice's fresh pair, and unverifiable: ${why}`).to.equal(true);
  });
});
