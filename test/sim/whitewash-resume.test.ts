import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { SimCheckpoint, encodeExact, decodeExact, type CheckpointKey } from "../../offchain/sim/checkpoint";
import { runWhitewash } from "../../offchain/sim/whitewash-run";
import { whitewashMarkdown, writeWhitewash, type WhitewashResults } from "../../offchain/sim/whitewash-report";
import { DETECTORS_VERSION } from "../../offchain/trust/robust";

/**
 * sim:whitewash resumes (offchain/sim/whitewash-run.ts, checkpoint.ts): a run stopped right after its
 * k-th checkpoint save (what a kill then leaves on disk: every write is atomic) and resumed writes the
 * same trust-whitewash.json and .md, byte for byte, as an uninterrupted run, for k from the suite's
 * rows to the last of the study's 51 analyses. At 60 nodes (one seed: 6 whitewashers, 7 newcomers),
 * a few seconds a run. What differs between any two runs, resumed or not (times, dates, the machine's
 * load, the detectors' time per analysis in the suite's rows), is set to fixed values before the comparison; that a resumed run's timing says so is asserted apart.
 */
const NODES = 60;
const SEEDS = [101];
const NEWCOMERS = 0.2;
const KEY: CheckpointKey = {
  newcomers: NEWCOMERS,
  rounds: 24,
  detectors: DETECTORS_VERSION,
  commit: "c".repeat(40),
  tree: "clean",
  node: process.version,
};
const VERSION = { detectors: DETECTORS_VERSION, commit: "cccccccccccc", dirty: false };
/** saves in an uninterrupted run: the suite's rows, the study's start, 51 analyses, the finished seed */
const SAVES = 1 + 1 + 51 + 1;

class Stopped extends Error {}

/** The checkpoint of KEY under root; with `dieAfter`, its saves after that many throw (the process dies). */
function checkpoint(root: string, dieAfter = Infinity, key = KEY): SimCheckpoint {
  const ck = new SimCheckpoint(root, "sim-whitewash", key);
  const save = ck.save.bind(ck);
  let n = 0;
  ck.save = (u, v) => {
    if (n++ >= dieAfter) throw new Stopped(`stopped after ${dieAfter} saves`);
    save(u, v);
  };
  return ck;
}

let runCount = 0;
function run(ck: SimCheckpoint | undefined, log: string[] = [], now?: () => number) {
  return runWhitewash({
    sizes: [NODES],
    seeds: SEEDS,
    newcomers: NEWCOMERS,
    version: VERSION,
    checkpoint: ck,
    run: `run ${++runCount}`,
    log: (l) => log.push(l),
    now,
  });
}

