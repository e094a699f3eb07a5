/**
 * Red team h16-red2, R6 (fixed, session 17): a rating built against one era of the provider was
 * recorded against the next. `TrustManager.rate` applied the rating to the pair of both ids'
 * generations at mining time, and nothing in the call named the era the rater built it for: a
 * consumer's evidenced rating of a squatter's plain entry, mined just after the owner reclaimed
 * the id, was stored on the owner's fresh pair (the consumer's verdict on the squatter's service
 * became its trust in the owner), unverifiable there, and the consumer's agent spent its records
 * (`trust:rate` prunes them by the pair's `updatedAt`).
 *
 * Now `rate` names the generations it was built for (`buildEvidence` reads them with the rest of
 * its context, at one block) and reverts `TrustManager__StaleEra(id, generation, current)` on a
 * mismatch, writing nothing. Asserted: that error with its arguments; the owner's pair, the
 * consumer's trust in the id and the pair's `updatedAt` (what the agent prunes its records by)
 * unchanged; no `TrustStored`. Bites: without the era check in `rate` the rating is mined.
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
import { buildEvidence, signReceipt } from "../../offchain/trust/rater";
import { FileContentStore } from "../../offchain/storage/content-store";

const TERMS: EvidenceTerms = { latencyBoundMs: 200, terms: [{ id: "uptime", weight: 1 }] };

describe("R6 (h16-red2): a rating in flight across the provider's reclaim", function () {
  this.timeout(120_000);

  it("a rating built for the squatter's entry and mined after the owner's reclaim reverts StaleEra and changes nothing", async () => {
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
    // the consumer's agent builds and checks the set (E1) and stores it: all good at this block,
    // for the eras it read there (both ids at generation 0)
    const tm = f.trust.connect(consumer);
    const { evidence, scores, eras } = await buildEvidence(tm, consumer, id("consumer"), fox, TERMS, records);
    expect(eras).to.deep.equal({ from: 0n, to: 0n });
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "h16-red2-r6-")));
    await store.putJson(evidence);
    const digest = evidenceBlock(evidence).digest;
    // alice reclaims fox before the rating is mined
    await login(fox);
    const a = await attest(fox, alice);
    await expect(f.trust.connect(alice).registerAttested(fox, Kind.Avatar, a.deadline, a.a)).to.emit(f.trust, "EntityReclaimed");
    expect(await f.trust.generationOf(fox)).to.equal(1n);
    const pairBefore = [...(await f.trust.pairOf(id("consumer"), fox))];
    const trustBefore = await f.trust.trustOf(id("consumer"), fox);
    const block = await ethers.provider.getBlockNumber();

    // gasLimit: sent and mined (a late rating is mined, not only simulated), reverted on-chain
    const sent = tm.rate(id("consumer"), fox, scores.packed, digest, ethers.ZeroHash, eras.from, eras.to, { gasLimit: 10_000_000 });
    await expect(sent).to.be.revertedWithCustomError(f.trust, "TrustManager__StaleEra").withArgs(fox, 0n, 1n);

    // nothing changed: alice's fresh pair (and so the records' prune mark, its updatedAt), the
    // consumer's trust in fox, and no rating was logged
    expect([...(await f.trust.pairOf(id("consumer"), fox))]).to.deep.equal(pairBefore);
    expect(pairBefore).to.deep.equal([0n, 0n, 0n, 0n]);
    expect(await f.trust.trustOf(id("consumer"), fox)).to.equal(trustBefore);
    expect(await f.trust.queryFilter(f.trust.filters.TrustStored(id("consumer"), fox), block)).to.deep.equal([]);
    expect(await f.trust.queryFilter(f.trust.filters.EvidenceAttached(id("consumer"), fox), block)).to.deep.equal([]);
    // the agent rebuilds for fox's era now: the squatter's records are not alice's, and it says so
    await expect(buildEvidence(tm, consumer, id("consumer"), fox, TERMS, records)).to.be.rejectedWith(/before the reclaim/);
  });
});
