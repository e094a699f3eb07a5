/**
 * s17-redA F1: every command that commits a record (Keystore.commit: the MSRP's record on each
 * `rsms:*` task, for one) leaves an empty `<record>.json.<random>.tmp` in the keystore folder when
 * the process exits while the commit's background apply has opened its temporary file and not yet
 * renamed it: the exit handler (flushJournals) writes the record itself and cancels renames under
 * way, but not a temporary file still being written. A CLI task exits right after its commit, so the
 * folder gains one file per command (nine after a README walkthrough's first steps), forever.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";

const ROOT = path.resolve(__dirname, "../..");

describe("storage/keystore: a process that exits after a commit leaves no temporary file (s17-redA F1)", function () {
  this.timeout(120_000);

  it("exit while the background apply has its temporary file open: the record is written, no .tmp is left", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-redA-tmp-"));
    for (let run = 1; run <= 3; run++) {
      // commit, then exit as soon as a new temporary file exists (what a task's process.exit does)
      const code = `
        const fs = require("fs");
        const { Keystore } = require(${JSON.stringify(path.join(ROOT, "offchain/storage/keystore"))});
        const dir = ${JSON.stringify(dir)};
        const before = new Set(fs.readdirSync(dir));
        new Keystore(dir, undefined).commit({ a: { v: ${run} } });
        let spins = 0;
        const poll = () => {
          if (fs.readdirSync(dir).some((f) => f.endsWith(".tmp") && !before.has(f)) || ++spins > 100000) process.exit(0);
          setImmediate(poll);
        };
        poll();`;
      const r = spawnSync(process.execPath, ["-r", "ts-node/register", "-e", code], {
        cwd: ROOT,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1" },
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(r.status).to.equal(0, r.stderr);
      expect(JSON.parse(fs.readFileSync(path.join(dir, "a.json"), "utf8")).data).to.deep.equal({ v: run });
    }
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
  });
});
