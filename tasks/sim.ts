/**
 * Simulations (`npm run sim`): seeded, with progress bars, writing CSV and SVG under reports/.
 * - sim:throughput: RSMS Monte Carlo throughput (RSMS paper §VI.C, Figs. 5-7), priced with our
 *   measured protocol costs (bench/results/rsms.json, group.json).
 * - sim:attacks: trust detection on the adversary suite (issue 15; report seeds only) at 500, 5,000
 *   and 50,000 nodes, beside the detectors before issue 15 and the average and EigenTrust baselines;
 *   resumable (offchain/sim/suite-run.ts, a row per size and family).
 * - sim:redteam: the held-out red-team families (offchain/trust/adversaries/redteam/), reported
 *   apart from the suite in bench/results/trust-redteam.{md,json} (round 2: --families round2 --output trust-redteam-r2).
 * - sim:whitewash: whitewashers' damage with and without the identity layer (docs/specs/trust.md §6),
 *   and whether whitewashing pays, with honest newcomers in the population (offchain/sim/whitewash.ts)
 *   -> bench/results/trust-whitewash.{md,json}; resumable (offchain/sim/whitewash-run.ts: 50,000 nodes outlives a session).
 * - sim:disputes: dispute accuracy (Eq. 23) against the share of malicious voters.
 */
import fs from "fs";
import path from "path";
import { task, types } from "hardhat/config";
import { UsageError, parseScale } from "./lib/cli";

/**
 * The code a simulation runs: the commit, and with offchain/ or tasks/ modified, the hash of the
 * modifications (tracked and untracked files) - part of a resume checkpoint's key (offchain/sim/checkpoint.ts).
 */
async function codeVersion(): Promise<{ commit: string; short: string; dirty: boolean; tree: string }> {
  const { execFileSync } = await import("child_process");
  const { createHash } = await import("crypto");
  const root = path.resolve(__dirname, "..");
  const git = (...args: string[]) => execFileSync("git", args, { cwd: root, maxBuffer: 1 << 30 }).toString();
  const dirty = git("status", "--porcelain", "--", "offchain", "tasks").trim().length > 0;
  const tree = createHash("sha256");
  if (dirty) {
    tree.update(git("diff", "HEAD", "--binary", "--", "offchain", "tasks"));
    for (const f of git("ls-files", "--others", "--exclude-standard", "-z", "--", "offchain", "tasks").split("\0").filter(Boolean).sort())
      tree.update(`\0${f}\0`).update(fs.readFileSync(path.join(root, f)));
  }
  const commit = git("rev-parse", "HEAD").trim();
  return { commit, short: commit.slice(0, 12), dirty, tree: dirty ? tree.digest("hex") : "clean" };
}

/** The resume checkpoint of a simulation's run, after naming the other checkpoints it will not load. */
async function simCheckpoint(name: string, key: Record<string, string | number | boolean>, restart: boolean) {
  const { SimCheckpoint } = await import("../offchain/sim/checkpoint");
  const ck = new SimCheckpoint(path.resolve(__dirname, "..", ".sim-checkpoints"), name, key);
  for (const o of ck.others()) console.log(`${name}: not resuming ${path.relative(process.cwd(), o.dir)} (other code or flags: ${o.why})`);
  if (restart && ck.units().length) {
    console.log(`${name}: --restart: deleting ${path.relative(process.cwd(), ck.dir)} (${ck.units().length} units)`);
    ck.remove();
  }
  return ck;
}

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
    const { lineChart, writeFigure } = await import("../offchain/util/plot");
    const { throughputChart } = await import("../offchain/sim/figures");
    const { progressBar } = await import("../offchain/util/progress");
    const costs = await measuredCosts();
    console.log(`sim:throughput: RSMS costs from ${costs.source}`);
    const base = { lambdaJ: 0.2, lambdaL: 0.2, a: 0.5, tMin: 3, tMax: 6, replications: a.replications, seed: a.seed };
    const sweeps = [
      {
        fig: "fig5" as const,
        points: [1, 2, 3, 4, 5, 6].map((t) => ({ x: t, o: { ...base, tMin: t, tMax: 2 * t } })),
      },
      {
        fig: "fig6" as const,
        points: [0.1, 0.2, 0.3, 0.4, 0.5].map((l) => ({ x: l, o: { ...base, lambdaJ: l } })),
      },
      {
        fig: "fig7" as const,
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
      // the chart is built from the rows alone, so `npm run figures` draws it again from the CSV
      writeFigure(path.join(reportsDir(), `throughput-${s.fig}.svg`), await lineChart(throughputChart(s.fig, out[s.fig])));
      console.log(`  ${s.fig}: ${out[s.fig].map((r) => `${r.x}: ${r.without.toFixed(2)} vs ${r.with.toFixed(2)}`).join("; ")}`);
    }
    console.log("wrote reports/throughput-fig{5,6,7}.{csv,svg}");
    return out;
  });

