import { task } from "hardhat/config";
import { TASK_COMPILE } from "hardhat/builtin-tasks/task-names";

task(
  "deploy:verify",
  "Verifies the source of every contract in deployments/<network>.json, with its recorded constructor arguments, on the explorers configured in hardhat.config.ts (Sourcify unless SOURCIFY=false; Etherscan when ETHERSCAN_API_KEY is set)",
)
  .addOptionalParam("only", "Comma-separated contract names (default: every contract of the record)")
  .addFlag("noCompile", "Do not compile the contracts first")
  .setAction(async (args: { only?: string; noCompile: boolean }, hre) => {
    // The artifacts must be the deployed ones: compile, then compare each with the record's bytecode hash.
    if (!args.noCompile) await hre.run(TASK_COMPILE, { quiet: true });
    const { readDeployment } = await import("../offchain/chain/deployments");
    const { verificationCalls, verifyAll } = await import("../offchain/chain/verify");
    const only = args.only
      ?.split(",")
      .map((x) => x.trim())
      .filter(Boolean);
    const calls = await verificationCalls(hre, readDeployment(hre.network.name), only);
    const outcomes = await verifyAll(
      calls,
      (name, a) => hre.run(name, a),
      (l) => console.log(l),
    );
    console.log(`verified ${outcomes.length} contract(s) on ${hre.network.name}`);
    return outcomes;
  });
