/**
 * Single-use ephemerals computed ahead (offchain/crypto/ephemeral.ts; issue 20, session 19): a
 * stock gives each ephemeral once, with the right points, only for the very base it was filled
 * for; ECIES and Schnorr take from it when given one, and draw at the point of use otherwise.
 */
import { expect } from "chai";
import { EphemeralStock } from "../../offchain/crypto/ephemeral";
import { eciesDecrypt, eciesEncrypt } from "../../offchain/crypto/ecies";
import { decodePoint, encodePoint, mul, mulBase, randomScalar } from "../../offchain/crypto/group";
import { schnorrSign, schnorrVerify } from "../../offchain/crypto/schnorr";

describe("crypto/ephemeral", () => {
  const sk = randomScalar();
  const PK = mulBase(sk);

  it("fills to its depth with k, k*P and k*B, and gives each ephemeral once (taken out), then none", () => {
    const stock = new EphemeralStock(3);
    stock.fill(PK);
    expect(stock.size(PK)).to.equal(3);
    const seen = new Set<bigint>();
    for (let i = 0; i < 3; i++) {
      const e = stock.take(PK)!;
      expect(e.K.equals(mulBase(e.k))).to.equal(true);
      expect(e.kB!.equals(mul(PK, e.k))).to.equal(true);
      expect(seen.has(e.k), "an ephemeral given twice").to.equal(false);
      seen.add(e.k);
      expect(stock.size(PK)).to.equal(2 - i);
    }
    expect(stock.take(PK)).to.equal(undefined);
    stock.fill(PK); // a refill draws new ones
    expect(seen.has(stock.take(PK)!.k)).to.equal(false);
  });

  it("keeps a stock per base object: an equal point that is another object, or no base, finds none of it", () => {
    const stock = new EphemeralStock();
    stock.fill(PK);
    expect(stock.take(decodePoint(encodePoint(PK)))).to.equal(undefined);
    expect(stock.take()).to.equal(undefined);
    stock.fill();
    const e = stock.take()!;
    expect(e.kB).to.equal(undefined);
    expect(e.K.equals(mulBase(e.k))).to.equal(true);
  });

  it("ECIES to a point takes its ephemeral key from the stock kept for that point, once; to an encoding it draws its own", () => {
    const stock = new EphemeralStock(1);
    stock.fill(PK);
    const K = encodePoint(stock["byBase"].get(PK)![0].K);
    const m = new TextEncoder().encode("a' || PID");
    const c1 = eciesEncrypt(encodePoint(PK), m, undefined, stock); // bytes: not the stock's object
    expect(stock.size(PK)).to.equal(1);
    const c2 = eciesEncrypt(PK, m, undefined, stock);
    expect(stock.size(PK)).to.equal(0);
    expect(Buffer.from(c2.subarray(1, 34)).equals(Buffer.from(K)), "the stocked key").to.equal(true);
    const c3 = eciesEncrypt(PK, m, undefined, stock); // the stock is empty: a fresh key
    expect(Buffer.from(c3.subarray(1, 34)).equals(Buffer.from(K))).to.equal(false);
    for (const c of [c1, c2, c3]) expect(Buffer.from(eciesDecrypt(sk, c)).equals(Buffer.from(m))).to.equal(true);
  });

  it("Schnorr takes its nonce from the stock, once: two signatures never share R", () => {
    const stock = new EphemeralStock(1);
    stock.fill();
    const K = encodePoint(stock["plain"][0].K);
    const msg = new TextEncoder().encode("forward");
    const s1 = schnorrSign(sk, "TEST-EPH", msg, PK, stock);
    const s2 = schnorrSign(sk, "TEST-EPH", msg, PK, stock);
    expect(Buffer.from(s1.subarray(0, 33)).equals(Buffer.from(K))).to.equal(true);
    expect(Buffer.from(s2.subarray(0, 33)).equals(Buffer.from(s1.subarray(0, 33))), "a nonce used twice").to.equal(false);
    expect(schnorrVerify(PK, "TEST-EPH", msg, s1)).to.equal(true);
    expect(schnorrVerify(PK, "TEST-EPH", msg, s2)).to.equal(true);
  });
});
