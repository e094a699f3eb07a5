/**
 * Bloom filter of the RSMS paper, Definition 2 (after Bose et al. [29]).
 *
 *   Init(N, lambda): m = ceil(1.44 * lambda * N) bits, lambda hash positions, FPR ~ 2^-lambda
 *   Pos(x) (version 2): key = keccak256(x); the stream of 64-bit words
 *             w_{4t+c} = bytes 8c..8c+7 of keccak256(key || u32be(t)),  t = 0, 1, ...,  c = 0..3,
 *             each taken mod m; a value already taken is skipped; the first lambda distinct values
 *             are pos_0..pos_{lambda-1}. Every key gets lambda *distinct* positions (m > lambda).
 *   Insert(x): set bits pos_0..pos_{lambda-1};  Check(x): all of them set
 *
 * Version 1 (filters published before session 18) used Kirsch-Mitzenmacher double hashing,
 * pos_j = (h1 + j * h2) mod m with h1, h2 the key's halves: for a key whose h2 has a small additive
 * order mod m (one in m has h2 = 0 mod m) the positions collapse to a few, so such a key passes a
 * full filter with probability about 1/2 (s17-redB B9). Version-1 filters are still read and
 * checked (epochs published before the change serve until they expire); new filters are version 2.
 *
 * The same version-2 positions in Solidity (contracts/libraries/BloomFilter.sol), so a contract can
 * check a member against a published filter; a differential test keeps the two equal. Bit i lives
 * in byte i >> 3 under mask 1 << (i & 7).
 *
 * Serialization (the bytes whose keccak256 is the on-chain root, docs/specs/crypto.md):
 *   "MTBF" | version u8 (2; 1 read only) | lambda u8 | N u32 | m u32 | count u32 | bits (ceil(m/8) bytes), BE.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { concat } from "./bytes";
import { InvalidLengthError, InvalidParameterError } from "../errors";

/** Limits on the parameters (a filter of at most 2^32 - 1 bits, lambda of at most 64). */
export const BLOOM_LIMITS = { maxN: 2 ** 26, maxLambda: 64, maxBits: 2 ** 32 - 1 } as const;
const MAGIC = [0x4d, 0x54, 0x42, 0x46]; // "MTBF"
/** The version new filters are made with (rejection-sampled distinct positions). */
export const BLOOM_VERSION = 2;
/** The version of filters published before session 18 (double hashing): read and checked only. */
export const BLOOM_LEGACY_VERSION = 1;
/** A filter's position scheme. */
export type BloomVersion = typeof BLOOM_VERSION | typeof BLOOM_LEGACY_VERSION;
/** Serialized header length in bytes. */
export const BLOOM_HEADER_BYTES = 18;

/**
 * m = ceil(1.44 * lambda * N), computed in integers.
 * @param N - expected number of items
 * @param lambda - number of hash positions
 * @returns the bit length m
 */
export function bloomBits(N: number, lambda: number): number {
  return Math.ceil((144 * lambda * N) / 100);
}

function checkParams(fn: string, N: number, lambda: number): void {
  if (!Number.isInteger(N) || N < 1 || N > BLOOM_LIMITS.maxN) {
    throw new InvalidParameterError(`${fn}: N must be an integer in [1, ${BLOOM_LIMITS.maxN}], got ${N}`);
  }
  if (!Number.isInteger(lambda) || lambda < 1 || lambda > BLOOM_LIMITS.maxLambda) {
    throw new InvalidParameterError(`${fn}: lambda must be an integer in [1, ${BLOOM_LIMITS.maxLambda}], got ${lambda}`);
  }
  // Stryker disable next-line EqualityOperator: `>=` differs only when ceil(1.44 * lambda * N) = 2^32 - 1 exactly, and no integer N in [1, 2^26] and lambda in [1, 64] gives that (ceil(1.44 * lambda * N) grows by at least 1.44 per step of N, so each lambda has at most one candidate; all 64 were checked)
  if (bloomBits(N, lambda) > BLOOM_LIMITS.maxBits) throw new InvalidParameterError(`${fn}: 1.44*lambda*N exceeds 2^32 - 1 bits`);
}

/**
 * Pos(x) for a precomputed key: the lambda bit positions of a 32-byte keccak key.
 * @param key - keccak256 of the item (32 bytes)
 * @param m - the filter's bit length (version 2: at least lambda)
 * @param lambda - the number of positions
 * @param version - the filter's scheme (default: {@link BLOOM_VERSION})
 * @returns the positions, in order j = 0..lambda-1 (version 2: all distinct)
 * @throws InvalidLengthError for a key that is not 32 bytes; InvalidParameterError for m < lambda (version 2)
 */
