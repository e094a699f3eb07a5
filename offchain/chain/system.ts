/**
 * The contracts that make up a metatrust deployment, in deployment order, with the role wiring
 * each one needs. The `deploy` task, the test fixtures and the demo all deploy from this list, so
 * there is one deployment path. Each capability appends its contracts here.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { ContractTransactionResponse, Signer } from "ethers";
import type { DeployedContract } from "./deployments";
import { DEFAULT_MODEL, DEFAULT_THRESHOLDS } from "../trust/fixed";
import { DEFAULT_DISPUTE_PARAMS } from "../disputes/params";
import { DEFAULT_ELECTION_PARAMS } from "../mssa/election";
import path from "path";
import { devRoleSigner, roleAccounts } from "./accounts";
import { dataDir } from "./paths";
import { Keystore } from "../storage/keystore";
import { minedReceipt } from "./mined";
import { checkBoundCourt } from "./court";
import { hexlify, randomBytes } from "ethers";

/** What a contract's constructor arguments and wiring may depend on. */
export type DeployContext = {
  hre: HardhatRuntimeEnvironment;
  deployer: Signer;
  /** Contracts deployed so far in this run, by name. */
  deployed: Record<string, DeployedContract>;
  /** Who holds the operator roles (deployments.ts Deployment.roles; deploy.ts DeployOptions.roles says the defaults). */
  roles?: { admin: string; msrp: string; idp: string; detector?: string; registrar?: string; arbiter?: string };
  /** The genesis authorities' identity documents (deploy.ts DeployOptions.genesisDocuments). */
  genesisDocuments?: readonly string[];
  /** The election key to import (deploy.ts DeployOptions.electionKey), as hex. */
  electionKey?: string;
};

/**
 * Hands `role` of an AccessControl contract from the deployer to `holder` (nothing when the
 * deployer is the holder). Idempotent, so an interrupted wiring step can run again.
 */
async function handOver(
  c: {
    hasRole(role: string, a: string): Promise<boolean>;
    grantRole(role: string, a: string): Promise<ContractTransactionResponse>;
    renounceRole(role: string, a: string): Promise<ContractTransactionResponse>;
  },
  role: string,
  deployer: Signer,
  holder: string | undefined,
): Promise<void> {
  const me = await deployer.getAddress();
  if (!holder || holder.toLowerCase() === me.toLowerCase()) return;
  if (!(await c.hasRole(role, holder))) await minedReceipt(c.grantRole(role, holder));
  if (await c.hasRole(role, me)) await minedReceipt(c.renounceRole(role, me));
}

/** One system contract. */
export type ContractSpec = {
  /** Artifact name (also the key in deployments/<network>.json). */
  name: string;
  /** One-line purpose, printed by `deploy`. */
  purpose: string;
  /** Constructor arguments. */
  args: (ctx: DeployContext) => unknown[] | Promise<unknown[]>;
  /** Role grants and links to other contracts, run after every contract is deployed. */
  wire?: (ctx: DeployContext) => Promise<void>;
};

