import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { BLOOM_HEADER_BYTES, BLOOM_LIMITS, BloomFilter, bloomBits, bloomPositions, positionsOfKey } from "../../offchain/crypto/bloom";
import { keccak256 } from "../../offchain/crypto/hash";
import { toHex } from "../../offchain/crypto/bytes";
import { InvalidLengthError, InvalidParameterError } from "../../offchain/errors";
import { expectThrows } from "../helpers/errors";
import { underMutation } from "../helpers/fixture";

async function deployBloomFixture() {
  const mock = await (await ethers.getContractFactory("BloomFilterMock")).deploy();
  return { mock };
}

describe("crypto/bloom (RSMS Definition 2)", () => {
  it("Init sizes m = ceil(1.44 * lambda * N)", () => {
    expect(BloomFilter.init(1000, 10).m).to.equal(14400);
    expect(BloomFilter.init(7, 3).m).to.equal(Math.ceil(1.44 * 3 * 7));
    expect(bloomBits(100_000, 8)).to.equal(1_152_000);
  });

  it("never answers no for an inserted item (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 20 }),
        (items, lambda) => {
          const f = BloomFilter.init(items.length, lambda);
          items.forEach((i) => f.insert(i));
          return items.every((i) => f.check(i));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("measured false-positive rate at N = 100,000 is within 1.2x of 2^-lambda", function () {
    // 300,000 hashes and position sets: 8 s plain, over the 120 s timeout under Stryker's
    // instrumentation (its initial run failed on this test). A statistical measurement, not a mutant
    // killer: the exact reference tests below pin every position, bit and check.
    if (underMutation()) this.skip();
    // 8-13 s plain; on a loaded 2-core machine beside a solidity-coverage run it passed 120 s (session
    // 21's coverage run): its own timeout, as the positions differential below
    this.timeout(600_000);
    const N = 100_000;
    const lambda = 8;
    const f = BloomFilter.init(N, lambda);
    const b = new Uint8Array(32);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < N; i++) {
      dv.setUint32(0, i);
      f.insert(b);
    }
    const trials = 200_000;
    let fp = 0;
    for (let i = 0; i < trials; i++) {
      dv.setUint32(0, N + i);
      dv.setUint32(4, 0xffffffff);
      if (f.check(b)) fp++;
    }
    const rate = fp / trials;
    const target = 2 ** -lambda;
    expect(rate / target).to.be.within(1 / 1.2, 1.2);
  });

  it("serialization round-trips, and the root changes with any bit", () => {
    const f = BloomFilter.init(50, 6);
    for (let i = 0; i < 50; i++) f.insert(Uint8Array.of(i));
    const g = BloomFilter.deserialize(f.serialize());
    expect(toHex(g.root())).to.equal(toHex(f.root()));
    expect(g.count).to.equal(50);
    const s = f.serialize();
    s[s.length - 1] ^= 1;
    expect(toHex(keccak256(s))).to.not.equal(toHex(f.root()));
  });

  it("rejects out-of-range parameters and malformed serializations", () => {
    expectThrows(() => BloomFilter.init(0, 10), InvalidParameterError, "INVALID_PARAMETER", /^BloomFilter.init: N must be/);
    expectThrows(() => BloomFilter.init(10, 0), InvalidParameterError, "INVALID_PARAMETER", /lambda/);
    expectThrows(() => BloomFilter.init(10, 65), InvalidParameterError, "INVALID_PARAMETER", /lambda/);
    expectThrows(() => BloomFilter.init(1.5, 3), InvalidParameterError, "INVALID_PARAMETER");
    const s = BloomFilter.init(10, 4).serialize();
    expectThrows(() => BloomFilter.deserialize(s.subarray(0, 10)), InvalidLengthError, "INVALID_LENGTH");
    expectThrows(() => BloomFilter.deserialize(s.subarray(0, s.length - 1)), InvalidLengthError, "INVALID_LENGTH");
    const bad = Uint8Array.from(s);
    bad[0] = 0;
    expectThrows(() => BloomFilter.deserialize(bad), InvalidParameterError, "INVALID_PARAMETER", /magic/);
    const badM = Uint8Array.from(s);
    badM[13] ^= 1;
    expectThrows(() => BloomFilter.deserialize(badM), InvalidParameterError, "INVALID_PARAMETER", /m = /);
    expectThrows(() => positionsOfKey(new Uint8Array(31), 10, 3), InvalidLengthError, "INVALID_LENGTH");
  });

  describe("# differential: BloomFilter.sol computes the same positions and answers", () => {
    it("positions agree on random keys and sizes", async function () {
      // 40 eth_calls, some with m close to lambda (up to 64 distinct positions drawn with repeats skipped):
      // 6 s plain, about 120 s under solidity-coverage on a loaded 2-core machine (session 20's CI run)
      this.timeout(600_000);
      const { mock } = await loadFixture(deployBloomFixture);
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.integer({ min: 0, max: 2 ** 32 - 65 }),
          fc.integer({ min: 1, max: 64 }),
          async (key, extra, lambda) => {
            const m = lambda + extra; // m >= lambda: lambda distinct positions exist
            const onChain = (await mock.positions(toHex(key), m, lambda)).map(Number);
            expect(onChain).to.deep.equal(positionsOfKey(key, m, lambda));
          },
        ),
        { numRuns: 40 },
      );
    });

    it("checkSerialized agrees with check() for members and non-members", async () => {
      const { mock } = await loadFixture(deployBloomFixture);
      const f = BloomFilter.init(200, 10);
      const members = Array.from({ length: 200 }, (_, i) => new TextEncoder().encode(`a_${i}`));
      members.forEach((m) => f.insert(m));
      const ser = toHex(f.serialize());
      for (let i = 0; i < 20; i++) {
        expect(await mock.checkSerialized(ser, toHex(keccak256(members[i * 7])))).to.equal(true);
        const outsider = new TextEncoder().encode(`outsider_${i}`);
        expect(await mock.checkSerialized(ser, toHex(keccak256(outsider)))).to.equal(f.check(outsider));
      }
      expect(await mock.check(toHex(f.bits), f.m, f.lambda, toHex(keccak256(members[3])))).to.equal(true);
      const [lambda, cap, m, count] = await mock.parseHeader(ser);
      expect([lambda, cap, m, count].map(Number)).to.deep.equal([10, 200, f.m, 200]);
      expect(bloomPositions(members[0], f.m, f.lambda)).to.have.length(10);
    });

    it("reverts on malformed filters and bad parameters", async () => {
      const { mock } = await loadFixture(deployBloomFixture);
      const ser = BloomFilter.init(10, 4).serialize();
      await expect(mock.checkSerialized(toHex(ser.subarray(0, ser.length - 1)), ethers.ZeroHash)).to.be.revertedWithCustomError(
        mock,
        "BloomFilter__MalformedFilter",
      );
      await expect(mock.positions(ethers.ZeroHash, 0, 3))
        .to.be.revertedWithCustomError(mock, "BloomFilter__InvalidParameters")
        .withArgs(0, 3);
      await expect(mock.check("0x00", 100, 3, ethers.ZeroHash))
        .to.be.revertedWithCustomError(mock, "BloomFilter__BitsTooShort")
        .withArgs(1, 100);
    });

    it("parseHeader refuses each malformed header field", async () => {
      const { mock } = await loadFixture(deployBloomFixture);
      const bits = (m: number) => new Uint8Array(Math.ceil(m / 8));
      const withBitsBytes = (h: Uint8Array, m: number) => new Uint8Array([...h, ...bits(m)]);
      const withBits = (h: Uint8Array, m: number) => toHex(withBitsBytes(h, m));
      // a well-formed header parses: the checks below are about the one field each changes
      expect(await mock.parseHeader(withBits(header({ lambda: 4, N: 10, m: 58, count: 3 }), 58))).to.deep.equal([4n, 10n, 58n, 3n]);
      const malformed = [
        toHex(header({ lambda: 4, N: 10, m: 58 }).subarray(0, 17)), // shorter than the header
        withBits(header({ magic: [0x4d, 0x54, 0x42, 0x47], lambda: 4, N: 10, m: 58 }), 58), // not "MTBF"
        withBits(header({ version: 1, lambda: 4, N: 10, m: 58 }), 58), // version 1 (double hashing, off-chain legacy only)
        withBits(header({ version: 3, lambda: 4, N: 10, m: 58 }), 58), // version 3
        withBits(header({ lambda: 4, N: 10, m: 58 }), 66), // one byte of bits too many
      ];
      for (const filter of malformed) {
        await expect(mock.parseHeader(filter)).to.be.revertedWithCustomError(mock, "BloomFilter__MalformedFilter");
      }
      for (const [lambda, m] of [
        [0, 58],
        [65, 58],
        [4, 0],
        [4, 3],
      ]) {
        await expect(mock.parseHeader(withBits(header({ lambda, N: 10, m }), m)))
          .to.be.revertedWithCustomError(mock, "BloomFilter__InvalidParameters")
          .withArgs(m, lambda);
      }
      // N outside [1, 2^26], or m other than Init's ceil(1.44 * lambda * N): what BloomFilter.deserialize refuses
      for (const [N, m] of [
        [0, 58],
        [2 ** 26 + 1, 58],
        [10, 59],
        [10, 57],
      ]) {
        expect(() => BloomFilter.deserialize(withBitsBytes(header({ lambda: 4, N, m }), m))).to.throw(/BloomFilter.deserialize/);
        await expect(mock.parseHeader(withBits(header({ lambda: 4, N, m }), m)))
          .to.be.revertedWithCustomError(mock, "BloomFilter__InvalidCapacity")
          .withArgs(N, m, 4);
      }
    });
  });
});

