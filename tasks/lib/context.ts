/**
 * What every task needs: the network's keystore and content store, the deployment record, and
 * the chain contracts, with clear errors when the deployment is missing or stale.
 */
import path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { dataDir } from "../../offchain/chain/paths";
import { DeploymentNotFoundError, readDeployment } from "../../offchain/chain/deployments";
import { createContentStore } from "../../offchain/storage/content-store";
import { Keystore } from "../../offchain/storage/keystore";
import { roleAccounts } from "../../offchain/chain/accounts";
export { roleAccounts };
import type { Signer } from "ethers";

/** The local state of the current network. */
export function localState(hre: HardhatRuntimeEnvironment) {
  const dir = dataDir(hre.network.name);
  return { dir, keystore: new Keystore(path.join(dir, "keystore")), store: createContentStore(dir) };
}

/**
 * The address of a deployed system contract, checked to have code on the current chain.
 * @throws DeploymentNotFoundError when there is no record, or the chain no longer has the code
 */
export async function deployedAddress(hre: HardhatRuntimeEnvironment, name: string): Promise<string> {
  const d = readDeployment(hre.network.name);
  const c = d.contracts[name];
  if (!c)
    throw new DeploymentNotFoundError(
      `${name} is not in deployments/${hre.network.name}.json; run \`npx hardhat deploy --network ${hre.network.name}\``,
    );
  if ((await hre.ethers.provider.getCode(c.address)) === "0x") {
    const hint =
      hre.network.name === "hardhat"
        ? "the in-process network forgets everything when a command ends: start `npx hardhat node` and use --network localhost, or run `npm run demo`"
        : "the chain was reset since the deployment: run deploy again";
    throw new DeploymentNotFoundError(`no code at ${name}'s recorded address ${c.address} on ${hre.network.name}: ${hint}`);
  }
  return c.address;
}

/**
 * Resolves an account given on the command line: a role name (its key from METATRUST_KEY_<ROLE> or
 * generated into the keystore and funded on first use), an address, or on development nodes a
 * signer index (offchain/chain/accounts.ts).
 * @param hre - the runtime
 * @param account - "alice", "rpm:1", "0xabc..." or "3"
 */
export async function resolveAccount(hre: HardhatRuntimeEnvironment, account: string): Promise<string> {
  return roleAccounts(hre, localState(hre).keystore).address(account);
}

/** The signer of an account given as `resolveAccount` takes it (a role key, an address this process holds a key for, an index). */
export async function accountSigner(hre: HardhatRuntimeEnvironment, account: string): Promise<Signer> {
  return roleAccounts(hre, localState(hre).keystore).signer(account);
}
