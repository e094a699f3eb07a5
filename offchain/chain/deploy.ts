/**
 * The one deployment path: deploys {@link SYSTEM_CONTRACTS} in order, runs their wiring, checks
 * the network's EIP-2537 support and writes deployments/<network>.json.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { MetatrustError } from "../errors";
import { Deployment, saveDeployment } from "./deployments";
import { probeEip2537 } from "./eip2537";
import { DeployContext, SYSTEM_CONTRACTS } from "./system";

/** The target network lacks something metatrust needs. */
export class NetworkUnsupportedError extends MetatrustError {
  constructor(message: string) {
    super("NETWORK_UNSUPPORTED", message);
  }
}

/** Options of {@link deploySystem}. */
export type DeployOptions = {
  /** Write deployments/<network>.json (default true). */
  write?: boolean;
  /** Progress lines go here (default: silent). */
  log?: (line: string) => void;
  /** Refuse a network without EIP-2537 (default true). */
  requireEip2537?: boolean;
};

/**
 * Deploys the system to `hre.network`.
 * @param hre - the Hardhat runtime
 * @param opts - options
 * @returns the deployment record
 * @throws NetworkUnsupportedError when EIP-2537 is required and absent
 */
export async function deploySystem(hre: HardhatRuntimeEnvironment, opts: DeployOptions = {}): Promise<Deployment> {
  const log = opts.log ?? (() => {});
  const [deployer] = await hre.ethers.getSigners();
  if (!deployer) throw new NetworkUnsupportedError(`network "${hre.network.name}" has no account to deploy from (set PRIVATE_KEY)`);
  const provider = hre.ethers.provider;
  const { chainId } = await provider.getNetwork();
  const eip2537 = await probeEip2537(provider);
  log(`network ${hre.network.name} (chain ${chainId}), deployer ${deployer.address}, EIP-2537 ${eip2537 ? "available" : "ABSENT"}`);
  if (!eip2537 && opts.requireEip2537 !== false) {
    throw new NetworkUnsupportedError(
      `network "${hre.network.name}" does not run the EIP-2537 BLS12-381 precompiles (Prague); metatrust's on-chain pairing checks need them`,
    );
  }
  const ctx: DeployContext = { hre, deployer, deployed: {} };
  for (const spec of SYSTEM_CONTRACTS) {
    const factory = await hre.ethers.getContractFactory(spec.name, deployer);
    const c = await factory.deploy(...(await spec.args(ctx)));
    const receipt = await c.deploymentTransaction()!.wait();
    ctx.deployed[spec.name] = { address: await c.getAddress(), block: receipt!.blockNumber, txHash: receipt!.hash };
    log(
      `  ${spec.name.padEnd(28)} ${ctx.deployed[spec.name].address}  block ${receipt!.blockNumber}  gas ${receipt!.gasUsed}  (${spec.purpose})`,
    );
  }
  for (const spec of SYSTEM_CONTRACTS) if (spec.wire) await spec.wire(ctx);
  const d: Deployment = {
    network: hre.network.name,
    chainId: Number(chainId),
    deployer: deployer.address,
    eip2537,
    deployedAt: new Date().toISOString(),
    contracts: ctx.deployed,
  };
  if (SYSTEM_CONTRACTS.length === 0) log("  (no system contracts yet: the capabilities add theirs to offchain/chain/system.ts)");
  if (opts.write !== false) log(`deployment written to ${saveDeployment(d)}`);
  return d;
}
