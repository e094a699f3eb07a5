/**
 * Open finding (issue 20, session 11): an RSMS join (`rsms:join`) rewrites the MSRP's whole
 * keystore record (every RN, RPM and user it knows) in its journaled commit, so the bytes a join
 * writes, serializes and checksums grow with the number of RNs. The goal is a per-join write that
 * does not grow (per-RN records or an append journal with the keystore's crash safety). This
 * test fails while a join at 300 RNs writes more than 1.5x what a join at 20 RNs writes.
 */
import { expect } from "chai";
import hre from "hardhat";
import { Keystore, type KeystoreData } from "../../offchain/storage/keystore";
import { useTaskSandbox } from "../helpers/tasks";

describe("findings: the bytes an RSMS join commits to the keystore grow with the MSRP's RNs", function () {
  this.timeout(600_000);
  useTaskSandbox("metatrust-msrp-record-");

  it("a join at 300 RNs commits no more than 1.5x the bytes of a join at 20 RNs", async () => {
    const commit = Keystore.prototype.commit;
    let bytes = 0;
    Keystore.prototype.commit = function (records: Record<string, KeystoreData>) {
      bytes += Object.values(records).reduce((n, r) => n + JSON.stringify(r).length, 0);
      return commit.call(this, records);
    };
    try {
      await hre.run("rsms:setup", { capacity: 1024, lambda: 20, interval: 3600, ttl: 7 * 24 * 3600 });
      await hre.run("rsms:rpm:register", { pool: 1 });
      const joinBytes = async (name: string) => {
        bytes = 0;
        await hre.run("rsms:join", { rn: name, pool: 1 });
        return bytes;
      };
      for (let i = 0; i < 20; i++) await hre.run("rsms:rn:register", { name: `f${i}`, pool: 1 });
      await hre.run("rsms:filter:publish", { pool: 1 });
      const small = await joinBytes("f0");
      for (let i = 20; i < 300; i++) await hre.run("rsms:rn:register", { name: `f${i}`, pool: 1 });
      await hre.run("rsms:filter:publish", { pool: 1 });
      const large = await joinBytes("f299");
      expect(large, `a join commits ${small} bytes at 20 RNs, ${large} at 300`).to.be.at.most(1.5 * small);
    } finally {
      Keystore.prototype.commit = commit;
    }
  });
});
