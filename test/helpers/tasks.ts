/**
 * Shared set-up of the in-process task tests: a fresh data and deployments folder per suite,
 * console output silenced, the system deployed through the `deploy` task, everything restored
 * afterwards.
 */
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";

/**
 * Registers mocha before/after hooks for a task suite.
 * @param prefix - temporary folder prefix
 * @returns a getter of the suite's temporary folder
 */
export function useTaskSandbox(prefix: string): () => string {
  const saved: Record<string, string | undefined> = {};
  const log = console.log;
  let dir = "";
  before(async () => {
    for (const k of ["METATRUST_DATA_DIR", "METATRUST_DEPLOYMENTS_DIR"]) saved[k] = process.env[k];
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    process.env.METATRUST_DATA_DIR = path.join(dir, "data");
    process.env.METATRUST_DEPLOYMENTS_DIR = path.join(dir, "deployments");
    console.log = () => {};
    await hre.run("deploy", { quiet: true });
  });
  after(() => {
    console.log = log;
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });
  return () => dir;
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}
