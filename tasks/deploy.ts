import { task, types } from "hardhat/config";
import { TASK_COMPILE } from "hardhat/builtin-tasks/task-names";
import { getAddress } from "ethers";
import { UsageError } from "./lib/cli";

task(
  "deploy",
  "Deploys every metatrust contract, wires their roles, and records addresses, blocks, constructor arguments, ABIs, artifact hashes and role holders in deployments/<network>.json; up to date: nothing is sent; interrupted: resumes",
)
  .addOptionalParam("write", "Write deployments/<network>.json", true, types.boolean)
  .addFlag("quiet", "Print nothing")
  .addFlag("noCompile", "Do not compile the contracts first")
  .addFlag("fresh", "Deploy everything anew even when the recorded deployment is up to date")
  .addOptionalParam("msrp", "The MSRP's account address (default: role msrp, a key from METATRUST_KEY_MSRP or the keystore)")
  .addOptionalParam("idp", "The IdP's account address (default: role idp, a key from METATRUST_KEY_IDP or the keystore)")
  .setAction(async (args: { write: boolean; quiet: boolean; noCompile: boolean; fresh: boolean; msrp?: string; idp?: string }, hre) => {
    for (const flag of ["msrp", "idp"] as const) {
      const v = args[flag];
      if (v !== undefined && !hre.ethers.isAddress(v)) throw new UsageError(`deploy: --${flag} ${v} is not an address`);
    }
    // Compile first, as `hardhat run` and `hardhat test` do: the artifacts folder may hold stale or
    // instrumented bytecode (`hardhat coverage` leaves it instrumented, too large for a plain node).
    if (!args.noCompile) await hre.run(TASK_COMPILE, { quiet: true });
    const [{ deploySystem }, { roleAccounts }, { localState }] = await Promise.all([
      import("../offchain/chain/deploy"),
      import("../offchain/chain/accounts"),
      import("./lib/context"),
    ]);
    // The MSRP and the IdP are role accounts of their own (keys from METATRUST_KEY_MSRP and
    // METATRUST_KEY_IDP, or generated into the network's keystore); the deployer stays the admin.
    const accounts = roleAccounts(hre, localState(hre).keystore);
    const roles = {
      msrp: args.msrp ? hre.ethers.getAddress(args.msrp) : await accounts.address("msrp"),
      idp: args.idp ? hre.ethers.getAddress(args.idp) : await accounts.address("idp"),
    };
    // A flag that names another holder than the record's would be ignored by a resumed deployment: refuse it.
    const { readDeployment } = await import("../offchain/chain/deployments");
    const recorded = (() => {
      try {
        return readDeployment(hre.network.name).roles;
      } catch {
        return undefined;
      }
    })();
    if (!args.fresh && recorded)
      for (const flag of ["msrp", "idp"] as const)
        if (args[flag] && getAddress(args[flag]!) !== getAddress(recorded[flag]))
          throw new UsageError(
            `deploy: --${flag} ${args[flag]} differs from the ${flag === "msrp" ? "MSRP" : "IdP"} ${recorded[flag]} of deployments/${hre.network.name}.json; add --fresh to deploy anew${flag === "msrp" ? " (or keep it and run `rsms:msrp:grant --to` the new account)" : ""}`,
          );
    return deploySystem(hre, { write: args.write, resume: !args.fresh, roles, log: args.quiet ? undefined : (l) => console.log(l) });
  });
