import { expect } from "chai";
import { Bits } from "../../offchain/mssa/bits";
import { MetatrustError } from "../../offchain/errors";
import {
  cryptoRng,
  DEFAULT_CHANNEL,
  detectionProbability,
  EavesdroppingDetectedError,
  measure,
  Rng,
  thresholdDetectionProbability,
  transmit,
} from "../../offchain/mssa/quantum";
import { Prng } from "../../offchain/util/prng";

/** A scripted source of "uniform" draws: it fails on an unscripted draw, and tells how many are left. */
function script(values: number[]): Rng & { left(): number } {
  const q = [...values];
  return {
    next() {
      if (q.length === 0) throw new Error("script: an unscripted draw");
      return q.shift()!;
    },
    left: () => q.length,
  };
}

/** Runs f with globalThis.crypto.getRandomValues filling buffers from `bytes` (then restores it). */
function withRandomBytes<T>(bytes: number[], f: () => T): T {
  const c = globalThis.crypto as { getRandomValues: <A extends ArrayBufferView | null>(a: A) => A };
  Object.defineProperty(c, "getRandomValues", {
    configurable: true,
    value: (a: Uint8Array) => {
      a.set(bytes.slice(0, a.length));
      return a;
    },
  });
  try {
    return f();
  } finally {
    delete (c as { getRandomValues?: unknown }).getRandomValues;
  }
}

/** P(Bin(d, 1/4) / d > t), from the binomial coefficients computed as bigints. */
function binomialTail(d: number, t: number): number {
  let p = 0;
  for (let k = 0; k <= d; k++) {
    let c = 1n;
    for (let i = 0; i < k; i++) c = (c * BigInt(d - i)) / BigInt(i + 1);
    if (k / d > t) p += Number(c) * 0.25 ** k * 0.75 ** (d - k);
  }
  return p;
}

