/**
 * The gas snapshot: re-measures every call of `test/gas/scenario.ts` and fails when any moved from
 * the committed `gas-snapshot.json`, printing what moved and the one command that rewrites the
 * snapshot and its quotes (`npm run gas:snapshot`, which runs this file with UPDATE_GAS_SNAPSHOT=1).
 * Also checks that README.md and reports/REPORT.md quote the committed snapshot.
 */
import fs from "fs";
import path from "path";
import { expect } from "chai";
import { skipUnderCoverage } from "../helpers/coverage";
import { measureGas } from "./scenario";
import {
  QUOTING_DOCS,
  ROOT,
  SNAPSHOT_FILE,
  UPDATE_COMMAND,
  diffSnapshots,
  quoteSnapshot,
  quotesSnapshot,
  readSnapshot,
  syncQuotingDocs,
  writeSnapshot,
} from "../../scripts/lib/gas-snapshot";

const UPDATE = process.env.UPDATE_GAS_SNAPSHOT === "1";

describe("gas snapshot (gas-snapshot.json)", function () {
  this.timeout(600_000);

  before(function () {
    skipUnderCoverage(this, "instrumented contracts use more gas than the deployed ones");
  });

  it("every call costs the gas the committed snapshot says", async function () {
    const measured = await measureGas();
    if (UPDATE) {
      writeSnapshot(measured);
      const docs = syncQuotingDocs(measured);
      console.log(`    wrote ${path.relative(ROOT, SNAPSHOT_FILE)}${docs.length ? ` and the quotes in ${docs.join(", ")}` : ""}`);
      return;
    }
    const diff = diffSnapshots(readSnapshot(), measured);
    if (diff.length)
      expect.fail(
        [
          `gas moved in ${diff.length} call(s) against gas-snapshot.json:`,
          ...diff,
          `If the change is intended, rewrite the snapshot and its quotes: ${UPDATE_COMMAND}`,
          "(= UPDATE_GAS_SNAPSHOT=1 npx hardhat test test/gas/snapshot.test.ts), and commit them with the change.",
        ].join("\n"),
      );
  });
});

describe("gas snapshot quotes (README.md, reports/REPORT.md)", function () {
  let snapshot: ReturnType<typeof readSnapshot>;
  before(() => {
    snapshot = readSnapshot();
  });

  it("README.md quotes the snapshot", function () {
    expect(quotesSnapshot(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"))).to.equal(true);
  });

  for (const rel of QUOTING_DOCS)
    it(`${rel} quotes the committed numbers`, function () {
      const file = path.join(ROOT, rel);
      if (!fs.existsSync(file)) this.skip();
      const doc = fs.readFileSync(file, "utf8");
      if (doc !== quoteSnapshot(doc, snapshot, rel))
        expect.fail(`${rel} quotes gas that differs from gas-snapshot.json: run \`${UPDATE_COMMAND}\` to rewrite its quotes`);
    });
});