export function positionsOfKey(key: Uint8Array, m: number, lambda: number, version: BloomVersion = BLOOM_VERSION): number[] {
  if (!(key instanceof Uint8Array) || key.length !== 32) throw new InvalidLengthError("positionsOfKey: key must be 32 bytes");
  if (version === BLOOM_LEGACY_VERSION) return legacyPositions(key, m, lambda);
  if (!(m >= lambda))
    throw new InvalidParameterError(`positionsOfKey: m = ${m} is smaller than lambda = ${lambda}: no ${lambda} distinct positions`);
  const out: number[] = [];
  const input = new Uint8Array(36);
  input.set(key, 0);
  const idv = new DataView(input.buffer);
  for (let t = 0; out.length < lambda; t++) {
    idv.setUint32(32, t);
    const block = keccak_256(input);
    const bdv = new DataView(block.buffer, block.byteOffset, 32);
    for (let c = 0; c < 4 && out.length < lambda; c++) {
      // the 64-bit word mod m, 16 bits at a time (every intermediate < 2^48 stays exact)
      let p = 0;
      for (let i = 0; i < 4; i++) p = (p * 65536 + bdv.getUint16(8 * c + 2 * i)) % m;
      if (!out.includes(p)) out.push(p);
    }
  }
  return out;
}

/** Version 1's positions (double hashing), for filters published before session 18. */
function legacyPositions(key: Uint8Array, m: number, lambda: number): number[] {
  const dv = new DataView(key.buffer, key.byteOffset, 32);
  // h1 mod m and h2 mod m from the two 128-bit halves, 16 bits at a time so that every
  // intermediate (< 2^32 * 2^16) stays exact in a double (m < 2^32).
  const mod128 = (off: number) => {
    let r = 0;
    for (let i = 0; i < 8; i++) r = (r * 65536 + dv.getUint16(off + 2 * i)) % m;
    return r;
  };
  const h1 = mod128(0);
  const h2 = mod128(16);
  // Stryker disable next-line ArrayDeclaration: pre-sizing only: the loop below writes every index in [0, lambda), so `new Array()` returns the same array
  const out = new Array<number>(lambda);
  for (let j = 0; j < lambda; j++) out[j] = (h1 + j * h2) % m;
  return out;
}

/**
 * Pos(x): the bit positions of an item (keccak256 of its bytes, then {@link positionsOfKey}).
 * @param item - the item's bytes
 * @param m - the bit length
 * @param lambda - the number of positions
 * @returns the positions
 */
export function bloomPositions(item: Uint8Array, m: number, lambda: number, version: BloomVersion = BLOOM_VERSION): number[] {
  return positionsOfKey(keccak_256(item), m, lambda, version);
}

/** A Bloom filter (Definition 2). */
export class BloomFilter {
  /** Capacity N the filter was sized for. */
  readonly capacity: number;
  /** Number of hash positions lambda. */
  readonly lambda: number;
  /** Bit length m. */
  readonly m: number;
  /** The bit array. */
  readonly bits: Uint8Array;
  /** The position scheme: {@link BLOOM_VERSION} for every filter made now. */
  readonly version: BloomVersion;
  private _count: number;

  private constructor(capacity: number, lambda: number, m: number, bits: Uint8Array, count: number, version: BloomVersion) {
    this.version = version;
    this.capacity = capacity;
    this.lambda = lambda;
    this.m = m;
    this.bits = bits;
    this._count = count;
  }

  /**
   * Init(N, lambda): an empty filter of m = ceil(1.44 * lambda * N) bits.
   * @param N - expected number of items, in [1, 2^26]
   * @param lambda - security parameter (FPR about 2^-lambda), in [1, 64]
   * @returns the filter
   * @throws InvalidParameterError for parameters out of range
   */
  static init(N: number, lambda: number): BloomFilter {
    checkParams("BloomFilter.init", N, lambda);
    const m = bloomBits(N, lambda);
    return new BloomFilter(N, lambda, m, new Uint8Array(Math.ceil(m / 8)), 0, BLOOM_VERSION);
  }

  /** Number of Insert calls so far. */
  get count(): number {
    return this._count;
  }

