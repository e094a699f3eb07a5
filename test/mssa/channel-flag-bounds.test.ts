/**
 * s17-redA F9: `mssa:channel` (and `mssa:register --decoys`, in-process) check that --decoys,
 * --bits and --trials are positive integers but set no upper bound: `--decoys 1e9` is accepted and
 * the SIMULATED channel allocates a photon per decoy until V8 aborts (exit 134 after a minute and
 * 2 GB, a native stack trace on stderr). Charter: bad input gets one line that names the flag
 * (exit 2), before anything runs. Run as a separate process with a small heap, so that the bug
 * kills the child, not the test runner.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";

const ROOT = path.resolve(__dirname, "../..");

describe("mssa:channel: an absurd --decoys or --bits is refused by name, not run out of memory (s17-redA F9)", function () {
  this.timeout(240_000);

  for (const flag of ["--decoys", "--bits"])
    it(`${flag} 1000000000: exit 2, one line naming ${flag}`, () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-redA-channel-"));
      const r = spawnSync(
        process.execPath,
        [path.join(ROOT, "node_modules/hardhat/internal/cli/bootstrap.js"), "mssa:channel", flag, "1000000000", "--trials", "1"],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            METATRUST_DATA_DIR: path.join(dir, "data"),
            METATRUST_DEPLOYMENTS_DIR: path.join(dir, "deployments"),
            NODE_OPTIONS: "--max-old-space-size=384",
          },
          encoding: "utf8",
          timeout: 180_000,
        },
      );
      const err = r.stderr.trim();
      expect(r.status).to.equal(2, err.slice(0, 400));
      expect(err.split("\n")).to.have.length(1);
      expect(err).to.contain(flag);
    });
});
