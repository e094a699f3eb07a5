/**
 * `npm run mutation [-- --module NAME [--files a.ts,b.ts]] [-- --report-only]`: runs Stryker once
 * per module of scripts/mutation/modules.json (each with the tests that guard it), or once on the
 * named files of one module, and writes reports/mutation.md from the JSON reports in reports/mutation/.
 * Each run also writes `<report>.meta.json` (commit, whether offchain/ or test/ had uncommitted
 * changes, start time, duration), so the report says what was measured at which commit and how long
 * it took. Too slow for every CI run.
 */
import { execFileSync, spawnSync } from "child_process";
import fs from "fs";
import path from "path";

/**
 * A module of modules.json: the files Stryker mutates, the tests that guard them, and (`files`) for a
 * file the test files that actually test it. A run on named files (`--files`) uses the union of their
 * lists (the module's tests for a file not listed), so its dry run, its static mutants and each
 * worker's start load only those tests.
 */
type Module = { mutate: string[]; tests: string[]; tsconfig: string; files?: Record<string, string[]> };
type Mutant = {
  status: string;
  mutatorName: string;
  replacement?: string;
  statusReason?: string;
  location: { start: { line: number; column: number } };
};
type Report = { files: Record<string, { source: string; mutants: Mutant[] }> };
type Meta = {
  commit: string;
  dirty: boolean;
  started: string;
  seconds: number;
  mutate: string[];
  ignoreStatic?: boolean;
  tests?: string[];
  concurrency?: number;
  mutants?: number;
};

const root = path.resolve(__dirname, "..", "..");
const modules = JSON.parse(fs.readFileSync(path.join(__dirname, "modules.json"), "utf8")) as Record<string, Module>;
const outDir = path.join(root, "reports", "mutation");
const GOAL = 0.85;
/** Reasons for survivors that cannot be disabled line-wide (see survivors.json). */
/**
 * `reason` says why the survivors are equivalent; or, with `killedBy`, the survivor is a killable
 * mutant that a test added after the run kills (the next run of the file counts it as killed).
 */
type Note = { file: string; code: string; mutators: string[]; reason: string; killedBy?: string };
const notes = (JSON.parse(fs.readFileSync(path.join(__dirname, "survivors.json"), "utf8")) as { notes: Note[] }).notes;

