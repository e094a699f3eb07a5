/**
 * The IdP service as `idp:serve` builds it (tasks/services.ts): the IdP's account from this data folder's
 * keystore, the MIT registry and the court of this deployment, its own service folder. Tests build it the same
 * way (test/avatars/idp-record-processes.test.ts, test/services/idp-task-beside-service.test.ts).
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { idpServiceDir } from "./idp-record";

/**
 * @param o.openRegistration - MITs issued without an enrolment token (development only)
 * @param o.dir - the service's folder (default `<data folder>/service-idp`)
 * @param o.log - where the service logs (default its own)
 * @returns the service (not started), its wallet and the registry it writes to
 */
export async function buildIdpService(
  hre: HardhatRuntimeEnvironment,
  o: { openRegistration: boolean; dir?: string; log?: (line: string) => void },
) {
  const [{ localState, deployedAddress }, { roleAccounts }, { MITRegistry__factory }, { IdpService }] = await Promise.all([
    import("./context"),
    import("../../offchain/chain/accounts"),
    import("../../typechain-types"),
    import("../../offchain/services/avatars/idp-service"),
  ]);
  const local = localState(hre);
  const wallet = await roleAccounts(hre, local.keystore).key("idp", { flag: "role", create: false }); // idp:setup made it
  const registry = MITRegistry__factory.connect(await deployedAddress(hre, "MITRegistry"), wallet);
  const svc = new IdpService({
    keystore: local.keystore,
    dir: o.dir ?? idpServiceDir(local.dir),
    registry,
    court: await deployedAddress(hre, "DisputeResolution"),
    store: local.store,
    wallet,
    chainId: (await hre.ethers.provider.getNetwork()).chainId,
    openRegistration: o.openRegistration,
    ...(o.log ? { log: o.log } : {}),
  });
  return { svc, wallet, registry };
}
