/**
 * Hardhat configuration for metatrust.
 *
 * - solc 0.8.30 from the `solc` npm package (offline: no compiler download), EVM prague so
 *   that the EIP-2537 BLS12-381 precompiles are available.
 * - Networks: the in-process `hardhat` network (default), `localhost` (`npx hardhat node`) and
 *   `testnet`, configured from RPC_URL / PRIVATE_KEY when both are set.
 * - Source verification (hardhat-verify, `npx hardhat deploy:verify --network testnet`): Sourcify
 *   unless SOURCIFY=false (no key needed; SOURCIFY_API_URL / SOURCIFY_BROWSER_URL for another
 *   instance), Etherscan when ETHERSCAN_API_KEY is set (its multichain API knows the usual
 *   testnets; ETHERSCAN_API_URL, ETHERSCAN_BROWSER_URL and ETHERSCAN_CHAIN_ID name another
 *   Etherscan-compatible explorer).
 */
import "dotenv/config"; // .env in the working folder (see .env.example); the real environment wins
import path from "path";
import { HardhatUserConfig, extendProvider, subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, TASK_TEST_GET_TEST_FILES } from "hardhat/builtin-tasks/task-names";
import "@nomicfoundation/hardhat-toolbox";
import "./tasks";

export const SOLC_VERSION = "0.8.30";

// `hardhat test` (and `hardhat coverage`) with no file named runs the `*.test.ts` files only: the
// helpers and fixtures beside them are imported by the tests that use them, and a script there
// (`test/helpers/join-settle.ts`, run by an e2e test with `hardhat run`) must not run on import.
// `*.findings.test.ts` are open findings that fail on purpose (like forge's `*.findings.t.sol`): left
// out unless named (`npm run test:findings`).
// Under `hardhat coverage` with no file named, the files whose imports never reach the Hardhat
// runtime are left out (scripts/lib/chain-tests.ts): they cannot execute a contract, so they add
// nothing to its figures; `npm test` runs them. METATRUST_COVERAGE_ALL=1 runs them there too.
subtask(TASK_TEST_GET_TEST_FILES, async (args: { testFiles: string[] }, hre, runSuper) => {
  const files: string[] = await runSuper(args);
  if (args.testFiles.length) return files;
  const tests = files.filter((f) => f.endsWith(".test.ts") && !f.endsWith(".findings.test.ts"));
  const coverage = (hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING === true;
  if (!coverage || process.env.METATRUST_COVERAGE_ALL === "1") return tests;
  const { splitChainTests } = await import("./scripts/lib/chain-tests");
  const { chain, offChain } = splitChainTests(tests);
  console.log(
    `coverage: ${chain.length} of ${tests.length} test files run; the other ${offChain.length} never load the Hardhat runtime, so they execute no contract (npm test runs them; METATRUST_COVERAGE_ALL=1 runs them here)`,
  );
  return chain;
});

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solcPkg = require("solc/package.json") as { version: string };
  if (args.solcVersion !== solcPkg.version) {
    throw new Error(
      `solc version mismatch: the contracts ask for ${args.solcVersion} but the offline compiler ` +
        `installed from npm is solc@${solcPkg.version}. Pin "solc": "${args.solcVersion}" in ` +
        `package.json (this machine cannot download compilers).`,
    );
  }
  return {
    compilerPath: path.join(path.dirname(require.resolve("solc/package.json")), "soljson.js"),
    isSolcJs: true,
    version: args.solcVersion,
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    longVersion: (require("solc") as { version(): string }).version(),
  };
});

// Networks over HTTP re-send a request lost to a dropped connection when that is safe
// (offchain/chain/transport.ts); the in-process network has no connection to lose.
extendProvider(async (provider, _config, network) => {
  if (network === "hardhat") return provider;
  const { RetryingProvider } = await import("./offchain/chain/transport");
  return new RetryingProvider(provider);
});

const { RPC_URL, PRIVATE_KEY, REPORT_GAS } = process.env;
const { ETHERSCAN_API_KEY, ETHERSCAN_API_URL, ETHERSCAN_BROWSER_URL, ETHERSCAN_CHAIN_ID } = process.env;
const { SOURCIFY, SOURCIFY_API_URL, SOURCIFY_BROWSER_URL } = process.env;

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: { evmVersion: "prague", viaIR: true, optimizer: { enabled: true, runs: 200 } },
  },
  defaultNetwork: "hardhat",
  networks: {
    hardhat: { hardfork: "prague" },
    localhost: { url: process.env.LOCALHOST_URL ?? "http://127.0.0.1:8545" },
    ...(RPC_URL && PRIVATE_KEY ? { testnet: { url: RPC_URL, accounts: [PRIVATE_KEY] } } : {}),
  },
  gasReporter: {
    enabled: REPORT_GAS === "true",
    offline: true,
    noColors: true,
    outputFile: "gas-report.txt",
    forceTerminalOutput: true,
    outputJSON: true,
    outputJSONFile: "gas.json",
  },
  etherscan: {
    enabled: Boolean(ETHERSCAN_API_KEY),
    apiKey: ETHERSCAN_API_KEY ?? "",
    customChains:
      ETHERSCAN_API_URL && ETHERSCAN_CHAIN_ID
        ? [
            {
              network: "testnet",
              chainId: Number(ETHERSCAN_CHAIN_ID),
              urls: { apiURL: ETHERSCAN_API_URL, browserURL: ETHERSCAN_BROWSER_URL ?? ETHERSCAN_API_URL },
            },
          ]
        : [],
  },
  sourcify: {
    enabled: SOURCIFY !== "false",
    ...(SOURCIFY_API_URL ? { apiUrl: SOURCIFY_API_URL } : {}),
    ...(SOURCIFY_BROWSER_URL ? { browserUrl: SOURCIFY_BROWSER_URL } : {}),
  },
  mocha: { timeout: 120_000 },
  typechain: { outDir: "typechain-types", target: "ethers-v6" },
};

export default config;