/** sim:attacks' flags. */
type AttacksArgs = {
  scale: string;
  rounds: number;
  checkpoint: number;
  seeds: number;
  families: string;
  damageUpTo: number;
  restart: boolean;
};

task(
  "sim:attacks",
  "Trust detection on the adversary suite (report seeds): metatrust vs the detectors before issue 15, average and EigenTrust -> reports/attacks-suite-*.{csv,svg}, bench/results/trust-detection.{md,json}",
)
  .addOptionalParam("scale", "Comma-separated network sizes (above 10,000: one seed, without the pre-issue-15 detectors)", "500,5000,50000")
  .addOptionalParam(
    "rounds",
    "Rounds of history per run (detection needs ratings per attacker: at 12 rounds rings and floods are found about half as often as at 24)",
    24,
    types.int,
  )
  .addOptionalParam("checkpoint", "Rounds between detection checkpoints for the time to detect, at 500 nodes (0 = off)", 4, types.int)
  .addOptionalParam("seeds", "Report seeds to run at 5,000 nodes and more (1-3; 500 nodes always runs all 3)", 3, types.int)
  .addOptionalParam("families", "Comma-separated families to run (default: honest-noisy and all eight attack families)", "")
  .addOptionalParam(
    "damageUpTo",
    "Largest size at which damage is measured (it runs every detector again without attackers)",
    50_000,
    types.int,
  )
  .addFlag(
    "restart",
    "Delete this run's resume checkpoint and start over (by default a run resumes from the rows, one per size and family, that an interrupted run of the same code and flags saved in .sim-checkpoints/; not --checkpoint)",
  )
  .setAction(async (a: AttacksArgs) => {
    const { runAttacks } = await import("../offchain/sim/suite-run");
    const { DETECTORS_VERSION } = await import("../offchain/trust/robust");
    const { SPLIT, FAMILIES } = await import("../offchain/trust/adversaries/generate");
    type Family = import("../offchain/trust/adversaries/generate").Family;
    const { writeSuiteReport } = await import("../offchain/sim/suite-report");
    const { progressBar } = await import("../offchain/util/progress");
    // Every flag is checked before anything runs or is written (a NaN size once wrote a NaN row).
    const sizes = parseScale(a.scale, 1_000_000);
    if (!Number.isInteger(a.seeds) || a.seeds < 1 || a.seeds > SPLIT.reportSeeds.length)
      throw new UsageError(`--seeds: ${a.seeds} is out of range (1-${SPLIT.reportSeeds.length})`);
    if (!Number.isInteger(a.rounds) || a.rounds < 4 || a.rounds > 240)
      throw new UsageError(`--rounds: ${a.rounds} is out of range (4-240 rounds of history)`);
    if (!Number.isInteger(a.checkpoint) || a.checkpoint < 0) throw new UsageError(`--checkpoint: ${a.checkpoint} must be 0 or more rounds`);
    const known: readonly string[] = [...FAMILIES, "honest-noisy"];
    for (const f of a.families ? a.families.split(",") : [])
      if (!known.includes(f)) throw new UsageError(`--families: unknown family "${f}" (one of ${known.join(", ")})`);
    // one row (size, family) at a time, each saved as it finishes: an interrupted run resumes when run again
    const code = await codeVersion();
    const ck = await simCheckpoint(
      "sim-attacks",
      { rounds: a.rounds, detectors: DETECTORS_VERSION, commit: code.commit, tree: code.tree, node: process.version },
      a.restart,
    );
    const { rows, timing, drop } = runAttacks({
      sizes,
      rounds: a.rounds,
      seeds: a.seeds,
      families: a.families ? (a.families.split(",") as Family[]) : undefined,
      damageUpTo: a.damageUpTo,
      checkpointRounds: a.checkpoint,
      checkpoint: ck,
      bar: progressBar,
      log: (l) => console.log(l.replace(ck.dir, path.relative(process.cwd(), ck.dir))),
    });
    // rows not run now (other sizes, or other families with --families) are kept from the last run,
    // so that sizes and families can be run one at a time
    const benchDir = path.resolve(__dirname, "..", "bench", "results");
    const previous = path.join(benchDir, "trust-detection.json");
    const ran = new Set(rows.map((r) => `${r.family}@${r.nodes}`));
    // JSON wrote NaN as null: read it back as NaN
    const kept = fs.existsSync(previous)
      ? (JSON.parse(fs.readFileSync(previous, "utf8"), (_k, v) => (v === null ? NaN : v)).rows as typeof rows).filter(
          (r) => !ran.has(`${r.family}@${r.nodes}`) && (!sizes.includes(r.nodes) || a.families !== ""),
        )
      : [];
    const out = await writeSuiteReport([...kept, ...rows], reportsDir(), benchDir);
    drop();
    for (const line of out.summary) console.log(line);
    // compute seconds per size, summed over its rows (a resumed size's include the earlier runs')
    console.log(
      `wrote ${out.files.join(", ")}; ${timing.map((t) => `${t.nodes}: ${t.seconds.toFixed(0)} s${t.resumed ? ` (${t.resumed} rows resumed)` : ""}`).join(", ")}`,
    );
    return { rows, timing };
  });