  /**
   * Union with a filter of the same parameters: its bits are set here and its count added (the
   * MSRP merges a filter whose publication failed into the one opened meanwhile).
   * @param other - a filter with the same capacity, lambda and m
   * @throws InvalidParameterError for a filter with other parameters
   */
  unionWith(other: BloomFilter): void {
    if (other.capacity !== this.capacity || other.lambda !== this.lambda || other.m !== this.m || other.version !== this.version)
      throw new InvalidParameterError(
        `BloomFilter.unionWith: parameters differ (N ${other.capacity}, lambda ${other.lambda}, m ${other.m}, version ${other.version} vs N ${this.capacity}, lambda ${this.lambda}, m ${this.m}, version ${this.version})`,
      );
    for (let i = 0; i < this.bits.length; i++) this.bits[i] |= other.bits[i];
    this._count += other._count;
  }

  /**
   * Pos(x) for this filter.
   * @param item - the item
   * @returns its lambda positions
   */
  pos(item: Uint8Array): number[] {
    return bloomPositions(item, this.m, this.lambda, this.version);
  }

  /**
   * Insert(x).
   * @param item - the item's bytes
   */
  insert(item: Uint8Array): void {
    for (const p of this.pos(item)) this.bits[p >>> 3] |= 1 << (p & 7);
    this._count++;
  }

  /**
   * Check(x): true if x may be in the set (never false for an inserted item).
   * @param item - the item's bytes
   * @returns false if x is certainly not in the set
   */
  check(item: Uint8Array): boolean {
    return this.checkKey(keccak_256(item));
  }

  /**
   * Check for a precomputed keccak key.
   * @param key - keccak256 of the item
   * @returns the membership answer
   */
  checkKey(key: Uint8Array): boolean {
    for (const p of positionsOfKey(key, this.m, this.lambda, this.version)) {
      if ((this.bits[p >>> 3] & (1 << (p & 7))) === 0) return false;
    }
    return true;
  }

  /**
   * Check with positions already computed for this filter's (m, lambda, version): what a caller
   * that checks one key against many filters of the same shape computes once.
   * @param pos - {@link positionsOfKey} of the key for this filter's m, lambda and version
   */
  checkPositions(pos: readonly number[]): boolean {
    for (const p of pos) if ((this.bits[p >>> 3] & (1 << (p & 7))) === 0) return false;
    return true;
  }

  /**
   * The expected false-positive rate at the current fill, (1 - e^(-lambda n / m))^lambda.
   * @returns the rate
   */
  expectedFpr(): number {
    return (1 - Math.exp((-this.lambda * this._count) / this.m)) ** this.lambda;
  }

  /**
   * The compact serialization (header + bit array).
   * @returns the bytes
   */
  serialize(): Uint8Array {
    const h = new Uint8Array(BLOOM_HEADER_BYTES);
    const dv = new DataView(h.buffer);
    h.set(MAGIC, 0);
    h[4] = this.version;
    h[5] = this.lambda;
    dv.setUint32(6, this.capacity);
    dv.setUint32(10, this.m);
    dv.setUint32(14, this._count);
    return concat(h, this.bits);
  }

  /**
   * keccak256 of the serialization: the root that goes on-chain.
   * @returns 32 bytes
   */
  root(): Uint8Array {
    return keccak_256(this.serialize());
  }

  /**
   * Parses a serialization, checking magic, version, parameters and length.
   * @param b - the bytes
   * @returns the filter
   * @throws InvalidLengthError, InvalidParameterError
   */
  static deserialize(b: Uint8Array): BloomFilter {
    if (!(b instanceof Uint8Array) || b.length < BLOOM_HEADER_BYTES)
      throw new InvalidLengthError("BloomFilter.deserialize: shorter than the header");
    if (MAGIC.some((x, i) => b[i] !== x)) throw new InvalidParameterError("BloomFilter.deserialize: bad magic (not an MTBF filter)");
    if (b[4] !== BLOOM_VERSION && b[4] !== BLOOM_LEGACY_VERSION)
      throw new InvalidParameterError(`BloomFilter.deserialize: unsupported version ${b[4]}`);
    const version = b[4] as BloomVersion;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const lambda = b[5];
    const N = dv.getUint32(6);
    const m = dv.getUint32(10);
    const count = dv.getUint32(14);
    checkParams("BloomFilter.deserialize", N, lambda);
    if (m !== bloomBits(N, lambda)) throw new InvalidParameterError(`BloomFilter.deserialize: m = ${m} is not ceil(1.44*lambda*N)`);
    const bytes = Math.ceil(m / 8);
    if (b.length !== BLOOM_HEADER_BYTES + bytes) {
      throw new InvalidLengthError(`BloomFilter.deserialize: expected ${BLOOM_HEADER_BYTES + bytes} bytes, got ${b.length}`);
    }
    return new BloomFilter(N, lambda, m, b.slice(BLOOM_HEADER_BYTES), count, version);
  }
}
