/**
 * `npm run services`: starts a `hardhat node` and every server-side party as its own process (the
 * MSRP, the RPMs of pools 1 and 2, the IdP, the two place authorities of PL1, the trust detector
 * and the trust oracle), each
 * in its own data folder with its own chain account, and keeps them running until Ctrl-C. It
 * prints the endpoints and the environment a client terminal needs (the README's several
 * terminals, in one command, for development). Each party is the same task a user would type
 * (scripts/lib/services-up.ts).
 *
 *   npm run services                      # folders under a fresh temporary directory
 *   npm run services -- --dir ./dev-run   # folders under ./dev-run (must be empty or absent)
 */
import fs from "fs";
import os from "os";
import path from "path";
import { startNode } from "./lib/hardhat-node";
import { SERVICE_PARTIES, startServices } from "./lib/services-up";

function usage(msg: string): never {
  process.stderr.write(`services: ${msg} (usage: npm run services [-- --dir <empty folder>])\n`);
  process.exit(2);
}

/** The `--dir` flag, checked before anything starts. */
export function parseServicesArgs(argv: string[]): { dir?: string } {
  const out: { dir?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--dir") {
      const d = argv[++i];
      if (!d) usage("--dir needs a folder");
      if (out.dir !== undefined) usage("--dir is given twice");
      if (fs.existsSync(d) && !fs.statSync(d).isDirectory()) usage(`--dir ${d}: not a folder`);
      if (fs.existsSync(d) && fs.readdirSync(d).length) usage(`--dir ${d}: the folder is not empty`);
      out.dir = path.resolve(d);
    } else usage(`unknown argument ${argv[i]}`);
  }
  return out;
}

async function main(): Promise<void> {
  const a = parseServicesArgs(process.argv.slice(2));
  const work = a.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-services-"));
  fs.mkdirSync(work, { recursive: true });
  const t0 = Date.now();
  console.log(`metatrust services: folders under ${work}`);
  const node = await startNode();
  console.log(`node     ${node.url}`);
  const cluster = await startServices(node, work, (l) => console.log(l)).catch(async (e: Error) => {
    await node.stop();
    throw e;
  });
  console.log(`\nall ${SERVICE_PARTIES.length} services up in ${((Date.now() - t0) / 1000).toFixed(0)} s:`);
  for (const p of SERVICE_PARTIES) {
    const s = cluster.services[p];
    console.log(`  ${p.padEnd(9)} ${s.url.padEnd(24)} ${s.account.padEnd(42)} ${s.dir}`);
  }
  const env = cluster.envOf("client");
  console.log(`\nIn a client terminal (a folder of its own; RPM and IdP endpoints are found on-chain):`);
  for (const k of ["LOCALHOST_URL", "METATRUST_DEPLOYMENTS_DIR", "METATRUST_IPFS_DIR"]) console.log(`  export ${k}=${env[k]}`);
  console.log(`  export METATRUST_DATA_DIR=${path.join(work, "alice")}`);
  console.log(`\nRegistration needs a one-time token from the service's operator (an RN's name, a user's real identity):`);
  console.log(`  METATRUST_DATA_DIR=${cluster.services.msrp.dir} npx hardhat rsms:enrol-token --rn edge-1 --network localhost`);
  console.log(
    `  METATRUST_DATA_DIR=${cluster.services.idp.dir} npx hardhat idp:enrol-token --user "real identity of alice" --network localhost`,
  );
  console.log(`then, in the client terminal, with the tokens they print:`);
  console.log(
    `  npx hardhat rsms:rn:register --name edge-1 --pool 1 --msrp ${cluster.services.msrp.url} --token <token> --network localhost`,
  );
  console.log(`  npx hardhat rsms:join --rn edge-1 --pool 1 --network localhost`);
  console.log(`  npx hardhat idp:issue --user alice --token <token> --network localhost`);
  console.log(`  npx hardhat mssa:register --user carol --place PL1 --network localhost`);
  console.log(`\nCtrl-C stops them all.`);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping the services and the node");
    await cluster.stop();
    await node.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
  // A service that dies is reported (restart it with its task in its folder; its journal finishes what was in flight).
  for (const p of SERVICE_PARTIES)
    void cluster.services[p].proc.exited.then((code) => {
      if (!stopping) console.log(`${p} exited (${code}): its log:\n${cluster.services[p].proc.log().slice(-2000)}`);
    });
}

if (require.main === module)
  main().catch((e: Error) => {
    process.stderr.write(`services: ${e.message.split("\n")[0]}\n`);
    process.exit(1);
  });