function arg(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/**
 * Killed share of the mutants that tests could judge. Ignored mutants (declared equivalent), static
 * mutants skipped under MUTATION_IGNORE_STATIC=1 and compile errors do not count; the report shows
 * the skipped static ones in a column of their own.
 */
export function tally(mutants: Mutant[]) {
  const count = (s: string) => mutants.filter((m) => m.status === s).length;
  const killed = count("Killed") + count("Timeout");
  const survived = count("Survived");
  const noCoverage = count("NoCoverage");
  const isStatic = (m: Mutant) => m.status === "Ignored" && (m.statusReason ?? "").startsWith("Static mutant");
  const skippedStatic = mutants.filter(isStatic).length;
  const ignored = count("Ignored") - skippedStatic;
  const errors = count("CompileError") + count("RuntimeError");
  const judged = killed + survived + noCoverage;
  return { killed, survived, noCoverage, ignored, skippedStatic, errors, judged, score: judged === 0 ? 1 : killed / judged };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function git(...args: string[]): string {
  return execFileSync("git", args, { cwd: root }).toString().trim();
}

/** Whether `file` matches a glob of modules.json (only `*` within one folder is used there). */
function matches(file: string, glob: string): boolean {
  const re = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*");
  return new RegExp(`^${re}$`).test(file);
}

/** The files of a module, from its `mutate` globs (a leading `!` excludes). */
function moduleFiles(mod: Module): string[] {
  const dirs = [...new Set(mod.mutate.filter((g) => !g.startsWith("!")).map((g) => path.dirname(g)))];
  const all = dirs.flatMap((d) => (fs.existsSync(path.join(root, d)) ? fs.readdirSync(path.join(root, d)).map((f) => `${d}/${f}`) : []));
  return all
    .filter((f) => mod.mutate.some((g) => !g.startsWith("!") && matches(f, g)))
    .filter((f) => !mod.mutate.some((g) => g.startsWith("!") && matches(f, g.slice(1))))
    .sort();
}

/** The test files that guard `files` of `mod` (all of the module's tests when no file is named). */
export function testsFor(mod: Module, files: string[]): string[] {
  if (!files.length) return mod.tests;
  return [...new Set(files.flatMap((f) => mod.files?.[f.replace(/:\d+-\d+$/, "")] ?? mod.tests))];
}

/** One Stryker run; `files` narrows it to those files, whose JSON report then goes to `<module>.<a+b>.json`. */
function run(name: string, files: string[] = []): void {
  const part = files.length ? files.map((f) => path.basename(f.replace(/:\d+-\d+$/, ""), ".ts")).join("+") : undefined;
  console.log(`mutation: module ${name} (${(files.length ? files : modules[name].mutate).join(", ")})`);
  const meta: Meta = {
    commit: git("rev-parse", "HEAD"),
    dirty: git("status", "--porcelain", "--", "offchain", "test") !== "",
    started: new Date().toISOString(),
    seconds: 0,
    mutate: files.length ? files : modules[name].mutate,
    ignoreStatic: process.env.MUTATION_IGNORE_STATIC === "1",
  };
  const tests = testsFor(modules[name], files);
  meta.tests = tests;
  meta.concurrency = Number(process.env.MUTATION_CONCURRENCY ?? 1);
  // The TypeScript checker type-checks every mutant, and it was the slowest process of a run: with the
  // module's tsconfig each check re-checks every file of the module that imports the mutated one. A
  // run on named files checks those files (and what they import) only. A mutant that breaks the types
  // of an importing file only is then run by the tests instead, which kill it or list it as a survivor.
  const tsconfig = files.length ? path.join(__dirname, `.tsconfig.${name}.${part}.json`) : undefined;
  if (tsconfig) {
    const own = [...new Set(files.map((f) => f.replace(/:\d+-\d+$/, "")))];
    fs.writeFileSync(
      tsconfig,
      JSON.stringify({ extends: `./tsconfig.${modules[name].tsconfig}.json`, include: [], files: own.map((f) => `../../${f}`) }, null, 2) +
        "\n",
    );
  }
  const t0 = Date.now();
  const env = {
    ...process.env,
    MUTATION_MODULE: name,
    MUTATION_TESTS: tests.join(","),
    ...(part ? { MUTATION_PART: part } : {}),
    ...(tsconfig ? { MUTATION_TSCONFIG: path.relative(root, tsconfig) } : {}),
  };
  const r = spawnSync("npx", ["stryker", "run", ...(files.length ? ["--mutate", files.join(",")] : [])], {
    cwd: root,
    stdio: "inherit",
    env,
  });
  if (tsconfig) fs.rmSync(tsconfig, { force: true });
  if (r.status !== 0) throw new Error(`mutation: stryker failed on module ${name}${part ? ` (${part})` : ""} (exit ${r.status})`);
  meta.seconds = Math.round((Date.now() - t0) / 1000);
  const reportFile = path.join(outDir, `${name}${part ? `.${part}` : ""}.json`);
  if (fs.existsSync(reportFile)) {
    const r = JSON.parse(fs.readFileSync(reportFile, "utf8")) as Report;
    meta.mutants = Object.values(r.files).reduce(
      (n, f) => n + f.mutants.filter((m) => ["Killed", "Timeout", "Survived"].includes(m.status)).length,
      0,
    );
  }
  fs.writeFileSync(path.join(outDir, `${name}${part ? `.${part}` : ""}.meta.json`), JSON.stringify(meta, null, 2) + "\n");
}

function duration(s: number): string {
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

function report(): string {
  const lines: string[] = [
    "# Mutation testing (Stryker)",
    "",
    "Regenerate with `npm run mutation` (one module: `npm run mutation -- --module crypto`; some files of",
    "one module: `npm run mutation -- --module crypto --files offchain/crypto/cps.ts,offchain/crypto/bls.ts`;",
    "this page only: `npm run mutation -- --report-only`). The commit each run measured is in the table of runs.",
    "",
    `Score = killed (incl. timeouts) / (killed + survived + no coverage). Goal: at least ${pct(GOAL)} per module.`,
    "Mutants that cannot change behaviour are disabled in the source with a `// Stryker disable` comment that gives the reason; they are counted as ignored (listed below). Compile errors are mutants the TypeScript checker rejects.",
    "",
    'Static mutants (in module-level constants) rerun the whole suite each; a run with `MUTATION_IGNORE_STATIC=1` skips them, and they are counted under "static, not run", outside the score.',
    "",
    "| module | file | killed | survived | no coverage | ignored | static, not run | compile errors | score |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const runs: string[] = [];
  const survivors: string[] = [];
  const ignoredList: string[] = [];
  const notMeasured: string[] = [];
  const explained = new Set<Note>();
  for (const name of Object.keys(modules)) {
    // The whole-module report and any per-file reports; for each file the newest run counts.
    const reports = fs.existsSync(outDir)
      ? fs
          .readdirSync(outDir)
          .filter(
            (f) =>
              (f === `${name}.json` || (f.startsWith(`${name}.`) && f.endsWith(".json"))) &&
              !f.endsWith(".meta.json") &&
              !f.endsWith(".incremental.json"),
          )
          // ordered by when each run started (its meta.json), not by file times, which a checkout resets;
          // a report without a meta.json (a run outside `npm run mutation`) counts as the oldest
          .map((f) => {
            const meta = path.join(outDir, f.replace(/\.json$/, ".meta.json"));
            const started = fs.existsSync(meta) ? Date.parse((JSON.parse(fs.readFileSync(meta, "utf8")) as Meta).started) : 0;
            return { f, started };
          })
          .sort((a, b) => a.started - b.started || a.f.localeCompare(b.f))
      : [];
    const files = new Map<string, Mutant[]>();
    const sources = new Map<string, string>();
    /** files whose newest run mutated a line range only */
    const partialFiles = new Map<string, string>();

    for (const { f } of reports) {
      const r = JSON.parse(fs.readFileSync(path.join(outDir, f), "utf8")) as Report;
      const metaFile0 = path.join(outDir, f.replace(/\.json$/, ".meta.json"));
      const ranges = fs.existsSync(metaFile0) ? (JSON.parse(fs.readFileSync(metaFile0, "utf8")) as Meta).mutate : [];
      for (const [src, { mutants, source }] of Object.entries(r.files)) {
        files.set(src, mutants);
        sources.set(src, source);
        const range = ranges.find((x) => x.startsWith(`${src}:`));
        if (range) partialFiles.set(src, range.slice(src.length + 1));
        else partialFiles.delete(src);
      }
      // a file the run mutated in which Stryker found no mutant (a barrel of `export *` lines) is measured, with none
      for (const m of ranges) {
        const src = m.replace(/:\d+-\d+$/, "");
        if (!src.includes("*") && !files.has(src)) {
          files.set(src, []);
          sources.set(src, "");
        }
      }
      const metaFile = path.join(outDir, f.replace(/\.json$/, ".meta.json"));
      const meta = fs.existsSync(metaFile) ? (JSON.parse(fs.readFileSync(metaFile, "utf8")) as Meta) : undefined;
      runs.push(
        meta
          ? `| ${name} | ${meta.mutate.map((s) => `\`${s}\``).join(", ")} | \`${meta.commit.slice(0, 10)}\`${meta.dirty ? " + uncommitted changes" : ""} | ${meta.started.slice(0, 16).replace("T", " ")} UTC | ${duration(meta.seconds)} | ${meta.ignoreStatic ? "skipped" : meta.ignoreStatic === false ? "run" : "?"} | ${meta.tests ? meta.tests.map((t) => path.basename(t, ".test.ts")).join(", ") : "module's"} | ${meta.mutants !== undefined && meta.seconds ? `${meta.mutants} in ${meta.concurrency ?? 1} worker(s): ${((60 * meta.mutants) / meta.seconds).toFixed(1)}/min` : ""} |`
          : `| ${name} | ${Object.keys(r.files)
              .map((s) => `\`${path.basename(s)}\``)
              .join(", ")} | unknown (run outside \`npm run mutation\`) | | | | | |`,
      );
    }
    const expected = moduleFiles(modules[name]);
    const missing = expected.filter((f) => !files.has(f));
    if (files.size === 0) {
      lines.push(`| ${name} | (not run) | | | | | | | |`);
      notMeasured.push(`- ${name}: ${expected.map((f) => `\`${f}\``).join(", ")}`);
      continue;
    }
    if (missing.length) notMeasured.push(`- ${name}: ${missing.map((f) => `\`${f}\``).join(", ")}`);
    const all: Mutant[] = [];
    for (const [f, mutants] of [...files.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const t = tally(mutants);
      all.push(...mutants);
      lines.push(
        `| ${name} | \`${f}\`${partialFiles.has(f) ? ` (lines ${partialFiles.get(f)} only)` : ""} | ${t.killed} | ${t.survived} | ${t.noCoverage} | ${t.ignored} | ${t.skippedStatic} | ${t.errors} | ${pct(t.score)} |`,
      );
      const at = (m: Mutant) => `\`${f}:${m.location.start.line}:${m.location.start.column}\` ${m.mutatorName}`;
      const sourceLines = (sources.get(f) ?? "").split("\n");
      for (const m of mutants.filter((x) => x.status === "Survived" || x.status === "NoCoverage")) {
        const line = sourceLines[m.location.start.line - 1] ?? "";
        const note = notes.find((n) => n.file === f && line.includes(n.code) && n.mutators.includes(m.mutatorName));
        const why = !note
          ? "No reason recorded: a missing test"
          : note.killedBy
            ? `Killed since this run by the test "${note.killedBy}" (${note.reason}); not yet re-measured`
            : explained.has(note)
              ? "As above (same note)"
              : note.reason;
        if (note) explained.add(note);
        survivors.push(`- ${at(m)} (${m.status}): \`${(m.replacement ?? "").replace(/\s+/g, " ").slice(0, 80)}\`. ${why}`);
      }
      for (const m of mutants.filter((x) => x.status === "Ignored" && !(x.statusReason ?? "").startsWith("Static mutant"))) {
        ignoredList.push(`- ${at(m)}: ${(m.statusReason ?? "").replace(/\s+/g, " ")}`);
      }
    }
    const t = tally(all);
    const partial = missing.length ? ` (${files.size} of ${expected.length} files)` : "";
    lines.push(
      `| **${name}** | **all measured${partial}** | **${t.killed}** | **${t.survived}** | **${t.noCoverage}** | **${t.ignored}** | **${t.skippedStatic}** | **${t.errors}** | **${pct(t.score)}**${t.score < GOAL ? " (below goal)" : ""} |`,
    );
  }
  lines.push(
    "",
    "## Runs",
    "",
    "| module | files | commit | started | took | static mutants | tests | mutants run |",
    "|---|---|---|---|---|---|---|---|",
    ...runs,
  );
  lines.push("", "## Files not measured", "", notMeasured.length ? notMeasured.join("\n") : "None.");
  lines.push("", "## Surviving mutants", "", survivors.length ? survivors.join("\n") : "None.");
  lines.push("", "## Mutants declared equivalent (ignored)", "", ignoredList.length ? ignoredList.join("\n") : "None.", "");
  return lines.join("\n");
}

const only = arg("--module");
if (only && !modules[only]) {
  console.error(`mutation: unknown --module "${only}"; one of ${Object.keys(modules).join(", ")}`);
  process.exit(2);
}
const filesArg = arg("--files");
if (filesArg && !only) {
  console.error("mutation: --files needs --module");
  process.exit(2);
}
const files = filesArg ? filesArg.split(",").filter(Boolean) : [];
for (const f of files) {
  // a file may carry a line range, as Stryker takes it: offchain/x.ts:10-40
  if (!moduleFiles(modules[only!]).includes(f.replace(/:\d+-\d+$/, ""))) {
    console.error(`mutation: --files "${f}" is not a file of module ${only}; one of ${moduleFiles(modules[only!]).join(", ")}`);
    process.exit(2);
  }
}
fs.mkdirSync(outDir, { recursive: true });
if (!process.argv.includes("--report-only")) {
  if (files.length) run(only!, files);
  else for (const name of only ? [only] : Object.keys(modules)) run(name);
}
const md = report();
fs.writeFileSync(path.join(root, "reports", "mutation.md"), md);
console.log("mutation: wrote reports/mutation.md");