/** The system, in deployment order. */
export const SYSTEM_CONTRACTS: ContractSpec[] = [
  {
    name: "ResourcePoolRegistry",
    purpose: "RSMS pools, Bloom-filter roots, pseudonym records",
    // The deployer is the admin; MSRP_ROLE goes to the MSRP's account (role `msrp`) at wiring.
    // RPM roles are granted per pool.
    args: async ({ deployer }) => [await deployer.getAddress()],
    wire: async ({ hre, deployer, deployed, roles }) => {
      const reg = await hre.ethers.getContractAt("ResourcePoolRegistry", deployed.ResourcePoolRegistry.address, deployer);
      await handOver(reg, await reg.MSRP_ROLE(), deployer, roles?.msrp);
    },
  },
  {
    name: "ServiceGroupRegistry",
    purpose: "RSMS service groups, members, key commitments and epochs",
    args: async ({ deployer, deployed }) => [await deployer.getAddress(), deployed.ResourcePoolRegistry.address],
    wire: async ({ hre, deployer, deployed, roles }) => {
      const groups = await hre.ethers.getContractAt("ServiceGroupRegistry", deployed.ServiceGroupRegistry.address, deployer);
      await handOver(groups, await groups.MSRP_ROLE(), deployer, roles?.msrp);
    },
  },
  {
    name: "TrustManager",
    purpose: "trust store with decay, identity factor, reputations, agreements, attack flags",
    args: async ({ deployer }) => [await deployer.getAddress(), DEFAULT_MODEL, DEFAULT_THRESHOLDS.trustMin, DEFAULT_THRESHOLDS.trustMax],
    // Resource nodes are identity-verified by the pool registry (a PID with a join record). The
    // oracle and the attack detector are separate accounts, never the admin (docs/specs/trust.md
    // §3, roles): the contract refuses one account holding two roles. The detector is the one the
    // record names (role `detector` by default); it is also the AuthorityElection's detector.
    wire: async ({ hre, deployer, deployed, roles }) => {
      const tm = await hre.ethers.getContractAt("TrustManager", deployed.TrustManager.address, deployer);
      await minedReceipt(tm.setVerifier(3, deployed.ResourcePoolRegistry.address));
      const holders = await trustRoleHolders(hre);
      await minedReceipt(tm.grantRole(await tm.DETECTOR_ROLE(), roles?.detector ?? holders.detector));
      await minedReceipt(tm.grantRole(await tm.ORACLE_ROLE(), holders.oracle));
    },
  },
  {
    name: "MITRegistry",
    purpose: "metaverse identity tokens, avatars, delegations, trace cases",
    args: async ({ deployer }) => [await deployer.getAddress()],
    // Avatars are identity-verified by the MIT registry (kind 1 in the TrustManager). The deployer
    // is the admin; IDP_ROLE goes to the IdP's account (role `idp`).
    wire: async ({ hre, deployer, deployed, roles }) => {
      const tm = await hre.ethers.getContractAt("TrustManager", deployed.TrustManager.address, deployer);
      if ((await tm.verifierOf(1)).toLowerCase() !== deployed.MITRegistry.address.toLowerCase())
        await minedReceipt(tm.setVerifier(1, deployed.MITRegistry.address));
      const mit = await hre.ethers.getContractAt("MITRegistry", deployed.MITRegistry.address, deployer);
      await handOver(mit, await mit.IDP_ROLE(), deployer, roles?.idp);
    },
  },
  {
    name: "CPSVerifier",
    purpose: "chameleon proxy signature verification through EIP-2537",
    args: async () => [],
  },
  {
    name: "DisputeResolution",
    purpose: "reputation-weighted commit-reveal disputes, feedback to the trust manager",
    args: async ({ deployed }) => [deployed.TrustManager.address, deployed.MITRegistry.address, DEFAULT_DISPUTE_PARAMS],
    // Dispute outcomes feed reputations back (voters, losing party). The feedback role is bound
    // once, to this contract: nobody (the admin included) can be granted it afterwards. An avatar
    // dispute claims its trace case in the MITRegistry and rules on it at resolve: the court holds
    // the registry's COURT_ROLE (granted by the registry's admin, the deployer).
    wire: async ({ hre, deployer, deployed }) => {
      const mit = await hre.ethers.getContractAt("MITRegistry", deployed.MITRegistry.address, deployer);
      // a registry kept from an earlier run may bind another court (the role binds once): named
      // before anything is sent, not a raw revert
      await checkBoundCourt(mit, deployed.DisputeResolution.address, "deploy", true);
      const tm = await hre.ethers.getContractAt("TrustManager", deployed.TrustManager.address, deployer);
      await minedReceipt(tm.grantRole(await tm.FEEDBACK_ROLE(), deployed.DisputeResolution.address));
      if (!(await mit.hasRole(await mit.COURT_ROLE(), deployed.DisputeResolution.address)))
        await minedReceipt(mit.grantRole(await mit.COURT_ROLE(), deployed.DisputeResolution.address));
      await checkBoundCourt(mit, deployed.DisputeResolution.address, "deploy");
    },
  },
  {
    name: "AuthorityElection",
    purpose: "MSSA authority election: Borda count weighted by misbehaviour",
    args: async (ctx) => {
      const { genesis, genesisNullifiers, params } = await mssaGenesis(ctx);
      return [await ctx.deployer.getAddress(), params, genesis, genesisNullifiers];
    },
    // The constructor gives the deployer REGISTRAR_ROLE and ARBITER_ROLE; they go to the role
    // accounts `registrar` and `arbiter` (the deployer keeps them when the record names it). The
    // trust layer's detector (role `detector`, the TrustManager's DETECTOR_ROLE) is also the one
    // account that may report misbehaviour alone: docs/deploy.md, "The detector", says why one.
    wire: async ({ hre, deployer, deployed, roles }) => {
      const el = await hre.ethers.getContractAt("AuthorityElection", deployed.AuthorityElection.address, deployer);
      const detector = roles?.detector ?? (await trustRoleHolders(hre)).detector;
      if (!(await el.hasRole(await el.DETECTOR_ROLE(), detector))) await minedReceipt(el.grantRole(await el.DETECTOR_ROLE(), detector));
      await handOver(el, await el.REGISTRAR_ROLE(), deployer, roles?.registrar);
      await handOver(el, await el.ARBITER_ROLE(), deployer, roles?.arbiter);
    },
  },
  {
    name: "CredentialLedger",
    purpose: "MSSA credential commitments approved by k of a place's authorities",
    args: async ({ deployer, deployed }) => [await deployer.getAddress(), deployed.AuthorityElection.address],
    // Users whose registration is approved become members of the election (the M active users).
    wire: async ({ hre, deployer, deployed }) => {
      const el = await hre.ethers.getContractAt("AuthorityElection", deployed.AuthorityElection.address, deployer);
      await minedReceipt(el.grantRole(await el.REGISTRAR_ROLE(), deployed.CredentialLedger.address));
    },
  },
];