/** trust-whitewash.{json,md} as written from `res`, with what differs between any two runs fixed. */
function written(res: WhitewashResults): { json: string; md: string } {
  const r = structuredClone(res);
  for (const t of [...r.timing, ...r.study.timing]) {
    t.seconds = 1;
    t.at = "2026-01-01T00:00:00.000Z";
    t.machine = "a machine";
    delete t.runs;
  }
  // every `ms`: the study seeds' and the suite rows' (each detector's time per analysis)
  const fix = (x: unknown): void => {
    if (x && typeof x === "object") for (const [k, v] of Object.entries(x)) k === "ms" ? ((x as Record<string, unknown>)[k] = 1) : fix(v);
  };
  fix(r);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-resume-out-"));
  try {
    writeWhitewash(r, dir);
    return {
      json: fs.readFileSync(path.join(dir, "trust-whitewash.json"), "utf8"),
      md: fs.readFileSync(path.join(dir, "trust-whitewash.md"), "utf8"),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("sim:whitewash resumes from a checkpoint with the results of an uninterrupted run (60 nodes)", function () {
  this.timeout(20 * 60_000);
  let root: string;
  let uninterrupted: { json: string; md: string };

  // without a checkpoint: nothing saved, nothing loaded
  before(() => (uninterrupted = written(run(undefined).results)));
  // each test its own folder of checkpoints (one failing leaves nothing for the next to load)
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-resume-"))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it("an uninterrupted run with a checkpoint writes the same, saves every unit, and `drop` leaves no checkpoint", () => {
    const ck = checkpoint(root);
    let saves = 0;
    const save = ck.save.bind(ck);
    ck.save = (u, v) => {
      saves++;
      save(u, v);
    };
    const { results, drop } = run(ck);
    expect(saves).to.equal(SAVES);
    // a finished seed's analyses are dropped at once: the suite, the study's start and the seed stay until drop
    expect(ck.units()).to.deep.equal([`study-${NODES}-101`, `study-${NODES}-started`, `suite-${NODES}-seeds1`]);
    expect(written(results)).to.deep.equal(uninterrupted);
    expect(results.study.timing[0].runs).to.equal(undefined);
    drop();
    expect(fs.existsSync(ck.dir)).to.equal(false);
  });

  // k: after the suite's rows; the study's start; W's first analysis; all of W and S's first; every analysis
  for (const k of [1, 2, 3, 28, SAVES - 1]) {
    it(`stopped after ${k} of ${SAVES} saves and resumed: the same JSON and markdown, byte for byte`, () => {
      expect(() => run(checkpoint(root, k))).to.throw(Stopped);
      const ck = checkpoint(root);
      const analyses = Math.max(0, k - 2);
      expect(ck.units()).to.have.length(k);
      // a write the kill interrupted leaves a temporary file: ignored
      fs.writeFileSync(path.join(ck.dir, `study-${NODES}-101-S-03.json.0123456789ab.tmp`), "{half");
      const log: string[] = [];
      const { results, drop } = run(ck, log);
      expect(written(results)).to.deep.equal(uninterrupted);
      // progress says what was resumed
      expect(log[0]).to.equal(
        `sim:whitewash ${NODES} nodes: the suite's rows resumed from ${ck.dir} (run ${results.timing[0].at}, ${results.timing[0].seconds.toFixed(0)} s)`,
      );
      if (analyses) {
        expect(log[1]).to.match(
          new RegExp(
            `^sim:whitewash \\(pays\\?\\) ${NODES} nodes seed 101: resumed from .*: ${analyses} of 51 analyses done \\(\\d+ s of compute in 1 earlier run\\)$`,
          ),
        );
        // the timing sums the two runs' compute and says so
        expect(results.study.timing[0].runs).to.equal(2);
        const { lines } = whitewashMarkdown(results);
        expect(lines.filter((l) => l.includes("(compute summed over 2 runs: resumed)"))).to.have.length(1);
      } else {
        expect(log).to.have.length(1);
        expect(results.study.timing[0].runs).to.equal(undefined);
      }
      drop();
      expect(fs.existsSync(ck.dir)).to.equal(false);
    });
  }

  it("stopped between a finished seed's save and the drop of its analyses: the resumed run drops them, and drop() leaves no folder", () => {
    // s21-review1 9: the finished seed was loaded, so its analyses' drop was never reached again
    const ck = checkpoint(root);
    const dropUnits = ck.drop.bind(ck);
    ck.drop = () => {
      throw new Stopped("stopped before the analyses were dropped");
    };
    expect(() => run(ck)).to.throw(Stopped);
    ck.drop = dropUnits;
    expect(ck.units().filter((u) => u.startsWith(`study-${NODES}-101-`))).to.have.length(51);
    const again = checkpoint(root);
    const { results, drop } = run(again);
    expect(written(results)).to.deep.equal(uninterrupted);
    drop();
    expect(fs.existsSync(again.dir)).to.equal(false);
  });

  it("stopped twice: the third run's timing sums the compute of the three runs that made it", () => {
    // a clock that moves 1 s per reading: the study reads it as it starts, at every save and as it ends
    let t = 0;
    const clock = () => (t += 1000);
    const first = checkpoint(root, 10);
    expect(() => run(first, [], clock)).to.throw(Stopped);
    // the first run saved the suite, the study's start and W-00..W-07: 8 readings after its start
    expect(first.load<{ ms: number }>(`study-${NODES}-101-W-07`)!.ms).to.equal(8000);
    expect(() => run(checkpoint(root, 20), [], clock)).to.throw(Stopped);
    // the second W-08..W-24 and S-00..S-02 (20 analyses), carrying the first's 8 s on
    const second = first.load<{ ms: number; runs: string[] }>(`study-${NODES}-101-S-02`)!;
    expect(second.ms).to.equal(28_000);
    expect(second.runs).to.have.length(2);
    const log: string[] = [];
    const { results, drop } = run(checkpoint(root), log, clock);
    expect(written(results)).to.deep.equal(uninterrupted);
    expect(log[1]).to.match(/: 28 of 51 analyses done \(28 s of compute in 2 earlier runs\)$/);
    expect(results.study.timing[0].runs).to.equal(3);
    // the third: 23 analyses and the end, on the 28 s it loaded: compute summed over the three runs, not the clock's span
    expect(results.study.seeds[0].ms).to.equal(52_000);
    expect(results.study.timing[0].seconds).to.equal(52);
    drop();
  });

  it("a checkpoint of other code or flags is never loaded, and is named in one line with what differs", () => {
    const other = { ...KEY, commit: "d".repeat(40) };
    expect(() => run(checkpoint(root, 5, other))).to.throw(Stopped);
    const ck = checkpoint(root);
    expect(ck.dir).to.not.equal(checkpoint(root, Infinity, other).dir);
    expect(ck.others()).to.deep.equal([
      {
        dir: checkpoint(root, Infinity, other).dir,
        why: `5 units; commit ${JSON.stringify(other.commit)} (this run: ${JSON.stringify(KEY.commit)})`,
      },
    ]);
    const log: string[] = [];
    const { results, drop } = run(ck, log);
    expect(log).to.deep.equal([]);
    expect(written(results)).to.deep.equal(uninterrupted);
    drop();
    // the other checkpoint is left as it was
    expect(checkpoint(root, Infinity, other).units()).to.have.length(5);
  });

  it("every field of the key names its own checkpoint", () => {
    const base = new SimCheckpoint(root, "sim-whitewash", KEY).dir;
    for (const [f, v] of Object.entries(KEY)) {
      const changed = { ...KEY, [f]: typeof v === "number" ? v + 1 : typeof v === "string" ? `${v}x` : !v };
      expect(new SimCheckpoint(root, "sim-whitewash", changed).dir, f).to.not.equal(base);
    }
    // and the order fields are listed in does not
    const reversed = Object.fromEntries(Object.entries(KEY).reverse());
    expect(new SimCheckpoint(root, "sim-whitewash", reversed).dir).to.equal(base);
  });

  it("numbers come back exactly: NaN, ±Infinity and -0 too (JSON alone writes null, null and 0)", () => {
    const xs = [NaN, Infinity, -Infinity, -0, 0, 0.1 + 0.2, 1 / 3, Number.MIN_VALUE, -Number.MAX_VALUE];
    const back = decodeExact<number[]>(encodeExact(xs));
    xs.forEach((x, i) => expect(Object.is(back[i], x), String(x)).to.equal(true));
  });
});
