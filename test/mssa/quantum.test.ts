import { expect } from "chai";
import { Bits } from "../../offchain/mssa/bits";
import {
  detectionProbability,
  EavesdroppingDetectedError,
  measure,
  thresholdDetectionProbability,
  transmit,
} from "../../offchain/mssa/quantum";
import { Prng } from "../../offchain/util/prng";

describe("mssa/quantum (SIMULATED decoy-photon channel, Steps 5-7)", () => {
  const data = Bits.fromArray(Array.from({ length: 256 }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0)));

  it("measures in the preparation basis exactly and in the other basis at random", () => {
    const rng = new Prng(1);
    expect(measure({ basis: "Z", bit: 1 }, "Z", rng)).to.equal(1);
    let ones = 0;
    for (let i = 0; i < 4000; i++) ones += measure({ basis: "Z", bit: 1 }, "X", rng);
    expect(ones / 4000).to.be.within(0.46, 0.54);
  });

  it("delivers the bits untouched without an eavesdropper", () => {
    const t = transmit(data, { decoys: 64, threshold: 0.11, rng: new Prng(2) });
    expect(t.accepted).to.equal(true);
    expect(t.decoyErrors).to.equal(0);
    expect(t.received.equals(data)).to.equal(true);
  });

  it("an intercept-resend eavesdropper raises the decoy error rate to about 25%", () => {
    const t = transmit(data, { decoys: 20000, threshold: 0.11, eve: { fraction: 1 }, rng: new Prng(3) });
    expect(t.errorRate).to.be.within(0.235, 0.265);
    expect(t.accepted).to.equal(false);
    expect(t.dataErrors / data.length).to.be.within(0.17, 0.33);
    expect(new EavesdroppingDetectedError(t.errorRate, 0.11).code).to.equal("PROTOCOL_REJECTED");
  });

  it("detects with probability 1 - (3/4)^d when any decoy error rejects", () => {
    const rng = new Prng(4);
    const small = Bits.fromString("1011");
    for (const d of [1, 2, 4, 8]) {
      const trials = 3000;
      let detected = 0;
      for (let i = 0; i < trials; i++) detected += transmit(small, { decoys: d, threshold: 0, eve: { fraction: 1 }, rng }).accepted ? 0 : 1;
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

  it("refuses meaningless settings", () => {
    expect(() => transmit(data, { decoys: 0, threshold: 0.1 })).to.throw(RangeError);
    expect(() => transmit(data, { decoys: 4, threshold: 1 })).to.throw(RangeError);
    expect(() => transmit(data, { decoys: 4, threshold: 0.1, eve: { fraction: 2 } })).to.throw(RangeError);
  });
});
