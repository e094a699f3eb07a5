import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import {
  mergeWhitewash,
  readWhitewash,
  whitewashMarkdown,
  writeWhitewash,
  type WhitewashResults,
} from "../../offchain/sim/whitewash-report";

const COMMITTED = path.resolve(__dirname, "..", "..", "bench", "results", "trust-whitewash.json");

/** The committed results' entries at `from` nodes, relabelled as a run at `to` nodes (only `seeds` study seeds). */
function runAt(committed: WhitewashResults, from: number, to: number, seeds = 3): WhitewashResults {
  const at = <T extends { nodes: number }>(xs: T[]) =>
    xs.filter((x) => x.nodes === from).map((x) => ({ ...structuredClone(x), nodes: to }));
  const version = { detectors: "session 99: a test", commit: "0123456789ab", dirty: false };
  return {
    rows: at(committed.rows),
    timing: at(committed.timing).map((t) => ({ ...t, ...version })),
    study: {
      newcomers: committed.study.newcomers,
      seeds: at(committed.study.seeds).slice(0, seeds),
      timing: at(committed.study.timing).map((t) => ({ ...t, ...version })),
    },
  };
}

describe("sim:whitewash: a run keeps the sizes it did not run (bench/results/trust-whitewash.json)", () => {
  const committed = readWhitewash(COMMITTED)!;
  const sizesOf = (xs: { nodes: number }[]) => [...new Set(xs.map((x) => x.nodes))];
  /** the sizes the committed file holds (whatever they are: the file grows as sizes are run) */
  const kept = sizesOf(committed.study.seeds);
  /** a size the committed file does not hold, larger than all of them */
  const NEW = 10 * Math.max(...kept);
  const label = (n: number) => n.toLocaleString("en-US");

  it("the committed file holds 500 and 5,000 nodes at least, each size in rows, timing and study alike", () => {
    expect(kept).to.include.members([500, 5000]);
    expect(sizesOf(committed.rows)).to.deep.equal(kept);
    expect(sizesOf(committed.study.timing)).to.deep.equal(kept);
  });

  it("running a size the file lacks adds that size and keeps the others (rows, study seeds, timing) as they were", () => {
    const run = runAt(committed, 500, NEW, 1);
    const merged = mergeWhitewash(committed, run, [NEW]);
    for (const n of kept) {
      const only = <T extends { nodes: number }>(xs: T[]) => xs.filter((x) => x.nodes === n);
      expect(only(merged.rows), `rows at ${n}`).to.deep.equal(only(committed.rows));
      expect(only(merged.timing), `timing at ${n}`).to.deep.equal(only(committed.timing));
      expect(only(merged.study.seeds), `study seeds at ${n}`).to.deep.equal(only(committed.study.seeds));
      expect(only(merged.study.timing), `study timing at ${n}`).to.deep.equal(only(committed.study.timing));
    }
    expect(merged.study.seeds.filter((x) => x.nodes === NEW)).to.deep.equal(run.study.seeds);
    expect(sizesOf(merged.rows)).to.deep.equal([...kept, NEW]);
    expect(sizesOf(merged.study.seeds)).to.deep.equal([...kept, NEW]);
    expect(sizesOf(merged.study.timing)).to.deep.equal([...kept, NEW]);
  });

  it("a size run again replaces its old rows, seeds and timing (none left twice); the others stay", () => {
    const more = mergeWhitewash(committed, runAt(committed, 500, NEW), [NEW]);
    const again = runAt(committed, 5000, 5000, 1);
    const merged = mergeWhitewash(more, again, [5000]);
    expect(merged.study.seeds.filter((x) => x.nodes === 5000)).to.deep.equal(again.study.seeds);
    expect(merged.rows.filter((x) => x.nodes === 5000)).to.deep.equal(again.rows);
    expect(merged.timing.filter((x) => x.nodes === 5000)).to.deep.equal(again.timing);
    expect(merged.study.seeds.filter((x) => x.nodes !== 5000)).to.deep.equal(more.study.seeds.filter((x) => x.nodes !== 5000));
    // with no file, the run's own sizes are all there is
    expect(mergeWhitewash(undefined, again, [5000])).to.deep.equal(again);
  });

  it("a share of newcomers other than the kept study's is refused, naming the flag and the kept sizes", () => {
    const run = runAt(committed, 500, NEW, 1);
    run.study.newcomers = 0.3;
    const line = `--newcomers: 0.3 differs from the ${committed.study.newcomers} of the study kept at ${kept.map(label).join(", ")} nodes`;
    expect(() => mergeWhitewash(committed, run, [NEW])).to.throw(line);
    expect(() => mergeWhitewash(committed, run, [NEW])).to.throw(/^--newcomers: /);
    // nothing kept: nothing to disagree with
    expect(mergeWhitewash(committed, run, [...kept, NEW]).study.newcomers).to.equal(0.3);
  });

  it("the report covers every size in the file, and names each size's detectors and commit where recorded", () => {
    const merged = mergeWhitewash(committed, runAt(committed, 500, NEW, 1), [NEW]);
    const { lines, first } = whitewashMarkdown(merged);
    const at = (n: number) => lines.filter((l) => l.startsWith(`| ${label(n)} |`));
    // the suite table and its timing; the study's two rules, its two rules' newcomers, its detection, its timing
    expect(at(NEW).length).to.equal(3 + 1 + 2 + 2 + 1 + 1);
    for (const n of kept) expect(at(n).length, `lines at ${n}`).to.be.at.least(at(NEW).length);
    expect(lines.slice(first).filter((l) => l.startsWith(`| ${label(NEW)} | 101 | identity layer |`))).to.have.length(1);
    const timing = lines.filter((l) => /^\| [\d,]+ \| \d+ \| 20\d\d-/.test(l));
    expect(timing.filter((l) => l.startsWith(`| ${label(NEW)} |`)).every((l) => l.endsWith("| session 99 | 0123456789ab |"))).to.equal(
      true,
    );
    // each kept size's timing names the detectors it ran with (its own record, or its rows' for sizes run before
    // session 19) and its commit, or says it was not recorded
    for (const t of [...committed.timing, ...committed.study.timing]) {
      const detectors = t.detectors ?? committed.rows.find((r) => r.nodes === t.nodes)?.detectors;
      const version = detectors ? detectors.split(":")[0] : "not recorded";
      const commit = t.commit ? `${t.commit}${t.dirty ? " (modified)" : ""}` : "not recorded";
      expect(
        timing.filter((l) => l.startsWith(`| ${label(t.nodes)} |`) && l.endsWith(`| ${version} | ${commit} |`)),
        `timing at ${t.nodes}`,
      ).to.not.be.empty;
    }
  });

  it("what is written reads back the same (NaN as null and back)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-whitewash-"));
    try {
      const merged = mergeWhitewash(committed, runAt(committed, 500, 50_000, 1), [50_000]);
      writeWhitewash(merged, dir);
      expect(readWhitewash(path.join(dir, "trust-whitewash.json"))).to.deep.equal(merged);
      expect(fs.readFileSync(path.join(dir, "trust-whitewash.md"), "utf8")).to.equal(whitewashMarkdown(merged).lines.join("\n") + "\n");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
