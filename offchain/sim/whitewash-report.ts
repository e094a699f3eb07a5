/**
 * bench/results/trust-whitewash.{md,json}, written by `sim:whitewash` (tasks/sim.ts): the suite's
 * whitewash rows with the identity layer and the study of whether whitewashing pays
 * (offchain/sim/whitewash.ts). A run replaces the sizes it ran and keeps every other size's rows,
 * study seeds and timing from the file it finds (as `sim:attacks` keeps trust-detection.json's), so
 * that a size can be run alone (50,000 nodes takes hours per seed).
 */
import fs from "fs";
import path from "path";
import type { SuiteRow } from "./adversarial";
import { WHITEWASH_RULES, type WhitewashSeed } from "./whitewash";

/** When, where, with which detectors and from which commit one size ran. */
export type WhitewashTiming = {
  nodes: number;
  seconds: number;
  at: string;
  machine: string;
  /** robust.ts's DETECTORS_VERSION; absent in sizes run before session 19 (the rows name theirs) */
  detectors?: string;
  /** the commit the run was made from (short hash), and whether offchain/ or tasks/ differed from it; absent before session 19 */
  commit?: string;
  dirty?: boolean;
  /**
   * the runs of the task whose compute `seconds` sums, when more than one (the size was resumed from a
   * checkpoint, offchain/sim/whitewash-run.ts); `at` and `machine` are then the first run's
   */
  runs?: number;
};

/** The JSON file's content. */
export type WhitewashResults = {
  rows: SuiteRow[];
  timing: WhitewashTiming[];
  study: { newcomers: number; seeds: WhitewashSeed[]; timing: WhitewashTiming[] };
};

const byNodes = (a: { nodes: number }, b: { nodes: number }) => a.nodes - b.nodes;

/**
 * The results after a run: the sizes it ran from `current`, every other size from `previous`.
 * @param previous - the file found before the run (undefined: none)
 * @param current - what the run produced (only the sizes it ran)
 * @param sizes - the sizes the run ran: their previous rows, study seeds and timing are dropped
 * @returns the merged results, sorted by size (study seeds by size, then seed)
 * @throws Error if a kept size's study was run with another share of newcomers than this run's
 */
export function mergeWhitewash(previous: WhitewashResults | undefined, current: WhitewashResults, sizes: number[]): WhitewashResults {
  const ran = (x: { nodes: number }) => sizes.includes(x.nodes);
  const keep = <T extends { nodes: number }>(xs: T[] | undefined) => (xs ?? []).filter((x) => !ran(x));
  const keptSeeds = keep(previous?.study?.seeds);
  if (keptSeeds.length && previous!.study.newcomers !== current.study.newcomers)
    throw new Error(
      `--newcomers: ${current.study.newcomers} differs from the ${previous!.study.newcomers} of the study kept at ` +
        `${[...new Set(keptSeeds.map((x) => x.nodes))].map((n) => n.toLocaleString("en-US")).join(", ")} nodes (run those sizes too)`,
    );
  return {
    rows: [...keep(previous?.rows), ...current.rows].sort(byNodes),
    timing: [...keep(previous?.timing), ...current.timing].sort(byNodes),
    study: {
      newcomers: current.study.newcomers,
      seeds: [...keptSeeds, ...current.study.seeds].sort((a, b) => a.nodes - b.nodes || a.seed - b.seed),
      timing: [...keep(previous?.study?.timing), ...current.study.timing].sort(byNodes),
    },
  };
}

/** Reads the JSON file (null read back as NaN), or undefined if there is none. */
export function readWhitewash(file: string): WhitewashResults | undefined {
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8"), (_k, v) => (v === null ? NaN : v)) : undefined;
}

const pct = (x: number) => (Number.isNaN(x) ? "n/a" : `${(x * 100).toFixed(1)}%`);

/** A timing table: one line per size, with the detectors and commit it ran with where recorded. */
function timingTable(timing: WhitewashTiming[], rows: SuiteRow[] = []): string[] {
  const lines = ["", "| nodes | seconds | started | machine | detectors | commit |", "|---|---|---|---|---|---|"];
  for (const t of timing) {
    // sizes run before session 19 recorded no version here; their suite rows name the detectors
    const detectors = t.detectors ?? rows.find((r) => r.nodes === t.nodes)?.detectors;
    const version = detectors ? detectors.split(":")[0] : "not recorded";
    const commit = t.commit ? `${t.commit}${t.dirty ? " (modified)" : ""}` : "not recorded";
    const seconds = `${t.seconds.toFixed(0)}${t.runs ? ` (compute summed over ${t.runs} runs: resumed)` : ""}`;
    lines.push(`| ${t.nodes.toLocaleString("en-US")} | ${seconds} | ${t.at} | ${t.machine} | ${version} | ${commit} |`);
  }
  return lines;
}

