import { expect } from "chai";
import { AbiCoder, ethers } from "ethers";
import {
  bestForgery,
  blockState,
  classicalLinks,
  consistent,
  firstBrokenLink,
  linkLayout,
  LinkLayout,
  linkState,
  marginalA,
  passProbability,
  phaseCheckFailure,
  phaseOf,
  replaceBlockB,
  StateVector,
} from "../../offchain/mssa/qblock";

/** A complex 2x2 matrix as [[re, im]] entries. */
type M2 = [number, number][][];

/**
 * Reference: applies a one-qubit gate U to qubit q by summing over the full 2^n x 2^n matrix
 * (U on qubit q, identity elsewhere). Independent of StateVector's in-place butterflies.
 */
function applyRef(re: Float64Array, im: Float64Array, q: number, U: M2): [Float64Array, Float64Array] {
  const N = re.length;
  const [oRe, oIm] = [new Float64Array(N), new Float64Array(N)];
  for (let i = 0; i < N; i++)
    for (let j = 0; j < N; j++) {
      if (((i ^ j) & ~(1 << q)) !== 0) continue;
      const [ur, ui] = U[(i >> q) & 1][(j >> q) & 1];
      oRe[i] += ur * re[j] - ui * im[j];
      oIm[i] += ur * im[j] + ui * re[j];
    }
  return [oRe, oIm];
}

/** Reference CNOT: the permutation |i> -> |i xor 2^t> when bit c of i is set. */
function cnotRef(re: Float64Array, im: Float64Array, c: number, t: number): [Float64Array, Float64Array] {
  const [oRe, oIm] = [new Float64Array(re.length), new Float64Array(re.length)];
  for (let i = 0; i < re.length; i++) {
    const j = (i >> c) & 1 ? i ^ (1 << t) : i;
    oRe[j] = re[i];
    oIm[j] = im[i];
  }
  return [oRe, oIm];
}

const r2 = Math.SQRT1_2;
const H: M2 = [
  [
    [r2, 0],
    [r2, 0],
  ],
  [
    [r2, 0],
    [-r2, 0],
  ],
];
const X: M2 = [
  [
    [0, 0],
    [1, 0],
  ],
  [
    [1, 0],
    [0, 0],
  ],
];
const R = (t: number): M2 => [
  [
    [1, 0],
    [0, 0],
  ],
  [
    [0, 0],
    [Math.cos(t), Math.sin(t)],
  ],
];

/** A 3-qubit vector whose amplitudes are all distinct and complex (not normalized: gates are linear). */
function generic(n = 3): StateVector {
  const s = new StateVector(n);
  for (let i = 0; i < 1 << n; i++) {
    s.re[i] = 0.1 * (i + 1);
    s.im[i] = 0.07 * (2 * i - 5);
  }
  return s;
}

/** The largest difference between a state's amplitudes and the expected ones. */
function deviation(s: StateVector, re: ArrayLike<number>, im: ArrayLike<number>): number {
  expect(s.re).to.have.length(re.length);
  let d = 0;
  for (let i = 0; i < re.length; i++) d = Math.max(d, Math.abs(s.re[i] - re[i]), Math.abs(s.im[i] - im[i]));
  return d;
}

function expectState(s: StateVector, [re, im]: [Float64Array, Float64Array]) {
  expect(deviation(s, re, im)).to.be.lessThan(1e-12);
}

function expectRange(f: () => unknown, msg: RegExp) {
  expect(f).to.throw(RangeError, msg);
}

/** The basis index of a link in which every register holds the given value. */
function indexOf(L: LinkLayout, v: { xA: number; yB: number; yA: number; xB: number; wx: number; wy: number }): number {
  let i = 0;
  for (const k of ["xA", "yB", "yA", "xB", "wx", "wy"] as const) L[k].forEach((q, bit) => (i |= ((v[k] >> bit) & 1) << q));
  return i;
}
const honest = (x: number, y: number) => ({ xA: x, yB: y, yA: y, xB: x, wx: x, wy: y });

