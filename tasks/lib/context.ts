/**
 * What every task needs: the network's keystore and content store, the deployment record, and
 * the chain contracts, with clear errors when the deployment is missing or stale.
 */
import path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { dataDir } from "../../offchain/chain/paths";
import { DeploymentNotFoundError, deploymentSummary } from "../../offchain/chain/deployments";
import { createContentStore } from "../../offchain/storage/content-store";
import { Keystore } from "../../offchain/storage/keystore";
import { UnknownAccountError, ethersProvider, roleAccounts, roleEnvVar, roleRecord } from "../../offchain/chain/accounts";
import { onChainReset } from "../../offchain/chain/reset";

export { ethersProvider, roleAccounts };
import type { Signer } from "ethers";

/** The local state of the current network. */
export function localState(hre: HardhatRuntimeEnvironment) {
  const dir = dataDir(hre.network.name);
  return { dir, keystore: new Keystore(path.join(dir, "keystore")), store: createContentStore(dir) };
}

/**
 * Per runtime (keyed by its network: each task run gets a proxy of the runtime, not the runtime
 * itself): the addresses found to hold code (see deployedAddress). Forgotten when the process
 * finds the chain reset or gone back under it (offchain/chain/reset.ts: a write mined with no event
 * from its contract, the join view's cursor block replaced; s27-fxc): every address is checked again.
 */
let codeSeen = new WeakMap<object, Set<string>>();
onChainReset(() => {
  codeSeen = new WeakMap();
});

/**
 * The address of a deployed system contract, checked to have code on the current chain.
 * @throws DeploymentNotFoundError when there is no record, or the chain no longer has the code
 */
export async function deployedAddress(hre: HardhatRuntimeEnvironment, name: string): Promise<string> {
  const address = deploymentSummary(hre.network.name).addresses[name];
  if (!address)
    throw new DeploymentNotFoundError(
      `${name} is not in deployments/${hre.network.name}.json; run \`npx hardhat deploy --network ${hre.network.name}\``,
    );
  // Code, once seen at an address, stays (contracts cannot delete their code since Cancun): one
  // eth_getCode per address per process, not one per step. (A development chain reset under a
  // running process is noticed by what reads or writes there: a fast-path write mined with no
  // event from its contract fails and forgets what was seen, offchain/chain/reset.ts.)
  let seen = codeSeen.get(hre.network);
  if (!seen) codeSeen.set(hre.network, (seen = new Set()));
  if (seen.has(address)) return address;
  if ((await ethersProvider(hre).getCode(address)) === "0x") {
    const hint =
      hre.network.name === "hardhat"
        ? "the in-process network forgets everything when a command ends: start `npx hardhat node` and use --network localhost, or run `npm run demo`"
        : "the chain was reset since the deployment: run deploy again";
    throw new DeploymentNotFoundError(`no code at ${name}'s recorded address ${address} on ${hre.network.name}: ${hint}`);
  }
  seen.add(address);
  return address;
}

/**
 * How a task uses an account given on the command line: the flag that named it (every refusal names
 * it), and `create` for the few tasks whose job is to make an account (`trust:register --account`,
 * `mssa:register --user`, `mssa:enrol --member`, `rsms:rpm:register`, `idp:setup`, `rsms:setup`).
 * Every other task refuses a role name that has no key here before it writes or sends anything
 * (s22-redo R1: `dispute:withdraw --account arbitr` made a key and funded it from the operator).
 */
export type AccountFlag = {
  flag: string;
  create?: boolean;
  /** top the account's key up when low (default true); false for a key that only signs off-chain (a consent) */
  fund?: boolean;
};

/**
 * Resolves an account given on the command line: a role name with a key here (METATRUST_KEY_<ROLE>,
 * the keystore, or a development node's fixed account; generated into the keystore only with
 * `create`), an address, or on development nodes a signer index (offchain/chain/accounts.ts). Sends nothing.
 * @param hre - the runtime
 * @param account - "alice", "rpm:1", "0xabc..." or "3"
 * @param use - the flag that named it, and whether a new role name gets a key
 * @throws UnknownAccountError (exit 2) naming the flag, for a name that is no account here
 */
export async function resolveAccount(hre: HardhatRuntimeEnvironment, account: string, use: AccountFlag): Promise<string> {
  return roleAccounts(hre, localState(hre).keystore).address(account, { flag: use.flag, create: use.create === true });
}

/** The signer of an account given as `resolveAccount` takes it (a role key, an address this process holds a key for, an index); a role key is funded when low. */
export async function accountSigner(hre: HardhatRuntimeEnvironment, account: string, use: AccountFlag): Promise<Signer> {
  return roleAccounts(hre, localState(hre).keystore).signer(account, { flag: use.flag, create: use.create === true, fund: use.fund });
}

/** The operator roles a deployment names (deployments.ts Deployment.roles). */
export type OperatorRole = "msrp" | "idp" | "detector" | "registrar" | "arbiter";
export const OPERATOR_NAME: Record<OperatorRole, string> = {
  msrp: "MSRP",
  idp: "IdP",
  detector: "detector",
  registrar: "election registrar",
  arbiter: "arbiter",
};

/**
 * The account deployments/<network>.json names for an operator role: the deployer in a record from
 * before the role had an account of its own (for `detector`: the AuthorityElection's, which was the
 * deployer's; the TrustManager's was already role `detector`).
 */
export function operatorAddress(hre: HardhatRuntimeEnvironment, role: OperatorRole): string {
  const d = deploymentSummary(hre.network.name);
  return d.roles?.[role] ?? d.deployer;
}

/**
 * The signer of one of the deployment's operators (the MSRP, the IdP, the detector, the election's
 * registrar or arbiter): the account deployments/<network>.json names for the role
 * ({@link operatorAddress}), signing with the key this machine holds for it (METATRUST_KEY_<ROLE>,
 * the keystore's role key, or one of the network's accounts); on a machine that holds no key for
 * it, this machine's own key for the role when it has one (an operator granted the role after
 * deployment).
 * @throws UnknownAccountError (exit 2) when this machine holds no key for that account
 */
export async function operatorSigner(hre: HardhatRuntimeEnvironment, role: OperatorRole): Promise<Signer> {
  const holder = operatorAddress(hre, role);
  try {
    return await roleAccounts(hre, localState(hre).keystore).signer(holder);
  } catch (e) {
    if (!(e instanceof UnknownAccountError)) throw e;
    // An operator whose own key was granted the role later (`rsms:msrp:grant` / `idp:grant`: the
    // service on its own machine) signs with that key; the chain refuses it if it lacks the role.
    const keystore = localState(hre).keystore;
    if (process.env[roleEnvVar(role)] || keystore.exists(roleRecord(role))) return roleAccounts(hre, keystore).key(role);
    throw new UnknownAccountError(
      `deployments/${hre.network.name}.json names ${holder} as the ${OPERATOR_NAME[role]}, and this machine holds no key for it: set ${roleEnvVar(role)} to its key (or run the ${OPERATOR_NAME[role]}'s commands where its key is)`,
    );
  }
}
