/**
 * Coverage gate: reads coverage/coverage-summary.json (written by `npm run coverage`, see
 * .solcover.js) and fails with one line naming the metric when the contracts under contracts/
 * (mocks in contracts/test/ excluded) are below the thresholds.
 *
 *   ts-node-transpile-only scripts/check-coverage.ts [--lines 95] [--branches 85] [--summary path]
 */
import fs from "fs";
import path from "path";

type Metric = { total: number; covered: number; pct: number };
type FileSummary = Record<"lines" | "statements" | "functions" | "branches", Metric>;

const ROOT = path.resolve(__dirname, "..");

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

function fail(message: string): never {
  console.error(`coverage check FAILED: ${message}`);
  process.exit(1);
}

const thresholds = { lines: Number(arg("lines", "95")), branches: Number(arg("branches", "85")) };
const summaryPath = path.resolve(ROOT, arg("summary", "coverage/coverage-summary.json"));
if (!fs.existsSync(summaryPath)) fail(`${path.relative(ROOT, summaryPath)} not found: run \`npm run coverage\` first`);

const summary = JSON.parse(fs.readFileSync(summaryPath, "utf8")) as Record<string, FileSummary>;
const files = Object.entries(summary)
  .map(([file, s]) => [path.relative(ROOT, path.resolve(ROOT, file)).split(path.sep).join("/"), s] as const)
  .filter(([file]) => file.startsWith("contracts/") && !file.startsWith("contracts/test/"));
if (files.length === 0) fail(`no contracts/ file in ${path.relative(ROOT, summaryPath)}`);

const pct = (m: { covered: number; total: number }) => (m.total === 0 ? 100 : (100 * m.covered) / m.total);
const results = (Object.keys(thresholds) as (keyof typeof thresholds)[]).map((metric) => {
  const covered = files.reduce((a, [, s]) => a + s[metric].covered, 0);
  const total = files.reduce((a, [, s]) => a + s[metric].total, 0);
  const worst = files
    .filter(([, s]) => s[metric].total > 0 && pct(s[metric]) < thresholds[metric])
    .sort((a, b) => pct(a[1][metric]) - pct(b[1][metric]))
    .map(([f, s]) => `${f.replace(/^contracts\//, "")} ${pct(s[metric]).toFixed(1)}%`);
  return { metric, covered, total, value: pct({ covered, total }), min: thresholds[metric], worst };
});

const line = (r: (typeof results)[number]) => `${r.metric} ${r.value.toFixed(2)}% (${r.covered}/${r.total}, minimum ${r.min}%)`;
const failed = results.filter((r) => r.value < r.min);
if (failed.length > 0)
  fail(
    `${failed.map((r) => `${line(r)}${r.worst.length ? ` [lowest: ${r.worst.slice(0, 3).join(", ")}]` : ""}`).join("; ")} on contracts/`,
  );
console.log(`coverage check passed: ${results.map(line).join(", ")} on contracts/ (${files.length} files)`);