describe("mssa/quantum (SIMULATED decoy-photon channel, Steps 5-7)", () => {
  /** 256 data bits, built inside each test (not at describe time) so that mutation testing attributes coverage per test. */
  const bits256 = () => Bits.fromArray(Array.from({ length: 256 }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0)));

  it("measures in the preparation basis exactly and in the other basis at random", () => {
    const rng = new Prng(1);
    expect(measure({ basis: "Z", bit: 1 }, "Z", rng)).to.equal(1);
    let ones = 0;
    for (let i = 0; i < 4000; i++) ones += measure({ basis: "Z", bit: 1 }, "X", rng);
    expect(ones / 4000).to.be.within(0.46, 0.54);
  });

  it("delivers the bits untouched without an eavesdropper", () => {
    const data = bits256();
    const t = transmit(data, { decoys: 64, threshold: 0.11, rng: new Prng(2) });
    expect(t.accepted).to.equal(true);
    expect(t.decoyErrors).to.equal(0);
    expect(t.received.equals(data)).to.equal(true);
  });

  it("an intercept-resend eavesdropper raises the decoy error rate to about 25%", () => {
    const data = bits256();
    const t = transmit(data, { decoys: 20000, threshold: 0.11, eve: { fraction: 1 }, rng: new Prng(3) });
    expect(t.errorRate).to.be.within(0.235, 0.265);
    expect(t.accepted).to.equal(false);
    expect(t.dataErrors / data.length).to.be.within(0.17, 0.33);
    expect(new EavesdroppingDetectedError(t.errorRate, 0.11).code).to.equal("PROTOCOL_REJECTED");
  });

  it("the decoy check detects with probability 1 - (3/4)^d when any decoy error rejects", () => {
    const rng = new Prng(4);
    const small = Bits.fromString("1011");
    for (const d of [1, 2, 4, 8]) {
      const trials = 3000;
      let detected = 0;
      for (let i = 0; i < trials; i++)
        detected += transmit(small, { decoys: d, threshold: 0, eve: { fraction: 1 }, rng }).decoyCheck ? 0 : 1;
      const p = detectionProbability(d);
      const sigma = Math.sqrt((p * (1 - p)) / trials);
      expect(detected / trials).to.be.closeTo(p, 4 * sigma + 1e-9);
    }
  });

  it("computes the threshold rule's detection probability", () => {
    expect(thresholdDetectionProbability(1, 0)).to.be.closeTo(0.25, 1e-12);
    expect(thresholdDetectionProbability(8, 0)).to.be.closeTo(detectionProbability(8), 1e-12);
    expect(thresholdDetectionProbability(64, 0.11)).to.be.greaterThan(0.99);
  });

  describe("# randomness", () => {
    it("cryptoRng reads 6 CSPRNG bytes big-endian as a 48-bit fraction", () => {
      expect(withRandomBytes([0x80, 0, 0, 0, 0, 0], () => cryptoRng.next())).to.equal(0.5);
      expect(withRandomBytes([0, 0, 0, 0, 0, 1], () => cryptoRng.next())).to.equal(2 ** -48);
      expect(withRandomBytes([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], () => cryptoRng.next())).to.equal(1 - 2 ** -48);
      expect(withRandomBytes([1, 2, 3, 4, 5, 6], () => cryptoRng.next())).to.equal(0x010203040506 / 2 ** 48);
      expect(withRandomBytes([0, 0, 0, 0, 0x01, 0], () => cryptoRng.next())).to.equal(2 ** -40);
      expect(withRandomBytes([0, 0, 0, 0x01, 0, 0], () => cryptoRng.next())).to.equal(2 ** -32);
      expect(withRandomBytes([0, 0, 0x01, 0, 0, 0], () => cryptoRng.next())).to.equal(2 ** -24);
      expect(withRandomBytes([0, 0x01, 0, 0, 0, 0], () => cryptoRng.next())).to.equal(2 ** -16);
      // and from the real CSPRNG: in [0, 1), uniform
      const xs = Array.from({ length: 2000 }, () => cryptoRng.next());
      expect(xs.every((x) => x >= 0 && x < 1 && Number.isInteger(x * 2 ** 48))).to.equal(true);
      expect(xs.reduce((a, b) => a + b) / xs.length).to.be.within(0.5 - 4 * 0.00646, 0.5 + 4 * 0.00646); // sigma = sqrt(1/12/2000)
    });

    it("measures in the own basis without a draw, in the other with a fair coin split at 1/2", () => {
      const none = script([]);
      expect(measure({ basis: "X", bit: 0 }, "X", none)).to.equal(0);
      expect(measure({ basis: "X", bit: 1 }, "X", none)).to.equal(1);
      expect(measure({ basis: "Z", bit: 0 }, "Z", none)).to.equal(0);
      expect(measure({ basis: "Z", bit: 1 }, "X", script([0.5]))).to.equal(1);
      expect(measure({ basis: "Z", bit: 1 }, "X", script([0.4999]))).to.equal(0);
      expect(measure({ basis: "X", bit: 0 }, "Z", script([0.9]))).to.equal(1);
      expect(measure({ basis: "X", bit: 1 }, "Z", script([0]))).to.equal(0);
    });
  });

  describe("# transmit, replayed draw by draw", () => {
    // Draw order: d decoy positions (partial Fisher-Yates), then per photon its basis (< 1/2: Z) and,
    // for a decoy, its bit (< 1/2: 0); on the line per photon Eve's interception draw, her basis and
    // her coin if she guessed wrong, then the noise draw; at the receiver a coin for a wrong basis.
    it("an intercepted data photon errs while the decoy (at position 1) is measured right: the key confirmation refuses it (h15-red2 R9)", () => {
      const rng = script([0.6, 0.1, 0.1, 0.9, 0.0, 0.9, 0.9, 0.0, 0.1, 0.9]);
      const t = transmit(Bits.fromString("0"), { decoys: 1, threshold: 0, eve: { fraction: 1 }, rng });
      expect(rng.left()).to.equal(0);
      expect(t).to.deep.include({
        decoys: 1,
        decoyErrors: 0,
        errorRate: 0,
        decoyCheck: true,
        confirmed: false,
        accepted: false,
        dataErrors: 1,
      });
      expect(t.received.toString()).to.equal("1");
    });

    it("the same line with the decoy drawn at position 0: the decoy errs and the block is refused", () => {
      const rng = script([0.4, 0.1, 0.1, 0.9, 0.0, 0.9, 0.9, 0.0, 0.1, 0.9, 0.9, 0.9]);
      const t = transmit(Bits.fromString("0"), { decoys: 1, threshold: 0.99, eve: { fraction: 1 }, rng });
      expect(rng.left()).to.equal(0);
      expect(t).to.deep.include({
        decoys: 1,
        decoyErrors: 1,
        errorRate: 1,
        decoyCheck: false,
        confirmed: false,
        accepted: false,
        dataErrors: 1,
      });
      expect(t.received.toString()).to.equal("1");
    });

    it("draws of exactly 1/2 give basis X and bit 1; Eve in the wrong basis disturbs both photons", () => {
      const rng = script([0.5, 0.5, 0.3, 0.5, 0.99, 0.2, 0.2, 0.99, 0.7, 0.7, 0.1, 0.6]);
      const t = transmit(Bits.fromString("1"), { decoys: 1, threshold: 0, eve: { fraction: 1 }, rng });
      expect(rng.left()).to.equal(0);
      expect(t).to.deep.include({ decoyErrors: 0, decoyCheck: true, confirmed: false, accepted: false, dataErrors: 1 });
      expect(t.received.toString()).to.equal("0");
    });

    it("interception and noise happen below their rates only; no draws for an absent Eve or noise", () => {
      const rng = script([0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.25, 0.0, 0.25]);
      const t = transmit(Bits.fromString("1"), { decoys: 1, threshold: 0, eve: { fraction: 0.5 }, noise: 0.5, rng });
      expect(rng.left()).to.equal(0);
      expect(t).to.deep.include({ decoyErrors: 0, decoyCheck: true, confirmed: false, accepted: false, dataErrors: 1 });
      expect(t.received.toString()).to.equal("0");
      // two data bits, two decoys at positions 3 and 0, no Eve and no noise: only position and state draws
      const quiet = script([0.9, 0.7, 0.1, 0.2, 0.3, 0.8, 0.9, 0.6]);
      const u = transmit(Bits.fromString("10"), { decoys: 2, threshold: 0, eve: { fraction: 0 }, noise: 0, rng: quiet });
      expect(quiet.left()).to.equal(0);
      expect(u).to.deep.include({
        decoys: 2,
        decoyErrors: 0,
        errorRate: 0,
        decoyCheck: true,
        confirmed: true,
        accepted: true,
        dataErrors: 0,
      });
      expect(u.received.toString()).to.equal("10");
    });
  });

  describe("# transmit, statistics (seeded)", () => {
    it("noise flips each photon with its probability; full noise inverts everything", () => {
      const data = bits256();
      const t = transmit(data, { decoys: 20000, threshold: 0.5, noise: 0.1, rng: new Prng(5) });
      expect(t.errorRate).to.be.within(0.1 - 4 * 0.0022, 0.1 + 4 * 0.0022); // sigma = sqrt(0.09 / 20000)
      // under the threshold for the decoys; the data arrived altered, so the key confirmation refuses it (h15-red2 R9)
      expect(t).to.deep.include({ decoyCheck: true, confirmed: false, accepted: false });
      expect(t.dataErrors / data.length).to.be.within(0.1 - 4 * 0.019, 0.1 + 4 * 0.019);
      expect(t.received.xor(data).weight()).to.equal(t.dataErrors);
      const all = transmit(data, { decoys: 16, threshold: 0.99, noise: 1, rng: new Prng(6) });
      expect(all).to.deep.include({ decoyErrors: 16, errorRate: 1, accepted: false, dataErrors: data.length });
      expect(all.received.equals(data.not())).to.equal(true);
    });

    it("an eavesdropper on a fraction f of the photons causes decoy errors at f/4", () => {
      const data = bits256();
      const t = transmit(data, { decoys: 20000, threshold: 0.5, eve: { fraction: 0.5 }, rng: new Prng(7) });
      expect(t.errorRate).to.be.within(0.125 - 4 * 0.0024, 0.125 + 4 * 0.0024); // sigma = sqrt(0.125 * 0.875 / 20000)
      expect(t.errorRate).to.equal(t.decoyErrors / 20000);
    });

    it("accepts a decoy error rate equal to the threshold and refuses one above it", () => {
      let atThreshold = 0;
      for (let seed = 1; seed <= 60; seed++) {
        const t = transmit(Bits.fromString("1011"), { decoys: 4, threshold: 0.25, eve: { fraction: 1 }, rng: new Prng(seed) });
        expect(t.errorRate).to.equal(t.decoyErrors / 4);
        expect(t.decoyCheck, `seed ${seed}`).to.equal(t.decoyErrors <= 1);
        expect(t.accepted, `seed ${seed}`).to.equal(t.decoyCheck && t.received.equals(Bits.fromString("1011")));
        if (t.decoyErrors === 1) atThreshold++;
      }
      expect(atThreshold).to.be.greaterThan(0);
    });

    it("uses 64 decoys and an 11% threshold by default, and the CSPRNG when no rng is given", () => {
      const data = bits256();
      expect(DEFAULT_CHANNEL).to.deep.equal({ decoys: 64, threshold: 0.11 });
      const t = transmit(data);
      expect(t).to.deep.include({ decoys: 64, decoyErrors: 0, accepted: true, dataErrors: 0 });
      expect(t.received.equals(data)).to.equal(true);
      const u = transmit(data, { decoys: 2000, threshold: 0.5, eve: { fraction: 1 } });
      expect(u.errorRate).to.be.within(0.25 - 4 * 0.0097, 0.25 + 4 * 0.0097);
    });
  });

  describe("# theory and errors", () => {
    it("detectionProbability = 1 - (3/4)^d", () => {
      expect(detectionProbability(0)).to.equal(0);
      expect(detectionProbability(1)).to.equal(0.25);
      expect(detectionProbability(2)).to.equal(0.4375);
    });

    it("thresholdDetectionProbability = P(Bin(d, 1/4) / d > t), strictly above t", () => {
      expect(thresholdDetectionProbability(2, 0.5)).to.equal(0.0625); // only k = 2
      expect(thresholdDetectionProbability(2, 0.49)).to.equal(0.4375);
      expect(thresholdDetectionProbability(2, 1)).to.equal(0);
      for (const [d, t] of [
        [10, 0],
        [10, 0.2],
        [10, 0.3],
        [33, 0.11],
        [64, 0.11],
      ])
        expect(thresholdDetectionProbability(d, t), `d = ${d}, t = ${t}`).to.be.closeTo(binomialTail(d, t), 1e-12);
    });

    it("EavesdroppingDetectedError reports both rates", () => {
      const e = new EavesdroppingDetectedError(0.25, 0.11);
      expect(e).to.be.instanceOf(MetatrustError);
      expect(e.code).to.equal("PROTOCOL_REJECTED");
      expect([e.errorRate, e.threshold]).to.deep.equal([0.25, 0.11]);
      expect(e.message).to.equal("decoy error rate 25.0% above the threshold 11.0%: the block is discarded (simulated channel)");
      expect(e.name).to.equal("EavesdroppingDetectedError");
    });
  });

  it("refuses meaningless settings", () => {
    const data = bits256();
    expect(() => transmit(data, { decoys: 0, threshold: 0.1 })).to.throw(RangeError);
    expect(() => transmit(data, { decoys: 4, threshold: 1 })).to.throw(RangeError);
    expect(() => transmit(data, { decoys: 4, threshold: 0.1, eve: { fraction: 2 } })).to.throw(RangeError);
    for (const decoys of [0, -1, 1.5])
      expect(() => transmit(data, { decoys, threshold: 0.1 })).to.throw(RangeError, /^at least one decoy photon is needed$/);
    for (const threshold of [-0.01, 1, NaN])
      expect(() => transmit(data, { decoys: 4, threshold })).to.throw(RangeError, /^the threshold is a rate in \[0, 1\)$/);
    for (const r of [-0.01, 1.01, NaN]) {
      expect(() => transmit(data, { decoys: 4, threshold: 0.1, eve: { fraction: r } })).to.throw(RangeError, /^rates are in \[0, 1\]$/);
      expect(() => transmit(data, { decoys: 4, threshold: 0.1, noise: r })).to.throw(RangeError, /^rates are in \[0, 1\]$/);
    }
    // the edges are settings
    expect(transmit(data, { decoys: 1, threshold: 0, eve: { fraction: 0 }, noise: 0, rng: new Prng(8) }).accepted).to.equal(true);
    expect(transmit(data, { decoys: 1, threshold: 0.5, eve: { fraction: 1 }, noise: 1, rng: new Prng(8) }).decoys).to.equal(1);
  });
});
