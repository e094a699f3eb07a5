import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import * as cps from "../../offchain/crypto/cps";
import { hash_to_field } from "@noble/curves/abstract/hash-to-curve.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { BLS_P, G1, G2, encodeG1Eip2537, hashToG1 } from "../../offchain/crypto/bls";
import { numberToBytesBE, toHex } from "../../offchain/crypto/bytes";

/**
 * contracts/avatars/CPSVerifier.sol: on-chain PVerify (issue 14, items 1-3, 9, 10). Every attack here
 * passed the previous verifier, which took the warrant hash h as an input and checked only the
 * aggregate s_o + s_p.
 */
const rnd32 = () => crypto.getRandomValues(new Uint8Array(32));

function setup(scope: number = cps.Scope.all, notBefore = 1_000, notAfter = 2_000) {
  const original = cps.cpsKeyGen();
  const proxy = cps.cpsKeyGen();
  const w: cps.Warrant = { irisCommitment: rnd32(), proxy: proxy.pk, avatarId: rnd32(), scope, notBefore, notAfter };
  const o = cps.cpsOSign(original, w);
  return { original, proxy, w, o };
}

async function verifierFixture() {
  const v = await (await ethers.getContractFactory("CPSVerifier")).deploy();
  const h2c = await (await ethers.getContractFactory("HashToG1Mock")).deploy();
  const bls = await (await ethers.getContractFactory("BLS12381Mock")).deploy();
  const probe = await (await ethers.getContractFactory("GasProbe")).deploy();
  return { v, h2c, bls, probe };
}

const ZERO_G1 = toHex(new Uint8Array(128));
const ZERO_G2 = toHex(new Uint8Array(256));

