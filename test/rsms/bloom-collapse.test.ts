/**
 * Red team s17-redB, finding B9 (fixed; what follows describes the code before the fix): the Bloom
 * filter's double hashing (crypto.md §6 then: position j is h1 + j*h2 mod m, h1 and h2 the halves of
 * keccak256(item)) gave a key whose h2 is 0 mod m (one key in m) a single position instead of
 * lambda, and one whose h2 has a small additive order mod m a few (m = ceil(1.44*lambda*N) is
 * composite: 29,492 = 4 * 73 * 101 for the default N = 1,024, lambda = 20). Such a key passes a full
 * filter with probability about 1/2 instead of 2^-lambda. Grinding for a false positive (paper Game 4
 * against the public filter, rsms-join.md change 12, which prices it at "about 2^20 H-evaluations")
 * therefore took about 2m = 2^15.9 keccaks against a full default filter: about 17 times fewer. The
 * MSRP's exact check still refuses the ground a' (change 12), so what broke was the filter's stated
 * strength, not the join.
 *
 * Filter version 2 draws the positions from keccak256(key || t) and skips repeats: every key gets
 * lambda distinct positions (crypto.md §6 argues the bound). Version-1 epochs already published are
 * still read and checked with their own positions until they expire; a version-1 filter still
 * pending in an MSRP's record is rebuilt as version 2 from the secrets waiting in it.
 */
import { expect } from "chai";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { BLOOM_LEGACY_VERSION, BloomFilter, bloomBits, positionsOfKey } from "../../offchain/crypto/bloom";
import { ORDER, encodeScalar } from "../../offchain/crypto/group";
import { bytesToNumberBE, toHex } from "../../offchain/crypto/bytes";
import { loadRsms } from "./fixtures";
import { registerRn } from "../../offchain/rsms/flows";
import { Msrp } from "../../offchain/rsms/msrp";
import { ResourcePoolManager } from "../../offchain/rsms/rpm";

/** An empty filter of the old scheme (version 1), as a record written before session 18 holds it. */
function legacyFilter(N: number, lambda: number): BloomFilter {
  const b = BloomFilter.init(N, lambda).serialize();
  b[4] = BLOOM_LEGACY_VERSION;
  return BloomFilter.deserialize(b);
}

describe("rsms red team s17-redB B9: Bloom positions collapse for one key in m", function () {
  it("every secret gets lambda distinct positions in a default filter (N = 1,024, lambda = 20), the ones double hashing collapsed too", () => {
    const N = 1024;
    const lambda = 20;
    const m = bloomBits(N, lambda);
    // a deterministic grind over candidate secrets a = keccak(i) (as scalars), for a key whose
    // version-1 positions collapse
    let found: { i: number; key: Uint8Array } | undefined;
    for (let i = 0; i < 16 * m && !found; i++) {
      const a = bytesToNumberBE(keccak_256(new Uint8Array([i >>> 24, (i >>> 16) & 255, (i >>> 8) & 255, i & 255])));
      if (a === 0n || a >= ORDER) continue;
      const key = keccak_256(encodeScalar(a));
      const pos = positionsOfKey(key, m, lambda, BLOOM_LEGACY_VERSION);
      if (pos[1] === pos[0]) found = { i, key };
    }
    expect(found, "a key whose double-hashing positions collapse, within 16m tries").to.not.equal(undefined);
    expect(new Set(positionsOfKey(found!.key, m, lambda, BLOOM_LEGACY_VERSION)).size, "version 1: one position").to.equal(1);
    // the ground key passed any version-1 filter in which its one bit was set (about half of them
    // once the filter is full), instead of 2^-lambda of them
    const distinct = new Set(positionsOfKey(found!.key, m, lambda)).size;
    expect(distinct, `secret #${found!.i} has ${distinct} distinct position(s) in a filter of m = ${m} bits`).to.equal(lambda);
    expect(BloomFilter.init(N, lambda).version, "new filters are version 2").to.equal(2);
  });

  it("a version-1 epoch already published still loads at the RPM and lists its RNs (its own positions) until it expires", async () => {
    const { msrp, rpmA } = await loadRsms();
    const f = legacyFilter(64, 20);
    const secrets = [11n, 12n, 13n];
    for (const a of secrets) f.insert(encodeScalar(a));
    const bytes = f.serialize();
    expect(bytes[4]).to.equal(1);
    const rpm = ResourcePoolManager.fromRecord(msrp.params, rpmA.toRecord());
    rpm.addFilter(7, bytes, keccak_256(bytes));
    expect(secrets.map((a) => rpm.inFilters(a))).to.deep.equal([true, true, true]);
    expect(rpm.inFilters(14n)).to.equal(false);
  });

  it("an MSRP record holding a version-1 pending filter is rebuilt as version 2 from the secrets waiting in it", async () => {
    const { ctx, msrp } = await loadRsms();
    const waiting = [];
    for (const n of ["w0", "w1", "w2"]) waiting.push((await registerRn(ctx, msrp, { name: n, poolId: 1, rid: `rid-${n}` })).rn);
    const rec = msrp.toRecord();
    const old = legacyFilter(msrp.policy.capacity, msrp.policy.lambda);
    for (const rn of waiting) old.insert(encodeScalar(rn.state.a));
    rec.pending["1"] = { ...rec.pending["1"], bits: toHex(old.serialize()) };
    const again = Msrp.fromRecord(rec);
    for (const rn of waiting) expect(again.awaitsPublication(1, rn.state.a), rn.state.name).to.equal(true);
    const { filter } = again.takeFilter(1);
    expect([filter.version, filter.count]).to.deep.equal([2, 3]);
    for (const rn of waiting) expect(filter.check(encodeScalar(rn.state.a))).to.equal(true);
  });
});