/** Development nodes: the signer indices of the detector and oracle roles (accounts.ts devRoleSigner). */
export const TRUST_ROLE_SIGNERS = { detector: devRoleSigner("detector")!, oracle: devRoleSigner("oracle")! } as const;

/**
 * The TrustManager's detector and oracle: the role accounts `detector` and `oracle` (a key from the
 * environment or generated into the network's keystore; on a development node without one, its
 * accounts 18 and 19). A generated key is funded when it first signs, not here.
 * @param hre - the runtime
 */
export async function trustRoleHolders(hre: HardhatRuntimeEnvironment): Promise<{ detector: string; oracle: string }> {
  const accounts = deployRoles(hre);
  return { detector: await accounts.address("detector"), oracle: await accounts.address("oracle") };
}

/**
 * The identity document of a development node's genesis authority `authority:<i>`: SIMULATED (a
 * made-up passport of the fictional state UTO; no real person holds it), so that every genesis
 * authority carries an election nullifier on a development node too (s20-redm F5).
 */
export function devGenesisDocument(i: number): string {
  return `passport:UTO:G${String(i).padStart(7, "0")}`;
}

/**
 * The deployment's election key, as the operator holds it: the record ELECTION_KEY_RECORD of the
 * network's keystore (the one `mssa:enrol --document` and `mssa:register --elector` use in-process
 * and the operator hands to the authorities of every place, `mssa:serve --election-key`). With
 * `create`: `given` (hex, `deploy --election-key`) is imported, or without it one is made (32
 * random bytes) when the keystore holds none.
 * @returns the key, or undefined when there is none and `create` is false
 * @throws RangeError naming --election-key when `given` is not 32 bytes of hex or the keystore
 *   holds another key (nothing written)
 */
