/** Where a network's local state lives: the data folder and the deployment record. */
import path from "path";

/**
 * The data folder of a network: METATRUST_DATA_DIR/<network>, default `.metatrust/<network>`.
 * Holds the embedded IPFS store (`ipfs/`) and the agents' keystore (`keystore/`).
 * @param network - the Hardhat network name
 * @param env - the environment
 * @returns the absolute folder path
 */
export function dataDir(network: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.METATRUST_DATA_DIR ?? ".metatrust", network);
}

/**
 * The deployment record of a network: METATRUST_DEPLOYMENTS_DIR/<network>.json, default
 * `deployments/<network>.json`.
 */
export function deploymentFile(network: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.METATRUST_DEPLOYMENTS_DIR ?? "deployments", `${network}.json`);
}
