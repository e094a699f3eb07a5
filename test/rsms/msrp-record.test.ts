/**
 * The MSRP's keystore record is kept as a base and patches of its RNs (Keystore.commit's `patch`,
 * issue 20): an RSMS join (`rsms:join`) writes the RN it changed, not every RN the MSRP knows, so
 * the bytes a join journals do not grow with the MSRP's RNs. Before, a join at 300 RNs journaled
 * 13.6x what a join at 20 RNs did (6.8 KB, 92.7 KB). A fresh process reads the same MSRP.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { Keystore, PATCH_MAX, settled } from "../../offchain/storage/keystore";
import { useTaskSandbox } from "../helpers/tasks";
import { dataDir } from "../../offchain/chain/paths";

describe("rsms: an RSMS join journals the RN it changed, not the MSRP's whole record", function () {
  this.timeout(600_000);
  useTaskSandbox("metatrust-msrp-record-");

  it("the bytes a join journals do not grow from 20 to 300 RNs; a fresh process reads every join", async () => {
    const writeSync = fs.writeSync;
    const writeFileSync = fs.writeFileSync;
    let bytes = 0;
    const size = (data: unknown) => (typeof data === "string" ? Buffer.byteLength(data) : (data as NodeJS.ArrayBufferView).byteLength);
    // the journal is written with fs.writeSync (Keystore.commit) and fs.writeFileSync on its open
    // file (Keystore.commitIntent, a join's): count what a join writes there and to the keystore's
    // files (not the folder lock's text, outside the keystore: tasks/lib/record-hold.ts)
    fs.writeSync = ((fd: number, buffer: NodeJS.ArrayBufferView, ...rest: unknown[]) => {
      bytes += size(buffer);
      return (writeSync as (...a: unknown[]) => number)(fd, buffer, ...rest);
    }) as typeof fs.writeSync;
    fs.writeFileSync = ((file: fs.PathOrFileDescriptor, data: unknown, ...rest: unknown[]) => {
      if (typeof file === "number" || String(file).includes(`${path.sep}keystore${path.sep}`)) bytes += size(data);
      return (writeFileSync as (...a: unknown[]) => void)(file, data, ...rest);
    }) as typeof fs.writeFileSync;
    const joinBytes = async (name: string) => {
      await settled();
      bytes = 0;
      await hre.run("rsms:join", { rn: name, pool: 1 });
      return bytes;
    };
    try {
      await hre.run("rsms:setup", { capacity: 1024, lambda: 20, interval: 3600, ttl: 7 * 24 * 3600 });
      await hre.run("rsms:rpm:register", { pool: 1 });
      for (let i = 0; i < 20; i++) await hre.run("rsms:rn:register", { name: `f${i}`, pool: 1 });
      await hre.run("rsms:filter:publish", { pool: 1 });
      await hre.run("rsms:join", { rn: "f0", pool: 1 }); // the record's first patch commit writes it whole
      const small = [await joinBytes("f1"), await joinBytes("f2")];
      for (let i = 20; i < 300; i++) await hre.run("rsms:rn:register", { name: `f${i}`, pool: 1 });
      await hre.run("rsms:filter:publish", { pool: 1 });
      const large = [await joinBytes("f298"), await joinBytes("f299")];
      const said = `a join journals ${small} bytes at 20 RNs, ${large} at 300`;
      expect(Math.min(...small), said).to.be.greaterThan(0);
      expect(Math.max(...large), said).to.be.at.most(1.2 * Math.min(...small));
    } finally {
      fs.writeSync = writeSync;
      fs.writeFileSync = writeFileSync;
    }
    await settled();
    // a fresh process (no overlay, no cache): the record as base and patches reads as every join left it
    const ks = new Keystore(path.join(dataDir(hre.network.name), "keystore"), undefined);
    const rec = ks.load<{ rns: Record<string, { used?: boolean }> }>("rsms-msrp");
    expect(Object.keys(rec.rns)).to.have.length(300);
    expect(["f0", "f1", "f2", "f298", "f299"].map((n) => rec.rns[n].used)).to.deep.equal([true, true, true, true, true]);
    expect(Object.values(rec.rns).filter((e) => e.used)).to.have.length(5);
    const head = ks.load<{ patches: string[] }>("rsms-msrp.head");
    expect(head.patches.length).to.be.within(1, PATCH_MAX);
  });
});
