/**
 * Finding (red team h16-red2, R3): an agreement's CID on chain need not be the terms its avatars
 * consented to. `TrustManager.proposeAgreement(org, avatars, thresholds, termsHash, cid, consents)`
 * checks every avatar's EIP-712 consent over `termsHash` (H(P), keccak256 of the terms' dag-json,
 * `TrustLedger.proposeAgreement`), but stores `cid`, the only pointer to the terms on IPFS, which
 * no consent names and nothing checks against `termsHash`. An organization's controller collects
 * consents to terms A and records the agreement with the CID of terms B (longer duration, other
 * penalties): `agreement(id).cid` and `AgreementFormed` name B, everyone who reads the agreement
 * from the chain and IPFS reads B, and no tool in the repository compares B's hash with the
 * consented `termsHash` (there is no agreement verifier; `trust:agree` prints the CID).
 *
 * Secure behaviour asserted: an agreement is either refused, or the CID it records names bytes
 * whose H(P) is the termsHash its avatars signed.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import { signAgreementConsent } from "../../offchain/trust/ledger";
import { FileContentStore, encodeJson } from "../../offchain/storage/content-store";
import { keccak256 } from "../../offchain/crypto/hash";
import { toHex } from "../../offchain/crypto/bytes";

describe("finding R3 (h16-red2): the agreement's CID is not bound to the consented terms", () => {
  it("an agreement recorded with another document's CID is refused, or its CID hashes to the consented terms", async () => {
    const f = await loadFixture(deployTrustFixture);
    const [alice, bob] = [f.others[1], f.others[2]];
    await f.trust.register(id("acme"), Kind.Organization); // acme's controller: msrp (f.trust's runner)
    await f.trust.connect(alice).register(id("alice"), Kind.Avatar);
    await f.trust.connect(bob).register(id("bob"), Kind.Avatar);
    const avatars = [id("alice"), id("bob")].sort();
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "h16-red2-r3-")));
    const base = { org: id("acme"), avatars, termination: ["30 days notice"], createdAt: "2026-12-04T09:00:00Z" };
    const agreed = { ...base, durationDays: 30, penalties: ["none"] };
    const swapped = { ...base, durationDays: 3650, penalties: ["forfeit every deposit"] };
    const termsHash = toHex(keccak256(encodeJson(agreed)));
    await store.putJson(agreed);
    const otherCid = await store.putJson(swapped);
    const consent = {
      org: id("acme"),
      avatars,
      thresholds: [0n, 0n],
      termsHash,
      nonce: await f.trust.agreementNonce(id("acme")),
      deadline: ethers.MaxUint256,
    };
    const signatures: string[] = [];
    for (const a of avatars) signatures.push(await signAgreementConsent(a === id("alice") ? alice : bob, f.trust, consent));

    let formed = true;
    try {
      await (
        await f.trust.proposeAgreement(id("acme"), avatars, [0n, 0n], termsHash, otherCid, { deadline: ethers.MaxUint256, signatures })
      ).wait();
    } catch {
      formed = false; // refused: the hole is closed
    }
    if (!formed) return;
    const a = await f.trust.agreement(await f.trust.agreementCount());
    const bytes = await store.get(a.cid);
    expect(toHex(keccak256(bytes)), "the recorded CID names the terms the avatars consented to").to.equal(a.termsHash);
  });
});
