import { expect } from "chai";
import fc from "fast-check";
import { sha256 } from "@noble/hashes/sha2.js";
import { sha3_256 } from "@noble/hashes/sha3.js";
import * as M from "../../offchain/trust/model";
import { InvalidParameterError } from "../../offchain/errors";
import { toHex } from "../../offchain/crypto/bytes";

const p01 = fc.double({ min: 0, max: 1, noNaN: true });

describe("trust/model (trust paper Eqs. 1, 6, 8-20, Algorithms 1 and 3)", () => {
  it("the mean-type factors (Eqs. 9, 11, 12, 15-19) stay in [0, 1] and equal their definitions", () => {
    expect(M.eq9Reputation([0.2, 0.4, 0.9])).to.be.closeTo(0.5, 1e-12);
    expect(M.eq11History([1, 0])).to.equal(0.5);
    expect(M.eq12Performance([0.3])).to.equal(0.3);
    expect(M.eq15Vulnerability([1, 0], [3, 1])).to.equal(0.75);
    expect(M.eq16Credibility(3, 4)).to.equal(0.75);
    expect(M.eq16Credibility(0, 0)).to.equal(0);
    expect(M.eq19Competence([0.5, 1], [1, 1])).to.equal(0.75);
    fc.assert(
      fc.property(fc.array(p01, { minLength: 1, maxLength: 20 }), (xs) =>
        [
          M.eq9Reputation(xs),
          M.eq17Benevolence(
            xs,
            xs.map(() => 1),
          ),
          M.eq18Integrity(
            xs,
            xs.map((_, i) => i + 1),
          ),
        ].every((v) => v >= 0 && v <= 1 + 1e-12),
      ),
    );
  });

  it("Eq. 10 measures erratic behaviour; the model uses its complement", () => {
    const steady = [[0.9], [0.9], [0.9]];
    const erratic = [[0], [1], [0]];
    expect(M.eq10BehaviourChange(steady)).to.equal(0);
    expect(M.eq10BehaviourChange(erratic)).to.equal(1);
    expect(M.behaviourConsistency(steady)).to.equal(1);
    expect(M.behaviourConsistency(erratic)).to.equal(0);
  });

  it("Eq. 13 and Eq. 14 (the sigmoid of the context features)", () => {
    expect(M.eq13Identity(true)).to.equal(1);
    expect(M.eq14Context([0.5], [1], 10, 0.5)).to.equal(0.5);
    expect(M.eq14Context([1], [1], 10, 0.5)).to.be.greaterThan(0.99);
  });

  it("Eq. 20 as printed is unbounded and not monotone; the default is bounded and monotone", () => {
    const w = [1, 1];
    // tiny sigma: the Gaussian density explodes
    expect(M.eq20Paper([0.5, 0.5], w, [0.5, 0.5], [1e-6, 1e-6])).to.be.greaterThan(100);
    // a lower P at the Gaussian's peak beats a higher P away from it
    expect(M.eq20Paper([0.3, 0.3], w, [0.3, 0.3], [0.05, 0.05])).to.be.greaterThan(M.eq20Paper([0.6, 0.6], w, [0.3, 0.3], [0.05, 0.05]));
    fc.assert(
      fc.property(fc.array(p01, { minLength: 1, maxLength: 6 }), p01, fc.nat({ max: 5 }), (P, bump, k) => {
        const i = k % P.length;
        const ws = P.map(() => 1);
        const t = M.eq20DegreeOfTrust(P, ws);
        const higher = [...P];
        higher[i] = Math.max(P[i], bump);
        return t >= 0 && t <= 1 && M.eq20DegreeOfTrust(higher, ws) >= t - 1e-12;
      }),
    );
  });

  it("Eq. 8 and Algorithm 3 are weighted means; risk lowers trust", () => {
    const six = { reputation: 1, behaviour: 1, history: 1, performance: 1, social: 1, expertise: 1 };
    expect(M.eq8Trust(six)).to.equal(1);
    const ten = { ...six, reliability: 1, similarity: 1, transparency: 1, risk: 0 };
    expect(M.algorithm3Trust(ten)).to.equal(1);
    expect(M.algorithm3Trust({ ...ten, risk: 1 })).to.be.closeTo(0.9, 1e-12);
    expect(M.socialRelations(["a", "b"], ["b", "c"])).to.be.closeTo(1 / 3, 1e-12);
    expect(M.similarity([1, 0], [1, 0])).to.equal(1);
    expect(M.domainExpertise([1, 1, 1, 1, 1])).to.equal(0.5);
  });

  it("rejects out-of-range inputs with typed errors", () => {
    expect(() => M.eq9Reputation([])).to.throw(InvalidParameterError, /^eq9Reputation/);
    expect(() => M.eq11History([1.2])).to.throw(InvalidParameterError, /\[0, 1\]/);
    expect(() => M.eq15Vulnerability([0.5], [1, 2])).to.throw(InvalidParameterError, /weights/);
    expect(() => M.eq16Credibility(5, 4)).to.throw(InvalidParameterError);
    expect(() => M.eq14Context([0.5], [1], 0, 0.5)).to.throw(InvalidParameterError, /beta/);
    expect(() => M.eq10BehaviourChange([[0.1]])).to.throw(InvalidParameterError);
    expect(() => M.eq20Paper([0.5], [1], [0.5], [0])).to.throw(InvalidParameterError, /sigma/);
  });

  it("Algorithm 1: the composite hash is SHA-256 || SHA3-256 and the chain changes with any input", () => {
    const h = M.compositeHash("abc");
    expect(toHex(h)).to.equal(
      toHex(new Uint8Array([...sha256(new TextEncoder().encode("abc")), ...sha3_256(new TextEncoder().encode("abc"))])),
    );
    const g = M.genesis();
    const s1 = M.algorithm1Step(
      g,
      [
        ["alice", 0.8],
        ["bob", 0.4],
      ],
      new Uint8Array([1]),
    );
    const s1b = M.algorithm1Step(
      g,
      [
        ["alice", 0.8],
        ["bob", 0.41],
      ],
      new Uint8Array([1]),
    );
    const s1c = M.algorithm1Step(
      g,
      [
        ["alice", 0.8],
        ["bob", 0.4],
      ],
      new Uint8Array([2]),
    );
    expect(s1.T).to.have.length(64);
    expect(new Set([s1.T, s1b.T, s1c.T].map(toHex)).size).to.equal(3);
    expect(
      toHex(
        M.algorithm1Step(
          g,
          [
            ["alice", 0.8],
            ["bob", 0.4],
          ],
          new Uint8Array([1]),
        ).T,
      ),
    ).to.equal(toHex(s1.T));
  });
});
