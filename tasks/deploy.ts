import { task, types } from "hardhat/config";

task("deploy", "Deploys every metatrust contract, wires their roles, and records addresses and blocks in deployments/<network>.json")
  .addOptionalParam("write", "Write deployments/<network>.json", true, types.boolean)
  .addFlag("quiet", "Print nothing")
  .setAction(async (args: { write: boolean; quiet: boolean }, hre) => {
    const { deploySystem } = await import("../offchain/chain/deploy");
    return deploySystem(hre, { write: args.write, log: args.quiet ? undefined : (l) => console.log(l) });
  });
