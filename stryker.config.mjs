/* global process, URL */
// Stryker mutation testing for the off-chain security code. One run per module (MUTATION_MODULE),
// each with the tests that guard it: `npm run mutation` runs them all and writes reports/mutation.md.
// The module table lives in scripts/mutation/modules.json so that the runner and the report share it.
import { readFileSync } from "node:fs";

const modules = JSON.parse(readFileSync(new URL("./scripts/mutation/modules.json", import.meta.url), "utf8"));
const name = process.env.MUTATION_MODULE ?? "crypto";
// `npx stryker run --mutate <file>` narrows a run to one file while you work on its tests; its JSON
// report then goes to reports/mutation/<module>.<file>.json, so it does not replace the module's.
const mod = modules[name];
const cliMutate = process.argv.indexOf("--mutate");
const part =
  process.env.MUTATION_PART ??
  (cliMutate >= 0
    ? process.argv[cliMutate + 1]
        .split(",")
        .map((f) => f.replace(/^.*\//, "").replace(/\.ts$/, ""))
        .join("+")
    : undefined);
if (!mod) throw new Error(`stryker.config: unknown MUTATION_MODULE "${name}"; one of ${Object.keys(modules).join(", ")}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: "npm",
  testRunner: "mocha",
  checkers: ["typescript"],
  // run.ts narrows the checker to the files being mutated (MUTATION_TSCONFIG).
  tsconfigFile: process.env.MUTATION_TSCONFIG ?? `scripts/mutation/tsconfig.${mod.tsconfig}.json`,
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: "perTest",
  mutate: mod.mutate,
  // run.ts passes the test files that guard the files being mutated (modules.json `files`).
  mochaOptions: { config: "scripts/mutation/mocharc.json", spec: process.env.MUTATION_TESTS?.split(",") ?? mod.tests },
  ignorePatterns: [
    "forge-out*",
    "forge-cache*",
    "coverage",
    "coverage.json",
    "reports",
    "bench/results",
    ".metatrust",
    "dist",
    "deployments",
  ],
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 1), // 2 cores shared by several engineers
  // A static mutant (in a module-level constant) reruns the whole test suite in a fresh process: in
  // offchain/crypto 10% of the mutants took 57% of the time. MUTATION_IGNORE_STATIC=1 skips them;
  // the report then counts them apart ("static, not run") so a skipped mutant never passes for a killed one.
  ignoreStatic: process.env.MUTATION_IGNORE_STATIC === "1",
  timeoutMS: 60000,
  // the initial run builds the rsms fixtures afresh for every test (test/helpers/fixture.ts): minutes under load
  dryRunTimeoutMinutes: 30,
  reporters: ["json", "clear-text", "progress-append-only"],
  jsonReporter: { fileName: `reports/mutation/${name}${part ? `.${part}` : ""}.json` },
  // Incremental: a rerun retests only the mutants whose code or covering tests changed since the last
  // run of the same module and files (`npx stryker run --force` retests all).
  incremental: true,
  incrementalFile: `reports/mutation/${name}${part ? `.${part}` : ""}.incremental.json`,
  tempDirName: `.stryker-tmp-${name}`,
  cleanTempDir: "always",
  disableTypeChecks: "{offchain,test}/**/*.ts",
};
