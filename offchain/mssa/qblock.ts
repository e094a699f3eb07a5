/**
 * SIMULATED quantum block linking (MSSA paper, "Formation of quantum blockchain", Eqs. 16-22) as a
 * small state-vector simulation, and the classical on-chain record it maps to.
 *
 * - Eq. 16: a block's data becomes a phase theta = B(record) and the state
 *   |psi> = R(theta)|+> = (|0> + e^{i theta}|1>)/sqrt 2. A verifier that knows theta applies
 *   R(-theta), H and measures: 0 with certainty if untouched, 1 with probability
 *   sin^2(delta/2) if the phase was changed by delta.
 * - Eqs. 17-21: blocks A and B share sum_xy c_xy |x>_A|y>_B (flipping) |y>_A|x>_B (confirmation)
 *   |xy>_W (witness), with b-qubit values x and y and every c_xy != 0 (here
 *   c_xy = e^{i(theta_A x + theta_B y)} / 2^b, so the blocks' phases enter the amplitudes).
 *   Measuring, Eq. 21 holds iff the confirmation registers equal the other block's value and the
 *   witness equals (x, y). A block rewritten after linking (its registers replaced) passes with
 *   probability 4^-b per link; a flipped value never passes.
 * - Eq. 22 (N blocks): links between consecutive blocks; a middle block sits in two links.
 * The classical analogue recorded on-chain by CredentialLedger is a hash chain:
 * link_i = keccak256(abi.encode(link_{i-1}, id_i, commitment_i)).
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { AbiCoder } from "ethers";

/** A pure state of n qubits; qubit q is bit q of a basis index. */
export class StateVector {
  readonly re: Float64Array;
  readonly im: Float64Array;

  /** |0...0> on n qubits (n <= 20). */
  constructor(readonly n: number) {
    if (!Number.isInteger(n) || n < 1 || n > 20) throw new RangeError(`a simulation of ${n} qubits is out of range [1, 20]`);
    this.re = new Float64Array(1 << n);
    this.im = new Float64Array(1 << n);
    this.re[0] = 1;
  }

  private check(q: number) {
    if (!Number.isInteger(q) || q < 0 || q >= this.n) throw new RangeError(`qubit ${q} outside [0, ${this.n})`);
  }

  /** Hadamard on qubit q. */
  h(q: number): this {
    this.check(q);
    const m = 1 << q;
    const s = Math.SQRT1_2;
    for (let i = 0; i < this.re.length; i++) {
      if (i & m) continue;
      const j = i | m;
      const [ar, ai, br, bi] = [this.re[i], this.im[i], this.re[j], this.im[j]];
      this.re[i] = (ar + br) * s;
      this.im[i] = (ai + bi) * s;
      this.re[j] = (ar - br) * s;
      this.im[j] = (ai - bi) * s;
    }
    return this;
  }

  /** Pauli X on qubit q. */
  x(q: number): this {
    this.check(q);
    const m = 1 << q;
    for (let i = 0; i < this.re.length; i++) {
      if (i & m) continue;
      const j = i | m;
      [this.re[i], this.re[j]] = [this.re[j], this.re[i]];
      [this.im[i], this.im[j]] = [this.im[j], this.im[i]];
    }
    return this;
  }

  /** R(theta) = diag(1, e^{i theta}) on qubit q (Eq. 16's rotation). */
  phase(q: number, theta: number): this {
    this.check(q);
    const m = 1 << q;
    const c = Math.cos(theta);
    const s = Math.sin(theta);
    for (let i = 0; i < this.re.length; i++) {
      if (!(i & m)) continue;
      const [r, im] = [this.re[i], this.im[i]];
      this.re[i] = r * c - im * s;
      this.im[i] = r * s + im * c;
    }
    return this;
  }

  /** CNOT with control c and target t. */
  cnot(c: number, t: number): this {
    this.check(c);
    this.check(t);
    if (c === t) throw new RangeError("control and target must differ");
    const mc = 1 << c;
    const mt = 1 << t;
    for (let i = 0; i < this.re.length; i++) {
      if (!(i & mc) || i & mt) continue;
      const j = i | mt;
      [this.re[i], this.re[j]] = [this.re[j], this.re[i]];
      [this.im[i], this.im[j]] = [this.im[j], this.im[i]];
    }
    return this;
  }

  /** Born-rule probabilities of the computational basis states. */
  probabilities(): Float64Array {
    const p = new Float64Array(this.re.length);
    for (let i = 0; i < p.length; i++) p[i] = this.re[i] ** 2 + this.im[i] ** 2;
    return p;
  }

  /** The norm (1 up to rounding for a state built from unitaries). */
  norm(): number {
    return this.probabilities().reduce((a, b) => a + b, 0);
  }
}

/** Eq. 16's B: a record digest (32 bytes hex) to a phase in [0, 2 pi), from its first 48 bits (exact in a double). */
export function phaseOf(digest: string): number {
  const b = hexToBytes(digest.replace(/^0x/, ""));
  if (b.length !== 32) throw new RangeError("a record digest is 32 bytes");
  let v = 0;
  for (let i = 0; i < 6; i++) v = v * 256 + b[i];
  return (2 * Math.PI * v) / 2 ** 48;
}

/** Eq. 16: the one-qubit block state R(theta)|+>. */
export function blockState(theta: number): StateVector {
  return new StateVector(1).h(0).phase(0, theta);
}