task(
  "sim:whitewash",
  "Whitewashers on the adversary suite (report seeds) with and without the identity layer (docs/specs/trust.md §6): detection, damage, where their identities end against the honest median; and, with honest newcomers (verified and not), whether whitewashing pays (bad services in standing against the same seed without whitewashing) and what the rule costs the newcomers -> bench/results/trust-whitewash.{md,json}; an interrupted run resumes when run again (.sim-checkpoints/, --restart)",
)
  .addOptionalParam(
    "scale",
    "Comma-separated network sizes (a run replaces these sizes in trust-whitewash.{json,md} and keeps the others)",
    "500,5000",
  )
  .addOptionalParam("seeds", "Report seeds per size (1-3)", 3, types.int)
  .addOptionalParam(
    "newcomers",
    "Share of honest non-seed slots that join mid-run in the study of whether whitewashing pays (0-1]",
    0.2,
    types.float,
  )
  .addOptionalParam(
    "jobs",
    "Worker processes for the study's analyses (51 a seed; each its own process: at 50,000 nodes about 2.6 GiB each); the results are those of --jobs 1 to the bit, and an interrupted run resumes with any --jobs",
    1,
    types.int,
  )
  .addFlag(
    "restart",
    "Delete this run's checkpoint and start over (by default a run resumes from the checkpoint in .sim-checkpoints/ that an interrupted run of the same flags, detectors, commit, working tree and Node left: each size's suite rows and each of the study's analyses, 51 a seed; the results are those of an uninterrupted run, and the checkpoint is deleted once they are written)",
  )
  .setAction(async (a: { scale: string; seeds: number; newcomers: number; jobs: number; restart: boolean }) => {
    const { runWhitewashJobs } = await import("../offchain/sim/whitewash-run");
    const { mergeWhitewash, readWhitewash, writeWhitewash } = await import("../offchain/sim/whitewash-report");
    const { DETECTORS_VERSION } = await import("../offchain/trust/robust");
    const { SPLIT } = await import("../offchain/trust/adversaries/generate");
    const { progressBar } = await import("../offchain/util/progress");
    const { randomBytes } = await import("crypto");
    const sizes = parseScale(a.scale, 1_000_000);
    if (!Number.isInteger(a.seeds) || a.seeds < 1 || a.seeds > SPLIT.reportSeeds.length)
      throw new UsageError(`--seeds: ${a.seeds} is out of range (1-${SPLIT.reportSeeds.length})`);
    if (!(a.newcomers > 0 && a.newcomers <= 1)) throw new UsageError(`--newcomers: ${a.newcomers} is out of range (0-1]`);
    if (!Number.isInteger(a.jobs) || a.jobs < 1 || a.jobs > 64) throw new UsageError(`--jobs: ${a.jobs} is out of range (1-64)`);
    // sizes not run now are kept from the file (their rows, study seeds and timing); a share of
    // newcomers other than the kept study's is refused before anything runs
    const previous = readWhitewash(path.resolve(__dirname, "..", "bench", "results", "trust-whitewash.json"));
    try {
      mergeWhitewash(previous, { rows: [], timing: [], study: { newcomers: a.newcomers, seeds: [], timing: [] } }, sizes);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    // the detectors and commit each size ran with (the commit as the run started); the checkpoint is named by
    // everything that determines the results (the size, seed and --seeds name its units)
    const code = await codeVersion();
    const version = { detectors: DETECTORS_VERSION, commit: code.short, dirty: code.dirty };
    const ck = await simCheckpoint(
      "sim-whitewash",
      { newcomers: a.newcomers, rounds: 24, detectors: DETECTORS_VERSION, commit: code.commit, tree: code.tree, node: process.version },
      a.restart,
    );
    const { results, drop } = await runWhitewashJobs({
      jobs: a.jobs,
      sizes,
      seeds: SPLIT.reportSeeds.slice(0, a.seeds),
      newcomers: a.newcomers,
      version,
      checkpoint: ck,
      run: `${new Date().toISOString()} ${randomBytes(4).toString("hex")}`,
      bar: progressBar,
      log: (l) => console.log(l.replace(ck.dir, path.relative(process.cwd(), ck.dir))),
    });
    const benchDir = path.resolve(__dirname, "..", "bench", "results");
    const file = path.join(benchDir, "trust-whitewash.json");
    const merged = mergeWhitewash(previous, results, sizes);
    const { lines, first } = writeWhitewash(merged, benchDir);
    // the results are written: the units they came from go (the folder too, unless another scale's are left)
    drop();
    console.log(`wrote ${path.relative(process.cwd(), file)} and .md (${sizes.join(", ")} nodes run now; other sizes kept)`);
    for (const l of [...lines.slice(8, first), ...lines.slice(first)]) console.log(l);
    return { rows: results.rows, timing: results.timing, study: results.study.seeds };
  });

task(
  "sim:redteam",
  "Trust detection on the held-out red-team families (adaptive attackers, honest-noisy populations): metatrust vs average and EigenTrust -> bench/results/trust-redteam.{md,json}",
)
  .addOptionalParam("scale", "Comma-separated network sizes", "500,5000")
  .addOptionalParam("seeds", "Seeds per size, from 201 (1-3)", 3, types.int)
  .addOptionalParam("checkpoint", "Rounds between detection checkpoints for the time to detect, at 500 nodes (0 = off)", 4, types.int)
  .addOptionalParam(
    "families",
    "Comma-separated red-team families (default: round 1's ten; round 2's, written against session 6's detectors: rt-rotate-stuff, rt-frame-recur, rt-onoff-masked, rt-loyal-poison, rt-loyal, rt-loyal-regional, rt-weekly-outage, or 'round2' for all of them)",
    "",
  )
  .addOptionalParam("output", "Base name of the results in bench/results/ (round 2: trust-redteam-r2)", "trust-redteam")
  .addFlag("reportOnly", "Rewrite <output>.md from <output>.json without running anything")
  .setAction(async (a: { scale: string; seeds: number; checkpoint: number; families: string; output: string; reportOnly: boolean }) => {
    const os = await import("os");
    const { execFileSync } = await import("child_process");
    const { runRedteam, RED_SEEDS } = await import("../offchain/sim/redteam");
    const { RED_ATTACKS, RED_HONEST, RED2_ATTACKS, RED2_HONEST } = await import("../offchain/trust/adversaries/redteam/generate");
    const { writeRedteamReport } = await import("../offchain/sim/redteam-report");
    type RedFamily = import("../offchain/trust/adversaries/redteam/generate").RedFamily;
    const benchDir = path.resolve(__dirname, "..", "bench", "results");
    if (!/^[A-Za-z0-9._-]+$/.test(a.output))
      throw new UsageError(`sim:redteam: --output: a base name (letters, digits, . _ -), got ${a.output}`);
    const previous = path.join(benchDir, `${a.output}.json`);
    // JSON wrote NaN as null: read it back as NaN
    const readPrevious = () =>
      fs.existsSync(previous) ? JSON.parse(fs.readFileSync(previous, "utf8"), (_k, v) => (v === null ? NaN : v)) : undefined;
    if (a.reportOnly) {
      const old = readPrevious();
      if (!old) throw new UsageError(`sim:redteam: --report-only: no ${previous} to read`);
      console.log(`wrote ${writeRedteamReport(old.rows, benchDir, old.runs, a.output).join(", ")}`);
      return old.rows;
    }
    const known: string[] = [...RED_ATTACKS, ...RED_HONEST, ...RED2_ATTACKS, ...RED2_HONEST];
    const families = a.families
      ? a.families.split(",").flatMap((f) => (f === "round2" ? [...RED2_ATTACKS, ...RED2_HONEST] : [f]))
      : undefined;
    const unknown = families?.find((f) => !known.includes(f));
    if (unknown) throw new UsageError(`sim:redteam: --families: unknown family ${unknown} (known: ${known.join(", ")})`);
    if (!(a.seeds >= 1 && a.seeds <= RED_SEEDS.length)) throw new UsageError(`sim:redteam: --seeds must be 1-${RED_SEEDS.length}`);
    const sizes = a.scale.split(",").map(Number);
    if (sizes.some((n) => !(Number.isInteger(n) && n >= 100))) throw new UsageError(`sim:redteam: --scale: sizes must be integers >= 100`);
    const git = (...args: string[]) =>
      execFileSync("git", args, { cwd: path.resolve(__dirname, "..") })
        .toString()
        .trim();
    const runs: Record<
      string,
      { commit: string; dirty: boolean; load: number[]; cpus: number; machine?: string; started: string; seconds: number }
    > = {};
    const rows = [];
    for (const n of sizes) {
      const t0 = performance.now();
      const run = {
        commit: git("rev-parse", "--short=12", "HEAD"),
        dirty: git("status", "--porcelain", "--", "offchain", "tasks").length > 0,
        load: os.loadavg(),
        cpus: os.cpus().length,
        machine: `${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, Node ${process.version}, ${os.platform()} ${os.arch()}`,
        started: new Date().toISOString(),
        seconds: 0,
      };
      rows.push(
        ...runRedteam({
          nodes: n,
          seeds: RED_SEEDS.slice(0, a.seeds),
          families: families as RedFamily[] | undefined,
          checkpointRounds: n <= 500 ? a.checkpoint : 0,
          progress: (r) =>
            console.log(
              `  ${n.toLocaleString("en-US")} nodes ${r.family.padEnd(20)} ${r.seconds.toFixed(0).padStart(5)} s  metatrust detection ${pct(r.results.metatrust.mean.detection)}, FPR incl. victims ${pct(r.results.metatrust.mean.fprWithVictims)}`,
            ),
        }),
      );
      for (const r of rows) if (r.nodes === n) r.commit = run.commit;
      run.seconds = (performance.now() - t0) / 1000;
      runs[n] = run;
    }
    // rows of sizes or families not run now are kept from the last run (each row names its commit)
    const old = readPrevious();
    const ran = new Set(rows.map((r) => `${r.nodes}/${r.family}`));
    const kept = old ? (old.rows as typeof rows).filter((r) => !ran.has(`${r.nodes}/${r.family}`)) : [];
    if (old) for (const [n, r] of Object.entries(old.runs as typeof runs)) if (!sizes.includes(Number(n))) runs[n] = r;
    const files = writeRedteamReport([...kept, ...rows], benchDir, runs, a.output);
    console.log(`wrote ${files.join(", ")}`);
    return rows;
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
