/**
 * `sim:whitewash --jobs N`: one seed's analyses of the study (offchain/sim/whitewash.ts: W-00..W-24,
 * S-00..S-24, C-24) computed in N worker processes (offchain/sim/study-worker.ts), each a separate Node
 * process with its own heap. An analysis is a pure function of the flags and the unit (the worker
 * generates the network from the flags, as the study does), and the results come back through
 * structured clone (`serialization: "advanced"`: every double to the bit, NaN and -0 too), so the study
 * built from them is the one a single process builds (test/sim/whitewash-jobs.test.ts).
 *
 * Order: C first (a whole run), then W's analyses from the last round down, then S's (an analysis
 * costs about its prefix of ratings), so the run ends on small analyses and no core waits long for
 * the last one; one network's analyses in a row, so a worker regenerates its network a few times per
 * seed, not 51.
 */
import { fork, type ChildProcess } from "child_process";
import path from "path";
import type { SavedRound, StudyBase, StudyNet } from "./whitewash";

/** One analysis to compute. */
export type PoolUnit = { net: StudyNet; r: number; name: string };

/**
 * Computes the units in `jobs` worker processes.
 * @param o.base - the seed's flags (the networks are generated from them in each worker)
 * @param o.units - the analyses to compute (the seed's missing ones)
 * @param o.jobs - worker processes (at most one per unit)
 * @param o.done - called in the parent as each analysis arrives, in the order they finish, with the worker's
 *   compute time (ms); an error it throws stops the pool (every worker is killed) and rejects
 * @param o.maxOldSpaceMb - each worker's V8 heap limit (default 12,288; a 50,000-node analysis peaks at about
 *   2.6 GiB of resident memory: docs/specs/trust.md §6)
 * @returns once every unit is done and every worker has exited
 * @throws (rejects) Error naming the unit when a worker's analysis throws or the worker dies
 */
export function computeInWorkers(o: {
  base: StudyBase;
  units: readonly PoolUnit[];
  jobs: number;
  done: (name: string, x: SavedRound, ms: number) => void;
  maxOldSpaceMb?: number;
}): Promise<void> {
  if (!(Number.isInteger(o.jobs) && o.jobs >= 1)) throw new Error(`computeInWorkers: jobs must be an integer >= 1, got ${o.jobs}`);
  const order = [...o.units].sort((a, b) => cost(b) - cost(a));
  const script = path.join(__dirname, `study-worker${path.extname(__filename)}`);
  // a .ts worker (tests, hardhat tasks) is loaded the way the parent was: through ts-node, transpile only
  const execArgv = [
    ...(path.extname(__filename) === ".ts" ? ["-r", require.resolve("ts-node/register/transpile-only")] : []),
    `--max-old-space-size=${o.maxOldSpaceMb ?? 12_288}`,
  ];
  return new Promise((resolve, reject) => {
    let failed = false;
    let alive = 0;
    const workers: ChildProcess[] = [];
    const current = new Map<ChildProcess, string>();
    const stop = (e: unknown) => {
      if (failed) return;
      failed = true;
      for (const w of workers) w.kill();
      reject(e);
    };
    const next = (w: ChildProcess) => {
      const u = order.shift();
      if (!u) {
        current.delete(w);
        w.disconnect(); // its event loop empties and it exits
        return;
      }
      current.set(w, u.name);
      w.send({ base: o.base, net: u.net, r: u.r, name: u.name });
    };
    for (let j = 0; j < Math.min(o.jobs, order.length); j++) {
      const w = fork(script, [], { execArgv, serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
      workers.push(w);
      alive++;
      w.on("message", (m: { name: string; x?: SavedRound; ms?: number; error?: string }) => {
        if (failed) return;
        if (m.error !== undefined || !m.x)
          return stop(new Error(`sim:whitewash --jobs: analysis ${m.name} failed in a worker: ${m.error}`));
        try {
          o.done(m.name, m.x, m.ms!);
        } catch (e) {
          return stop(e);
        }
        next(w);
      });
      w.on("exit", (code, signal) => {
        alive--;
        if (current.has(w))
          stop(new Error(`sim:whitewash --jobs: a worker exited (${signal ?? `code ${code}`}) during analysis ${current.get(w)}`));
        else if (alive === 0 && !failed) resolve();
      });
      w.on("error", stop);
      next(w);
    }
    if (!order.length && alive === 0) resolve();
  });
}

/** An analysis' relative cost: its round (the prefix of ratings it reads), C's first (a full run without attackers). */
function cost(u: PoolUnit): number {
  return (u.net === "C" ? 1000 : u.net === "W" ? 500 : 0) + u.r;
}
