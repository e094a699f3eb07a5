import { expect } from "chai";
import * as cps from "../../offchain/crypto/cps";
import { G1, hashToG1 } from "../../offchain/crypto/bls";
import { InvalidParameterError } from "../../offchain/errors";

const rnd32 = () => crypto.getRandomValues(new Uint8Array(32));

function setup(scope: number = cps.Scope.all) {
  const original = cps.cpsKeyGen();
  const proxy = cps.cpsKeyGen();
  const w: cps.Warrant = { irisCommitment: rnd32(), proxy: proxy.pk, avatarId: rnd32(), scope, notBefore: 1_000, notAfter: 2_000 };
  const o = cps.cpsOSign(original, w);
  return { original, proxy, w, o };
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
});
