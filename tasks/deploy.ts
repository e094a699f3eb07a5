import { task, types } from "hardhat/config";
import { TASK_COMPILE } from "hardhat/builtin-tasks/task-names";

task(
  "deploy",
  "Deploys every metatrust contract, wires their roles, and records addresses, blocks, constructor arguments and artifact hashes in deployments/<network>.json; up to date: nothing is sent; interrupted: resumes",
)
  .addOptionalParam("write", "Write deployments/<network>.json", true, types.boolean)
  .addFlag("quiet", "Print nothing")
  .addFlag("noCompile", "Do not compile the contracts first")
  .addFlag("fresh", "Deploy everything anew even when the recorded deployment is up to date")
  .setAction(async (args: { write: boolean; quiet: boolean; noCompile: boolean; fresh: boolean }, hre) => {
    // Compile first, as `hardhat run` and `hardhat test` do: the artifacts folder may hold stale or
    // instrumented bytecode (`hardhat coverage` leaves it instrumented, too large for a plain node).
    if (!args.noCompile) await hre.run(TASK_COMPILE, { quiet: true });
    const { deploySystem } = await import("../offchain/chain/deploy");
    return deploySystem(hre, { write: args.write, resume: !args.fresh, log: args.quiet ? undefined : (l) => console.log(l) });
  });