/** The probability that the phase check of a block state against `theta` reports tampering. */
export function phaseCheckFailure(state: StateVector, theta: number): number {
  if (state.n !== 1) throw new RangeError("a block state is one qubit");
  const s = new StateVector(1);
  s.re.set(state.re);
  s.im.set(state.im);
  s.phase(0, -theta).h(0);
  return s.probabilities()[1];
}

/** Qubit layout of a two-block link with b-qubit values. */
export type LinkLayout = { b: number; xA: number[]; yB: number[]; yA: number[]; xB: number[]; wx: number[]; wy: number[] };

/** The layout: xA, yB (flipping), yA, xB (confirmation), witness (x, y). */
export function linkLayout(b: number): LinkLayout {
  const r = (k: number) => Array.from({ length: b }, (_, i) => k * b + i);
  return { b, xA: r(0), yB: r(1), yA: r(2), xB: r(3), wx: r(4), wy: r(5) };
}

/** Eq. 20: the linked state of blocks A and B (phases thetaA, thetaB) with b-qubit values. */
export function linkState(thetaA: number, thetaB: number, b = 2): { state: StateVector; layout: LinkLayout } {
  const L = linkLayout(b);
  const s = new StateVector(6 * b);
  // Flipping registers: uniform superposition, then the blocks' phases weight |x> and |y>
  // (qubit i carries 2^i, so e^{i theta x} = prod_i e^{i theta 2^i x_i}).
  for (let i = 0; i < b; i++) {
    s.h(L.xA[i]).h(L.yB[i]);
    s.phase(L.xA[i], thetaA * 2 ** i).phase(L.yB[i], thetaB * 2 ** i);
  }
  // Confirmation and witness registers: fan-out copies.
  for (let i = 0; i < b; i++) {
    s.cnot(L.yB[i], L.yA[i]).cnot(L.xA[i], L.xB[i]);
    s.cnot(L.xA[i], L.wx[i]).cnot(L.yB[i], L.wy[i]);
  }
  return { state: s, layout: L };
}

const reg = (i: number, qs: number[]) => qs.reduce((v, q, k) => v | (((i >> q) & 1) << k), 0);

/** Eq. 21: whether a measured basis index is consistent (confirmations and witness agree). */
export function consistent(i: number, L: LinkLayout): boolean {
  const [xA, yB, yA, xB, wx, wy] = [reg(i, L.xA), reg(i, L.yB), reg(i, L.yA), reg(i, L.xB), reg(i, L.wx), reg(i, L.wy)];
  return yA === yB && xB === xA && wx === xA && wy === yB;
}

/** The probability that measuring the link passes Eq. 21. */
export function passProbability(probs: Float64Array, L: LinkLayout): number {
  let p = 0;
  for (let i = 0; i < probs.length; i++) if (consistent(i, L)) p += probs[i];
  return p;
}

/** Eq. 18: P_A(x) = sum_y |c_xy|^2, the marginal of block A's flipping register. */
export function marginalA(probs: Float64Array, L: LinkLayout): number[] {
  const m = new Array<number>(1 << L.b).fill(0);
  for (let i = 0; i < probs.length; i++) m[reg(i, L.xA)] += probs[i];
  return m;
}

/**
 * A rewritten block B: its registers (yB, xB) are replaced by the attacker's values. Returns the
 * measurement distribution afterwards (the diagonal of the resulting mixed state).
 */
export function replaceBlockB(probs: Float64Array, L: LinkLayout, y: number, x: number): Float64Array {
  const out = new Float64Array(probs.length);
  const clear = [...L.yB, ...L.xB].reduce((m, q) => m | (1 << q), 0);
  const set = L.yB.reduce((m, q, k) => m | (((y >> k) & 1) << q), 0) | L.xB.reduce((m, q, k) => m | (((x >> k) & 1) << q), 0);
  for (let i = 0; i < probs.length; i++) out[(i & ~clear) | set] += probs[i];
  return out;
}

/**
 * The best an attacker who rewrites block B can do against one link: the largest pass
 * probability over every choice of replacement values.
 */
export function bestForgery(state: StateVector, L: LinkLayout): number {
  const probs = state.probabilities();
  let best = 0;
  for (let y = 0; y < 1 << L.b; y++)
    for (let x = 0; x < 1 << L.b; x++) best = Math.max(best, passProbability(replaceBlockB(probs, L, y, x), L));
  return best;
}

/** An approved record as CredentialLedger chains it. */
export type ChainRecord = { id: string; commitment: string };

/** link_i = keccak256(abi.encode(link_{i-1}, id, commitment)), from link_{-1} = 0. */
export function classicalLinks(records: readonly ChainRecord[]): string[] {
  const coder = AbiCoder.defaultAbiCoder();
  let prev = "0x" + "00".repeat(32);
  return records.map((r) => {
    prev = "0x" + bytesToHex(keccak_256(hexToBytes(coder.encode(["bytes32", "bytes32", "bytes32"], [prev, r.id, r.commitment]).slice(2))));
    return prev;
  });
}

/** The index of the first record whose link disagrees with `links` (the on-chain values), or -1. */
export function firstBrokenLink(records: readonly ChainRecord[], links: readonly string[]): number {
  const mine = classicalLinks(records);
  for (let i = 0; i < Math.max(mine.length, links.length); i++) if (mine[i]?.toLowerCase() !== links[i]?.toLowerCase()) return i;
  return -1;
}