/** A serialized header (no bit array) with the given fields, as docs/specs/crypto.md §6 lays it out. */
function header(fields: { magic?: number[]; version?: number; lambda: number; N: number; m: number; count?: number }): Uint8Array {
  const h = new Uint8Array(18);
  const dv = new DataView(h.buffer);
  h.set(fields.magic ?? [0x4d, 0x54, 0x42, 0x46], 0);
  h[4] = fields.version ?? 2;
  h[5] = fields.lambda;
  dv.setUint32(6, fields.N);
  dv.setUint32(10, fields.m);
  dv.setUint32(14, fields.count ?? 0);
  return h;
}

describe("crypto/bloom: positions, bits and serialization against the spec (reference computed here)", () => {
  // version 2: block t = keccak256(key || u32be(t)), four 64-bit big-endian words each mod m, the
  // first lambda distinct values (in bigints, from the spec)
  const refPositions = (key: Uint8Array, m: number, lambda: number) => {
    const out: number[] = [];
    for (let t = 0; out.length < lambda; t++) {
      const b = BigInt(toHex(keccak256(new Uint8Array([...key, t >>> 24, (t >>> 16) & 255, (t >>> 8) & 255, t & 255]))));
      for (let c = 3; c >= 0 && out.length < lambda; c--) {
        const p = Number(((b >> BigInt(64 * c)) & ((1n << 64n) - 1n)) % BigInt(m));
        if (!out.includes(p)) out.push(p);
      }
    }
    return out;
  };
  // version 1 (filters published before session 18): pos_j = (h1 + j h2) mod m, h1 = key >> 128, h2 = key mod 2^128
  const legacyPositions = (key: Uint8Array, m: number, lambda: number) => {
    const k = BigInt(toHex(key));
    const h1 = k >> 128n;
    const h2 = k & ((1n << 128n) - 1n);
    return Array.from({ length: lambda }, (_, j) => Number((h1 + BigInt(j) * h2) % BigInt(m)));
  };

  it("positionsOfKey draws lambda distinct positions from keccak(key || t) (property); version 1 is double hashing", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 0, max: 2 ** 32 - 65 }),
        fc.integer({ min: 1, max: 64 }),
        (key, extra, lambda) => {
          const m = lambda + extra;
          const pos = positionsOfKey(key, m, lambda);
          expect(pos).to.deep.equal(refPositions(key, m, lambda));
          expect(new Set(pos).size).to.equal(lambda);
          expect(positionsOfKey(key, m, lambda, 1)).to.deep.equal(legacyPositions(key, m, lambda));
        },
      ),
      { numRuns: 100 },
    );
    const key = new Uint8Array(32).fill(0xff);
    expect(positionsOfKey(key, 2 ** 32 - 1, 3)).to.deep.equal(refPositions(key, 2 ** 32 - 1, 3));
    // m = lambda: the positions are every bit, in the stream's order
    expect([...positionsOfKey(key, 64, 64)].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 64 }, (_, i) => i));
    // a key inside a larger buffer is read from its own offset
    const buf = new Uint8Array(40);
    buf.set(
      key.map((_, i) => i + 1),
      8,
    );
    expect(positionsOfKey(buf.subarray(8), 1000, 4)).to.deep.equal(refPositions(buf.subarray(8), 1000, 4));
    expect(bloomPositions(Uint8Array.of(1), 1000, 4)).to.deep.equal(refPositions(keccak256(Uint8Array.of(1)), 1000, 4));
    expectThrows(
      () => positionsOfKey(key, 3, 4),
      InvalidParameterError,
      "INVALID_PARAMETER",
      /^positionsOfKey: m = 3 is smaller than lambda = 4/,
    );
  });

  it("positionsOfKey refuses keys that are not 32 bytes", () => {
    for (const key of [new Uint8Array(31), new Uint8Array(33), Array.from({ length: 32 }, () => 0) as unknown as Uint8Array]) {
      expectThrows(() => positionsOfKey(key, 10, 3), InvalidLengthError, "INVALID_LENGTH", /^positionsOfKey: key must be 32 bytes$/);
    }
  });

  it("insert sets exactly bit p in byte p >> 3 under mask 1 << (p & 7); check needs all lambda bits", () => {
    const f = BloomFilter.init(20, 5);
    expect(f.check(Uint8Array.of(1))).to.equal(false);
    const item = new TextEncoder().encode("PID_1");
    const pos = f.pos(item);
    expect(pos).to.deep.equal(refPositions(keccak256(item), f.m, 5));
    f.insert(item);
    const expected = new Uint8Array(f.bits.length);
    for (const p of pos) expected[p >> 3] |= 1 << (p % 8);
    expect(toHex(f.bits)).to.equal(toHex(expected));
    expect(f.count).to.equal(1);
    expect(f.check(item)).to.equal(true);
    expect(f.checkKey(keccak256(item))).to.equal(true);
    // clear any one of its bits and the answer becomes no
    for (const p of pos) {
      const g = BloomFilter.deserialize(f.serialize());
      g.bits[p >> 3] &= ~(1 << (p % 8));
      expect(g.check(item), `bit ${p}`).to.equal(pos.filter((q) => q === p).length === 0);
    }
  });

  it("serializes to the spec's header (magic MTBF, version 2, lambda, N, m, count, big-endian) and bits", () => {
    const f = BloomFilter.init(10, 4);
    f.insert(Uint8Array.of(7));
    f.insert(Uint8Array.of(8));
    const s = f.serialize();
    expect(toHex(s.subarray(0, 18))).to.equal("0x" + "4d544246" + "02" + "04" + "0000000a" + "0000003a" + "00000002");
    expect(s).to.have.length(18 + 8);
    expect(toHex(s.subarray(18))).to.equal(toHex(f.bits));
    expect(toHex(f.root())).to.equal(toHex(keccak256(s)));
    expect(BLOOM_HEADER_BYTES).to.equal(18);
    expect(BLOOM_LIMITS).to.deep.equal({ maxN: 2 ** 26, maxLambda: 64, maxBits: 2 ** 32 - 1 });
    expect([f.capacity, f.lambda, f.m]).to.deep.equal([10, 4, 58]);
  });

  it("deserializes from any offset, copies the bits, and keeps count", () => {
    const f = BloomFilter.init(10, 4);
    for (let i = 0; i < 3; i++) f.insert(Uint8Array.of(i));
    const buf = new Uint8Array(5 + 26);
    buf.set(f.serialize(), 5);
    const g = BloomFilter.deserialize(buf.subarray(5));
    expect([g.capacity, g.lambda, g.m, g.count]).to.deep.equal([10, 4, 58, 3]);
    expect(toHex(g.bits)).to.equal(toHex(f.bits));
    buf.fill(0);
    expect(g.check(Uint8Array.of(2))).to.equal(true);
  });

  it("expectedFpr is (1 - e^(-lambda n / m))^lambda", () => {
    const f = BloomFilter.init(100, 8);
    expect(f.expectedFpr()).to.equal(0);
    for (let i = 0; i < 100; i++) f.insert(Uint8Array.of(i));
    expect(f.expectedFpr()).to.be.closeTo((1 - Math.exp((-8 * 100) / 1152)) ** 8, 1e-15);
    expect(f.expectedFpr()).to.be.closeTo(2 ** -8, 2 ** -8 * 0.2);
  });

  it("takes N in [1, 2^26] and lambda in [1, 64] with m < 2^32, naming the caller", () => {
    expect(BloomFilter.init(1, 1).m).to.equal(2);
    expect(BloomFilter.init(1, 64).m).to.equal(93);
    for (const [N, lambda] of [
      [0, 4],
      [-1, 4],
      [2 ** 26 + 1, 1],
      [1.5, 4],
    ]) {
      expectThrows(
        () => BloomFilter.init(N, lambda),
        InvalidParameterError,
        "INVALID_PARAMETER",
        new RegExp(`^BloomFilter.init: N must be an integer in \\[1, 67108864\\], got ${N}$`),
      );
    }
    for (const lambda of [0, 65, 2.5]) {
      expectThrows(
        () => BloomFilter.init(4, lambda),
        InvalidParameterError,
        "INVALID_PARAMETER",
        new RegExp(`^BloomFilter.init: lambda must be an integer in \\[1, 64\\], got ${lambda}$`),
      );
    }
    // N = 2^26 with lambda = 45 needs 1.44 * 45 * 2^26 > 2^32 - 1 bits; lambda = 44 fits
    expectThrows(
      () => BloomFilter.init(2 ** 26, 45),
      InvalidParameterError,
      "INVALID_PARAMETER",
      /^BloomFilter.init: 1.44\*lambda\*N exceeds 2\^32 - 1 bits$/,
    );
    // (header-only serializations: the parameters pass, so only the missing bit array is refused)
    const m44 = bloomBits(2 ** 26, 44);
    expectThrows(
      () => BloomFilter.deserialize(header({ lambda: 44, N: 2 ** 26, m: m44 })),
      InvalidLengthError,
      "INVALID_LENGTH",
      new RegExp(`^BloomFilter.deserialize: expected ${18 + Math.ceil(m44 / 8)} bytes, got 18$`),
    );
  });

  it("deserialize names what is wrong with a malformed serialization", () => {
    const ok = BloomFilter.init(10, 4).serialize();
    const E = "BloomFilter.deserialize";
    expectThrows(
      () => BloomFilter.deserialize(ok.subarray(0, 17)),
      InvalidLengthError,
      "INVALID_LENGTH",
      new RegExp(`^${E}: shorter than the header$`),
    );
    expectThrows(
      () => BloomFilter.deserialize(Array.from(ok) as unknown as Uint8Array),
      InvalidLengthError,
      "INVALID_LENGTH",
      /shorter than the header$/,
    );
    expectThrows(
      () => BloomFilter.deserialize(ok.subarray(0, 18)),
      InvalidLengthError,
      "INVALID_LENGTH",
      new RegExp(`^${E}: expected 26 bytes, got 18$`),
    );
    expectThrows(
      () => BloomFilter.deserialize(Uint8Array.from([...ok, 0])),
      InvalidLengthError,
      "INVALID_LENGTH",
      new RegExp(`^${E}: expected 26 bytes, got 27$`),
    );
    for (const i of [0, 1, 2, 3]) {
      const bad = Uint8Array.from(ok);
      bad[i] ^= 0x20;
      expectThrows(
        () => BloomFilter.deserialize(bad),
        InvalidParameterError,
        "INVALID_PARAMETER",
        new RegExp(`^${E}: bad magic \\(not an MTBF filter\\)$`),
      );
    }
    for (const version of [0, 3]) {
      const bad = Uint8Array.from(ok);
      bad[4] = version;
      expectThrows(
        () => BloomFilter.deserialize(bad),
        InvalidParameterError,
        "INVALID_PARAMETER",
        new RegExp(`^${E}: unsupported version ${version}$`),
      );
    }
    expectThrows(
      () => BloomFilter.deserialize(header({ lambda: 4, N: 0, m: 0 })),
      InvalidParameterError,
      "INVALID_PARAMETER",
      new RegExp(`^${E}: N must be`),
    );
    expectThrows(
      () => BloomFilter.deserialize(header({ lambda: 65, N: 1, m: 94 })),
      InvalidParameterError,
      "INVALID_PARAMETER",
      new RegExp(`^${E}: lambda must be`),
    );
    expectThrows(
      () => BloomFilter.deserialize(header({ lambda: 1, N: 2 ** 26 + 1, m: 1 })),
      InvalidParameterError,
      "INVALID_PARAMETER",
      new RegExp(`^${E}: N must be`),
    );
    expectThrows(
      () => BloomFilter.deserialize(header({ lambda: 45, N: 2 ** 26, m: 0 })),
      InvalidParameterError,
      "INVALID_PARAMETER",
      new RegExp(`^${E}: 1.44`),
    );
    expectThrows(
      () => BloomFilter.deserialize(header({ lambda: 4, N: 10, m: 59 })),
      InvalidParameterError,
      "INVALID_PARAMETER",
      new RegExp(`^${E}: m = 59 is not ceil\\(1.44\\*lambda\\*N\\)$`),
    );
    // the largest N and lambda pass the parameter checks
    expectThrows(
      () => BloomFilter.deserialize(header({ lambda: 1, N: 2 ** 26, m: bloomBits(2 ** 26, 1) })),
      InvalidLengthError,
      "INVALID_LENGTH",
    );
    expectThrows(
      () => BloomFilter.deserialize(header({ lambda: 64, N: 1, m: 93 })),
      InvalidLengthError,
      "INVALID_LENGTH",
      /expected 30 bytes, got 18$/,
    );
  });
});