/**
 * The markdown report of every size in `res`.
 * @returns its lines, and the index of the study's first line (the task prints both parts)
 */
export function whitewashMarkdown(res: WhitewashResults): { lines: string[]; first: number } {
  const { rows, timing } = res;
  const study = res.study.seeds;
  const sizes = [...new Set(study.map((x) => x.nodes))].sort((a, b) => a - b);
  const f = (m: number, c: number, p = true) =>
    Number.isNaN(m)
      ? "n/a"
      : p
        ? `${(m * 100).toFixed(1)}%${Number.isNaN(c) ? "" : ` ± ${(c * 100).toFixed(1)}`}`
        : `${m.toFixed(3)}${Number.isNaN(c) ? "" : ` ± ${c.toFixed(3)}`}`;
  const lines = [
    "# Whitewashers with the identity layer (issue 15)",
    "",
    "Generated by `npx hardhat sim:whitewash` (offchain/sim/adversarial.ts `metatrustIdentityStudy`, offchain/trust/identity-layer.ts). " +
      "Family whitewash of the adversary suite (held out: never run while tuning the detectors), report seeds only. " +
      "Every whitewasher serves well for 4 rounds, badly for 2, then takes a fresh identity. The three rows share one analysis " +
      "(the same detections) and differ in effective trust: as `trust:detect` reports it; with the identity layer, every honest " +
      "identity and each whitewasher's first identity verified (one verified identity per person) and its fresh ones not; and " +
      "with only the pre-trusted seeds verified (honest non-seeds unverified too). Damage: mean |trust - trust in the same seed " +
      "without attackers| over trustworthy honest identities. The last three columns place every whitewasher identity against the " +
      "median trustworthy honest identity, and against Trust_min = 0.5 beside the trustworthy honest identities (what the rule costs them). ± is a 95% interval over the seeds. " +
      "A run replaces the sizes it ran and keeps the others: each size's timing line names the detectors (robust.ts's version) and the commit it ran with.",
    "",
    "| nodes | seeds | trust | detection | FPR | damage | whitewasher ids above the honest median | median gap to the honest median | whitewasher ids at or above Trust_min | honest at or above Trust_min |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows)
    for (const [d, sm] of Object.entries(r.results))
      lines.push(
        `| ${r.nodes.toLocaleString("en-US")} | ${r.seeds.join(", ")} | ${d} | ${f(sm.mean.detection, sm.ci95.detection)} | ${f(sm.mean.fpr, sm.ci95.fpr)} | ${f(sm.mean.damage, sm.ci95.damage, false)} | ${f(sm.mean.attackersAboveMedian, sm.ci95.attackersAboveMedian)} | ${f(sm.mean.attackerGap, sm.ci95.attackerGap, false)} | ${f(sm.mean.attackersAboveTrustMin, sm.ci95.attackersAboveTrustMin)} | ${f(sm.mean.honestAboveTrustMin, sm.ci95.honestAboveTrustMin)} |`,
      );
  lines.push(...timingTable(timing, rows));
  // Does whitewashing pay? (offchain/sim/whitewash.ts), the mean over the seeds
  const avg = (xs: number[]) => {
    const ys = xs.filter((x) => Number.isFinite(x));
    return ys.length ? ys.reduce((s2, x) => s2 + x, 0) / ys.length : NaN;
  };
  const num = (x: number, d = 2) => (Number.isNaN(x) ? "n/a" : x.toFixed(d));
  const first = lines.length;
  lines.push(
    "",
    "## Does whitewashing pay? With honest newcomers (session 16)",
    "",
    "Generated by the same task (offchain/sim/whitewash.ts `whitewashStudy`). The whitewash family with honest newcomers: " +
      `${res.study.newcomers} of the honest non-seed slots join mid-run (a round drawn in [1, 22]), half of them leave again after 4-10 rounds, ` +
      "half of them are unverified: an honest newcomer is as fresh, unverified and short-lived as a whitewash identity can be. " +
      "Against the same seed without whitewashing (each whitewasher keeps its first, verified identity: the same draws, the same " +
      "4-good / 2-bad service schedule) and without attackers (damage). At the start of every round metatrust's detectors run on the " +
      "ratings so far; effective trust under two rules: behaviour only (as `trust:detect` reports it) and the identity layer " +
      "(identity-layer.ts, docs/specs/trust.md §6: an unverified identity's prior is b·f = 0.1 and its trust is × u = 0.5). " +
      "In standing: trust at or above Trust_min = 0.5 at the start of the round. Mean over the seeds (per seed in the JSON).",
    "",
    "| nodes | seeds | rule | whitewasher's trust over its lives: with / without whitewashing | bad services in standing: with / without (of all its bad services) | whitewashers it pays in standing | whitewashers with more mean trust | fresh identity starts at / shed identity ends at | fresh identities at or above what they shed | fresh identity-rounds in standing | honest damage |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  );
  for (const n of sizes) {
    const ss = study.filter((x) => x.nodes === n);
    for (const rule of WHITEWASH_RULES) {
      const m = (g: (r: (typeof ss)[number]["rules"][typeof rule]) => number) => avg(ss.map((x) => g(x.rules[rule])));
      lines.push(
        `| ${n.toLocaleString("en-US")} | ${ss.map((x) => x.seed).join(", ")} | ${rule} | ${num(m((r) => r.trustWith))} / ${num(m((r) => r.trustWithout))} | ` +
          `${num(
            m((r) => r.badInStandingWith),
            1,
          )} / ${num(
            m((r) => r.badInStandingWithout),
            1,
          )} (${num(
            m((r) => r.badServices),
            1,
          )}) | ` +
          `${pct(m((r) => r.paysInStanding))} | ${pct(m((r) => r.paysInTrust))} | ${num(m((r) => r.freshStart))} / ${num(m((r) => r.shedEnd))} | ` +
          `${pct(m((r) => r.freshAtOrAboveShed))} | ${pct(m((r) => r.freshInStanding))} | ${num(
            m((r) => r.damage),
            3,
          )} |`,
      );
    }
  }
  lines.push(
    "",
    "What the same rules cost honest newcomers: the share of trustworthy newcomers that reach a level while in the run, and the median " +
      "rounds from their join to the first round at or above it (the mean of the seeds' medians). The median: the median trust of the " +
      "trustworthy honest identities present from round 0, at the same round; counted over the newcomers whose quality is at least that " +
      "median identity's (the others should not reach it).",
    "",
    "| nodes | rule | verified newcomers to the honest median | unverified newcomers to the honest median | verified newcomers to Trust_min | unverified newcomers to Trust_min |",
    "|---|---|---|---|---|---|",
  );
  const reach = (xs: { n: number; reached: number; medianRounds: number }[]) =>
    `${pct(avg(xs.map((x) => x.reached)))} of ${xs.reduce((s2, x) => s2 + x.n, 0)}, ${num(avg(xs.map((x) => x.medianRounds)), 1)} rounds`;
  for (const n of sizes) {
    const ss = study.filter((x) => x.nodes === n);
    for (const rule of WHITEWASH_RULES)
      lines.push(
        `| ${n.toLocaleString("en-US")} | ${rule} | ${reach(ss.map((x) => x.rules[rule].newcomersToMedian.verified))} | ${reach(ss.map((x) => x.rules[rule].newcomersToMedian.unverified))} | ` +
          `${reach(ss.map((x) => x.rules[rule].newcomersToTrustMin.verified))} | ${reach(ss.map((x) => x.rules[rule].newcomersToTrustMin.unverified))} |`,
      );
  }
  lines.push(
    "",
    "Detection at the end of the run, with the honest newcomers in the FPR (trustworthy honest identities flagged), beside the " +
      "identity facts alone (flag every unverified identity: a whitewasher's fresh identities and the unverified honest newcomers).",
    "",
    "| nodes | metatrust detection | FPR (newcomers included) | FPR of trustworthy newcomers | identity facts: detection | identity facts: FPR |",
    "|---|---|---|---|---|---|",
  );
  for (const n of sizes) {
    const ss = study.filter((x) => x.nodes === n);
    lines.push(
      `| ${n.toLocaleString("en-US")} | ${pct(avg(ss.map((x) => x.detection)))} | ${pct(avg(ss.map((x) => x.fpr)))} | ${pct(avg(ss.map((x) => x.fprNewcomers)))} | ` +
        `${pct(avg(ss.map((x) => x.identityFacts.detection)))} | ${pct(avg(ss.map((x) => x.identityFacts.fpr)))} |`,
    );
  }
  // the study's sizes run before session 19 ran in the same process as their rows: the rows name the detectors
  lines.push(...timingTable(res.study.timing, rows));
  return { lines, first };
}

/**
 * Writes trust-whitewash.{md,json} in `benchDir` from `res` (NaN written as null).
 * @returns the markdown's lines and the study's first line
 */
export function writeWhitewash(res: WhitewashResults, benchDir: string): { lines: string[]; first: number } {
  const md = whitewashMarkdown(res);
  fs.writeFileSync(path.join(benchDir, "trust-whitewash.md"), md.lines.join("\n") + "\n");
  fs.writeFileSync(path.join(benchDir, "trust-whitewash.json"), JSON.stringify(res, (_k, v) => (Number.isNaN(v) ? null : v), 2) + "\n");
  return md;
}
