/**
 * `npm run mutation [-- --module NAME] [-- --report-only]`: runs Stryker once per module of
 * scripts/mutation/modules.json (each with the tests that guard it) and writes reports/mutation.md
 * from the JSON reports in reports/mutation/. Too slow for every CI run; the report names the commit.
 */
import { execFileSync, spawnSync } from "child_process";
import fs from "fs";
import path from "path";

type Module = { mutate: string[]; tests: string[]; tsconfig: string };
type Mutant = {
  status: string;
  mutatorName: string;
  replacement?: string;
  statusReason?: string;
  location: { start: { line: number; column: number } };
};
type Report = { files: Record<string, { source: string; mutants: Mutant[] }> };

const root = path.resolve(__dirname, "..", "..");
const modules = JSON.parse(fs.readFileSync(path.join(__dirname, "modules.json"), "utf8")) as Record<string, Module>;
const outDir = path.join(root, "reports", "mutation");
const GOAL = 0.85;

function arg(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Killed share of the mutants that tests could judge (ignored and compile errors do not count). */
export function tally(mutants: Mutant[]) {
  const count = (s: string) => mutants.filter((m) => m.status === s).length;
  const killed = count("Killed") + count("Timeout");
  const survived = count("Survived");
  const noCoverage = count("NoCoverage");
  const ignored = count("Ignored");
  const errors = count("CompileError") + count("RuntimeError");
  const judged = killed + survived + noCoverage;
  return { killed, survived, noCoverage, ignored, errors, judged, score: judged === 0 ? 1 : killed / judged };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function run(name: string): void {
  console.log(`mutation: module ${name} (${modules[name].mutate.join(", ")})`);
  const r = spawnSync("npx", ["stryker", "run"], { cwd: root, stdio: "inherit", env: { ...process.env, MUTATION_MODULE: name } });
  if (r.status !== 0) throw new Error(`mutation: stryker failed on module ${name} (exit ${r.status})`);
}

function report(): string {
  const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root }).toString().trim();
  const dirty = execFileSync("git", ["status", "--porcelain", "--", "offchain", "test"], { cwd: root }).toString().trim() !== "";
  const lines: string[] = [
    "# Mutation testing (Stryker)",
    "",
    `Measured at commit \`${commit}\`${dirty ? " with uncommitted changes in offchain/ or test/" : ""}, ${new Date().toISOString().slice(0, 10)}.`,
    "Regenerate with `npm run mutation` (one module: `npm run mutation -- --module crypto`).",
    "",
    `Score = killed (incl. timeouts) / (killed + survived + no coverage). Goal: at least ${pct(GOAL)} per module.`,
    "Mutants that cannot change behaviour are disabled in the source with a `// Stryker disable` comment that gives the reason; they are counted as ignored. Compile errors are mutants the TypeScript checker rejects.",
    "",
    "| module | file | killed | survived | no coverage | ignored | compile errors | score |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
  ];
  const survivors: string[] = [];
  for (const name of Object.keys(modules)) {
    const file = path.join(outDir, `${name}.json`);
    if (!fs.existsSync(file)) {
      lines.push(`| ${name} | (not run) | | | | | | |`);
      continue;
    }
    const rep = JSON.parse(fs.readFileSync(file, "utf8")) as Report;
    const all: Mutant[] = [];
    for (const [f, { mutants }] of Object.entries(rep.files).sort()) {
      const t = tally(mutants);
      all.push(...mutants);
      lines.push(`| ${name} | \`${f}\` | ${t.killed} | ${t.survived} | ${t.noCoverage} | ${t.ignored} | ${t.errors} | ${pct(t.score)} |`);
      for (const m of mutants.filter((x) => x.status === "Survived" || x.status === "NoCoverage")) {
        survivors.push(
          `- \`${f}:${m.location.start.line}:${m.location.start.column}\` ${m.mutatorName} (${m.status}): \`${(m.replacement ?? "").replace(/\s+/g, " ").slice(0, 80)}\``,
        );
      }
    }
    const t = tally(all);
    lines.push(
      `| **${name}** | **all** | **${t.killed}** | **${t.survived}** | **${t.noCoverage}** | **${t.ignored}** | **${t.errors}** | **${pct(t.score)}**${t.score < GOAL ? " (below goal)" : ""} |`,
    );
  }
  lines.push("", "## Surviving mutants", "", survivors.length ? survivors.join("\n") : "None.", "");
  return lines.join("\n");
}

const only = arg("--module");
if (only && !modules[only]) {
  console.error(`mutation: unknown --module "${only}"; one of ${Object.keys(modules).join(", ")}`);
  process.exit(2);
}
if (!process.argv.includes("--report-only")) for (const name of only ? [only] : Object.keys(modules)) run(name);
const md = report();
fs.mkdirSync(path.join(root, "reports"), { recursive: true });
fs.writeFileSync(path.join(root, "reports", "mutation.md"), md);
console.log("mutation: wrote reports/mutation.md");
