/**
 * Writes reports/REPORT.md from what `npm run bench`, `npm run sim` and the gas reporter
 * (`REPORT_GAS=true npm test`) produced: every benchmark table (medians beside the papers'
 * figures and the physical floors), the message sizes beside RSMS Table III, the simulation
 * results and figures, the load figures measured against `hardhat node`, and the gas report.
 * `npm run report` runs all of it first; `npx hardhat run scripts/report.ts` only assembles.
 */
import fs from "fs";
import path from "path";
import { TABLE_MARKERS, quoteSnapshot, readSnapshot } from "./lib/gas-snapshot";

const root = path.resolve(__dirname, "..");
const read = (p: string) => (fs.existsSync(path.join(root, p)) ? fs.readFileSync(path.join(root, p), "utf8") : undefined);

/** A CSV file as a markdown table. */
function csvTable(p: string, fmt: (h: string, v: string) => string = (_h, v) => v): string {
  const text = read(p);
  if (!text) return `_${p} is missing: run \`npm run sim\`._`;
  const [head, ...lines] = text.trim().split("\n");
  const h = head.split(",");
  return [
    `| ${h.join(" | ")} |`,
    `|${h.map(() => "---:").join("|")}|`,
    ...lines.map(
      (l) =>
        `| ${l
          .split(",")
          .map((v, i) => fmt(h[i], v))
          .join(" | ")} |`,
    ),
  ].join("\n");
}

const num = (_h: string, v: string) => (/^-?\d*\.\d{5,}$/.test(v) ? Number(v).toFixed(4) : v);

/** A benchmark's markdown with its headings pushed one level down. */
function bench(name: string): string {
  const md = read(`bench/results/${name}.md`);
  if (!md) return `_bench/results/${name}.md is missing: run \`npm run bench\`._`;
  return md.replace(/^(#+) /gm, "$1## ");
}

function main() {
  const gasReport = read("gas-report.txt");
  const parts = [
    "# metatrust evaluation report",
    "",
    `Assembled ${new Date().toISOString()} by \`scripts/report.ts\` from the committed results (\`npm run report\` runs the benchmarks, the`,
    "simulations and the gas reporter first). Every number below is computed by this repository's code; each timing table states",
    "when and on what machine it was measured, and the papers' figures are quoted beside them. Gas is exact: section 5 is the reference.",
    "Medians, not means, because the machines are shared and noisy; ratios are taken within one run.",
    "",
    "## 1. Load against `hardhat node` (JSON-RPC)",
    "",
    read("bench/results/load.md")?.replace(/^# .*\n/m, "") ?? "_bench/results/load.md is missing: run `npm run bench`._",
    "",
    "## 2. Benchmarks (time and gas beside the papers and the floors)",
    "",
    bench("crypto"),
    "",
    bench("rsms"),
    "",
    bench("rsms-scale"),
    "",
    bench("services"),
    "",
    bench("group"),
    "",
    bench("trust"),
    "",
    bench("disputes"),
    "",
    bench("avatars"),
    "",
    bench("mssa"),
    "",
    "## 3. Simulations (`npm run sim`)",
    "",
    "### 3.1 RSMS throughput (RSMS paper §VI.C, Figs. 5-7)",
    "",
    "Services completed in a 30-minute period with and without RSMS, priced with our measured costs (join over JSON-RPC, group formation and rekey at N = 4). The paper's conclusion, that RSMS barely moves TP, holds: the overheads are milliseconds against minutes of service; the differences are within the 95% intervals.",
    "",
    "Fig. 5 (`reports/throughput-fig5.svg`), x = T_min with T_max = 2 T_min:",
    "",
    csvTable("reports/throughput-fig5.csv", num),
    "",
    "Fig. 6 (`reports/throughput-fig6.svg`), x = lambda_j:",
    "",
    csvTable("reports/throughput-fig6.csv", num),
    "",
    "Fig. 7 (`reports/throughput-fig7.svg`), x = lambda_l:",
    "",
    csvTable("reports/throughput-fig7.csv", num),
    "",
    "### 3.2 Trust attacks (trust paper §V) on the adversary suite (issue 15; `reports/attacks-suite-*.svg`)",
    "",
    (read("bench/results/trust-detection.md") ?? "(run `npx hardhat sim:attacks`)").replace(/^# .*\n/, "").replace(/^## /gm, "#### "),
    "",
    "### 3.3 Dispute accuracy (Eq. 23) (`reports/disputes-accuracy.svg`)",
    "",
    csvTable("reports/disputes-accuracy.csv", num),
    "",
    "### 3.4 Trust: evidence discounting and the held-out red-team families",
    "",
    (read("bench/results/trust-evidence.md") ?? "(run `npx hardhat run scripts/evidence-discount.ts`)")
      .replace(/^# .*\n/, "")
      .replace(/^(#+) /gm, "$1## "),
    "",
    (read("bench/results/trust-redteam.md") ?? "(run `npx hardhat sim:redteam`)").replace(/^# .*\n/, "").replace(/^(#+) /gm, "$1## "),
    "",
    "## 4. Gas reporter",
    "",
    gasReport
      ? "```\n" + gasReport.replace(new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g"), "").trim() + "\n```"
      : "_Not in this assembly: `REPORT_GAS=true npm test` writes gas-report.txt (the reporter's averages over every call the tests make). Section 5 is the reference._",
    "",
    "## 5. Gas snapshot (`gas-snapshot.json`)",
    "",
    "The gas of every contract's main calls as their transactions use it (receipt `gasUsed`), measured on fixed inputs",
    "and pinned block times on the system as `deploy` deploys it (`test/gas/scenario.ts`). `npm test` fails when a change",
    "moves any of them; `npm run gas:snapshot` rewrites the file and this table. The gas reporter above averages execution",
    "gas over every call the tests make, with their inputs and states; the benchmarks measure in their own states: where",
    "they differ from this table, this table is the reference.",
    "",
    TABLE_MARKERS,
    "",
  ];
  fs.mkdirSync(path.join(root, "reports"), { recursive: true });
  fs.writeFileSync(path.join(root, "reports", "REPORT.md"), quoteSnapshot(parts.join("\n"), readSnapshot(), "reports/REPORT.md"));
  console.log("wrote reports/REPORT.md");
}

main();
