/**
 * The deployment record, `deployments/<network>.json`: which contracts of the system live where,
 * deployed in which block by whom. Written by the `deploy` task; read by every other task.
 */
import fs from "fs";
import { MetatrustError } from "../errors";
import { writeFileAtomic } from "../storage/fs-atomic";
import { deploymentFile } from "./paths";

/**
 * One deployed contract: where, when, and what was deployed (the constructor arguments, the ABI,
 * and the keccak256 of the creation bytecode and of the ABI, so a record can be checked against
 * the artifacts it came from).
 */
export type DeployedContract = {
  address: string;
  block: number;
  txHash: string;
  args?: unknown[];
  /** The contract's ABI, so that a client without this repository's artifacts can call it. */
  abi?: unknown[];
  bytecodeHash?: string;
  abiHash?: string;
};

/** A network's deployment record. */
export type Deployment = {
  network: string;
  chainId: number;
  deployer: string;
  eip2537: boolean;
  deployedAt: string;
  contracts: Record<string, DeployedContract>;
  /**
   * Who holds the operator roles: the admin of every contract (the deployer), the MSRP
   * (ResourcePoolRegistry and ServiceGroupRegistry MSRP_ROLE), the IdP (MITRegistry IDP_ROLE), the
   * detector (DETECTOR_ROLE of the TrustManager and of the AuthorityElection: one party), the
   * election's registrar (REGISTRAR_ROLE, besides the CredentialLedger) and its arbiter
   * (ARBITER_ROLE). Absent in records written before the roles had accounts of their own: the
   * deployer holds all; `detector`, `registrar` and `arbiter` are absent in records written before
   * they had theirs: the deployer holds the AuthorityElection's three roles.
   */
  roles?: { admin: string; msrp: string; idp: string; detector?: string; registrar?: string; arbiter?: string };
  /**
   * The check value of the deployment's election key (registration.ts electionKeyCheck, an HMAC of a
   * fixed label under the key, never the key), written when the AuthorityElection is deployed: the
   * key that computed the genesis authorities' election nullifiers. `mssa:serve`, `mssa:enrol` and
   * `mssa:register --elector` refuse a key whose check value differs (s21-review1 finding 3).
   * Absent in records written before it was recorded: those tasks refuse the key with a hint.
   */
  electionKeyCheck?: string;
  /** Wiring steps done (by contract name); a record is complete when every step is. */
  wired?: string[];
  /** False while a deployment is under way: `deploy` resumes it. */
  complete?: boolean;
};

/** The network has no (valid) deployment record. */
export class DeploymentNotFoundError extends MetatrustError {
  constructor(message: string) {
    super("DEPLOYMENT_NOT_FOUND", message);
  }
}

/**
 * Writes the record atomically.
 * @param d - the record
 * @returns the file written
 */
export function saveDeployment(d: Deployment): string {
  const file = deploymentFile(d.network);
  writeFileAtomic(file, JSON.stringify(d, null, 2) + "\n", 0o644); // public: addresses and blocks
  return file;
}

/**
 * Reads a network's record.
 * @param network - the network name
 * @returns the record
 * @throws DeploymentNotFoundError when there is none or it does not parse
 */
/** What a task step needs of a deployment record: the addresses and the role holders, not the ABIs. */
export type DeploymentSummary = Pick<Deployment, "deployer" | "roles"> & { addresses: Record<string, string> };

/** Per record file: its summary, as of the file's inode (records are replaced atomically), modification time and size. */
const summaries = new Map<string, { ino: number; mtimeMs: number; size: number; summary: DeploymentSummary }>();

/**
 * The addresses and role holders of a network's deployment record. Parses the record (ABIs
 * included) only when the file changed since the last call: a task step needs these, not the
 * ABIs (issue 20).
 * @throws DeploymentNotFoundError as readDeployment
 */
export function deploymentSummary(network: string): DeploymentSummary {
  const file = deploymentFile(network);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch {
    st = undefined; // readDeployment throws its "no deployment" error
  }
  const hit = st && summaries.get(file);
  if (st && hit && hit.ino === st.ino && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.summary;
  const d = readDeployment(network);
  const summary: DeploymentSummary = {
    deployer: d.deployer,
    roles: d.roles,
    addresses: Object.fromEntries(Object.entries(d.contracts).map(([k, c]) => [k, c.address])),
  };
  if (st) summaries.set(file, { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, summary });
  return summary;
}

export function readDeployment(network: string): Deployment {
  const file = deploymentFile(network);
  if (!fs.existsSync(file)) {
    throw new DeploymentNotFoundError(
      `no deployment for network "${network}" (${file}); run \`npx hardhat deploy --network ${network}\` first`,
    );
  }
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Deployment;
  } catch {
    throw new DeploymentNotFoundError(`deployment record ${file} does not parse; run deploy again`);
  }
}

/**
 * Why an election key is not this deployment's, or undefined when it is: its check value
 * (registration.ts electionKeyCheck) differs from the record's `electionKeyCheck`, or the record
 * has none (a deployment from before it was recorded). The caller names its flag before the reason.
 * @param key - the election key
 * @param network - the network whose record decides
 * @throws DeploymentNotFoundError as readDeployment
 */
export async function electionKeyMismatch(key: Uint8Array, network: string): Promise<string | undefined> {
  const recorded = readDeployment(network).electionKeyCheck;
  const file = `deployments/${network}.json`;
  if (recorded === undefined)
    return `${file} records no election key check (deployed before it was recorded), so no key can be told to be the deployment's: \`deploy --fresh --election-key <file>\` deploys anew with one`;
  const { electionKeyCheck } = await import("../mssa/registration");
  if (electionKeyCheck(key).toLowerCase() !== recorded.toLowerCase())
    return `not the deployment's election key (its check value differs from ${file}'s electionKeyCheck): use the file given to \`deploy --election-key\``;
  return undefined;
}
