/**
 * Malformed SEC1 compressed secp256k1 points for the registry tests (issue 13 item 12): each is
 * 33 bytes with a 0x02/0x03 prefix, so a prefix-only check accepts it, and each is refused by the
 * agents' decodePoint (asserted where it is used).
 */
import { toHex } from "../../offchain/crypto/bytes";
import { decodePoint } from "../../offchain/crypto/group";

/** The field prime of secp256k1. */
export const FIELD_P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;

const enc = (prefix: 2 | 3, x: bigint) => "0x0" + prefix + x.toString(16).padStart(64, "0");

function decodes(hex: string): boolean {
  try {
    decodePoint(Uint8Array.from(Buffer.from(hex.slice(2), "hex")));
    return true;
  } catch {
    return false;
  }
}

/** x with no y: the first such x from 1. */
export function offCurvePoint(prefix: 2 | 3 = 2): string {
  for (let x = 1n; ; x++) if (!decodes(enc(prefix, x))) return enc(prefix, x);
}

/** p + x0 for the first x0 that is on the curve: the same point mod p, not canonical. */
export function nonCanonicalPoint(prefix: 2 | 3 = 3): string {
  for (let x = 1n; ; x++) if (decodes(enc(prefix, x))) return enc(prefix, FIELD_P + x);
}

/** All 0xff: x = 2^256 - 1 > p. */
export const ALL_ONES_POINT = toHex(Uint8Array.from([0x02, ...new Array<number>(32).fill(0xff)]));

/** The malformed points, named, each checked to be refused by decodePoint. */
export function malformedPoints(): [string, string][] {
  const list: [string, string][] = [
    ["x off the curve", offCurvePoint(2)],
    ["x off the curve (0x03)", offCurvePoint(3)],
    ["x = p + x0 (not canonical)", nonCanonicalPoint(3)],
    ["x = 2^256 - 1", ALL_ONES_POINT],
    ["x = 0", enc(2, 0n)],
  ];
  for (const [name, hex] of list) if (decodes(hex)) throw new Error(`malformedPoints: ${name} decodes`);
  return list;
}
