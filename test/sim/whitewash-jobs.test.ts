import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { SimCheckpoint, encodeExact, type CheckpointKey } from "../../offchain/sim/checkpoint";
import { runWhitewash, runWhitewashJobs } from "../../offchain/sim/whitewash-run";
import { writeWhitewash, type WhitewashResults } from "../../offchain/sim/whitewash-report";
import { DETECTORS_VERSION } from "../../offchain/trust/robust";

/**
 * sim:whitewash --jobs N (offchain/sim/whitewash-run.ts runWhitewashJobs, study-pool.ts, study-worker.ts):
 * the study's analyses computed in worker processes give the results of one process to the bit: every one of
 * the 51 analyses as saved (trust under both rules, W's flags), and trust-whitewash.{json,md}. A run stopped
 * while its workers compute resumes, with --jobs 2 or 1, to the same. At 60 nodes, one seed.
 */
const NODES = 60;
const KEY: CheckpointKey = {
  newcomers: 0.2,
  rounds: 24,
  detectors: DETECTORS_VERSION,
  commit: "c".repeat(40),
  tree: "clean",
  node: process.version,
};
const VERSION = { detectors: DETECTORS_VERSION, commit: "cccccccccccc", dirty: false };

class Stopped extends Error {}

/**
 * The checkpoint of KEY under root, recording every analysis it is sent (without the run's times and ids) by
 * unit name; with `dieAfter`, its saves after that many throw (the process dies).
 */
function checkpoint(root: string, seen: Map<string, string>, dieAfter = Infinity): SimCheckpoint {
  const ck = new SimCheckpoint(root, "sim-whitewash", KEY);
  const save = ck.save.bind(ck);
  let n = 0;
  ck.save = (u, v) => {
    if (n++ >= dieAfter) throw new Stopped(`stopped after ${dieAfter} saves`);
    if (/-[WSC]-\d\d$/.test(u)) {
      const x = { ...(v as Record<string, unknown>) };
      delete x.ms;
      delete x.runs;
      seen.set(u, encodeExact(x));
    }
    save(u, v);
  };
  return ck;
}

let runCount = 0;
const opts = (ck: SimCheckpoint | undefined, bar?: (label: string) => (f: number) => void) => ({
  sizes: [NODES],
  seeds: [101],
  newcomers: 0.2,
  version: VERSION,
  checkpoint: ck,
  run: `run ${++runCount}`,
  bar,
});

/** trust-whitewash.{json,md} as written from `res`, with what differs between any two runs (times, machine) fixed. */
function written(res: WhitewashResults): { json: string; md: string } {
  const r = structuredClone(res);
  for (const t of [...r.timing, ...r.study.timing]) {
    t.seconds = 1;
    t.at = "2026-01-01T00:00:00.000Z";
    t.machine = "a machine";
    delete t.runs;
  }
  const fix = (x: unknown): void => {
    if (x && typeof x === "object") for (const [k, v] of Object.entries(x)) k === "ms" ? ((x as Record<string, unknown>)[k] = 1) : fix(v);
  };
  fix(r);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-jobs-out-"));
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

describe("sim:whitewash --jobs: the study's analyses in worker processes, the results of one process to the bit (60 nodes)", function () {
  this.timeout(20 * 60_000);
  let root: string;
  let one: { json: string; md: string };
  const oneSeen = new Map<string, string>();

  before(() => {
    const r = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-jobs-"));
    try {
      const { results, drop } = runWhitewash(opts(checkpoint(r, oneSeen)));
      one = written(results);
      drop();
    } finally {
      fs.rmSync(r, { recursive: true, force: true });
    }
    expect(oneSeen.size).to.equal(51);
  });
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-jobs-"))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it("--jobs 2: every analysis as one process computes it, the same JSON and markdown, progress to 100%, and no checkpoint left", async () => {
    const seen = new Map<string, string>();
    const bars = new Map<string, number[]>();
    const ck = checkpoint(root, seen);
    const { results, drop } = await runWhitewashJobs({
      ...opts(ck, (label) => (f) => (bars.get(label) ?? bars.set(label, []).get(label)!).push(f)),
      jobs: 2,
    });
    expect([...seen.keys()].sort()).to.deep.equal([...oneSeen.keys()].sort());
    for (const [u, x] of oneSeen) expect(seen.get(u), u).to.equal(x);
    expect(written(results)).to.deep.equal(one);
    // the workers' progress: one step per analysis, rising to 1
    const pool = bars.get(`sim:whitewash (pays?) ${NODES} nodes, analyses in 2 workers`)!;
    expect(pool).to.have.length(51);
    expect(pool.every((f, i) => i === 0 || f > pool[i - 1])).to.equal(true);
    expect(pool[50]).to.equal(1);
    drop();
    expect(fs.existsSync(ck.dir)).to.equal(false);
  });

  it("--jobs 2 without a checkpoint: the same JSON and markdown", async () => {
    const { results } = await runWhitewashJobs({ ...opts(undefined), jobs: 2 });
    expect(written(results)).to.deep.equal(one);
  });

  // stopped after the study's start and a analyses (the workers run before the suite's rows; a save that throws
  // stops the pool and kills its workers)
  for (const [a, resumeJobs] of [
    [1, 2],
    [30, 1],
    [50, 2],
  ] as const) {
    const k = 1 + a;
    it(`stopped after ${a} analyses in workers, resumed with --jobs ${resumeJobs}: the same JSON and markdown`, async () => {
      const seen = new Map<string, string>();
      let threw: unknown;
      await runWhitewashJobs({ ...opts(checkpoint(root, seen, k)), jobs: 2 }).catch((e) => (threw = e));
      expect(threw).to.be.instanceOf(Stopped);
      const ck = checkpoint(root, seen);
      expect(ck.units().filter((u) => /-[WSC]-\d\d$/.test(u))).to.have.length(a);
      const { results, drop } = await runWhitewashJobs({ ...opts(ck), jobs: resumeJobs });
      for (const [u, x] of oneSeen) expect(seen.get(u), u).to.equal(x);
      expect(written(results)).to.deep.equal(one);
      expect(results.study.timing[0].runs).to.equal(2);
      drop();
      expect(fs.existsSync(ck.dir)).to.equal(false);
    });
  }
});
