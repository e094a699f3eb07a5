/**
 * Red team s17-redB, finding B9: the Bloom filter's double hashing (crypto.md §6: position j is
 * h1 + j*h2 mod m, h1 and h2 the halves of keccak256(item)) gives a key whose h2 is 0 mod m (one key
 * in m) a single position instead of lambda, and one whose h2 has a small additive order mod m a few
 * (m = ceil(1.44*lambda*N) is composite: 29,492 = 4 * 73 * 101 for the default N = 1,024, lambda = 20).
 * Such a key passes a full filter with probability about 1/2 instead of 2^-lambda. Grinding for a
 * false positive (paper Game 4 against the public filter, rsms-join.md change 12, which prices it at
 * "about 2^20 H-evaluations") therefore takes about 2m = 2^15.9 keccaks against a full default filter:
 * about 17 times fewer. The MSRP's exact check still refuses the ground a' (change 12), so what breaks
 * is the filter's stated strength, not the join.
 */
import { expect } from "chai";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bloomBits, positionsOfKey } from "../../offchain/crypto/bloom";
import { ORDER, encodeScalar } from "../../offchain/crypto/group";
import { bytesToNumberBE } from "../../offchain/crypto/bytes";

describe("rsms red team s17-redB B9: Bloom positions collapse for one key in m", function () {
  it("every secret gets lambda distinct positions in a default filter (N = 1,024, lambda = 20)", () => {
    const N = 1024;
    const lambda = 20;
    const m = bloomBits(N, lambda);
    // a deterministic grind over candidate secrets a = keccak(i) (as scalars)
    let found: { i: number; key: Uint8Array } | undefined;
    for (let i = 0; i < 16 * m && !found; i++) {
      const a = bytesToNumberBE(keccak_256(new Uint8Array([i >>> 24, (i >>> 16) & 255, (i >>> 8) & 255, i & 255])));
      if (a === 0n || a >= ORDER) continue;
      const key = keccak_256(encodeScalar(a));
      const pos = positionsOfKey(key, m, lambda);
      if (pos[1] === pos[0]) found = { i, key };
    }
    expect(found, "a collapsing key within 16m tries").to.not.equal(undefined);
    // the ground key passes any filter in which its first position's bit is set (about half of them
    // once the filter is full), instead of 2^-lambda of them
    const distinct = new Set(positionsOfKey(found!.key, m, lambda)).size;
    expect(distinct, `secret #${found!.i} has ${distinct} distinct position(s) in a filter of m = ${m} bits`).to.equal(lambda);
  });
});
