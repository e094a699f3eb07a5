import fs from "fs";
import { task, types } from "hardhat/config";
import { TASK_COMPILE } from "hardhat/builtin-tasks/task-names";
import { getAddress } from "ethers";
import { UsageError } from "./lib/cli";

/** The operator roles `deploy` hands out, each with its flag: who it is and where its key comes from. */
const ROLE_FLAGS = {
  msrp: { name: "MSRP", holds: "MSRP_ROLE of the RSMS registries" },
  idp: { name: "IdP", holds: "IDP_ROLE of the MITRegistry" },
  detector: { name: "detector", holds: "DETECTOR_ROLE of the TrustManager and of the AuthorityElection" },
  registrar: { name: "election registrar", holds: "REGISTRAR_ROLE of the AuthorityElection" },
  arbiter: { name: "arbiter", holds: "ARBITER_ROLE of the AuthorityElection" },
} as const;
type RoleFlag = keyof typeof ROLE_FLAGS;
const ROLE_NAMES = Object.keys(ROLE_FLAGS) as RoleFlag[];

const deployTask = task(
  "deploy",
  "Deploys every metatrust contract, wires their roles, and records addresses, blocks, constructor arguments, ABIs, artifact hashes and role holders in deployments/<network>.json; up to date: nothing is sent; interrupted: resumes",
)
  .addOptionalParam("write", "Write deployments/<network>.json", true, types.boolean)
  .addFlag("quiet", "Print nothing")
  .addFlag("noCompile", "Do not compile the contracts first")
  .addFlag("fresh", "Deploy everything anew even when the recorded deployment is up to date")
  .addOptionalParam(
    "genesisDocuments",
    "The genesis authorities' identity documents (passport:<state>:<number>), comma-separated, in the order of the role accounts authority:1, authority:2, ...: each one's election nullifier is computed from it with the deployment's election key, so a genesis authority is one elector like anyone (required off a development node; there each gets a simulated passport:UTO:G000000<i>; refused on a resumed deployment whose election is deployed)",
  )
  .addOptionalParam(
    "electionKey",
    "A file with the deployment's election key (64 hex characters, e.g. `openssl rand -hex 32`), imported into this network's keystore before the election is deployed (refused if it holds another); hand the same file to every place's `mssa:serve --election-key`. The record keeps its check value (never the key), and the tasks that load the key refuse another. Default: the keystore's key, made if absent",
  );
for (const r of ROLE_NAMES)
  deployTask.addOptionalParam(
    r,
    `The ${ROLE_FLAGS[r].name}'s account address, given ${ROLE_FLAGS[r].holds} (default: role ${r}, a key from METATRUST_KEY_${r.toUpperCase()} or the keystore${r === "detector" ? "; account 18 on a development node" : ""})`,
  );
deployTask.setAction(
  async (
    args: { write: boolean; quiet: boolean; noCompile: boolean; fresh: boolean; genesisDocuments?: string; electionKey?: string } & Partial<
      Record<RoleFlag, string>
    >,
    hre,
  ) => {
    for (const flag of ROLE_NAMES) {
      const v = args[flag];
      if (v !== undefined && !hre.ethers.isAddress(v)) throw new UsageError(`deploy: --${flag} ${v} is not an address`);
      if (v !== undefined && BigInt(v) === 0n) throw new UsageError(`deploy: --${flag} is the zero address, which nobody can sign for`);
    }
    // Compile first, as `hardhat run` and `hardhat test` do: the artifacts folder may hold stale or
    // instrumented bytecode (`hardhat coverage` leaves it instrumented, too large for a plain node).
    if (!args.noCompile) await hre.run(TASK_COMPILE, { quiet: true });
    const genesisDocuments = args.genesisDocuments?.split(",").map((d) => d.trim());
    if (genesisDocuments?.some((d) => d === ""))
      throw new UsageError(`deploy: --genesis-documents "${args.genesisDocuments}" has an empty document`);
    let electionKey: string | undefined;
    if (args.electionKey !== undefined) {
      if (!fs.existsSync(args.electionKey)) throw new UsageError(`deploy: --election-key ${args.electionKey} does not exist`);
      electionKey = fs.readFileSync(args.electionKey, "utf8");
    }
    const [{ deploySystem, deployPreflight }, { roleAccounts }, { localState }, { trustRoleHolders }] = await Promise.all([
      import("../offchain/chain/deploy"),
      import("../offchain/chain/accounts"),
      import("./lib/context"),
      import("../offchain/chain/system"),
    ]);
    // The genesis documents and the election key are checked before any key is made (role keys
    // included) or imported: a refused input changes nothing in any keystore (s21-review1 7 and 8).
    const fileFlag = (e: unknown) => {
      if (e instanceof RangeError && /^deploy: --(genesis-documents|election-key)\b/.test(e.message))
        return new UsageError(
          args.electionKey !== undefined
            ? e.message.replace(/^deploy: --election-key:/, `deploy: --election-key ${args.electionKey}:`)
            : e.message,
        );
      return e;
    };
    await deployPreflight(hre, { resume: !args.fresh, genesisDocuments, electionKey }).catch((e) => {
      throw fileFlag(e);
    });
    // Each operator role is a role account of its own (its key from METATRUST_KEY_<ROLE>, or generated
    // into the network's keystore), or the address a flag names; the deployer stays the admin.
    const accounts = roleAccounts(hre, localState(hre).keystore);
    const roles = {} as Record<RoleFlag, string>;
    for (const r of ROLE_NAMES) roles[r] = args[r] ? getAddress(args[r]!) : await accounts.address(r);
    // The TrustManager keeps its detector, its oracle and its admin apart: refused here, not after
    // half the contracts are deployed.
    const [deployer] = await hre.ethers.getSigners();
    const { oracle } = await trustRoleHolders(hre);
    if (deployer && roles.detector === deployer.address)
      throw new UsageError(`deploy: --detector ${roles.detector} is the deployer (the admin); the TrustManager needs another account`);
    if (roles.detector === oracle)
      throw new UsageError(`deploy: --detector ${roles.detector} is the oracle (role oracle); the TrustManager needs another account`);
    // A flag that names another holder than the record's would be ignored by a resumed deployment: refuse it.
    const { readDeployment } = await import("../offchain/chain/deployments");
    const recorded = (() => {
      try {
        return readDeployment(hre.network.name);
      } catch {
        return undefined;
      }
    })();
    if (!args.fresh && recorded?.roles)
      for (const flag of ROLE_NAMES) {
        const holder = recorded.roles[flag] ?? recorded.deployer;
        if (args[flag] && getAddress(args[flag]!) !== getAddress(holder))
          throw new UsageError(
            `deploy: --${flag} ${args[flag]} differs from the ${ROLE_FLAGS[flag].name} ${holder} of deployments/${hre.network.name}.json; add --fresh to deploy anew${flag === "msrp" ? " (or keep it and run `rsms:msrp:grant --to` the new account)" : ""}`,
          );
      }
    try {
      return await deploySystem(hre, {
        write: args.write,
        resume: !args.fresh,
        roles,
        genesisDocuments,
        electionKey,
        log: args.quiet ? undefined : (l) => console.log(l),
      });
    } catch (e) {
      // the genesis documents and the election key are checked before the AuthorityElection is deployed
      throw fileFlag(e);
    }
  },
);
