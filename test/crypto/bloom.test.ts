import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { BloomFilter, bloomBits, bloomPositions, positionsOfKey } from "../../offchain/crypto/bloom";
import { keccak256 } from "../../offchain/crypto/hash";
import { toHex } from "../../offchain/crypto/bytes";
import { InvalidLengthError, InvalidParameterError } from "../../offchain/errors";
import { expectThrows } from "../helpers/errors";

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
    this.timeout(120_000);
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
    it("positions agree on random keys and sizes", async () => {
      const { mock } = await loadFixture(deployBloomFixture);
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.integer({ min: 1, max: 2 ** 32 - 1 }),
          fc.integer({ min: 1, max: 64 }),
          async (key, m, lambda) => {
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
  });
});
