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

describe("gas snapshot quotes (README.md, reports/REPORT.md, docs/specs/disputes.md)", function () {
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

describe("gas snapshot helpers (scripts/lib/gas-snapshot.ts)", function () {
  it("diffs call by call: moved (with delta and percent), new, no longer measured; nothing when equal", function () {
    expect(diffSnapshots({ "A.x": 100, "A.y": 5 }, { "A.x": 100, "A.y": 5 })).to.deep.equal([]);
    expect(diffSnapshots({ "A.x": 1_000, "B.gone": 7 }, { "A.x": 1_250, "A.new": 3 })).to.deep.equal([
      "  + A.new: 3 (new call)",
      "  ~ A.x: 1,000 -> 1,250 (+250, +25.00%)",
      "  - B.gone: 7 (no longer measured)",
    ]);
  });

  it("rewrites the table between the markers and every inline quote, and nothing else", function () {
    const doc = [
      "costs <!-- gas:B.y (v) -->1<!-- /gas --> gas; 12,345 stays",
      "<!-- gas-snapshot:begin -->",
      "old table",
      "<!-- gas-snapshot:end -->",
      "end",
    ].join("\n");
    expect(quoteSnapshot(doc, { "B.y (v)": 42_000, "A.x": 7 }, "doc")).to.equal(
      [
        "costs <!-- gas:B.y (v) -->42,000<!-- /gas --> gas; 12,345 stays",
        "<!-- gas-snapshot:begin -->",
        "| contract | call | gas |",
        "|---|---|---:|",
        "| A | x | 7 |",
        "| B | y (v) | 42,000 |",
        "<!-- gas-snapshot:end -->",
        "end",
      ].join("\n"),
    );
  });

  it("refuses a quote of a call the snapshot does not measure, naming the document and the call", function () {
    expect(() => quoteSnapshot("<!-- gas:Nope.x -->1<!-- /gas -->", { "A.x": 1 }, "README.md")).to.throw(
      'README.md quotes gas of "Nope.x", which gas-snapshot.json does not measure',
    );
  });
});
