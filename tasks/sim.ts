/**
 * Simulations (`npm run sim`): seeded, with progress bars, writing CSV and SVG under reports/.
 * - sim:throughput: RSMS Monte Carlo throughput (RSMS paper §VI.C, Figs. 5-7), priced with our
 *   measured protocol costs (bench/results/rsms.json, group.json).
 * - sim:attacks: the trust attack simulation (trust paper §V) with two baselines, and the same at
 *   5,000 and 50,000 nodes with time and memory.
 * - sim:disputes: dispute accuracy (Eq. 23) against the share of malicious voters.
 */
import fs from "fs";
import path from "path";
import { task, types } from "hardhat/config";

const reportsDir = () => {
  const d = path.resolve(__dirname, "..", "reports");
  fs.mkdirSync(d, { recursive: true });
  return d;
};
const pct = (x: number) => (Number.isNaN(x) ? "n/a" : `${(x * 100).toFixed(1)}%`);

/** Our measured RSMS costs, read from the benchmark results (`npm run bench` refreshes them). */
async function measuredCosts() {
  const dir = path.resolve(__dirname, "..", "bench", "results");
  const rsms = JSON.parse(fs.readFileSync(path.join(dir, "rsms.json"), "utf8"));
  const group = JSON.parse(fs.readFileSync(path.join(dir, "group.json"), "utf8"));
  const chainMs: number = rsms.latencyMs.p50; // one join end to end over JSON-RPC, including its chain write
  const g4 = group.rows.find((r: { n: number }) => r.n === 4);
  return {
    joinMs: chainMs,
    groupMs: g4.membership + g4.keyAgreement + chainMs,
    rekeyMs: g4.update + chainMs,
    source: `bench/results/rsms.json (join p50 ${chainMs.toFixed(0)} ms over JSON-RPC), group.json (N = 4: membership ${g4.membership.toFixed(1)} ms, key agreement ${g4.keyAgreement.toFixed(1)} ms, update ${g4.update.toFixed(1)} ms) + one chain write each`,
  };
}

task("sim:throughput", "RSMS Monte Carlo throughput with and without RSMS (RSMS paper Figs. 5-7) -> reports/throughput-*.{csv,svg}")
  .addOptionalParam("replications", "Replications per point", 2000, types.int)
  .addOptionalParam("seed", "PRNG seed", 7, types.int)
  .setAction(async (a: { replications: number; seed: number }) => {
    const { simulateThroughput } = await import("../offchain/sim/throughput");
    const { lineChart } = await import("../offchain/util/plot");
    const { progressBar } = await import("../offchain/util/progress");
    const costs = await measuredCosts();
    console.log(`sim:throughput: RSMS costs from ${costs.source}`);
    const base = { lambdaJ: 0.2, lambdaL: 0.2, a: 0.5, tMin: 3, tMax: 6, replications: a.replications, seed: a.seed };
    const sweeps = [
      {
        fig: "fig5",
        title: "Fig. 5: throughput against the service time [T_min, T_max]",
        x: "T_min (minutes; T_max = 2 T_min)",
        points: [1, 2, 3, 4, 5, 6].map((t) => ({ x: t, o: { ...base, tMin: t, tMax: 2 * t } })),
      },
      {
        fig: "fig6",
        title: "Fig. 6: throughput against lambda_j",
        x: "lambda_j (per minute)",
        points: [0.1, 0.2, 0.3, 0.4, 0.5].map((l) => ({ x: l, o: { ...base, lambdaJ: l } })),
      },
      {
        fig: "fig7",
        title: "Fig. 7: throughput against lambda_l",
        x: "lambda_l (per minute)",
        points: [0.1, 0.2, 0.3, 0.4, 0.5].map((l) => ({ x: l, o: { ...base, lambdaL: l } })),
      },
    ];
    const total = sweeps.reduce((n, s) => n + s.points.length, 0);
    const bar = progressBar("sim:throughput");
    let done = 0;
    const out: Record<string, { x: number; without: number; with: number; ci: number; ratio: number }[]> = {};
    for (const s of sweeps) {
      out[s.fig] = [];
      for (const p of s.points) {
        const without = simulateThroughput(p.o);
        const withR = simulateThroughput(p.o, costs);
        out[s.fig].push({
          x: p.x,
          without: without.tp,
          with: withR.tp,
          ci: Math.max(without.ci95, withR.ci95),
          ratio: withR.tp / without.tp,
        });
        bar(++done / total);
      }
      fs.writeFileSync(
        path.join(reportsDir(), `throughput-${s.fig}.csv`),
        "x,tp_without_rsms,tp_with_rsms,ci95,ratio\n" +
          out[s.fig].map((r) => [r.x, r.without.toFixed(4), r.with.toFixed(4), r.ci.toFixed(4), r.ratio.toFixed(4)].join(",")).join("\n") +
          "\n",
      );
      fs.writeFileSync(
        path.join(reportsDir(), `throughput-${s.fig}.svg`),
        await lineChart({
          title: s.title,
          xLabel: s.x,
          yLabel: "services completed in 30 min (95% interval shaded)",
          yMin: 0,
          series: [
            { name: "without RSMS", points: out[s.fig].map((r) => ({ x: r.x, y: r.without, lo: r.without - r.ci, hi: r.without + r.ci })) },
            { name: "with RSMS", points: out[s.fig].map((r) => ({ x: r.x, y: r.with, lo: r.with - r.ci, hi: r.with + r.ci })) },
          ],
        }),
      );
      console.log(`  ${s.fig}: ${out[s.fig].map((r) => `${r.x}: ${r.without.toFixed(2)} vs ${r.with.toFixed(2)}`).join("; ")}`);
    }
    console.log("wrote reports/throughput-fig{5,6,7}.{csv,svg}");
    return out;
  });