export async function operatorElectionKey(
  hre: HardhatRuntimeEnvironment,
  create: boolean,
  given?: string,
): Promise<Uint8Array | undefined> {
  const { ELECTION_KEY_RECORD, importElectionKey, loadElectionKey } = await import("../services/mssa/authority-service");
  const keystore = new Keystore(path.join(dataDir(hre.network.name), "keystore"));
  if (create && given !== undefined)
    try {
      importElectionKey(keystore, given);
    } catch (e) {
      throw new RangeError(`deploy: --election-key: ${(e as Error).message.replace(/^importElectionKey: /, "")}`);
    }
  else if (create && !keystore.exists(ELECTION_KEY_RECORD))
    keystore.create(ELECTION_KEY_RECORD, { key: hexlify(randomBytes(32)).slice(2) });
  return loadElectionKey(keystore);
}

/**
 * The genesis authorities' identity documents, checked: `genesisDocuments` (required off a
 * development node), or on a development node {@link devGenesisDocument} each; one per seat, each a
 * passport in its canonical form, no two naming one person. Reads nothing and writes nothing, so
 * `deploy` runs it before it makes or imports any key (s21-review1 finding 7).
 * @returns the documents, in order
 * @throws RangeError naming --genesis-documents
 */
export async function genesisDocumentsChecked(network: string, genesisDocuments: readonly string[] | undefined): Promise<string[]> {
  const seats = DEFAULT_ELECTION_PARAMS.seats;
  const dev = network === "hardhat" || network === "localhost";
  if (genesisDocuments === undefined && !dev)
    throw new RangeError(
      `deploy: --genesis-documents is required on ${network}: the identity documents of the ${seats} genesis authorities, in order, so that each carries its election nullifier`,
    );
  const docs = genesisDocuments ? [...genesisDocuments] : Array.from({ length: seats }, (_, i) => devGenesisDocument(i + 1));
  if (docs.length !== seats)
    throw new RangeError(
      `deploy: --genesis-documents names ${docs.length} documents; the genesis has ${seats} authorities (one each, in order)`,
    );
  const { canonicalIdentity, identityDocument } = await import("../mssa/registration");
  const canonical = docs.map((d, i) => {
    try {
      // the document of the identity type (a passport), as every authority computes e (mssa.md §1.9)
      return canonicalIdentity(identityDocument([d]));
    } catch (e) {
      throw new RangeError(`deploy: --genesis-documents: the document of authority:${i + 1}: ${(e as Error).message}`);
    }
  });
  const twice = canonical.findIndex((c, i) => canonical.indexOf(c) !== i);
  if (twice >= 0)
    throw new RangeError(
      `deploy: --genesis-documents: authority:${twice + 1} and authority:${canonical.indexOf(canonical[twice]) + 1} have one identity document: one person, one genesis authority`,
    );
  return docs;
}

/**
 * Round 0's authorities: the role accounts `authority:1` .. `authority:<seats>` (on a development
 * node without keys of their own, its accounts 1..seats), and their election nullifiers (s20-redm
 * F5: every member carries one), computed by the operator with the deployment's election key
 * ({@link operatorElectionKey}: `deploy --election-key`'s, imported, else the keystore's, made if
 * absent) from each authority's identity document ({@link genesisDocumentsChecked}, checked before
 * any key is made or imported), and the key's check value for the deployment record.
 * @throws RangeError naming --genesis-documents or --election-key
 */
export async function mssaGenesis({ hre, genesisDocuments, electionKey }: DeployContext) {
  const docs = await genesisDocumentsChecked(hre.network.name, genesisDocuments);
  const accounts = deployRoles(hre);
  const genesis: string[] = [];
  for (let i = 1; i <= docs.length; i++) genesis.push(await accounts.address(`authority:${i}`));
  const { electorNullifier, electionKeyCheck, identityDocument } = await import("../mssa/registration");
  const key = (await operatorElectionKey(hre, true, electionKey))!;
  const genesisNullifiers = docs.map((d) => electorNullifier(key, identityDocument([d])));
  return { genesis, genesisNullifiers, params: { ...DEFAULT_ELECTION_PARAMS }, electionKeyCheck: electionKeyCheck(key) };
}

/** The role accounts of the network being deployed to (keys in its keystore or the environment). */
function deployRoles(hre: HardhatRuntimeEnvironment) {
  return roleAccounts(hre, new Keystore(path.join(dataDir(hre.network.name), "keystore")));
}
