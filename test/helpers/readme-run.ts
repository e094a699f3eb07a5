/** Runs a README script (scripts/lib/readme.ts) in bash, printing each block's start as progress. */
import { spawn } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";

const ROOT = path.resolve(__dirname, "..", "..");

/**
 * How long a whole README run may take, in minutes: README_TEST_MINUTES, else 40. A quiet machine
 * runs the README in 12-16 minutes and CI's whole run (install, lint, every suite, coverage) took
 * about 33 of its 90; 40 leaves 2.5 times the quiet time and still ends a stuck run, with the block
 * it was in, before CI's budget does. On a loaded machine (load 20 on 2 cores took over an hour)
 * set README_TEST_MINUTES higher.
 */
export function readmeBudgetMs(env: NodeJS.ProcessEnv = process.env): number {
  const minutes = env.README_TEST_MINUTES === undefined ? 40 : Number(env.README_TEST_MINUTES);
  if (!Number.isFinite(minutes) || minutes <= 0)
    throw new Error(`README_TEST_MINUTES must be a positive number, got "${env.README_TEST_MINUTES}"`);
  return minutes * 60_000;
}

/**
 * @param script - the bash script
 * @param env - the environment (the node's URL and data folders)
 * @param budgetMs - past this, the script and every command it started are stopped, and the output
 *   says in which README block (default: {@link readmeBudgetMs})
 * @returns the exit code (null when stopped) and everything the script printed
 */
export function runReadmeScript(
  script: string,
  env: NodeJS.ProcessEnv,
  budgetMs = readmeBudgetMs(),
): Promise<{ code: number | null; out: string }> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-readme-")), "readme.sh");
  fs.writeFileSync(file, script);
  return new Promise((resolve) => {
    // its own process group, so that a stop reaches the hardhat commands it started
    const child = spawn("bash", [file], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const t0 = Date.now();
    let out = "";
    let block = "before the first block";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => {
      out += d;
      const s = String(d);
      const m = /==== (README line \d+)/.exec(s);
      if (m) {
        block = m[1];
        process.stderr.write(`      ${m[1]} (${Math.round((Date.now() - t0) / 1000)} s)\n`); // progress
      }
    });
    const timer = setTimeout(() => {
      out += `\nREADME test: stopped after ${Math.round(budgetMs / 1000)} s (README_TEST_MINUTES) in ${block}\n`;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* already gone */
      }
    }, budgetMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
