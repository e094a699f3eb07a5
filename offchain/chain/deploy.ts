/**
 * The one deployment path: deploys {@link SYSTEM_CONTRACTS} in order, runs their wiring, checks
 * the network's EIP-2537 support and writes deployments/<network>.json.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { MetatrustError } from "../errors";
import fs from "fs";
import { keccak256, toUtf8Bytes } from "ethers";
import { Deployment, saveDeployment } from "./deployments";
import { deploymentFile } from "./paths";
import { probeEip2537 } from "./eip2537";
import { DeployContext, SYSTEM_CONTRACTS, genesisDocumentsChecked, mssaGenesis, operatorElectionKey, trustRoleHolders } from "./system";
import { minedReceipt } from "./mined";

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
  /**
   * Reuse the network's record (the `deploy` task): a complete record whose contracts still have
   * code and match the current artifacts is kept as is (nothing sent); an interrupted deployment
   * resumes where it stopped. Default false: always deploy anew (tests, the demo, benchmarks).
   */
  resume?: boolean;
  /**
   * The operators' accounts (the `deploy` task: the role accounts `msrp`, `idp`, `detector`,
   * `registrar` and `arbiter`). The deployer grants them MSRP_ROLE, IDP_ROLE, DETECTOR_ROLE (the
   * TrustManager's and the AuthorityElection's), REGISTRAR_ROLE and ARBITER_ROLE and gives up its
   * own; it stays the admin. Default (tests, the demo and benchmarks, in one process): the deployer
   * holds the MSRP, IdP, registrar and arbiter roles; the detector is the role account `detector`
   * (a development node's account 18) on both contracts.
   */
  roles?: { msrp?: string; idp?: string; detector?: string; registrar?: string; arbiter?: string };
  /**
   * The genesis authorities' identity documents, in order (the `deploy` task's --genesis-documents):
   * the operator computes each one's election nullifier from it with the deployment's election key
   * (s20-redm F5). Required off a development node; there the default is a simulated document each
   * (system.ts devGenesisDocument).
   */
  genesisDocuments?: readonly string[];
  /**
   * The deployment's election key (the `deploy` task's --election-key: 32 bytes of hex), imported
   * into the network's keystore before the election is deployed; the same file goes to every
   * place's `mssa:serve --election-key`. Default: the keystore's (`mssa-electionkey`), made if absent.
   * A keystore holding another key is refused; so is a key other than a recorded election's.
   */
  electionKey?: string;
};

/** A recorded deployment that no longer matches the chain or the artifacts. */
export class DeploymentStaleError extends MetatrustError {
  constructor(message: string) {
    super("DEPLOYMENT_NOT_FOUND", message);
  }
}

/** The keccak256 of an artifact's creation bytecode and of its ABI. */
async function artifactHashes(hre: HardhatRuntimeEnvironment, name: string) {
  const a = await hre.artifacts.readArtifact(name);
  return { bytecodeHash: keccak256(a.bytecode), abiHash: keccak256(toUtf8Bytes(JSON.stringify(a.abi))) };
}

/** The record `deploy` may resume from: this chain's, with code at every recorded address. */
async function resumable(hre: HardhatRuntimeEnvironment, chainId: number): Promise<Deployment | undefined> {
  const file = deploymentFile(hre.network.name);
  if (!fs.existsSync(file)) return undefined;
  let d: Deployment;
  try {
    d = JSON.parse(fs.readFileSync(file, "utf8")) as Deployment;
  } catch {
    return undefined;
  }
  if (d.chainId !== chainId) return undefined;
  for (const c of Object.values(d.contracts)) if ((await hre.ethers.provider.getCode(c.address)) === "0x") return undefined; // chain reset
  return d;
}

/**
 * Who holds each operator role: the resumed record's holders, else the options, else the defaults
 * ({@link DeployOptions.roles}). A record from before the AuthorityElection's roles had accounts of
 * their own, whose election is already wired, keeps them with the deployer (as the chain does).
 */