/** Eq. 21 without the witness: the confirmations alone (what the paper's check would be without |xy>_W). */
function confirmationsOnly(probs: Float64Array, L: LinkLayout): number {
  const reg = (i: number, qs: number[]) => qs.reduce((v, q, k) => v | (((i >> q) & 1) << k), 0);
  let p = 0;
  for (let i = 0; i < probs.length; i++) if (reg(i, L.yA) === reg(i, L.yB) && reg(i, L.xB) === reg(i, L.xA)) p += probs[i];
  return p;
}

describe("mssa/qblock (SIMULATED quantum block linking, Eqs. 16-22)", () => {
  describe("# StateVector", () => {
    it("starts in |0...0> on 1 to 20 qubits and refuses any other size", () => {
      for (const n of [1, 3, 20]) {
        const s = new StateVector(n);
        expect(s.n).to.equal(n);
        expect(s.re).to.have.length(1 << n);
        expect(s.im).to.have.length(1 << n);
        expect(s.re[0]).to.equal(1);
        expect(s.re.slice(1).every((x) => x === 0) && s.im.every((x) => x === 0)).to.equal(true);
      }
      for (const n of [0, -1, 21, 1.5])
        expectRange(() => new StateVector(n), new RegExp(`^a simulation of ${n} qubits is out of range \\[1, 20\\]$`));
    });

    it("applies H, X and R(theta) on every qubit as the full 2^n x 2^n matrices do", () => {
      for (let q = 0; q < 3; q++) {
        let s = generic();
        expect(s.h(q)).to.equal(s);
        expectState(s, applyRef(generic().re, generic().im, q, H));
        s = generic();
        expect(s.x(q)).to.equal(s);
        expectState(s, applyRef(generic().re, generic().im, q, X));
        s = generic();
        expect(s.phase(q, 0.7)).to.equal(s);
        expectState(s, applyRef(generic().re, generic().im, q, R(0.7)));
        s = generic();
        s.phase(q, -2.1);
        expectState(s, applyRef(generic().re, generic().im, q, R(-2.1)));
      }
    });

    it("applies CNOT for every ordered pair of qubits as the permutation does", () => {
      for (let c = 0; c < 3; c++)
        for (let t = 0; t < 3; t++) {
          if (c === t) continue;
          const s = generic();
          expect(s.cnot(c, t)).to.equal(s);
          expectState(s, cnotRef(generic().re, generic().im, c, t));
        }
    });

    it("refuses qubits outside [0, n) and a CNOT onto its own control", () => {
      const s = new StateVector(3);
      for (const q of [-1, 3, 1.5]) {
        const m = new RegExp(`^qubit ${q} outside \\[0, 3\\)$`);
        expectRange(() => s.h(q), m);
        expectRange(() => s.x(q), m);
        expectRange(() => s.phase(q, 1), m);
        expectRange(() => s.cnot(q, 0), m);
        expectRange(() => s.cnot(0, q), m);
      }
      expectRange(() => s.cnot(1, 1), /^control and target must differ$/);
      // nothing was applied by the refused calls
      expect(s.re[0]).to.equal(1);
      expect(
        s
          .probabilities()
          .slice(1)
          .every((p) => p === 0),
      ).to.equal(true);
      // the edges are accepted
      expect(() => s.h(0).h(2).cnot(0, 2).cnot(2, 0)).to.not.throw();
    });

    it("computes Born probabilities |a|^2 and their sum", () => {
      const s = generic(2);
      const p = s.probabilities();
      for (let i = 0; i < 4; i++) expect(p[i]).to.be.closeTo((0.1 * (i + 1)) ** 2 + (0.07 * (2 * i - 5)) ** 2, 1e-15);
      expect(s.norm()).to.be.closeTo(p[0] + p[1] + p[2] + p[3], 1e-15);
      const u = new StateVector(3).h(0).cnot(0, 1).phase(1, 0.3).x(2).h(2);
      expect(u.norm()).to.be.closeTo(1, 1e-12);
    });
  });

  describe("# Eq. 16: block phase", () => {
    it("maps the first 48 bits of a digest to 2 pi v / 2^48, with or without 0x", () => {
      const d = (first6: string, rest = "00") => first6 + rest.repeat(26);
      expect(phaseOf("0x" + d("800000000000"))).to.equal(Math.PI);
      expect(phaseOf(d("800000000000"))).to.equal(Math.PI);
      expect(phaseOf("0x" + d("000000000001"))).to.equal((2 * Math.PI) / 2 ** 48);
      expect(phaseOf("0x" + d("010000000000"))).to.equal((2 * Math.PI) / 2 ** 8);
      expect(phaseOf("0x" + d("ffffffffffff", "ff"))).to.equal((2 * Math.PI * (2 ** 48 - 1)) / 2 ** 48);
      // bytes 7..32 do not enter the phase
      expect(phaseOf("0x" + d("000000000000", "ff"))).to.equal(0);
      expect(phaseOf("0x" + d("123456789abc"))).to.equal((2 * Math.PI * 0x123456789abc) / 2 ** 48);
    });

    it("refuses a digest that is not 32 bytes", () => {
      expectRange(() => phaseOf("0x" + "00".repeat(31)), /^a record digest is 32 bytes$/);
      expectRange(() => phaseOf("0x" + "00".repeat(33)), /^a record digest is 32 bytes$/);
      // only a leading 0x is a prefix: one inside the digest is not hex (and dropping it would leave 32 bytes)
      expect(() => phaseOf("a0x" + "b".repeat(63))).to.throw();
    });

    it("takes 0x only as a prefix: inside the digest it is not hex", () => {
      // "a" + "0x" + 63 hex digits would be 64 digits once a non-prefix "0x" were stripped
      expect(() => phaseOf("a0x" + "1".repeat(63))).to.throw();
      expect(() => phaseOf("0x0x" + "11".repeat(31))).to.throw();
    });

    it("a block's phase state passes its own check and reveals a changed phase with probability sin^2(delta/2)", () => {
      const theta = phaseOf(ethers.id("block-1"));
      const s = blockState(theta);
      expect(s.n).to.equal(1);
      expect(s.re[0]).to.be.closeTo(Math.SQRT1_2, 1e-12);
      expect(s.im[0]).to.be.closeTo(0, 1e-12);
      expect(s.re[1]).to.be.closeTo(Math.SQRT1_2 * Math.cos(theta), 1e-12);
      expect(s.im[1]).to.be.closeTo(Math.SQRT1_2 * Math.sin(theta), 1e-12);
      expect(phaseCheckFailure(s, theta)).to.be.closeTo(0, 1e-12);
      for (const delta of [Math.PI, Math.PI / 2, 0.3, -1.2]) {
        const tampered = blockState(theta + delta);
        expect(phaseCheckFailure(tampered, theta)).to.be.closeTo(Math.sin(delta / 2) ** 2, 1e-12);
        // the check works on a copy: the block state is unchanged
        expect(tampered.re[1]).to.be.closeTo(Math.SQRT1_2 * Math.cos(theta + delta), 1e-12);
        expect(tampered.im[1]).to.be.closeTo(Math.SQRT1_2 * Math.sin(theta + delta), 1e-12);
      }
      expectRange(() => phaseCheckFailure(new StateVector(2), 0), /^a block state is one qubit$/);
    });
  });

  describe("# Eqs. 17-21: linked blocks", () => {
    it("lays out xA, yB, yA, xB, wx, wy as consecutive b-qubit registers", () => {
      expect(linkLayout(1)).to.deep.equal({ b: 1, xA: [0], yB: [1], yA: [2], xB: [3], wx: [4], wy: [5] });
      expect(linkLayout(2)).to.deep.equal({ b: 2, xA: [0, 1], yB: [2, 3], yA: [4, 5], xB: [6, 7], wx: [8, 9], wy: [10, 11] });
    });

    it("Eq. 20: the linked state is sum_xy e^{i(thetaA x + thetaB y)} / 2^b |x y y x x y>, nothing else", () => {
      const [tA, tB] = [0.9, 2.3];
      for (const b of [1, 2]) {
        const { state, layout } = b === 2 ? linkState(tA, tB) : linkState(tA, tB, b);
        expect(layout).to.deep.equal(linkLayout(b));
        expect(state.n).to.equal(6 * b);
        const [re, im] = [new Float64Array(1 << (6 * b)), new Float64Array(1 << (6 * b))];
        for (let x = 0; x < 1 << b; x++)
          for (let y = 0; y < 1 << b; y++) {
            const ph = tA * x + tB * y;
            re[indexOf(layout, honest(x, y))] = Math.cos(ph) / 2 ** b;
            im[indexOf(layout, honest(x, y))] = Math.sin(ph) / 2 ** b;
          }
        expect(deviation(state, re, im)).to.be.lessThan(1e-12);
      }
    });

    it("Eq. 21: an index is consistent iff both confirmations and both witness halves agree", () => {
      const L = linkLayout(2);
      for (let x = 0; x < 4; x++) for (let y = 0; y < 4; y++) expect(consistent(indexOf(L, honest(x, y)), L)).to.equal(true);
      const base = honest(1, 2);
      // every single register changed alone breaks the check
      for (const k of ["xA", "yB", "yA", "xB", "wx", "wy"] as const)
        for (const v of [0, 3]) expect(consistent(indexOf(L, { ...base, [k]: v }), L), `${k} = ${v}`).to.equal(false);
      // both copies of x rewritten together: the confirmation agrees, only the witness wx differs
      expect(consistent(indexOf(L, { ...base, xA: 3, xB: 3 }), L)).to.equal(false);
      // both copies of y rewritten together: only the witness wy differs
      expect(consistent(indexOf(L, { ...base, yB: 0, yA: 0 }), L)).to.equal(false);
      // all three copies rewritten is a different honest outcome
      expect(consistent(indexOf(L, { ...base, xA: 3, xB: 3, wx: 3 }), L)).to.equal(true);
    });

    it("a block rewritten together with its confirmation copy passes the confirmations and is caught by the witness alone", () => {
      for (const b of [1, 2]) {
        // x rewritten in block A and in B's confirmation register of it
        const tx = linkState(1.1, 2.2, b);
        for (let i = 0; i < b; i++) tx.state.x(tx.layout.xA[i]).x(tx.layout.xB[i]);
        const px = tx.state.probabilities();
        expect(confirmationsOnly(px, tx.layout)).to.be.closeTo(1, 1e-12);
        expect(passProbability(px, tx.layout)).to.be.closeTo(0, 1e-12);
        // y rewritten in block B and in A's confirmation register of it
        const ty = linkState(1.1, 2.2, b);
        ty.state.x(ty.layout.yB[0]).x(ty.layout.yA[0]);
        const py = ty.state.probabilities();
        expect(confirmationsOnly(py, ty.layout)).to.be.closeTo(1, 1e-12);
        expect(passProbability(py, ty.layout)).to.be.closeTo(0, 1e-12);
      }
    });

    it("passes the honest link with probability 1 and sums only the consistent outcomes", () => {
      const { state, layout } = linkState(phaseOf(ethers.id("A")), phaseOf(ethers.id("B")), 2);
      expect(passProbability(state.probabilities(), layout)).to.be.closeTo(1, 1e-12);
      const L = linkLayout(1);
      const probs = new Float64Array(1 << 6);
      probs[indexOf(L, honest(1, 0))] = 0.25;
      probs[indexOf(L, honest(0, 1))] = 0.125;
      probs[indexOf(L, { ...honest(1, 1), wx: 0 })] = 0.5;
      probs[indexOf(L, { ...honest(0, 0), yA: 1 })] = 0.125;
      expect(passProbability(probs, L)).to.equal(0.375);
    });

    it("Eq. 18: the marginal of block A's register is the sum over y of |c_xy|^2", () => {
      const { state, layout } = linkState(phaseOf(ethers.id("A")), phaseOf(ethers.id("B")), 2);
      expect(marginalA(state.probabilities(), layout)).to.have.length(4);
      for (const p of marginalA(state.probabilities(), layout)) expect(p).to.be.closeTo(1 / 4, 1e-12); // every c_xy != 0
      const L = linkLayout(2);
      const probs = new Float64Array(1 << 12);
      probs[indexOf(L, honest(2, 3))] = 0.25;
      probs[indexOf(L, honest(2, 1))] = 0.125;
      probs[indexOf(L, honest(1, 1))] = 0.625;
      expect(marginalA(probs, L)).to.deep.equal([0, 0.625, 0.375, 0]);
    });

    it("replaceBlockB overwrites exactly block B's registers (yB, xB) and keeps the mass", () => {
      const L = linkLayout(2);
      const probs = new Float64Array(1 << 12);
      probs[indexOf(L, honest(1, 2))] = 0.75;
      probs[indexOf(L, honest(3, 0))] = 0.25;
      const out = replaceBlockB(probs, L, 3, 2);
      expect(out).to.have.length(probs.length);
      expect(out[indexOf(L, { ...honest(1, 2), yB: 3, xB: 2 })]).to.equal(0.75);
      expect(out[indexOf(L, { ...honest(3, 0), yB: 3, xB: 2 })]).to.equal(0.25);
      expect(out.reduce((a, b) => a + b, 0)).to.equal(1);
      // two outcomes that differ only in B's registers merge
      const merged = replaceBlockB(probs, L, 0, 0);
      const same = new Float64Array(1 << 12);
      same[indexOf(L, { ...honest(1, 2), yB: 0, xB: 0 })] = 0.5;
      same[indexOf(L, { ...honest(1, 2), yB: 1, xB: 3 })] = 0.5;
      expect(replaceBlockB(same, L, 0, 0)[indexOf(L, { ...honest(1, 2), yB: 0, xB: 0 })]).to.equal(1);
      expect(probs[indexOf(L, honest(1, 2))]).to.equal(0.75); // input untouched
      expect(merged[indexOf(L, { ...honest(3, 0), yB: 0, xB: 0 })]).to.equal(0.25);
    });

    it("a flipped value never passes; a rewritten block passes with probability 4^-b at best", () => {
      for (const b of [1, 2]) {
        const { state, layout } = linkState(1.1, 2.2, b);
        expect(bestForgery(state, layout)).to.be.closeTo(4 ** -b, 1e-12);
      }
      const { state, layout } = linkState(1.1, 2.2, 2);
      state.x(layout.yB[0]);
      expect(passProbability(state.probabilities(), layout)).to.be.closeTo(0, 1e-12);
      // an attacker who knows the values (no superposition) forges with certainty: the best replacement is found
      const L = linkLayout(2);
      const known = new StateVector(12);
      for (const q of [L.xA[1], L.xB[1], L.wx[1], L.yB[0], L.yB[1], L.yA[0], L.yA[1], L.wy[0], L.wy[1]]) known.x(q);
      expect(passProbability(known.probabilities(), L)).to.equal(1);
      expect(bestForgery(known, L)).to.equal(1);
    });
  });

  describe("# the classical hash chain", () => {
    const recs = [1, 2, 3].map((i) => ({ id: ethers.id(`id${i}`), commitment: ethers.id(`c${i}`) }));

    it("links each record to the previous link from 0, as keccak256(abi.encode(prev, id, commitment))", () => {
      const coder = AbiCoder.defaultAbiCoder();
      let prev = ethers.ZeroHash;
      const expected = recs.map(
        (r) => (prev = ethers.keccak256(coder.encode(["bytes32", "bytes32", "bytes32"], [prev, r.id, r.commitment]))),
      );
      expect(classicalLinks(recs)).to.deep.equal(expected);
      expect(classicalLinks([])).to.deep.equal([]);
    });

    it("finds the first broken link, case-insensitively, and a missing or extra link", () => {
      const links = classicalLinks(recs);
      expect(firstBrokenLink(recs, links)).to.equal(-1);
      expect(
        firstBrokenLink(
          recs,
          links.map((l) => "0x" + l.slice(2).toUpperCase()),
        ),
      ).to.equal(-1);
      expect(firstBrokenLink([], [])).to.equal(-1);
      const forged = recs.map((r, i) => (i === 1 ? { ...r, commitment: ethers.id("forged") } : r));
      expect(firstBrokenLink(forged, links)).to.equal(1);
      expect(firstBrokenLink([{ ...recs[0], id: ethers.id("x") }, ...recs.slice(1)], links)).to.equal(0);
      expect(firstBrokenLink(recs, links.slice(0, 2))).to.equal(2); // a record the chain does not have
      expect(firstBrokenLink(recs.slice(0, 1), links)).to.equal(1); // a link with no record
    });
  });
});
