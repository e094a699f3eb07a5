import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { SimCheckpoint, type CheckpointKey } from "../../offchain/sim/checkpoint";
import { runAttacks } from "../../offchain/sim/suite-run";
import { runSuite, METATRUST, LEGACY, AVERAGE, EIGENTRUST, type SuiteRow } from "../../offchain/sim/adversarial";
import { SPLIT, type Family } from "../../offchain/trust/adversaries/generate";
import { DETECTORS_VERSION } from "../../offchain/trust/robust";

/**
 * sim:attacks resumes (offchain/sim/suite-run.ts): one row per size and family, each saved as it
 * finishes; a run stopped after k rows and resumed gives the rows of the all-family call the task made
 * before (runSuite's detectors keep no state from one family to the next), as JSON, byte for byte but
 * for the times (each detector's ms, when and where a row ran). 60 nodes, three families, every report
 * seed, detection checkpoints every 4 rounds (as at 500 nodes).
 */
const NODES = 60;
const FAMS: Family[] = ["honest-noisy", "whitewash", "collusive-ring"];
const KEY: CheckpointKey = { rounds: 24, detectors: DETECTORS_VERSION, commit: "c".repeat(40), tree: "clean", node: process.version };

class Stopped extends Error {}

function checkpoint(root: string, dieAfter = Infinity): SimCheckpoint {
  const ck = new SimCheckpoint(root, "sim-attacks", KEY);
  const save = ck.save.bind(ck);
  let n = 0;
  ck.save = (u, v) => {
    if (n++ >= dieAfter) throw new Stopped(`stopped after ${dieAfter} saves`);
    save(u, v);
  };
  return ck;
}

const run = (ck?: SimCheckpoint, log: string[] = []) =>
  runAttacks({
    sizes: [NODES],
    rounds: 24,
    seeds: 3,
    families: FAMS,
    damageUpTo: 50_000,
    checkpointRounds: 4,
    checkpoint: ck,
    log: (l) => log.push(l),
  });

/** The rows as JSON, with what differs between any two runs (each detector's ms, `measured`) fixed. */
function json(rows: SuiteRow[]): string {
  const fix = (x: unknown): void => {
    if (x && typeof x === "object")
      for (const [k, v] of Object.entries(x))
        k === "ms" ? ((x as Record<string, unknown>)[k] = 1) : k === "measured" ? delete (x as Record<string, unknown>)[k] : fix(v);
  };
  const r = structuredClone(rows);
  fix(r);
  return JSON.stringify(r, null, 2);
}

describe("sim:attacks resumes from a checkpoint with the rows of an uninterrupted run (60 nodes, 3 families)", function () {
  this.timeout(20 * 60_000);
  let root: string;
  let uninterrupted: string;
  before(
    () =>
      (uninterrupted = json(
        runSuite({
          nodes: NODES,
          rounds: 24,
          seeds: SPLIT.reportSeeds,
          families: FAMS,
          damage: true,
          detectors: [METATRUST, LEGACY, AVERAGE, EIGENTRUST],
          checkpointRounds: 4,
        }),
      )),
  );
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-attacks-resume-"))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it("one family at a time, with a checkpoint, gives the all-family call's rows; `drop` leaves no checkpoint", () => {
    const ck = checkpoint(root);
    const { rows, timing, drop } = run(ck);
    expect(json(rows)).to.equal(uninterrupted);
    expect(ck.units()).to.have.length(FAMS.length);
    expect(timing).to.deep.equal([{ nodes: NODES, seconds: timing[0].seconds, resumed: 0 }]);
    drop();
    expect(fs.existsSync(ck.dir)).to.equal(false);
  });

  for (const k of [1, 2]) {
    it(`stopped after ${k} of ${FAMS.length} rows and resumed: the same rows, and the log says which were resumed`, () => {
      expect(() => run(checkpoint(root, k))).to.throw(Stopped);
      const ck = checkpoint(root);
      const saved = ck.units();
      expect(saved).to.have.length(k);
      const log: string[] = [];
      const { rows, timing, drop } = run(ck, log);
      expect(json(rows)).to.equal(uninterrupted);
      expect(log).to.have.length(k);
      FAMS.slice(0, k).forEach((f, i) =>
        expect(log[i]).to.match(new RegExp(`^sim:attacks ${NODES} nodes ${f}: resumed from ${ck.dir} \\(run 20`)),
      );
      expect(timing[0].resumed).to.equal(k);
      // a resumed row keeps when and where it ran
      const first = ck.load<{ row: SuiteRow }>(saved[0])!.row;
      expect(rows.find((r) => r.family === first.family)!.measured).to.deep.equal(first.measured);
      drop();
      expect(fs.existsSync(ck.dir)).to.equal(false);
    });
  }
});
