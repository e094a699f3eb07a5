/**
 * Source verification of a recorded deployment on the explorers that hardhat-verify is configured
 * for (hardhat.config.ts: Sourcify by default, Etherscan with ETHERSCAN_API_KEY): one
 * `verify:verify` call per contract of deployments/<network>.json, with the contract's fully
 * qualified name and the constructor arguments recorded when it was deployed.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { MetatrustError } from "../errors";
import { keccak256 } from "ethers";
import type { Deployment } from "./deployments";
import { SYSTEM_CONTRACTS } from "./system";

/** hardhat-verify's subtask that verifies one contract on every enabled explorer. */
export const VERIFY_SUBTASK = "verify:verify";

/** The arguments of one `verify:verify` call. */
export type VerifyCall = {
  /** The system contract (key of the deployment record). */
  name: string;
  address: string;
  /** Fully qualified name (`contracts/trust/TrustManager.sol:TrustManager`): skips bytecode matching. */
  contract: string;
  constructorArguments: unknown[];
};

/** What happened to one contract. */
export type VerifyOutcome = { name: string; address: string; ok: boolean; error?: string };

/** The record cannot be verified as it stands (incomplete, or its contracts changed since). */
export class VerificationUnavailableError extends MetatrustError {
  constructor(message: string) {
    super("DEPLOYMENT_NOT_FOUND", message);
  }
}

/** At least one contract failed to verify (the others were tried). */
export class VerificationFailedError extends MetatrustError {
  constructor(
    message: string,
    readonly outcomes: VerifyOutcome[],
  ) {
    super("NETWORK_UNSUPPORTED", message);
  }
}

/**
 * The `verify:verify` calls for a deployment record, in deployment order.
 * @param hre - the runtime (its artifacts must be the ones the record was deployed from)
 * @param d - the record
 * @param only - contract names to keep (default all)
 * @returns one call per contract
 * @throws VerificationUnavailableError for an unknown name in `only`, a contract missing from the
 *   record or without recorded constructor arguments, or one whose artifact changed since
 */
export async function verificationCalls(hre: HardhatRuntimeEnvironment, d: Deployment, only?: string[]): Promise<VerifyCall[]> {
  const known = SYSTEM_CONTRACTS.map((c) => c.name);
  for (const n of only ?? [])
    if (!known.includes(n)) throw new MetatrustError("INVALID_PARAMETER", `--only: ${n} is not a metatrust contract (${known.join(", ")})`);
  const calls: VerifyCall[] = [];
  for (const name of known) {
    if (only && !only.includes(name)) continue;
    const c = d.contracts[name];
    if (!c)
      throw new VerificationUnavailableError(
        `${name} is not in deployments/${d.network}.json: run \`npx hardhat deploy --network ${d.network}\` to finish the deployment first`,
      );
    if (!c.args)
      throw new VerificationUnavailableError(
        `${name} at ${c.address}: deployments/${d.network}.json has no constructor arguments for it (recorded before they were); verify it with \`npx hardhat verify --network ${d.network} ${c.address} <args...>\``,
      );
    const artifact = await hre.artifacts.readArtifact(name);
    if (c.bytecodeHash && c.bytecodeHash !== keccak256(artifact.bytecode))
      throw new VerificationUnavailableError(
        `${name} at ${c.address} was deployed from other sources than the working tree's (its creation bytecode changed); check out the commit that deployed it and verify from there`,
      );
    calls.push({ name, address: c.address, contract: `${artifact.sourceName}:${artifact.contractName}`, constructorArguments: c.args });
  }
  return calls;
}

/**
 * Runs `verify:verify` for every call, one after the other; a failure does not stop the others.
 * @param run - runs a subtask (hre.run; tests inject their own)
 * @param log - progress lines
 * @returns one outcome per call
 * @throws VerificationFailedError naming every contract that failed, after trying them all
 */
export async function verifyAll(
  calls: VerifyCall[],
  run: (subtask: string, args: Record<string, unknown>) => Promise<unknown>,
  log: (line: string) => void = () => {},
): Promise<VerifyOutcome[]> {
  const outcomes: VerifyOutcome[] = [];
  for (const c of calls) {
    log(`${c.name} at ${c.address} (${c.contract}) ...`);
    try {
      await run(VERIFY_SUBTASK, { address: c.address, contract: c.contract, constructorArguments: c.constructorArguments });
      outcomes.push({ name: c.name, address: c.address, ok: true });
    } catch (e) {
      const error = (e instanceof Error ? e.message : String(e)).split("\n")[0];
      log(`  failed: ${error}`);
      outcomes.push({ name: c.name, address: c.address, ok: false, error });
    }
  }
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length)
    throw new VerificationFailedError(
      `${failed.length} of ${outcomes.length} contract(s) not verified: ${failed.map((f) => `${f.name} (${f.error})`).join("; ")}; rerun with --only ${failed.map((f) => f.name).join(",")}`,
      outcomes,
    );
  return outcomes;
}
