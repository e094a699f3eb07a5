import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import * as cps from "../../offchain/crypto/cps";
import { G1, encodeG1Eip2537, encodeG2Eip2537, hashToG1 } from "../../offchain/crypto/bls";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { InvalidParameterError } from "../../offchain/errors";

const rnd32 = () => crypto.getRandomValues(new Uint8Array(32));

function setup(scope: number = cps.Scope.all) {
  const original = cps.cpsKeyGen();
  const proxy = cps.cpsKeyGen();
  const w: cps.Warrant = { irisCommitment: rnd32(), proxy: proxy.pk, avatarId: rnd32(), scope, notBefore: 1_000, notAfter: 2_000 };
  const o = cps.cpsOSign(original, w);
  return { original, proxy, w, o };
}

async function verifierFixture() {
  const v = await (await ethers.getContractFactory("CPSVerifier")).deploy();
  const h2c = await (await ethers.getContractFactory("HashToG1Mock")).deploy();
  return { v, h2c };
}

describe("crypto/cps (chameleon proxy signature over BLS12-381)", () => {
  it("OSign/OVerify and PSign/PVerify accept honest signatures", () => {
    const { original, proxy, w, o } = setup();
    expect(cps.cpsOVerify(original.pk, w, o)).to.equal(true);
    const m = { type: cps.Scope.interaction, time: 1_500, body: new TextEncoder().encode("hello") };
    const s = cps.cpsPSign(proxy, w, o, m);
    expect(cps.cpsPVerify(original.pk, w, o, m, s)).to.equal(true);
    expect(cps.CPS_SIZES.proxySignature * 8).to.equal(384);
  });

  it("rejects a forged original signature, a forged proxy signature, another warrant, another message, the wrong keys", () => {
    const { original, proxy, w, o } = setup();
    const m = { type: cps.Scope.challenge, time: 1_200, body: new Uint8Array([1]) };
    const s = cps.cpsPSign(proxy, w, o, m);
    const mallory = cps.cpsKeyGen();
    expect(cps.cpsOVerify(original.pk, w, { ...o, sig: o.sig.add(G1.BASE) })).to.equal(false);
    expect(cps.cpsOVerify(mallory.pk, w, o)).to.equal(false);
    expect(cps.cpsOVerify(original.pk, { ...w, irisCommitment: rnd32() }, o)).to.equal(false);
    expect(cps.cpsPVerify(original.pk, w, o, m, s.add(G1.BASE))).to.equal(false);
    expect(cps.cpsPVerify(original.pk, w, o, { ...m, body: new Uint8Array([2]) }, s)).to.equal(false);
    expect(cps.cpsPVerify(original.pk, { ...w, proxy: mallory.pk }, o, m, s)).to.equal(false);
    // a proxy signature by a key that is not the warrant's proxy
    const forged = cps.messagePoint(o.h, m).multiply(mallory.sk);
    expect(cps.cpsPVerify(original.pk, w, o, m, forged)).to.equal(false);
    expect(() => cps.cpsPSign(mallory, w, o, m)).to.throw(InvalidParameterError, /not the warrant's proxy/);
  });

  it("a proxy cannot sign outside its warrant's scope or validity", () => {
    const { original, proxy, w, o } = setup(cps.Scope.challenge);
    expect(() => cps.cpsPSign(proxy, w, o, { type: cps.Scope.interaction, time: 1_500, body: new Uint8Array() })).to.throw(
      InvalidParameterError,
      /scope/,
    );
    expect(() => cps.cpsPSign(proxy, w, o, { type: cps.Scope.challenge, time: 2_001, body: new Uint8Array() })).to.throw(
      InvalidParameterError,
      /validity/,
    );
    // and a signature made anyway (bypassing PSign) does not verify
    const m = { type: cps.Scope.interaction, time: 1_500, body: new Uint8Array() };
    expect(cps.cpsPVerify(original.pk, w, o, m, cps.messagePoint(o.h, m).multiply(proxy.sk))).to.equal(false);
  });

  it("domain separation: a warrant signature never verifies as a message signature, nor the reverse", () => {
    const { original, w } = setup();
    // the same 32 bytes hashed under the two DSTs give unrelated points
    const d = rnd32();
    expect(hashToG1(d, cps.CPS_DST.warrant).equals(hashToG1(d, cps.CPS_DST.message))).to.equal(false);
    // a self-delegation (user = proxy): the original signature used as a proxy signature fails
    const self: cps.Warrant = { ...w, proxy: original.pk };
    const os = cps.cpsOSign(original, self);
    const m = { type: cps.Scope.login, time: 1_100, body: new Uint8Array() };
    expect(cps.cpsPVerify(original.pk, self, os, m, os.sig)).to.equal(false);
  });

  it("proof of possession: a rogue key X' = Y - X_honest cannot be registered", () => {
    const honest = cps.cpsKeyGen();
    const y = cps.cpsKeyGen();
    const rogue = y.pk.subtract(honest.pk);
    expect(cps.cpsVerifyPossession(y.pk, cps.cpsProvePossession(y))).to.equal(true);
    // the attacker does not know log(rogue); its best try uses y
    expect(cps.cpsVerifyPossession(rogue, cps.cpsProvePossession(y))).to.equal(false);
  });

  describe("# on-chain: CPSVerifier and HashToG1 agree with the TypeScript on random inputs", () => {
    it("HashToG1.hash = noble hashToCurve (RFC 9380)", async () => {
      const { h2c } = await loadFixture(verifierFixture);
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), async (m) => {
          expect(await h2c.hash(toHex(m), toHex(new TextEncoder().encode(cps.CPS_DST.warrant)))).to.equal(
            toHex(encodeG1Eip2537(hashToG1(m, cps.CPS_DST.warrant))),
          );
        }),
        { numRuns: 8 },
      );
    });

    it("digests and the pairing check: valid signatures pass, perturbed ones fail, like PVerify", async () => {
      const { v } = await loadFixture(verifierFixture);
      await fc.assert(
        fc.asyncProperty(fc.boolean(), fc.uint8Array({ maxLength: 40 }), async (perturb, body) => {
          const { original, proxy, w, o } = setup();
          const m = { type: cps.Scope.interaction, time: 1_700, body };
          let s = cps.cpsPSign(proxy, w, o, m);
          if (perturb) s = s.add(G1.BASE.multiply(1n + BigInt(body.length)));
          const Xo = toHex(encodeG2Eip2537(original.pk));
          const Xp = toHex(encodeG2Eip2537(proxy.pk));
          const wd = await v.warrantDigest(toHex(w.irisCommitment), Xp, toHex(w.avatarId), w.scope, w.notBefore, w.notAfter);
          expect(wd).to.equal(toHex(cps.warrantDigest(w)));
          expect(await v.chameleonHash(Xo, wd, toHex(o.r))).to.equal(toHex(o.h));
          expect(await v.messageDigest(toHex(o.h), m.type, m.time, toHex(keccak256(body)))).to.equal(toHex(cps.messageDigest(o.h, m)));
          const agg = toHex(encodeG1Eip2537(o.sig.add(s)));
          expect(await v.verify(Xo, Xp, toHex(o.h), m.type, m.time, toHex(keccak256(body)), agg)).to.equal(
            cps.cpsPVerify(original.pk, w, o, m, s),
          );
        }),
        { numRuns: 6 },
      );
    });

    it("rejects malformed encodings", async () => {
      const { v } = await loadFixture(verifierFixture);
      await expect(v.verify("0x00", "0x00", ethers.ZeroHash, 1, 0, ethers.ZeroHash, "0x00")).to.be.revertedWithCustomError(
        v,
        "CPSVerifier__InvalidEncoding",
      );
    });
  });
});
