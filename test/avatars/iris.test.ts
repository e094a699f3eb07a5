import { expect } from "chai";
import { ethers } from "ethers";
import { InvalidParameterError } from "../../offchain/errors";
import {
  CAPTURE_NOISE,
  hammingDistance,
  IRIS_BITS,
  irisCommitment,
  irisMatch,
  MATCH_THRESHOLD,
  SimulatedEye,
} from "../../offchain/avatars/iris";
import { Prng } from "../../offchain/util/prng";
import { expectThrows } from "../helpers/errors";

/** A copy of `code` with the first `n` bits (bit i = bit i % 8 of byte i / 8) flipped. */
function flipFirst(code: Uint8Array, n: number): Uint8Array {
  const out = Uint8Array.from(code);
  for (let i = 0; i < n; i++) out[Math.floor(i / 8)] ^= 2 ** (i % 8);
  return out;
}

describe("avatars/iris (SIMULATED sensor)", () => {
  it("uses 2048-bit codes, Daugman's 0.32 threshold and p = 0.0528 (2p(1 - p) = 0.1)", () => {
    expect([IRIS_BITS, MATCH_THRESHOLD, CAPTURE_NOISE]).to.deep.equal([2048, 0.32, 0.0528]);
    expect(2 * CAPTURE_NOISE * (1 - CAPTURE_NOISE)).to.be.closeTo(0.1, 1e-3);
  });

  describe("# SimulatedEye", () => {
    it("holds the low bytes of the seed's first 256 PRNG words; a noiseless capture returns them", () => {
      const prng = new Prng(42);
      const code = Uint8Array.from({ length: 256 }, () => prng.nextU32() % 256);
      const eye = new SimulatedEye(42);
      expect(eye.capture(0)).to.deep.equal(code);
      expect(eye.capture(0)).to.deep.equal(code); // no drift between captures
      expect(new SimulatedEye(43).capture(0)).to.not.deep.equal(code);
    });

    it("flips every bit at noise 1, in every byte and every bit position", () => {
      const eye = new SimulatedEye(7);
      const code = eye.capture(0);
      expect(eye.capture(1)).to.deep.equal(code.map((x) => 255 - x));
      expect(hammingDistance(code, eye.capture(1))).to.equal(1);
    });

    it("flips each bit independently with probability p by default (about 108 of 2048)", () => {
      const eye = new SimulatedEye(9);
      const code = eye.capture(0);
      const n = 40;
      let flips = 0;
      const perBit = new Array<number>(8).fill(0);
      for (let k = 0; k < n; k++) {
        const c = eye.capture();
        flips += hammingDistance(code, c) * IRIS_BITS;
        for (let i = 0; i < c.length; i++) for (let b = 0; b < 8; b++) perBit[b] += ((c[i] ^ code[i]) >> b) & 1;
      }
      const mean = n * IRIS_BITS * CAPTURE_NOISE;
      const sigma = Math.sqrt(mean * (1 - CAPTURE_NOISE));
      expect(flips).to.be.within(mean - 4 * sigma, mean + 4 * sigma);
      for (const f of perBit) expect(f).to.be.within(mean / 8 - 4 * (sigma / Math.sqrt(8)), mean / 8 + 4 * (sigma / Math.sqrt(8)));
      const half = eye.capture(0.5);
      expect(hammingDistance(code, half)).to.be.within(0.5 - 4 * 0.011, 0.5 + 4 * 0.011); // sigma = sqrt(0.25 / 2048)
    });

    it("genuine captures match, impostors do not (genuine ~0.1, impostor ~0.5)", () => {
      const a = new SimulatedEye(11);
      const b = new SimulatedEye(12);
      const t = a.capture();
      const g = Array.from({ length: 20 }, () => hammingDistance(t, a.capture()));
      const i = Array.from({ length: 20 }, () => hammingDistance(t, b.capture()));
      expect(Math.max(...g)).to.be.lessThan(MATCH_THRESHOLD);
      expect(irisMatch(t, a.capture())).to.equal(true);
      expect(g.reduce((x, y) => x + y) / g.length).to.be.within(0.07, 0.13);
      expect(Math.min(...i)).to.be.greaterThan(0.4);
      expect(i.reduce((x, y) => x + y) / i.length).to.be.within(0.45, 0.55);
      expect(irisMatch(t, b.capture())).to.equal(false);
    });
  });

  describe("# hammingDistance and irisMatch", () => {
    // Built inside each test (not at describe time) so that mutation testing attributes coverage per test.
    const eye3 = () => new SimulatedEye(3).capture(0);

    it("counts differing bits, every bit position of every byte", () => {
      const code = eye3();
      expect(hammingDistance(code, code)).to.equal(0);
      for (const n of [1, 2, 7, 8, 9, 255, 1024, 2048])
        expect(hammingDistance(code, flipFirst(code, n)), `${n} bits`).to.equal(n / IRIS_BITS);
      const last = Uint8Array.from(code);
      last[255] ^= 0x80;
      expect(hammingDistance(code, last)).to.equal(1 / IRIS_BITS);
      expect(hammingDistance(flipFirst(code, 3), code)).to.equal(3 / IRIS_BITS);
    });

    it("refuses codes that are not 256 bytes, on either side", () => {
      const code = eye3();
      for (const [a, b] of [
        [code.subarray(0, 255), code],
        [code, code.subarray(0, 255)],
        [new Uint8Array(257), code],
        [code, new Uint8Array(257)],
      ])
        expectThrows(
          () => hammingDistance(a, b),
          InvalidParameterError,
          "INVALID_PARAMETER",
          /^hammingDistance: iris codes are 256 bytes$/,
        );
    });

    it("matches strictly below 0.32: 655 differing bits match, 656 do not", () => {
      const code = eye3();
      expect(irisMatch(code, flipFirst(code, 655))).to.equal(true); // 0.3198
      expect(irisMatch(code, flipFirst(code, 656))).to.equal(false); // 0.3203
      expect(irisMatch(code, code)).to.equal(true);
    });
  });

  it("commits to a template as keccak256('METATRUST-V1-IRIS' || template || salt)", () => {
    const t = new SimulatedEye(5).capture(0);
    const salt = Uint8Array.from({ length: 32 }, (_, i) => i);
    const expected = ethers.keccak256(ethers.concat([ethers.toUtf8Bytes("METATRUST-V1-IRIS"), t, salt]));
    expect(ethers.hexlify(irisCommitment(t, salt))).to.equal(expected);
    expect(
      ethers.hexlify(
        irisCommitment(
          t,
          salt.map((x) => x ^ 1),
        ),
      ),
    ).to.not.equal(expected);
  });
});
