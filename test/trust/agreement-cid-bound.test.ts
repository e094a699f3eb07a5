/**
 * Red team h16-red2 R3, fixed: an agreement's CID is the terms its avatars consented to.
 * Before, `proposeAgreement(org, avatars, thresholds, termsHash, cid, consents)` checked every
 * consent over `termsHash` (keccak256 of the terms' dag-json) and stored `cid`, which no consent
 * named and nothing compared with `termsHash`: an organization's controller collected consents to
 * terms A and recorded terms B's CID. Now `termsHash` is the sha2-256 digest of the terms' dag-json
 * block, the contract takes no CID, and the CID is derived from the digest (CIDv1, dag-json,
 * sha2-256, trust.md §8.3's convention): there is nothing left to swap.
 *
 * (The red team's test compared keccak256 of the stored block with `termsHash`, the old H(P), and
 * counted any throw of the call as a refusal: against the fixed ABI it passed because the call had
 * one argument too many. This test asserts the binding itself.)
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { sha256 } from "@noble/hashes/sha2.js";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import { TrustLedger, agreementTerms, cidOfAgreementTerms, signAgreementConsent } from "../../offchain/trust/ledger";
import { FileContentStore, encodeJson } from "../../offchain/storage/content-store";
import { toHex } from "../../offchain/crypto/bytes";

describe("agreements: the recorded terms are the consented terms (h16-red2 R3)", () => {
  async function world() {
    const f = await loadFixture(deployTrustFixture);
    const [alice, bob] = [f.others[1], f.others[2]];
    await f.trust.register(id("acme"), Kind.Organization); // acme's controller: msrp (f.trust's runner)
    await f.trust.connect(alice).register(id("alice"), Kind.Avatar);
    await f.trust.connect(bob).register(id("bob"), Kind.Avatar);
    const avatars = [id("alice"), id("bob")].sort();
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-agreement-")));
    return { ...f, alice, bob, avatars, store };
  }

  it("the agent's agreement: the CID derived from the on-chain termsHash holds exactly the terms signed", async () => {
    const f = await world();
    const signers = new Map([
      [f.alice.address, f.alice],
      [f.bob.address, f.bob],
    ]);
    const r = await new TrustLedger(f.trust).proposeAgreement(
      f.store,
      id("acme"),
      [id("bob"), id("alice")],
      [0n, 0n],
      { durationDays: 30, termination: ["30 days notice"], penalties: ["none"] },
      async (c) => signers.get(c)!,
    );
    const a = await f.trust.agreement(r.id);
    expect(a.termsHash).to.equal(toHex(r.termsHash));
    expect(cidOfAgreementTerms(a.termsHash)).to.equal(r.cid);
    const bytes = await f.store.get(r.cid);
    expect(toHex(sha256(bytes)), "the terms' block hashes to the consented termsHash").to.equal(a.termsHash);
    const terms = await agreementTerms(f.store, a.termsHash);
    expect([terms.org, terms.avatars, terms.durationDays, terms.penalties]).to.deep.equal([id("acme"), f.avatars, 30, ["none"]]);
  });

  it("consents to terms A cannot record terms B: B's digest is refused, A's digest names A", async () => {
    const f = await world();
    const base = { org: id("acme"), avatars: f.avatars, termination: ["30 days notice"], createdAt: "2026-12-04T09:00:00Z" };
    const agreed = { ...base, durationDays: 30, penalties: ["none"] };
    const swapped = { ...base, durationDays: 3650, penalties: ["forfeit every deposit"] };
    const hashA = toHex(sha256(encodeJson(agreed)));
    const hashB = toHex(sha256(encodeJson(swapped)));
    await f.store.putJson(agreed);
    await f.store.putJson(swapped);
    const consent = {
      org: id("acme"),
      avatars: f.avatars,
      thresholds: [0n, 0n],
      termsHash: hashA,
      nonce: await f.trust.agreementNonce(id("acme")),
      deadline: ethers.MaxUint256,
    };
    const signatures: string[] = [];
    for (const a of f.avatars) signatures.push(await signAgreementConsent(a === id("alice") ? f.alice : f.bob, f.trust, consent));
    const consents = { deadline: ethers.MaxUint256, signatures };
    await expect(f.trust.proposeAgreement(id("acme"), f.avatars, [0n, 0n], hashB, consents)).to.be.revertedWithCustomError(
      f.trust,
      "TrustManager__ConsentMissing",
    );
    expect(await f.trust.agreementCount()).to.equal(0n);
    await (await f.trust.proposeAgreement(id("acme"), f.avatars, [0n, 0n], hashA, consents)).wait();
    const a = await f.trust.agreement(await f.trust.agreementCount());
    const bytes = await f.store.get(cidOfAgreementTerms(a.termsHash));
    expect(toHex(sha256(bytes)), "the recorded CID names the terms the avatars consented to").to.equal(hashA);
    expect((await agreementTerms(f.store, a.termsHash)).penalties).to.deep.equal(["none"]);
  });
});
