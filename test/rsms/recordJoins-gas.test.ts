/**
 * The MSRP's recordJoins goes out with a static gas limit for its size (offchain/chain/sender.ts
 * `recordJoinsGas`, from the 1-join and 8-join batches of gas-snapshot.json), as recordJoin's fast
 * path does, instead of an eth_estimateGas per batch. The limit must be enough for the largest batch
 * the MSRP may send (MAX_JOINS_PER_TX, the bound of `--batch-max`) in its worst case, and fit one
 * transaction (EIP-7825's cap); a larger batch is never sent.
 */
import { expect } from "chai";
import hre from "hardhat";
import { randomBytes } from "crypto";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deploySystemFixture } from "../fixtures/system";
import { encodePoint, mulBase, randomScalar } from "../../offchain/crypto/group";
import { toHex } from "../../offchain/crypto/bytes";
import { MAX_JOINS_PER_TX, RsmsLedger } from "../../offchain/rsms/ledger";
import { TX_GAS_CAP, recordJoinsGas } from "../../offchain/chain/sender";
import type { JoinRecord } from "../../offchain/rsms/msrp";

/** 32 random bytes, none zero (calldata at 16 gas a byte: the dearest). */
const dense = () => Uint8Array.from(randomBytes(32), (b) => b || 1);

/** A registry with no join yet and MAX_JOINS_PER_TX pools, so that a batch can put each join in a pool of its own. */
async function manyPoolsFixture() {
  const f = await deploySystemFixture();
  const [rpm] = f.others;
  for (let p = 1; p <= MAX_JOINS_PER_TX; p++)
    await f.registry.createPool(p, rpm.address, toHex(dense()), toHex(encodePoint(mulBase(randomScalar()))));
  return { ...f, ledger: new RsmsLedger(f.registry) };
}

describe("RsmsLedger.recordJoins: a static gas limit for the batch's size", function () {
  this.timeout(300_000);

  it("the limit of the largest batch fits one transaction (EIP-7825: 2^24 gas); it grows with the batch", () => {
    expect(recordJoinsGas(MAX_JOINS_PER_TX) <= TX_GAS_CAP, `${recordJoinsGas(MAX_JOINS_PER_TX)} > ${TX_GAS_CAP}`).to.equal(true);
    expect(recordJoinsGas(2) > recordJoinsGas(1)).to.equal(true);
    expect(() => recordJoinsGas(0)).to.throw(/^recordJoinsGas: 0 /);
  });

  it("the largest batch in its worst case (the registry's first join, a pool per join, no zero byte) is mined under the limit it carries", async () => {
    const { ledger, registry } = await loadFixture(manyPoolsFixture);
    expect(await registry.joinCount()).to.equal(0n);
    const joins: JoinRecord[] = Array.from({ length: MAX_JOINS_PER_TX }, (_, i) => ({
      pid: dense(),
      tag: dense(),
      poolId: i + 1,
      kind: 1,
    }));
    const t = await ledger.recordJoins(joins);
    const sent = await hre.ethers.provider.getTransaction(t.hash);
    const limit = recordJoinsGas(MAX_JOINS_PER_TX);
    expect(sent!.gasLimit).to.equal(limit); // sent with the static limit, not an estimate
    expect(t.gasUsed < limit).to.equal(true);
    expect(await registry.joinCount()).to.equal(BigInt(MAX_JOINS_PER_TX));
    console.log(
      `      ${MAX_JOINS_PER_TX} joins: ${t.gasUsed} gas used of a ${limit} limit (${(Number(t.gasUsed) / Number(limit)).toFixed(2)})`,
    );
  });

  it("a batch of one, the registry's first join, is mined under its limit", async () => {
    const { ledger } = await loadFixture(manyPoolsFixture);
    const t = await ledger.recordJoins([{ pid: dense(), tag: dense(), poolId: 7, kind: 1 }]);
    expect(t.gasUsed < recordJoinsGas(1)).to.equal(true);
  });

  it("more joins than MAX_JOINS_PER_TX, or none, are refused before anything is sent", async () => {
    const { ledger, registry } = await loadFixture(manyPoolsFixture);
    const block = await hre.ethers.provider.getBlockNumber();
    const joins: JoinRecord[] = Array.from({ length: MAX_JOINS_PER_TX + 1 }, (_, i) => ({
      pid: dense(),
      tag: dense(),
      poolId: (i % MAX_JOINS_PER_TX) + 1,
      kind: 1,
    }));
    await expect(ledger.recordJoins(joins)).to.be.rejectedWith(
      new RegExp(`^recordJoins: ${MAX_JOINS_PER_TX + 1} joins in one transaction \\(1 to ${MAX_JOINS_PER_TX}\\)$`),
    );
    await expect(ledger.recordJoins([])).to.be.rejectedWith(/^recordJoins: 0 joins in one transaction/);
    expect(await hre.ethers.provider.getBlockNumber()).to.equal(block);
    expect(await registry.joinCount()).to.equal(0n);
  });
});
