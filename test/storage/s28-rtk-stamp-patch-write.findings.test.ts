/**
 * s28-rtk (red team) F4 (L): the two-read stamp (rsms-join.md change 23) misses a patch written
 * through the Keystore API. A patch of a patched record is itself a record (`<name>.p<i>`, a valid
 * record name), so `update("rsms-msrp.p0", ...)`, or `remove("rsms-msrp.p0")`, by any party changes
 * the record while its base and head texts, the whole stamp, stay as they were: a kept agent
 * (tasks/rsms.ts msrpKept, keyed on this stamp) is reused, and a join from it commits its next patch
 * through commitIntent's `entries` path, which carries the head's sums forward without reading the
 * patches. The change is caught only at the next full read (every load then refuses the record as
 * corrupted). The file comment's limit (1) names a hand's write; this is the Keystore's own API, which
 * the design says is always seen.
 * Fails on the current code: the stamp is unchanged after either write. Bites: with the stamp
 * before 43615d73 (the patch texts in it) both pass.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Keystore, sameStamp, settled } from "../../offchain/storage/keystore";

const P = { patch: { m: "rns" } };

async function patched(): Promise<Keystore> {
  const ks = new Keystore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-s28-rtk-stamp-")), "");
  ks.commit({ m: { x: 1, rns: { a: { v: 0 } } } }, P);
  ks.commit({ m: { x: 1, rns: { a: { v: 0 }, b: { v: 1 } } } }, P);
  await settled();
  return ks;
}

describe("s28-rtk: a patch written through the Keystore API changes the record's stamp", function () {
  it("F4: update of a patch record (another Keystore of the folder) is seen by the stamp", async () => {
    const ks = await patched();
    const kept = ks.stamp("m");
    const other = new Keystore(ks.dir, "");
    other.update("m.p0", { entries: { b: { v: 99 } } });
    expect(sameStamp(kept, ks.stamp("m")), "a kept agent would be reused over a changed record").to.equal(false);
  });

  it("F4: removal of a patch record is seen by the stamp", async () => {
    const ks = await patched();
    const kept = ks.stamp("m");
    new Keystore(ks.dir, "").remove("m.p0");
    let seen: boolean;
    try {
      seen = !sameStamp(kept, ks.stamp("m"));
    } catch {
      seen = true; // refused: seen too
    }
    expect(seen, "a kept agent would be reused over a record missing a patch").to.equal(true);
  });
});
