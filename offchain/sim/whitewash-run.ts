/**
 * `sim:whitewash`'s run (tasks/sim.ts), resumable: the suite's whitewash rows per size
 * (offchain/sim/adversarial.ts), then the study of whether whitewashing pays per size and seed
 * (offchain/sim/whitewash.ts). With a checkpoint (offchain/sim/checkpoint.ts), every finished unit is
 * saved as it ends, and a later run with the same key (flags, detectors, commit and working tree,
 * Node) loads it instead of computing it:
 * - `suite-<nodes>-seeds<k>`: one size's rows and their timing (minutes at 50,000 nodes);
 * - `study-<nodes>-<seed>-W-07` ...: one analysis of the study (51 a seed; 2-4 minutes each at 50,000 nodes);
 * - `study-<nodes>-<seed>`: a finished seed (its analyses are then dropped).
 * The results are those of an uninterrupted run, to the bit (test/sim/whitewash-resume.test.ts); the
 * study's timing is its compute time summed over the runs that made it (`runs` when more than one).
 * `runWhitewashJobs` (`--jobs N`) computes the study's analyses in N worker processes first (study-pool.ts),
 * with the same results (test/sim/whitewash-jobs.test.ts); a seed's time is then its wall time with N workers.
 */
import os from "os";
import { runSuite, metatrustIdentityStudy, type SuiteRow } from "./adversarial";
import { whitewashStudy, studyUnits, type SavedRound, type WhitewashSeed } from "./whitewash";
import { computeInWorkers } from "./study-pool";
import type { WhitewashResults, WhitewashTiming } from "./whitewash-report";
import type { SimCheckpoint } from "./checkpoint";

/** The detectors and commit a run is made with (recorded in its timing lines). */
export type RunVersion = { detectors: string; commit: string; dirty: boolean };

/** The machine a timing ran on: CPU, cores, Node, platform, and the 1-minute load average at its start. */
export function machineFacts(load: number): string {
  return `${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, Node ${process.version}, ${os.platform()} ${os.arch()}, load ${load.toFixed(1)}`;
}

/** What the study saves per finished seed. */
type SavedSeed = { seed: WhitewashSeed; runs: string[] };

/**
 * Runs the suite's whitewash rows and the study at every size.
 * @param o.sizes, o.seeds, o.newcomers - the task's flags (seeds: the report seeds to run)
 * @param o.version - recorded in each timing line
 * @param o.checkpoint - where units are saved and found (none: nothing is saved)
 * @param o.run - this run's id (distinct per task invocation: counts the runs a resumed size took)
 * @param o.bar - a progress bar per phase and size
 * @param o.log - one line per unit taken from the checkpoint
 * @param o.now - the clock, in ms (default performance.now)
 * @param o.precomputed - the study's analyses computed in workers (`runWhitewashJobs`), per `${nodes}-${seed}`
 * @returns the run's results (only its sizes), and `drop`, to call once they are written: deletes the checkpoint
 *   units the run used (and the checkpoint's folder, unless a run of other sizes left units in it)
 */
export function runWhitewash(o: {
  sizes: number[];
  seeds: number[];
  newcomers: number;
  version: RunVersion;
  checkpoint?: SimCheckpoint;
  run: string;
  bar?: (label: string) => (f: number) => void;
  log?: (line: string) => void;
  now?: () => number;
  /** per size and seed (`${nodes}-${seed}`), the analyses `runWhitewashJobs` computed in workers */
  precomputed?: ReadonlyMap<string, ReadonlyMap<string, SavedRound>>;
}): { results: WhitewashResults; drop: () => void } {
  const ck = o.checkpoint;
  const now = o.now ?? (() => performance.now());
  const units: string[] = [];
  const log = o.log ?? (() => {});
  const label = (n: number) => n.toLocaleString("en-US");
  const rows: SuiteRow[] = [];
  const timing: WhitewashTiming[] = [];
  for (const n of o.sizes) {
    const unit = `suite-${n}-seeds${o.seeds.length}`;
    units.push(unit);
    const saved = ck?.load<{ rows: SuiteRow[]; timing: WhitewashTiming }>(unit);
    if (saved) {
      log(
        `sim:whitewash ${label(n)} nodes: the suite's rows resumed from ${ck!.dir} (run ${saved.timing.at}, ${saved.timing.seconds.toFixed(0)} s)`,
      );
      rows.push(...saved.rows);
      timing.push(saved.timing);
      continue;
    }
    const t0 = now();
    const load = os.loadavg()[0];
    const at = new Date().toISOString();
    const r = runSuite({
      nodes: n,
      seeds: o.seeds,
      families: ["whitewash"],
      detectors: metatrustIdentityStudy(),
      progress: o.bar?.(`sim:whitewash ${label(n)} nodes`),
    });
    const t: WhitewashTiming = { nodes: n, seconds: (now() - t0) / 1000, at, machine: machineFacts(load), ...o.version };
    ck?.save(unit, { rows: r, timing: t });
    rows.push(...r);
    timing.push(t);
  }
  const study: WhitewashSeed[] = [];
  const studyTiming: WhitewashTiming[] = [];
  for (const n of o.sizes) {
    // when and where the size's study started: in this run, or in the first run of a checkpoint
    const startUnit = `study-${n}-started`;
    units.push(startUnit);
    let started = ck?.load<{ at: string; machine: string }>(startUnit);
    if (!started) {
      started = { at: new Date().toISOString(), machine: machineFacts(os.loadavg()[0]) };
      ck?.save(startUnit, started);
    }
    const bar = o.bar?.(`sim:whitewash (pays?) ${label(n)} nodes`);
    const runs = new Set<string>();
    o.seeds.forEach((seed, k) => {
      const unit = `study-${n}-${seed}`;
      units.push(unit);
      const saved = ck?.load<SavedSeed>(unit);
      if (saved) {
        // a kill between the seed's save and the drop of its analyses (below) left them: drop them now
        ck!.drop(ck!.units().filter((u) => u.startsWith(`${unit}-`)));
        log(
          `sim:whitewash (pays?) ${label(n)} nodes seed ${seed}: resumed finished from ${ck!.dir} (${(saved.seed.ms / 1000).toFixed(0)} s of compute)`,
        );
        study.push(saved.seed);
        for (const x of saved.runs) runs.add(x);
        bar?.((k + 1) / o.seeds.length);
        return;
      }
      let seedRuns = [o.run];
      const store = ck && {
        load: <T>(u: string) => ck.load<T>(`${unit}-${u}`),
        save: (u: string, v: unknown) => ck.save(`${unit}-${u}`, v),
      };
      const s = whitewashStudy({
        nodes: n,
        seed,
        newcomers: o.newcomers,
        store,
        run: o.run,
        now: o.now,
        precomputed: o.precomputed?.get(`${n}-${seed}`),
        resumed: (r) => {
          seedRuns = [...new Set([...r.runs, o.run])];
          log(
            `sim:whitewash (pays?) ${label(n)} nodes seed ${seed}: resumed from ${ck!.dir}: ${r.analyses} of ${r.of} analyses done ` +
              `(${(r.ms / 1000).toFixed(0)} s of compute in ${r.runs.length} earlier run${r.runs.length > 1 ? "s" : ""})`,
          );
        },
        // per analysis (51 a seed), so that a long seed shows progress
        progress: (f) => bar?.((k + f) / o.seeds.length),
      });
      for (const x of seedRuns) runs.add(x);
      if (ck) {
        ck.save(unit, { seed: s, runs: seedRuns });
        ck.drop(ck.units().filter((u) => u.startsWith(`${unit}-`)));
      }
      study.push(s);
    });
    const t: WhitewashTiming = {
      nodes: n,
      // compute time: each seed's, summed over the runs that made it (not wall time)
      seconds: study.filter((x) => x.nodes === n).reduce((s, x) => s + x.ms, 0) / 1000,
      ...started,
      ...o.version,
    };
    if (runs.size > 1) t.runs = runs.size;
    studyTiming.push(t);
  }
  return {
    results: { rows, timing, study: { newcomers: o.newcomers, seeds: study, timing: studyTiming } },
    drop: () => {
      ck?.drop(units);
      ck?.removeIfEmpty();
    },
  };
}

