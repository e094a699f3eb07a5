/**
 * Bit strings of any length (the MSSA credential scheme works on bits: CR may have an odd
 * length). Bits are packed most-significant first; unused trailing bits of the last byte are 0.
 */
import { randomBytes } from "@noble/hashes/utils.js";
import { MetatrustError } from "../errors";

/** A malformed bit string or a length mismatch. */
export class BitsError extends MetatrustError {
  constructor(message: string) {
    super("INVALID_LENGTH", message);
  }
}

/** An immutable bit string. */
export class Bits {
  private constructor(
    /** packed bits, most significant first */
    readonly bytes: Uint8Array,
    /** number of bits */
    readonly length: number,
  ) {}

  /** From packed bytes and a bit length (default: all bits). */
  static fromBytes(bytes: Uint8Array, length = bytes.length * 8): Bits {
    if (!Number.isInteger(length) || length < 0 || length > bytes.length * 8 || Math.ceil(length / 8) !== bytes.length)
      throw new BitsError(`${bytes.length} bytes cannot hold exactly ${length} bits`);
    const b = Uint8Array.from(bytes);
    if (length % 8 !== 0) b[b.length - 1] &= (0xff << (8 - (length % 8))) & 0xff;
    return new Bits(b, length);
  }

  /** From a string of '0' and '1'. */
  static fromString(s: string): Bits {
    if (!/^[01]*$/.test(s)) throw new BitsError("a bit string holds only 0 and 1");
    const b = new Uint8Array(Math.ceil(s.length / 8));
    for (let i = 0; i < s.length; i++) if (s[i] === "1") b[i >> 3] |= 0x80 >> (i & 7);
    return new Bits(b, s.length);
  }

  /** `length` uniformly random bits from the CSPRNG. */
  static random(length: number): Bits {
    if (!Number.isInteger(length) || length < 1) throw new BitsError(`cannot draw ${length} random bits`);
    return Bits.fromBytes(randomBytes(Math.ceil(length / 8)), length);
  }

  /** Bit i (0 = first). */
  get(i: number): 0 | 1 {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new BitsError(`bit ${i} outside [0, ${this.length})`);
    return ((this.bytes[i >> 3] >> (7 - (i & 7))) & 1) as 0 | 1;
  }

  /** The bits as 0/1 numbers. */
  toArray(): (0 | 1)[] {
    return Array.from({ length: this.length }, (_, i) => this.get(i));
  }

  /** From 0/1 numbers. */
  static fromArray(a: readonly number[]): Bits {
    return Bits.fromString(a.map((x) => (x ? "1" : "0")).join(""));
  }

  toString(): string {
    return this.toArray().join("");
  }

  /** Bits [start, end). */
  slice(start: number, end: number): Bits {
    if (start < 0 || end > this.length || start > end) throw new BitsError(`slice [${start}, ${end}) of ${this.length} bits`);
    return Bits.fromArray(this.toArray().slice(start, end));
  }

  /** Bitwise xor with a string of the same length. */
  xor(o: Bits): Bits {
    if (o.length !== this.length) throw new BitsError(`xor of ${this.length} and ${o.length} bits`);
    return new Bits(
      this.bytes.map((x, i) => x ^ o.bytes[i]),
      this.length,
    );
  }

  /** Bitwise not. */
  not(): Bits {
    return Bits.fromBytes(
      this.bytes.map((x) => ~x & 0xff),
      this.length,
    );
  }

  /** Whether every bit is 0. */
  isZero(): boolean {
    return this.bytes.every((x) => x === 0);
  }

  /** Number of 1 bits. */
  weight(): number {
    let w = 0;
    for (const x of this.bytes) for (let v = x; v; v &= v - 1) w++;
    return w;
  }

  equals(o: Bits): boolean {
    return this.length === o.length && this.xor(o).isZero();
  }

  /** Concatenation. */
  concat(o: Bits): Bits {
    return Bits.fromArray([...this.toArray(), ...o.toArray()]);
  }
}