task(
  "sim:attacks",
  "Trust attack simulation: our detectors vs the average and EigenTrust baselines; scale runs -> reports/attacks-*.{csv,svg}",
)
  .addOptionalParam("seed", "PRNG seed", 11, types.int)
  .addOptionalParam("scale", "Comma-separated larger network sizes to time (0 = none)", "5000,50000")
  .setAction(async (a: { seed: number; scale: string }) => {
    const { runAttackSim, paperSetting, PAPER_ATTACK_FIGURES: P, ATTACK_ROLES } = await import("../offchain/sim/attacks");
    const { lineChart } = await import("../offchain/util/plot");
    const { progressBar } = await import("../offchain/util/progress");
    // 1. The paper's setting: 500 nodes, 50 malicious, mitigation timed every round.
    const main = runAttackSim({ ...paperSetting(500), seed: a.seed, checkpointEvery: 1, progress: progressBar("sim:attacks 500 nodes") });
    const rows = [
      ...ATTACK_ROLES.map((r) => ({
        metric: `detection ${r}`,
        paper: P.detection[r],
        ours: main.ours.detection[r],
        average: main.average.detection[r],
        eigentrust: main.eigentrust.detection[r],
      })),
      { metric: "false-positive rate", paper: P.fpr, ours: main.ours.fpr, average: main.average.fpr, eigentrust: main.eigentrust.fpr },
      { metric: "false-negative rate", paper: P.fnr, ours: main.ours.fnr, average: main.average.fnr, eigentrust: main.eigentrust.fnr },
    ];
    fs.writeFileSync(
      path.join(reportsDir(), "attacks-500.csv"),
      "metric,paper,ours,average,eigentrust\n" +
        rows.map((r) => [r.metric, r.paper, r.ours, r.average, r.eigentrust].join(",")).join("\n") +
        "\n",
    );
    console.log(`500 nodes, ${main.ratings.toLocaleString("en-US")} ratings:`);
    for (const r of rows)
      console.log(
        `  ${r.metric.padEnd(22)} paper ${pct(r.paper).padStart(6)}  ours ${pct(r.ours).padStart(6)}  average ${pct(r.average).padStart(6)}  EigenTrust ${pct(r.eigentrust).padStart(6)}`,
      );
    console.log(
      `  mitigation (median s from attack start): ${ATTACK_ROLES.map((r) => `${r} ${main.mitigationSeconds[r]} (paper ${P.mitigationSeconds[r]})`).join(", ")}`,
    );
    // 2. Malicious share sweep (figure).
    const shares = [0.05, 0.1, 0.2, 0.3];
    const bar = progressBar("sim:attacks share sweep");
    const sweep = shares.map((m, k) => {
      const s = paperSetting(500);
      const mal = Math.round(500 * m);
      const r = runAttackSim({
        ...s,
        sybils: Math.round(mal * 0.3),
        onOff: Math.round(mal * 0.3),
        badMouthers: Math.round(mal * 0.2),
        goodMouthers: mal - Math.round(mal * 0.3) * 2 - Math.round(mal * 0.2),
        seed: a.seed + k,
      });
      bar((k + 1) / shares.length);
      return { m, ours: 1 - r.ours.fnr, average: 1 - r.average.fnr, eigentrust: 1 - r.eigentrust.fnr, oursFpr: r.ours.fpr };
    });
    fs.writeFileSync(
      path.join(reportsDir(), "attacks-share.csv"),
      "malicious_share,ours_detection,average_detection,eigentrust_detection,ours_fpr\n" +
        sweep.map((r) => [r.m, r.ours, r.average, r.eigentrust, r.oursFpr].join(",")).join("\n") +
        "\n",
    );
    fs.writeFileSync(
      path.join(reportsDir(), "attacks-share.svg"),
      await lineChart({
        title: "Detection (1 - FNR) and false positives, 500 nodes",
        xLabel: "share of malicious nodes",
        yLabel: "share of nodes",
        yMin: 0,
        yMax: 1,
        series: [
          { name: "detected: metatrust", points: sweep.map((r) => [r.m, r.ours]) },
          { name: "detected: average rating", points: sweep.map((r) => [r.m, r.average]) },
          { name: "detected: EigenTrust", points: sweep.map((r) => [r.m, r.eigentrust]) },
          { name: "false positives: metatrust", points: sweep.map((r) => [r.m, r.oursFpr]) },
        ],
      }),
    );
    // 3. Scale.
    const scale = a.scale === "0" ? [] : a.scale.split(",").map(Number);
    const scaleRows = [{ nodes: 500, ratings: main.ratings, ms: main.timeMs, heapMB: main.heapMB, fnr: main.ours.fnr, fpr: main.ours.fpr }];
    for (const n of scale) {
      const bar2 = progressBar(`sim:attacks ${n.toLocaleString("en-US")} nodes`);
      bar2(0);
      const r = runAttackSim({ ...paperSetting(n, 12), seed: a.seed });
      bar2(1);
      scaleRows.push({ nodes: n, ratings: r.ratings, ms: r.timeMs, heapMB: r.heapMB, fnr: r.ours.fnr, fpr: r.ours.fpr });
      console.log(
        `  ${n.toLocaleString("en-US")} nodes, ${r.ratings.toLocaleString("en-US")} ratings: detectors ${(r.timeMs.ours / 1000).toFixed(2)} s, EigenTrust ${(r.timeMs.eigentrust / 1000).toFixed(2)} s, heap ${r.heapMB.toFixed(0)} MB; FNR ${pct(r.ours.fnr)}, FPR ${pct(r.ours.fpr)}`,
      );
    }
    fs.writeFileSync(
      path.join(reportsDir(), "attacks-scale.csv"),
      "nodes,ratings,generate_ms,detectors_ms,average_ms,eigentrust_ms,heap_mb,fnr,fpr\n" +
        scaleRows
          .map((r) =>
            [
              r.nodes,
              r.ratings,
              r.ms.generate.toFixed(0),
              r.ms.ours.toFixed(0),
              r.ms.average.toFixed(0),
              r.ms.eigentrust.toFixed(0),
              r.heapMB.toFixed(0),
              r.fnr.toFixed(4),
              r.fpr.toFixed(4),
            ].join(","),
          )
          .join("\n") +
        "\n",
    );
    console.log("wrote reports/attacks-{500,share,scale}.csv, reports/attacks-share.svg");
    return { main, sweep, scale: scaleRows };
  });

task(
  "sim:disputes",
  "Dispute accuracy (Eq. 23) and colluders' reputation share against the colluding share -> reports/disputes-{accuracy,capture}.*",
)
  .addOptionalParam("seed", "PRNG seed", 1000, types.int)
  .setAction(async (a: { seed: number }) => {
    const { accuracySweep, configName, writeAccuracyFigure } = await import("../offchain/disputes/simulate");
    const { progressBar } = await import("../offchain/util/progress");
    const acc = accuracySweep(a.seed, progressBar("sim:disputes"));
    await writeAccuracyFigure(reportsDir(), acc);
    const ci = (e: { mean: number; lo: number; hi: number }) => `${pct(e.mean)} [${pct(e.lo)}, ${pct(e.hi)}]`;
    for (const r of acc)
      console.log(
        `  ${configName(r)}, ${pct(r.share)} colluding: weighted ${ci(r.weighted)}, unweighted ${pct(r.unweighted.mean)}, colluders end with ${ci(r.malWeight)} of the reputation`,
      );
    console.log("wrote reports/disputes-accuracy.{csv,svg}, reports/disputes-capture.svg");
    return acc;
  });
