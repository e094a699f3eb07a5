/**
 * Load run against a real `hardhat node` over JSON-RPC (part of `npm run bench`): sustained trust
 * ratings, sent one after the other (latency p50 / p95 from send to receipt) and pipelined (200
 * in flight, ratings per second). Joins under load are measured by bench/rsms.bench.ts. Writes
 * bench/results/load.{md,json}.
 */
import fs from "fs";
import path from "path";
import { JsonRpcProvider } from "ethers";
import { TrustManager__factory } from "../typechain-types";
import { entityId } from "../offchain/trust/ledger";
import { DEFAULT_MODEL, packFactors } from "../offchain/trust/fixed";
import { startNode } from "../scripts/lib/hardhat-node";
import { machine } from "./lib";

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function main() {
  const node = await startNode();
  try {
    // batchStallTime 0: ethers' default (10 ms) holds every request that long to batch it with
    // others, and a rating through ethers' Contract makes several calls one after the other
    const provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, pollingInterval: 20, batchStallTime: 0 });
    const signer = await provider.getSigner(0);
    const tm = await new TrustManager__factory(signer).deploy(await signer.getAddress(), DEFAULT_MODEL, 0n, 0n);
    await tm.waitForDeployment();
    // One controller per entity (a controller cannot rate its own entities).
    const ids = Array.from({ length: 20 }, (_, i) => entityId(`load-${i}`));
    const by = await Promise.all(ids.map(async (_, i) => tm.connect(await provider.getSigner(i))));
    for (const [i, id] of ids.entries()) await (await by[i].register(id, 1)).wait();
    const f = packFactors([0.9, 0.8, 0.85, 0.9, 0.7, 0.8]);
    // Rating k: rater k mod 20 rates the one 1 + (k div 20) mod 19 places further: the 380 ordered
    // pairs in turn, so that no pair is rated twice in a decay epoch (the second half waits a day).
    const pair = (k: number) => [k % 20, ((k % 20) + 1 + (Math.floor(k / 20) % 19)) % 20] as const;
    const N = 200;
    console.log(`load: ${N} sequential ratings ...`);
    const lat: number[] = [];
    const t0 = performance.now();
    for (let k = 0; k < N; k++) {
      const [a, b] = pair(k);
      const s = performance.now();
      await (await by[a].rate(ids[a], ids[b], f, "0x" + "00".repeat(32), "0x" + "00".repeat(32), 0, 0)).wait();
      lat.push(performance.now() - s);
    }
    const seqPerSec = N / ((performance.now() - t0) / 1000);
    console.log(`load: ${N} pipelined ratings ...`);
    await provider.send("evm_increaseTime", [86_400]);
    const t1 = performance.now();
    const sent = [];
    for (let k = 0; k < N; k++) {
      const [a, b] = pair(k + N);
      sent.push(await by[a].rate(ids[a], ids[b], f, "0x" + "00".repeat(32), "0x" + "00".repeat(32), 0, 0));
    }
    await Promise.all(sent.map((t) => t.wait()));
    const pipePerSec = N / ((performance.now() - t1) / 1000);
    provider.destroy();
    const res = { ratings: N, p50: q(lat, 0.5), p95: q(lat, 0.95), sequentialPerSec: seqPerSec, pipelinedPerSec: pipePerSec };
    console.log(
      `  sequential: p50 ${res.p50.toFixed(1)} ms, p95 ${res.p95.toFixed(1)} ms, ${seqPerSec.toFixed(1)}/s; pipelined ${pipePerSec.toFixed(1)}/s`,
    );
    const dir = path.resolve(__dirname, "results");
    const rsms = JSON.parse(fs.readFileSync(path.join(dir, "rsms.json"), "utf8"));
    const when = new Date().toISOString();
    const md = [
      "# Load against `hardhat node` (JSON-RPC, automine)",
      "",
      `Measured ${when} on ${machine()}.`,
      "",
      "| workload | p50 latency (ms) | p95 latency (ms) | per second |",
      "|---|---:|---:|---:|",
      `| trust ratings, sequential (send to receipt) | ${res.p50.toFixed(1)} | ${res.p95.toFixed(1)} | ${seqPerSec.toFixed(1)} |`,
      `| trust ratings, pipelined (${N} in flight) | | | ${pipePerSec.toFixed(1)} |`,
      `| RSMS joins (bench/results/rsms.md: latency over JSON-RPC; rate of one RPM with its chain writes) | ${rsms.latencyMs.p50.toFixed(1)} | ${rsms.latencyMs.p95.toFixed(1)} | ${Number(rsms.chainPerSec).toFixed(1)} |`,
      "",
      `The ratings go through ethers' Contract and an ethers JsonRpcProvider with batchStallTime 0 (ethers' default, 10 ms,`,
      `held each request that long: 58.5 ms p50 and 21.3/s pipelined in a run of this bench with it on 2026-12-03 at load`,
      `average 8, against 12.4 and 12.5 ms, 91.8 and 54.1/s in the runs just before and after without it). The RSMS joins row`,
      `is copied from bench/results/rsms.json, measured ${rsms.measuredAt} (this bench does not run it; bench/rsms.bench.ts`,
      `sets batchStallTime 0 since session 12, 2026-12-03; a latency it measured before then includes the stall).`,
      "",
    ].join("\n");
    fs.writeFileSync(path.join(dir, "load.md"), md);
    fs.writeFileSync(path.join(dir, "load.json"), JSON.stringify({ measuredAt: when, machine: machine(), ...res }, null, 2) + "\n");
    console.log("wrote bench/results/load.md");
  } finally {
    await node.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
