/**
 * Byte helpers used by the crypto modules: hex, big-endian integers, concatenation and the
 * unambiguous length-prefixed tuple encoding that every domain-separated hash uses.
 */
import { InvalidLengthError, InvalidParameterError } from "../errors";

/** Anything the hash functions accept as one input component. */
export type Bytesish = Uint8Array | string;

const enc = new TextEncoder();

/**
 * UTF-8 encodes a string; returns bytes unchanged.
 * @param v - bytes, or a string to be UTF-8 encoded
 * @returns the bytes
 */
export function toBytes(v: Bytesish): Uint8Array {
  return typeof v === "string" ? enc.encode(v) : v;
}

/**
 * Concatenates byte strings.
 * @param parts - the byte strings, in order
 * @returns their concatenation
 */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Encodes a tuple of byte strings as `len32(p1) || p1 || len32(p2) || p2 ...` so that no two
 * different tuples encode to the same bytes (the input of every domain-separated hash).
 * @param parts - the components
 * @returns the encoding
 */
export function encodeTuple(parts: Bytesish[]): Uint8Array {
  const bs = parts.map(toBytes);
  const out = new Uint8Array(bs.reduce((n, b) => n + 4 + b.length, 0));
  const view = new DataView(out.buffer);
  let off = 0;
  for (const b of bs) {
    view.setUint32(off, b.length);
    out.set(b, off + 4);
    off += 4 + b.length;
  }
  return out;
}

/**
 * Big-endian encoding of a non-negative integer in exactly `len` bytes.
 * @param n - the integer, 0 <= n < 256^len
 * @param len - the output length in bytes
 * @returns the encoding
 * @throws InvalidParameterError if n is negative or does not fit
 */
export function numberToBytesBE(n: bigint, len: number): Uint8Array {
  if (n < 0n || n >= 1n << BigInt(8 * len)) {
    throw new InvalidParameterError(`numberToBytesBE: ${n} does not fit in ${len} bytes`);
  }
  const out = new Uint8Array(len);
  // eight bytes at a time from the end (a BigInt operation per word, not per byte), then the rest
  const dv = new DataView(out.buffer);
  let i = len;
  for (; i >= 8; i -= 8) {
    dv.setBigUint64(i - 8, n & MASK64);
    n >>= 64n;
  }
  for (; i > 0; i--) {
    out[i - 1] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

const MASK64 = (1n << 64n) - 1n;

/**
 * Big-endian decoding of an unsigned integer.
 * @param b - the bytes
 * @returns the integer
 */
export function bytesToNumberBE(b: Uint8Array): bigint {
  // the leading bytes one at a time, then eight at a time
  let n = 0n;
  const head = b.length % 8;
  for (let i = 0; i < head; i++) n = (n << 8n) | BigInt(b[i]);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = head; i < b.length; i += 8) n = (n << 64n) | dv.getBigUint64(i);
  return n;
}

/**
 * Hex encoding, lower case, with a `0x` prefix.
 * @param b - the bytes
 * @returns `0x...`
 */
export function toHex(b: Uint8Array): string {
  return "0x" + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

/**
 * Hex decoding; the `0x` prefix is optional.
 * @param h - the hex string
 * @param expectedLen - if given, the exact number of bytes required
 * @returns the bytes
 * @throws InvalidLengthError on odd length, non-hex characters or a length mismatch
 */
export function fromHex(h: string, expectedLen?: number): Uint8Array {
  const s = h.startsWith("0x") || h.startsWith("0X") ? h.slice(2) : h;
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new InvalidLengthError(`fromHex: not a hex string of whole bytes: ${h.slice(0, 20)}...`);
  }
  const out = Uint8Array.from(Buffer.from(s, "hex"));
  if (expectedLen !== undefined && out.length !== expectedLen) {
    throw new InvalidLengthError(`fromHex: expected ${expectedLen} bytes, got ${out.length}`);
  }
  return out;
}

/**
 * Asserts that a value is a Uint8Array of the given length.
 * @param fn - the calling function's name, for the message
 * @param b - the value
 * @param len - the required length
 * @throws InvalidLengthError otherwise
 */
export function assertLength(fn: string, b: unknown, len: number): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new InvalidLengthError(`${fn}: expected Uint8Array`);
  if (b.length !== len) throw new InvalidLengthError(`${fn}: expected ${len} bytes, got ${b.length}`);
}

/**
 * Byte-wise XOR of two equal-length strings.
 * @param a - first operand
 * @param b - second operand
 * @returns a xor b
 * @throws InvalidLengthError if the lengths differ
 */
export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new InvalidLengthError(`xor: lengths differ (${a.length} vs ${b.length})`);
  const out = new Uint8Array(a.length);
  // Stryker disable next-line EqualityOperator: `i <= a.length` adds one step past the end, where a[i] and b[i] are undefined (undefined ^ undefined = 0) and the write to out[a.length] is ignored by the typed array; the `>=` variant is killed by the xor known answers
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/**
 * Constant-time-ish equality of two byte strings (no early exit on the first difference).
 * @param a - first operand
 * @param b - second operand
 * @returns true iff equal
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  // Stryker disable next-line EqualityOperator: `i <= a.length` adds one step past the end, where a[i] ^ b[i] is undefined ^ undefined = 0 and leaves d unchanged; the `>=` variant is killed by the equalBytes tests
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
