/**
 * `sim:attacks`' run (tasks/sim.ts), resumable: the adversary suite at every size, one family at a
 * time (offchain/sim/adversarial.ts `runSuite`; its detectors keep no state from one family to the
 * next, so a family run alone gives the row the all-family call gives). With a checkpoint
 * (offchain/sim/checkpoint.ts) each finished row is saved as unit
 * `row-<nodes>-<family>-s<seeds>-c<checkpoint rounds>-d<damage 0/1>-<detectors>` and a later run with the
 * same key (rounds, detectors' version, commit and working tree, Node) loads it instead of running it.
 */
import os from "os";
import { runSuite, METATRUST, LEGACY, AVERAGE, EIGENTRUST, type SuiteRow } from "./adversarial";
import { SPLIT, FAMILIES, type Family } from "../trust/adversaries/generate";
import { machineFacts } from "./whitewash-run";
import type { SimCheckpoint } from "./checkpoint";

/** A saved row: the row (its `measured` says when and where it ran) and its compute seconds. */
type SavedRow = { row: SuiteRow; seconds: number };

/**
 * Runs the suite at every size.
 * @param o.sizes, o.rounds, o.seeds, o.families, o.damageUpTo, o.checkpointRounds - sim:attacks' flags
 *   (above 10,000 nodes: one seed, no pre-issue-15 detectors; 500 nodes and below: every report seed, and the
 *   detection checkpoints)
 * @param o.checkpoint - where rows are saved and found (none: nothing is saved)
 * @param o.bar - a progress bar per size; o.log - one line per row taken from the checkpoint
 * @returns the rows, each size's compute seconds (summed over its rows, whichever run made them), and `drop`,
 *   to call once the rows are written: deletes the units the run used (and the folder if it is then empty)
 */
export function runAttacks(o: {
  sizes: number[];
  rounds: number;
  seeds: number;
  families?: Family[];
  damageUpTo: number;
  checkpointRounds: number;
  checkpoint?: SimCheckpoint;
  bar?: (label: string) => (f: number) => void;
  log?: (line: string) => void;
}): { rows: SuiteRow[]; timing: { nodes: number; seconds: number; resumed: number }[]; drop: () => void } {
  const ck = o.checkpoint;
  const units: string[] = [];
  const rows: SuiteRow[] = [];
  const timing: { nodes: number; seconds: number; resumed: number }[] = [];
  for (const n of o.sizes) {
    const large = n > 10_000;
    const seeds = large ? SPLIT.reportSeeds.slice(0, 1) : n > 500 ? SPLIT.reportSeeds.slice(0, o.seeds) : SPLIT.reportSeeds;
    const damage = n <= o.damageUpTo;
    const detectors = large ? [METATRUST, AVERAGE, EIGENTRUST] : [METATRUST, LEGACY, AVERAGE, EIGENTRUST];
    const checkpointRounds = n <= 500 ? o.checkpointRounds : 0;
    const families = o.families ?? (["honest-noisy", ...FAMILIES] as Family[]);
    const bar = o.bar?.(`sim:attacks ${n.toLocaleString("en-US")} nodes`);
    let seconds = 0;
    let resumed = 0;
    families.forEach((family, k) => {
      const unit = `row-${n}-${family}-s${seeds.join("_")}-c${checkpointRounds}-d${damage ? 1 : 0}-${large ? "3" : "4"}`;
      units.push(unit);
      const saved = ck?.load<SavedRow>(unit);
      if (saved) {
        o.log?.(
          `sim:attacks ${n.toLocaleString("en-US")} nodes ${family}: resumed from ${ck!.dir} (run ${saved.row.measured?.at}, ${saved.seconds.toFixed(0)} s)`,
        );
        rows.push(saved.row);
        seconds += saved.seconds;
        resumed++;
      } else {
        const t0 = performance.now();
        const measured = { at: new Date().toISOString(), machine: machineFacts(os.loadavg()[0]) };
        const [row] = runSuite({ nodes: n, rounds: o.rounds, seeds, damage, families: [family], detectors, checkpointRounds });
        row.measured = measured;
        const s = (performance.now() - t0) / 1000;
        ck?.save(unit, { row, seconds: s } satisfies SavedRow);
        rows.push(row);
        seconds += s;
      }
      bar?.((k + 1) / families.length);
    });
    timing.push({ nodes: n, seconds, resumed });
  }
  return {
    rows,
    timing,
    drop: () => {
      ck?.drop(units);
      ck?.removeIfEmpty();
    },
  };
}
