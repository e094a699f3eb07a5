/**
 * rsms:join takes its ephemerals from a stock drawn between joins (rsms-join.md change 21): across a
 * process's joins no scalar the stock gives out is given twice (s19-review2 J1: a stock whose take
 * does not remove what it hands out passed every other join test; it reuses the RPM's Schnorr nonce,
 * and two forwards then give sk_RPM away). Fails with EphemeralStock.take not removing the value.
 */
import { expect } from "chai";
import hre from "hardhat";
import { joinViewsSettled } from "../../offchain/rsms/flows";
import { settled } from "../../offchain/storage/keystore";
import { EphemeralStock } from "../../offchain/crypto/ephemeral";
import { useRsmsTaskSandbox } from "../helpers/tasks";

describe("rsms:join's stocked ephemerals are each used once across joins", function () {
  this.timeout(180_000);
  useRsmsTaskSandbox("metatrust-eph1-", ["f1", "f2", "f3"]);
  it("three joins: every scalar taken from the stock is distinct, and the 2nd and 3rd join took three each", async () => {
    const taken: bigint[] = [];
    const orig = EphemeralStock.prototype.take;
    EphemeralStock.prototype.take = function (this: EphemeralStock, base) {
      const e = orig.call(this, base);
      if (e) taken.push(e.k);
      return e;
    };
    const log = console.log;
    console.log = () => undefined;
    try {
      for (const rn of ["f1", "f2", "f3"]) {
        await hre.run("rsms:join", { rn, pool: 1 });
        await joinViewsSettled();
        await settled();
      }
    } finally {
      console.log = log;
      EphemeralStock.prototype.take = orig;
    }
    expect(taken.length, "ephemerals taken from the stock").to.be.at.least(6);
    expect(new Set(taken).size, "an ephemeral used twice").to.equal(taken.length);
  });
});
