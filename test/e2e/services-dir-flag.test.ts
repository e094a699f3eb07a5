/**
 * s17-redA F26: `npm run services -- --dir <path>` checks that the folder is empty or absent with
 * fs.readdirSync, so a --dir that names a file ends with an uncaught "ENOTDIR: not a directory,
 * scandir …" and Node's stack trace (exit 1). (`--dir a --dir b` is taken as b, silently: the README
 * says a repeated flag is one line and exit 2; not run here, since it would start every service.)
 * Charter: bad input gets one line that names the flag, exit 2, before anything starts.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";

const ROOT = path.resolve(__dirname, "../..");

describe("npm run services: a --dir that is a file is one line naming --dir (s17-redA F26)", function () {
  this.timeout(120_000);

  it("--dir <a file>: exit 2, one line naming --dir", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-redA-svcdir-")), "a-file");
    fs.writeFileSync(file, "x");
    const r = spawnSync(
      process.execPath,
      [path.join(ROOT, "node_modules/ts-node/dist/bin.js"), "--transpile-only", "scripts/services.ts", "--dir", file],
      {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 90_000,
      },
    );
    const err = r.stderr.trim();
    expect(r.status).to.equal(2, err.slice(0, 300));
    expect(err.split("\n")).to.have.length(1);
    expect(err).to.contain("--dir");
  });
});
