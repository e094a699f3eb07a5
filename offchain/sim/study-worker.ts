/**
 * A worker process of `sim:whitewash --jobs N` (offchain/sim/study-pool.ts): it computes the analyses it is
 * sent, one at a time, each as the study would (`analyzeRound` on the network the flags generate), and sends
 * back the result and the time it took. It keeps the last network it generated (the pool sends one network's
 * analyses in a row), so that a 50,000-node network is generated a few times per seed, not 51. It ends with
 * its parent: a parent killed alone (SIGKILL) leaves no worker computing for nobody (offchain/util/parent-watch.ts).
 */
import { analyzeRound, studyNetwork, type StudyBase, type StudyNet } from "./whitewash";
import type { Network } from "../trust/adversaries/generate";
import { exitWithParent } from "../util/parent-watch";

exitWithParent();

let cached: { key: string; net: Network } | undefined;

process.on("message", (m: { base: StudyBase; net: StudyNet; r: number; name: string }) => {
  try {
    const key = JSON.stringify([m.base, m.net]);
    if (cached?.key !== key) {
      cached = undefined; // the old network goes before the new one is made
      cached = { key, net: studyNetwork(m.base, m.net) };
    }
    const t0 = performance.now();
    const x = analyzeRound(cached.net, m.r);
    process.send!({ name: m.name, x, ms: performance.now() - t0 });
  } catch (e) {
    process.send!({ name: m.name, error: (e as Error).stack ?? String(e) });
  }
});
