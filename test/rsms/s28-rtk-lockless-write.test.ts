/**
 * s28-rtk F2 (red team), as fixed: a writer that takes no lock (an older build, an operator's
 * script, through Keystore) commits to rsms-msrp in another process between a locked join's commit
 * point and that commit's background rename. Before, the rename undid the lockless write silently
 * and the join's kept agent was reused (its stamp equal to the disk's). Now the rename follows the
 * replay rule (offchain/storage/keystore.ts applyLater): the lockless write is kept, the join's
 * change to the record is not, one line on stderr names the file, and the join's kept stamp is not
 * the disk's, so its kept agent is rebuilt from the disk. Keeping both writers' RNs (the red team's
 * expectation, test/rsms/s28-rtk-rename-race.findings.test.ts) would need a merge of two commits
 * prepared from the same record, which the Keystore does not attempt: the folder lock is what keeps
 * writers apart (rsms-join.md change 23, limits).
 * Bites: with the check in keystore.ts lostTo removed (it returns false), this fails: the lockless
 * RN is gone and the kept stamp equals the disk's.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { Keystore, sameStamp, settled } from "../../offchain/storage/keystore";
import { MSRP_PATCH, MSRP_RECORD, msrpRecord, withMsrpRecord } from "../../tasks/lib/msrp-record";

const ROOT = path.resolve(__dirname, "../..");

type Rec = { msk: string; rns: Record<string, unknown> };
const agent = (d: Record<string, unknown>) => ({ d: d as Rec, toRecord: () => d });

/** The code of another process that adds the RN `rn` to the record through Keystore, with no lock. */
const lockless = `const { msrpRecord, MSRP_PATCH } = require("./tasks/lib/msrp-record");
const { Keystore } = require("./offchain/storage/keystore");
const [data, rn] = process.argv.slice(1); const ks = new Keystore(require("path").join(data, "ks"), "");
(async () => {
  const r = await msrpRecord(ks, data, (d) => ({ d, toRecord: () => d }));
  const m = r.load(undefined);
  m.d.rns = { ...m.d.rns, [rn]: { n: 2 } };
  ks.commit({ ${JSON.stringify(MSRP_RECORD)}: m.d }, MSRP_PATCH);
})().catch((e) => { console.error(e.message); process.exit(2); });`;

describe("s28-rtk F2: a lockless writer's commit between a locked commit and its rename", function () {
  this.timeout(60_000);

  it("is kept, with one line on stderr naming the file; the locked join's change is not, and its kept stamp is not the disk's", async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-s28-fxk-"));
    const dir = path.join(data, "ks");
    const ks = new Keystore(dir, "");
    ks.commit({ [MSRP_RECORD]: { msk: "0x01", rns: { base: { n: 0 } } } }, MSRP_PATCH);
    ks.commit({ [MSRP_RECORD]: { msk: "0x01", rns: { base: { n: 0 }, first: { n: 1 } } } }, MSRP_PATCH);
    await settled();
    let kept: Record<string, string> = {};
    const write = process.stderr.write.bind(process.stderr);
    let err = "";
    process.stderr.write = ((chunk: string | Uint8Array) => ((err += String(chunk)), true)) as typeof process.stderr.write;
    try {
      await withMsrpRecord("rsms:join", data, async () => {
        const r = await msrpRecord(ks, data, agent);
        const m = r.load("rsms:join");
        m.d.rns = { ...m.d.rns, fromJoin: { n: 3 } };
        r.save(m, "rsms:join");
        kept = ks.stamp(MSRP_RECORD); // what the join's kept agent is kept with (this process reads its overlay)
        // the lockless writer commits now, before this process's background rename (it runs when this turn ends)
        const w = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", lockless, data, "lockless"], {
          cwd: ROOT,
          encoding: "utf8",
        });
        expect(w.status, `the lockless writer failed: ${w.stderr}`).to.equal(0);
      });
      await settled();
    } finally {
      process.stderr.write = write;
    }
    const fresh = new Keystore(dir, "");
    const { data: rec, stamp } = fresh.loadStamped<Rec>(MSRP_RECORD);
    expect(Object.keys(rec.rns).sort(), "the lockless writer's RN is kept").to.deep.equal(["base", "first", "lockless"]);
    const lines = err.split("\n").filter((l) => l.includes("Keystore:"));
    expect(lines, err).to.have.length(1);
    expect(lines[0]).to.include(dir).and.include("another process").and.include(`record "${MSRP_RECORD}"`);
    expect(sameStamp(stamp, kept), "the join's kept agent would be reused").to.equal(false);
    expect(sameStamp(stamp, ks.stamp(MSRP_RECORD)), "this process reads the disk").to.equal(true);
  });
});
