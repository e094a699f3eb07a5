/**
 * `npm run demo`: deploys metatrust to the selected network (in-process Hardhat by default, or
 * `--network localhost`), runs the crypto self-check and an IPFS round trip, and prints a summary.
 * Exits non-zero if any step fails.
 */
import hre from "hardhat";
import { deploySystem } from "../offchain/chain/deploy";
import { dataDir } from "../offchain/chain/paths";
import { runSelfCheck } from "../offchain/selfcheck";
import { createContentStore } from "../offchain/storage/content-store";

async function main(): Promise<void> {
  console.log(`metatrust demo on network "${hre.network.name}"\n`);
  console.log("1. deploy");
  const t0 = performance.now();
  const d = await deploySystem(hre, { log: (l) => console.log(`   ${l}`) });
  const deployMs = performance.now() - t0;

  console.log("\n2. crypto self-check and IPFS round trip");
  const store = createContentStore(dataDir(hre.network.name));
  const results = await runSelfCheck(store);
  for (const r of results) console.log(`   ${r.ok ? "ok  " : "FAIL"} ${r.name.padEnd(40)} ${r.ms.toFixed(1).padStart(8)} ms  ${r.detail}`);

  const failed = results.filter((r) => !r.ok);
  console.log("\nsummary");
  console.log(`   network            ${d.network} (chain ${d.chainId}), EIP-2537 ${d.eip2537 ? "yes" : "no"}`);
  console.log(`   contracts deployed ${Object.keys(d.contracts).length} in ${deployMs.toFixed(0)} ms`);
  console.log(`   checks             ${results.length - failed.length} passed, ${failed.length} failed`);
  console.log(`   content store      ${store.kind}`);
  if (failed.length > 0) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exitCode = 1;
});