async function roleHolders(
  hre: HardhatRuntimeEnvironment,
  deployer: string,
  given: DeployOptions["roles"],
  prior: Deployment | undefined,
): Promise<Required<NonNullable<Deployment["roles"]>>> {
  const p = prior?.roles;
  const legacyElection = prior?.wired?.includes("AuthorityElection") ? deployer : undefined;
  const detector = p?.detector ?? legacyElection ?? given?.detector ?? (await trustRoleHolders(hre)).detector;
  return {
    admin: p?.admin ?? deployer,
    msrp: p?.msrp ?? given?.msrp ?? deployer,
    idp: p?.idp ?? given?.idp ?? deployer,
    detector,
    registrar: p?.registrar ?? legacyElection ?? given?.registrar ?? deployer,
    arbiter: p?.arbiter ?? legacyElection ?? given?.arbiter ?? deployer,
  };
}

/**
 * The checks of `deploy`'s inputs that read the chain, the record and the keystore but write
 * nothing, so a refused input changes nothing in any keystore (s21-review1 findings 7 and 8): the
 * election key is 32 bytes of hex and not another key than the keystore's; on a resumed deployment
 * whose AuthorityElection is recorded, --genesis-documents is refused (the genesis is fixed) and
 * --election-key must be the recorded election's (its check value); otherwise the genesis
 * documents are checked (system.ts genesisDocumentsChecked). The `deploy` task runs it before it
 * makes any role key; {@link deploySystem} runs it again before anything is sent.
 * @returns the record a resumed deployment starts from (undefined: a new deployment)
 * @throws RangeError naming --genesis-documents or --election-key; DeploymentStaleError
 */