/**
 * `sim:whitewash --jobs N`: `runWhitewash` with each unfinished seed's missing analyses computed first in
 * N worker processes (offchain/sim/study-pool.ts), each saved to the checkpoint as it arrives (with the
 * seed's elapsed time so far and the run, as `whitewashStudy` saves it), so a killed run resumes as
 * before; then `runWhitewash` as with one job, which reads them. The results are those of `--jobs 1` to
 * the bit (test/sim/whitewash-jobs.test.ts); a seed's `ms` is then its wall time with N workers (summed
 * over the runs that made it), not the sum of its analyses' compute.
 * @param o - `runWhitewash`'s options, and `jobs` (1: `runWhitewash` itself, nothing in workers)
 * @returns what `runWhitewash` returns
 * @throws (rejects) what `runWhitewash` throws, and Error when a worker fails (the analyses saved before stay)
 */
export async function runWhitewashJobs(
  o: Omit<Parameters<typeof runWhitewash>[0], "precomputed"> & { jobs: number; maxOldSpaceMb?: number },
): Promise<ReturnType<typeof runWhitewash>> {
  if (o.jobs <= 1) return runWhitewash(o);
  const ck = o.checkpoint;
  const now = o.now ?? (() => performance.now());
  const label = (n: number) => n.toLocaleString("en-US");
  const precomputed = new Map<string, Map<string, SavedRound>>();
  const rounds = 24;
  for (const n of o.sizes) {
    // the size's study starts now (runWhitewash finds the unit and keeps it)
    const startUnit = `study-${n}-started`;
    if (ck && !ck.load(startUnit)) ck.save(startUnit, { at: new Date().toISOString(), machine: machineFacts(os.loadavg()[0]) });
    const bar = o.bar?.(`sim:whitewash (pays?) ${label(n)} nodes, analyses in ${o.jobs} workers`);
    for (const [k, seed] of o.seeds.entries()) {
      const unit = `study-${n}-${seed}`;
      if (ck?.load(unit)) continue; // finished: runWhitewash loads it
      // what earlier runs saved of this seed: their compute time and runs carry on in what this run saves
      const all = studyUnits(rounds);
      let before = 0;
      let runs: string[] = [];
      const missing = all.filter((u) => {
        const saved = ck?.load<SavedRound>(`${unit}-${u.name}`);
        if (saved) ((before = Math.max(before, saved.ms)), (runs = [...new Set([...runs, ...saved.runs])]));
        return !saved;
      });
      const mine = new Map<string, SavedRound>();
      precomputed.set(`${n}-${seed}`, mine);
      const t0 = now();
      await computeInWorkers({
        base: { nodes: n, seed, rounds, newcomers: o.newcomers },
        units: missing,
        jobs: o.jobs,
        maxOldSpaceMb: o.maxOldSpaceMb,
        done: (name, x) => {
          x.ms = before + (now() - t0);
          x.runs = [...new Set([...runs, o.run])];
          ck?.save(`${unit}-${name}`, x);
          mine.set(name, x);
          bar?.((k + (all.length - missing.length + mine.size) / all.length) / o.seeds.length);
        },
      });
    }
  }
  return runWhitewash({ ...o, precomputed });
}
