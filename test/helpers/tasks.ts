/**
 * Shared set-up of the in-process task tests: a fresh data and deployments folder per suite,
 * console output silenced, the system deployed through the `deploy` task, everything restored
 * afterwards.
 */
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { ErrorFragment, Interface } from "ethers";
import type { Keystore } from "../../offchain/storage/keystore";

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

/**
 * {@link useTaskSandbox} with the RSMS set up through its tasks: the MSRP (capacity 8, lambda 16,
 * a filter interval of an hour), pool 1's RPM, the RNs `rns` registered at pool 1 and its filter
 * published.
 * @returns getters of the suite's temporary folder and of the local keystore
 */
export function useRsmsTaskSandbox(prefix: string, rns: string[]): { dir: () => string; keystore: () => Keystore } {
  const dir = useTaskSandbox(prefix);
  let ks: Keystore | undefined;
  before(async () => {
    await hre.run("rsms:setup", { capacity: 8, lambda: 16, interval: 3600 });
    await hre.run("rsms:rpm:register", { pool: 1 });
    for (const n of rns) await hre.run("rsms:rn:register", { name: n, pool: 1 });
    await hre.run("rsms:filter:publish", { pool: 1 });
    const { localState } = await import("../../tasks/lib/context");
    ks = localState(hre).keystore;
  });
  return { dir, keystore: () => ks! };
}

/** Runs `f` with console.log silenced (restored afterwards, also when `f` throws). */
export async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => undefined;
  try {
    return await f();
  } finally {
    console.log = log;
  }
}

/** `rsms:join` of `rn` at `pool` in this process, its printed lines silenced: what the join tests run again and again. */
export function joinQuietly(rn: string, pool = 1) {
  return quietly(() => hre.run("rsms:join", { rn, pool }));
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

/** A custom error decoded from revert data: its name and arguments. */
export type DecodedCustomError = { name: string; args: unknown[] };

let errorsOfAllContracts: Interface | undefined;

/** One interface holding the custom errors of every compiled contract (libraries and OpenZeppelin included). */
async function allErrors(): Promise<Interface> {
  if (errorsOfAllContracts) return errorsOfAllContracts;
  const bySignature = new Map<string, ErrorFragment>();
  for (const name of await hre.artifacts.getAllFullyQualifiedNames()) {
    const { abi } = await hre.artifacts.readArtifact(name);
    for (const f of new Interface(abi).fragments) if (ErrorFragment.isFragment(f)) bySignature.set(f.format("sighash"), f);
  }
  errorsOfAllContracts = new Interface([...bySignature.values()]);
  return errorsOfAllContracts;
}

/** The revert data an ethers / Hardhat error carries (`data`, possibly nested in `error`, `info`, `cause`). */
function revertData(e: unknown): string | undefined {
  const seen = new Set<unknown>();
  const todo: unknown[] = [e];
  while (todo.length > 0) {
    const x = todo.shift();
    if (x === null || typeof x !== "object" || seen.has(x)) continue;
    seen.add(x);
    const o = x as Record<string, unknown>;
    if (typeof o.data === "string" && /^0x[0-9a-fA-F]{8}/.test(o.data)) return o.data;
    todo.push(o.error, o.info, o.cause, o.data);
  }
  return /return data: (0x[0-9a-fA-F]{8,})/.exec(String((e as Error)?.message))?.[1];
}

/**
 * Decodes the custom error a rejected contract call reverted with, by its 4-byte selector against
 * the ABIs of the compiled contracts. Unlike matching the error message, this does not depend on
 * the provider having decoded the error (a real node does not; under coverage Hardhat cannot when
 * the deployed bytecode is not the one it compiled).
 * @param e - what the call rejected with
 * @returns the error's name and arguments
 */
export async function customError(e: unknown): Promise<DecodedCustomError> {
  const data = revertData(e);
  if (data === undefined) throw new Error(`no revert data in: ${String((e as Error)?.message ?? e)}`);
  const parsed = (await allErrors()).parseError(data);
  if (parsed === null) throw new Error(`revert data ${data} matches no custom error of the compiled contracts`);
  return { name: parsed.name, args: [...parsed.args] };
}