export async function deployPreflight(
  hre: HardhatRuntimeEnvironment,
  opts: Pick<DeployOptions, "resume" | "genesisDocuments" | "electionKey">,
): Promise<Deployment | undefined> {
  const { chainId } = await hre.ethers.provider.getNetwork();
  const prior = opts.resume ? await resumable(hre, Number(chainId)) : undefined;
  if (prior)
    for (const spec of SYSTEM_CONTRACTS) {
      const c = prior.contracts[spec.name];
      if (!c) continue;
      const h = await artifactHashes(hre, spec.name);
      if (c.bytecodeHash && c.bytecodeHash !== h.bytecodeHash)
        throw new DeploymentStaleError(
          `deploy: ${spec.name} changed since it was deployed at ${c.address} on ${hre.network.name}; \`deploy --fresh\` deploys everything anew (the keystore's records of the old deployment then no longer apply)`,
        );
    }
  const file = `deployments/${hre.network.name}.json`;
  let key: Uint8Array | undefined;
  if (opts.electionKey !== undefined) {
    const t = opts.electionKey.trim().replace(/^0x/, "").toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(t)) throw new RangeError("deploy: --election-key: the key must be 32 bytes of hex (64 characters)");
    key = Uint8Array.from(Buffer.from(t, "hex"));
    const held = await operatorElectionKey(hre, false);
    if (held && Buffer.from(held).toString("hex") !== t)
      throw new RangeError(
        `deploy: --election-key: this network's keystore already holds another election key (mssa-electionkey), rotating it is not supported: give that key's file, or deploy from another data folder (METATRUST_DATA_DIR)`,
      );
  }
  if (prior?.contracts.AuthorityElection) {
    if (opts.genesisDocuments !== undefined)
      throw new RangeError(
        `deploy: --genesis-documents: the AuthorityElection of ${file} is deployed already and its genesis is fixed, so they would have no effect: leave them out, or add --fresh to deploy anew`,
      );
    if (key) {
      const { electionKeyCheck } = await import("../mssa/registration");
      if (prior.electionKeyCheck === undefined)
        throw new RangeError(
          `deploy: --election-key: ${file} records no election key check (deployed before it was recorded), so this key cannot be told to be its election's: add --fresh to deploy anew with it`,
        );
      if (electionKeyCheck(key) !== prior.electionKeyCheck)
        throw new RangeError(
          `deploy: --election-key: not the election key of ${file} (its check value differs), which computed the genesis authorities' election nullifiers: give that key's file, or add --fresh to deploy anew`,
        );
    }
  } else await genesisDocumentsChecked(hre.network.name, opts.genesisDocuments);
  return prior;
}

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
  // every input checked before anything is written or sent (findings 7 and 8)
  const prior = await deployPreflight(hre, opts);
  // a matching --election-key on a recorded election: kept in the keystore (mssa:enrol --document reads it there)
  if (prior?.contracts.AuthorityElection && opts.electionKey !== undefined) await operatorElectionKey(hre, true, opts.electionKey);
  if (prior) {
    if (prior.complete !== false && SYSTEM_CONTRACTS.every((x) => prior.contracts[x.name])) {
      log(`up to date: every contract of deployments/${hre.network.name}.json has its code on chain ${chainId}; nothing sent`);
      return prior;
    }
    log(`resuming the deployment recorded in deployments/${hre.network.name}.json`);
  }
  const roles = await roleHolders(hre, deployer.address, opts.roles, prior);
  const ctx: DeployContext = {
    hre,
    deployer,
    deployed: { ...(prior?.contracts ?? {}) },
    roles,
    genesisDocuments: opts.genesisDocuments,
    electionKey: opts.electionKey,
  };
  // the election key is made or imported (after the inputs were checked) before anything is sent;
  // its check value goes into the record with the election
  const keyCheck = ctx.deployed.AuthorityElection ? undefined : (await mssaGenesis(ctx)).electionKeyCheck;
  const d: Deployment = {
    network: hre.network.name,
    chainId: Number(chainId),
    deployer: prior?.deployer ?? deployer.address,
    eip2537,
    deployedAt: prior?.deployedAt ?? new Date().toISOString(),
    roles,
    contracts: ctx.deployed,
    wired: [...(prior?.wired ?? [])],
    complete: false,
    ...(prior?.electionKeyCheck !== undefined ? { electionKeyCheck: prior.electionKeyCheck } : {}),
  };
  // The record is written after every step, so an interrupted run resumes instead of starting over.
  const checkpoint = () => {
    if (opts.write !== false) saveDeployment(d);
  };
  for (const spec of SYSTEM_CONTRACTS) {
    if (ctx.deployed[spec.name]) {
      log(`  ${spec.name.padEnd(28)} ${ctx.deployed[spec.name].address}  (kept)`);
      continue;
    }
    const factory = await hre.ethers.getContractFactory(spec.name, deployer);
    const args = await spec.args(ctx);
    const c = await factory.deploy(...args);
    const receipt = await minedReceipt(c.deploymentTransaction()!);
    ctx.deployed[spec.name] = {
      address: await c.getAddress(),
      block: receipt!.blockNumber,
      txHash: receipt!.hash,
      args: JSON.parse(JSON.stringify(args, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))) as unknown[],
      abi: (await hre.artifacts.readArtifact(spec.name)).abi as unknown[],
      ...(await artifactHashes(hre, spec.name)),
    };
    if (spec.name === "AuthorityElection") d.electionKeyCheck = keyCheck;
    checkpoint();
    log(
      `  ${spec.name.padEnd(28)} ${ctx.deployed[spec.name].address}  block ${receipt!.blockNumber}  gas ${receipt!.gasUsed}  (${spec.purpose})`,
    );
  }
  for (const spec of SYSTEM_CONTRACTS)
    if (spec.wire && !d.wired!.includes(spec.name)) {
      await spec.wire(ctx);
      d.wired!.push(spec.name);
      checkpoint();
    }
  d.complete = true;
  log(
    `roles: admin ${roles.admin} (the deployer), MSRP ${roles.msrp}, IdP ${roles.idp}, detector ${roles.detector}, election registrar ${roles.registrar}, arbiter ${roles.arbiter}`,
  );
  if (SYSTEM_CONTRACTS.length === 0) log("  (no system contracts yet: the capabilities add theirs to offchain/chain/system.ts)");
  if (opts.write !== false) log(`deployment written to ${saveDeployment(d)}`);
  return d;
}
