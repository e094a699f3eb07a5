/* global process, URL */
// Stryker mutation testing for the off-chain security code. One run per module (MUTATION_MODULE),
// each with the tests that guard it: `npm run mutation` runs them all and writes reports/mutation.md.
// The module table lives in scripts/mutation/modules.json so that the runner and the report share it.
import { readFileSync } from "node:fs";

const modules = JSON.parse(readFileSync(new URL("./scripts/mutation/modules.json", import.meta.url), "utf8"));
const name = process.env.MUTATION_MODULE ?? "crypto";
// `npx stryker run --mutate <file>` narrows a run to one file while you work on its tests.
const mod = modules[name];
if (!mod) throw new Error(`stryker.config: unknown MUTATION_MODULE "${name}"; one of ${Object.keys(modules).join(", ")}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: "npm",
  testRunner: "mocha",
  checkers: ["typescript"],
  tsconfigFile: `scripts/mutation/tsconfig.${mod.tsconfig}.json`,
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: "perTest",
  mutate: mod.mutate,
  mochaOptions: { config: "scripts/mutation/mocharc.json", spec: mod.tests },
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
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
  timeoutMS: 60000,
  reporters: ["json", "clear-text", "progress-append-only"],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  tempDirName: `.stryker-tmp-${name}`,
  cleanTempDir: "always",
  disableTypeChecks: "{offchain,test}/**/*.ts",
};