describe("avatars/CPSVerifier (on-chain PVerify)", () => {
  describe("# differential: the contract decides exactly as cpsPVerify", () => {
    it("digests, chameleon hash and verdict agree on random honest and perturbed signatures", async () => {
      const { v } = await loadFixture(verifierFixture);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 40 }), async (perturb, body) => {
          const { original, proxy, w, o } = setup();
          const m = { type: cps.Scope.interaction, time: 1_700, body };
          let s = cps.cpsPSign(proxy, w, o, m);
          let oo = o;
          if (perturb === 1) s = s.add(G1.BASE);
          if (perturb === 2) oo = { ...o, sig: o.sig.add(G1.BASE) };
          const args = cps.cpsVerifierArgs(original.pk, w, oo, m, s);
          expect(await v.warrantDigest(args[1])).to.equal(toHex(cps.warrantDigest(w)));
          expect(await v.chameleonHash(args[0], toHex(cps.warrantDigest(w)), toHex(o.r))).to.equal(toHex(o.h));
          expect(await v.messageDigest(toHex(o.h), m.type, m.time, args[2].bodyHash)).to.equal(toHex(cps.messageDigest(o.h, m)));
          const expected = cps.cpsPVerify(original.pk, w, oo, m, s);
          expect(expected).to.equal(perturb === 0 || perturb === 3);
          expect(await v.verify(...args)).to.equal(expected);
        }),
        { numRuns: 6 },
      );
    });
  });

  describe("# forgery (item 1): h comes from the warrant, never from the caller", () => {
    it("a stranger who holds the victim's public (h, r, s_o) cannot put in its own proxy key", async () => {
      const { v } = await loadFixture(verifierFixture);
      const { original, proxy, w, o } = setup();
      const mallory = cps.cpsKeyGen();
      const m = { type: cps.Scope.interaction, time: 1_500, body: new TextEncoder().encode("transfer everything") };
      // The old attack: S = s_o + y H_P(d) under the victim's h, with Mallory's key as the proxy.
      const forged = cps.messagePoint(o.h, m).multiply(mallory.sk);
      const swapped = { ...w, proxy: mallory.pk };
      expect(await v.verify(...cps.cpsVerifierArgs(original.pk, swapped, o, m, forged))).to.equal(false);
      // nor keep the genuine warrant and sign with another key
      expect(await v.verify(...cps.cpsVerifierArgs(original.pk, w, o, m, forged))).to.equal(false);
      // the genuine proxy's signature verifies: the refusals above are about the forgery
      expect(await v.verify(...cps.cpsVerifierArgs(original.pk, w, o, m, cps.cpsPSign(proxy, w, o, m)))).to.equal(true);
    });

    it("every warrant field is bound: changing any of them fails", async () => {
      const { v } = await loadFixture(verifierFixture);
      const { original, proxy, w, o } = setup();
      const m = { type: cps.Scope.challenge, time: 1_500, body: new Uint8Array([7]) };
      const s = cps.cpsPSign(proxy, w, o, m);
      const variants: cps.Warrant[] = [
        { ...w, irisCommitment: rnd32() },
        { ...w, avatarId: rnd32() },
        { ...w, scope: cps.Scope.challenge },
        { ...w, notBefore: 999 },
        { ...w, notAfter: 2_001 },
      ];
      for (const wv of variants) expect(await v.verify(...cps.cpsVerifierArgs(original.pk, wv, o, m, s))).to.equal(false);
      expect(await v.verify(...cps.cpsVerifierArgs(original.pk, w, { ...o, r: rnd32() }, m, s))).to.equal(false);
      expect(await v.verify(...cps.cpsVerifierArgs(cps.cpsKeyGen().pk, w, o, m, s))).to.equal(false);
    });

    it("refuses identity encodings: all-zero inputs, or any one key or signature at infinity", async () => {
      const { v } = await loadFixture(verifierFixture);
      const { original, proxy, w, o } = setup();
      const m = { type: cps.Scope.login, time: 1_500, body: new Uint8Array() };
      const args = cps.cpsVerifierArgs(original.pk, w, o, m, cps.cpsPSign(proxy, w, o, m));
      const zeroW = { ...args[1], irisCommitment: ethers.ZeroHash, avatarId: ethers.ZeroHash, proxyPk: ZERO_G2 };
      expect(await v.verify(ZERO_G2, zeroW, { ...args[2], bodyHash: ethers.ZeroHash }, ethers.ZeroHash, ZERO_G1, ZERO_G1)).to.equal(false);
      expect(await v.verify(args[0], args[1], args[2], args[3], ZERO_G1, args[5])).to.equal(false);
      expect(await v.verify(args[0], args[1], args[2], args[3], args[4], ZERO_G1)).to.equal(false);
      expect(await v.verify(ZERO_G2, args[1], args[2], args[3], args[4], args[5])).to.equal(false);
      // a warrant naming the identity as its proxy: everything else consistent, still refused
      const { original: o2, w: w2 } = setup();
      const idW = { ...w2, proxy: G2.ZERO };
      const os = cps.cpsOSign(o2, idW);
      const a2 = cps.cpsVerifierArgs(o2.pk, idW, os, m, G1.BASE);
      expect(a2[1].proxyPk).to.equal(ZERO_G2);
      expect(await v.verify(a2[0], a2[1], a2[2], a2[3], a2[4], ZERO_G1)).to.equal(false);
      expect(await v.verify(...args)).to.equal(true);
    });
  });

  describe("# scope and validity (item 2)", () => {
    it("a type is accepted only when it is a subset of the scope, and only defined types", async () => {
      const { v } = await loadFixture(verifierFixture);
      const { original, proxy, w, o } = setup(cps.Scope.challenge);
      const sign = (type: number) => {
        const m = { type, time: 1_500, body: new Uint8Array([1]) };
        return cps.cpsVerifierArgs(original.pk, w, o, m, cps.messagePoint(o.h, m).multiply(proxy.sk));
      };
      expect(await v.verify(...sign(cps.Scope.challenge))).to.equal(true);
      // overlap but not subset: challenge | interaction under a challenge-only warrant
      expect(await v.verify(...sign(cps.Scope.challenge | cps.Scope.interaction))).to.equal(false);
      expect(await v.verify(...sign(cps.Scope.interaction))).to.equal(false);
      expect(await v.verify(...sign(0))).to.equal(false);
      const wide = setup(255);
      const m8 = { type: 8, time: 1_500, body: new Uint8Array() };
      const s8 = cps.messagePoint(wide.o.h, m8).multiply(wide.proxy.sk);
      expect(await v.verify(...cps.cpsVerifierArgs(wide.original.pk, wide.w, wide.o, m8, s8))).to.equal(false);
      expect(cps.cpsPVerify(wide.original.pk, wide.w, wide.o, m8, s8)).to.equal(false);
    });

    it("a message dated outside the validity window fails, and verifyNow also checks block time", async () => {
      const { v } = await loadFixture(verifierFixture);
      const now = await time.latest();
      const { original, proxy, w, o } = setup(cps.Scope.all, now - 100, now + 1_000);
      const at = (t: number) => {
        const m = { type: cps.Scope.interaction, time: t, body: new Uint8Array([2]) };
        return cps.cpsVerifierArgs(original.pk, w, o, m, cps.messagePoint(o.h, m).multiply(proxy.sk));
      };
      expect(await v.verify(...at(now - 101))).to.equal(false);
      expect(await v.verify(...at(now + 1_001))).to.equal(false);
      expect(await v.verify(...at(now + 500))).to.equal(true);
      // verifyNow: a message dated in the future of the chain is refused until its time comes
      expect(await v.verifyNow(...at(now + 500))).to.equal(false);
      expect(await v.verifyNow(...at(now - 50))).to.equal(true);
      await time.increaseTo(now + 1_001);
      expect(await v.verifyNow(...at(now - 50))).to.equal(false); // the warrant has expired
      expect(await v.verify(...at(now - 50))).to.equal(true);
    });
  });

  describe("# malleability (item 3): each signature must be valid on its own", () => {
    it("(s_o + T, s_p - T) keeps the plain aggregate but is refused on- and off-chain", async () => {
      const { v } = await loadFixture(verifierFixture);
      const { original, proxy, w, o } = setup();
      const m = { type: cps.Scope.interaction, time: 1_500, body: new Uint8Array([3]) };
      const s = cps.cpsPSign(proxy, w, o, m);
      const T = G1.BASE.multiply(12345n);
      const shifted = { ...o, sig: o.sig.add(T) };
      // the old check, e(-(s_o + s_p), g2) e(H_W, X_o) e(H_P, X_p) = 1, holds for the shifted pair
      expect(shifted.sig.add(s.subtract(T)).equals(o.sig.add(s))).to.equal(true);
      expect(cps.cpsOVerify(original.pk, w, shifted)).to.equal(false);
      expect(cps.cpsPVerify(original.pk, w, shifted, m, s.subtract(T))).to.equal(false);
      expect(await v.verify(...cps.cpsVerifierArgs(original.pk, w, shifted, m, s.subtract(T)))).to.equal(false);
    });

    it("s_p = -s_o never throws: PVerify answers false", async () => {
      const { v } = await loadFixture(verifierFixture);
      const { original, w, o } = setup();
      const m = { type: cps.Scope.interaction, time: 1_500, body: new Uint8Array([4]) };
      expect(cps.cpsPVerify(original.pk, w, o, m, o.sig.negate())).to.equal(false);
      expect(await v.verify(...cps.cpsVerifierArgs(original.pk, w, o, m, o.sig.negate()))).to.equal(false);
    });
  });

  describe("# encodings and precompile failures (items 9, 10)", () => {
    it("wrong lengths revert with CPSVerifier__InvalidEncoding naming the input", async () => {
      const { v } = await loadFixture(verifierFixture);
      const { original, proxy, w, o } = setup();
      const m = { type: cps.Scope.login, time: 1_500, body: new Uint8Array() };
      const a = cps.cpsVerifierArgs(original.pk, w, o, m, cps.cpsPSign(proxy, w, o, m));
      await expect(v.verify("0x00", a[1], a[2], a[3], a[4], a[5]))
        .to.be.revertedWithCustomError(v, "CPSVerifier__InvalidEncoding")
        .withArgs(0, 1);
      await expect(v.verify(a[0], { ...a[1], proxyPk: "0x" }, a[2], a[3], a[4], a[5]))
        .to.be.revertedWithCustomError(v, "CPSVerifier__InvalidEncoding")
        .withArgs(1, 0);
      await expect(v.verify(a[0], a[1], a[2], a[3], "0x00", a[5]))
        .to.be.revertedWithCustomError(v, "CPSVerifier__InvalidEncoding")
        .withArgs(2, 1);
      await expect(v.verify(a[0], a[1], a[2], a[3], a[4], a[4] + "00"))
        .to.be.revertedWithCustomError(v, "CPSVerifier__InvalidEncoding")
        .withArgs(3, 129);
      // the public digests check the keys they hash too
      await expect(v.warrantDigest({ ...a[1], proxyPk: a[1].proxyPk + "00" }))
        .to.be.revertedWithCustomError(v, "CPSVerifier__InvalidEncoding")
        .withArgs(1, 257);
      await expect(v.chameleonHash("0x" + a[0].slice(4), toHex(cps.warrantDigest(w)), a[3]))
        .to.be.revertedWithCustomError(v, "CPSVerifier__InvalidEncoding")
        .withArgs(0, 255);
    });

    it("a point off the curve is reported as PrecompileFailed and burns at most twice the precompile's price", async () => {
      const { v, bls, probe } = await loadFixture(verifierFixture);
      const { original, proxy, w, o } = setup();
      const m = { type: cps.Scope.login, time: 1_500, body: new Uint8Array() };
      const a = cps.cpsVerifierArgs(original.pk, w, o, m, cps.cpsPSign(proxy, w, o, m));
      const bad = encodeG1Eip2537(G1.BASE);
      bad[127] ^= 1; // y + 1: not on the curve
      await expect(v.verify(a[0], a[1], a[2], a[3], a[4], toHex(bad)))
        .to.be.revertedWithCustomError(bls, "BLS12381__PrecompileFailed")
        .withArgs("0x000000000000000000000000000000000000000C");
      const data = v.interface.encodeFunctionData("verify", [a[0], a[1], a[2], a[3], a[4], toHex(bad)]);
      const [used, ok] = await probe.measure(await v.getAddress(), data, { gasLimit: 1_000_000 });
      expect(ok).to.equal(false);
      expect(used).to.be.lessThan(60_000n); // the old verifier burnt ~939k of a 1M-gas call here
      // a pairing over a point not in the subgroup's curve: named, not "unavailable"
      const pairBad = new Uint8Array(384);
      pairBad.set(bad, 0);
      await expect(bls.pairingCheck(toHex(pairBad))).to.be.revertedWithCustomError(bls, "BLS12381__PrecompileFailed");
    });

    it("HashToG1 follows RFC 9380 for DSTs longer than 255 bytes (H2C-OVERSIZE-DST-)", async () => {
      const { h2c } = await loadFixture(verifierFixture);
      const m = rnd32();
      for (const len of [255, 256, 300]) {
        const dst = "D".repeat(len);
        expect(await h2c.hash(toHex(m), toHex(new TextEncoder().encode(dst)))).to.equal(toHex(encodeG1Eip2537(hashToG1(m, dst))));
      }
    });

    it("HashToG1.hashToField is RFC 9380 hash_to_field (noble), oversize DSTs included; an empty DST is refused", async () => {
      const { h2c } = await loadFixture(verifierFixture);
      const m = rnd32();
      const fp = (u: bigint) => toHex(numberToBytesBE(u, 64));
      for (const len of [1, 56, 255, 256, 300]) {
        const dst = "M".repeat(len);
        const [[u0], [u1]] = hash_to_field(m, 2, { DST: dst, p: BLS_P, m: 1, k: 128, expand: "xmd", hash: sha256 });
        const [f0, f1] = await h2c.hashToField(toHex(m), toHex(new TextEncoder().encode(dst)));
        expect([f0, f1]).to.deep.equal([fp(u0), fp(u1)]);
      }
      // one call at a time: a promise created before its assertion is attached rejects unhandled
      const calls = [() => h2c.hash(toHex(m), "0x"), () => h2c.hashToField(toHex(m), "0x")];
      for (const call of calls) await expect(call()).to.be.revertedWithCustomError(h2c, "HashToG1__EmptyDst");
    });
  });
});
