/**
 * Tables and figures of `sim:attacks` on the adversary suite: per family and size, each detector's
 * detection, FPR (without and with victims), victims flagged, time to detect and damage, with 95%
 * intervals over the report seeds; written to reports/attacks-suite.csv, two figures, and
 * bench/results/trust-detection.{md,json}.
 */
import fs from "fs";
import path from "path";
import type { SuiteRow } from "./adversarial";
import type { Metrics } from "../trust/adversaries/evaluate";
import { FAMILIES, SPLIT } from "../trust/adversaries/generate";
import { DETECTORS_VERSION } from "../trust/robust";
import { lineChart, writeFigure } from "../util/plot";

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "n/a");
const num = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");

/**
 * Writes the suite's tables and figures.
 * @param rows - {@link runSuite} rows, any sizes
 * @param reportsDir - reports/ (CSV, SVG)
 * @param benchDir - bench/results/ (md, json)
 * @returns the files written and a short summary to print
 */
/** When session 10's detectors (the tail test and the GLR) were first run for this report: rows measured before are stale. */
const SESSION10 = "2026-12-03T07:40:00.000Z";
/** robust.ts's DETECTORS_VERSION in session 11 (the iteration), recorded in that session's rows */
const SESSION11_DETECTORS = "session 11: behaviour-change tests iterated without turned raters; praise during an episode";
/** session 13's version string (its binary-scale gate), the detectors before session 14's scan */
const SESSION13_DETECTORS = "session 13: binary-scale raters compared at their bar when one bar explains their downs on every target";
/** session 14's version string (the selective-liar scan), the detectors before session 15's rare-lies test */
const SESSION14_DETECTORS =
  "session 14: the selective-liar scan (point 2c: truncated product of per-target exact tails, the largest left out, exact convolution null at the unfair-rater level)";
/** session 15's version string (rare extreme lies, point 2d; 3c off), the detectors before session 17 turned 3c/3d on */
const SESSION15_DETECTORS =
  "session 15: rare extreme lies (point 2d: per rater, its very low ratings of targets the seed-anchored reference finds good against the exact beta-binomial null of the others' share below its bar, at 0.001 per rater); the two-service-levels test (point 3c) is off";
/** the versions with session 11's iteration, with session 13's gate, with session 14's scan and with session 15's 2d */
const SINCE11 = [SESSION11_DETECTORS, SESSION13_DETECTORS, SESSION14_DETECTORS, SESSION15_DETECTORS, DETECTORS_VERSION];
const SINCE13 = [SESSION13_DETECTORS, SESSION14_DETECTORS, SESSION15_DETECTORS, DETECTORS_VERSION];
const SINCE14 = [SESSION14_DETECTORS, SESSION15_DETECTORS, DETECTORS_VERSION];
const SINCE15 = [SESSION15_DETECTORS, DETECTORS_VERSION];

export async function writeSuiteReport(
  rows: SuiteRow[],
  reportsDir: string,
  benchDir: string,
): Promise<{ files: string[]; summary: string[] }> {
  const files: string[] = [];
  const keys: (keyof Metrics)[] = [
    "detection",
    "fpr",
    "fprWithVictims",
    "victimsFlagged",
    "honestBadFlagged",
    "ttdRounds",
    "damage",
    "victimMove",
    "boostedAboveMedian",
    "ms",
    "ratings",
  ];
  const csv = ["nodes,rounds,seeds,family,detector,metric,mean,ci95"];
  for (const r of rows)
    for (const [det, s] of Object.entries(r.results))
      for (const k of keys) csv.push([r.nodes, r.rounds, r.seeds.join(" "), r.family, det, k, s.mean[k], s.ci95[k]].join(","));
  const csvFile = path.join(reportsDir, "attacks-suite.csv");
  fs.writeFileSync(csvFile, csv.join("\n") + "\n");
  files.push(csvFile);
  const sizes = [...new Set(rows.map((r) => r.nodes))].sort((a, b) => a - b);
  const detectors = [...new Set(rows.flatMap((r) => Object.keys(r.results)))];
  // Figure 1: detection averaged over the attack families, against the size
  const avgOver = (n: number, det: string, k: keyof Metrics, fams: readonly string[]) => {
    const rs = rows.filter((r) => r.nodes === n && fams.includes(r.family) && r.results[det]);
    if (rs.length < fams.length) return undefined; // a mean over some of the families would not compare
    const m = rs.reduce((s, r) => s + r.results[det].mean[k], 0) / rs.length;
    const ci =
      Math.sqrt(rs.reduce((s, r) => s + (Number.isFinite(r.results[det].ci95[k]) ? r.results[det].ci95[k] ** 2 : 0), 0)) / rs.length;
    return { x: n, y: m, lo: Math.max(0, m - ci), hi: Math.min(1, m + ci) };
  };
  const seriesOf = (k: keyof Metrics, fams: readonly string[]) =>
    detectors
      .map((det) => ({
        name: det,
        points: sizes.map((n) => avgOver(n, det, k, fams)).filter((p): p is NonNullable<typeof p> => !!p && Number.isFinite(p.y)),
      }))
      .filter((s) => s.points.length);
  const fig1 = path.join(reportsDir, "attacks-suite-detection.svg");
  writeFigure(
    fig1,
    await lineChart({
      title: "Attackers flagged, mean over the 8 attack families (report seeds; 95% interval)",
      xLabel: "nodes",
      yLabel: "share of attacker identities flagged",
      xLog: sizes.length > 1,
      yMin: 0,
      yMax: 1,
      series: seriesOf("detection", FAMILIES),
    }),
  );
  files.push(fig1);
  const fig2 = path.join(reportsDir, "attacks-suite-fpr.svg");
  writeFigure(
    fig2,
    await lineChart({
      title: "Trustworthy honest entities flagged, victims included, mean over all 9 populations (95% interval)",
      xLabel: "nodes",
      yLabel: "share of trustworthy honest entities flagged",
      xLog: sizes.length > 1,
      yMin: 0,
      series: seriesOf("fprWithVictims", ["honest-noisy", ...FAMILIES]),
    }),
  );
  files.push(fig2);
  // Figure 3: per family at the smallest size
  const n0 = sizes[0];
  const fig3 = path.join(reportsDir, "attacks-suite-families.svg");
  writeFigure(
    fig3,
    await lineChart({
      title: `Attackers flagged per family at ${n0} nodes (1 ${FAMILIES[0]} ... 8 ${FAMILIES[7]}; 95% interval over seeds)`,
      xLabel: "attack family (numbered as in bench/results/trust-detection.md)",
      yLabel: "share of attacker identities flagged",
      yMin: 0,
      yMax: 1,
      series: detectors.map((det) => ({
        name: det,
        points: FAMILIES.map((f, i) => {
          const r = rows.find((x) => x.nodes === n0 && x.family === f)?.results[det];
          if (!r) return undefined;
          const ci = Number.isFinite(r.ci95.detection) ? r.ci95.detection : 0;
          return { x: i + 1, y: r.mean.detection, lo: Math.max(0, r.mean.detection - ci), hi: Math.min(1, r.mean.detection + ci) };
        }).filter((p): p is NonNullable<typeof p> => !!p),
      })),
    }),
  );
  files.push(fig3);
  // Markdown
  const md: string[] = [
    "# Trust detection on the adversary suite",
    "",
    "Generated by `npx hardhat sim:attacks` (offchain/sim/adversarial.ts, offchain/trust/adversaries/). Report seeds " +
      `(${SPLIT.reportSeeds.join(", ")}) only; each size names the seeds it ran. Tuned on families ` +
      `${SPLIT.tuneFamilies.join(", ")} with seeds ${SPLIT.tuneSeeds.join(", ")}; the families ${SPLIT.reportFamilies.join(", ")} were held out (marked *). ` +
      "The detectors' changes after the red team (sessions 5 to 8) were tuned on the same tune families (seeds 1, 2) and on half of the red-team families (bench/results/trust-redteam.md); session 7's evidence capacity (observations without an evidence record set weigh together at most 3 observations on a target; docs/specs/trust.md §4, point 0b) and session 8's lockstep rules (groups formed by verdict, a group flag that holds with any one target left out, members flagged one by one; point 1b) were fixed without a tuned constant and checked on that tune split only (the third after a report run of the red team's round 2; docs/specs/trust.md §4). A size whose rows have no measured date in the timing table below was run with an earlier version of the detectors (session 5 or before).",
    "",
    "Session 10 added two tests, each with its constants fixed from the literature before any run (docs/specs/trust.md §4, points 2b and 3): a per-rater tail test (Whitby, Jøsang and Indulska 2004's quantile filter, q = 0.01, accumulated over a rater's whole history: conformal ranks among the target's other raters, Poisson tail with Bonferroni over the raters, the strictness correction's error allowed for) and a one-change-point likelihood-ratio test (binomial GLR, Hinkley 1971, Worsley 1983; bootstrap p-value, 15% trimming as in Andrews 1993) among the behaviour-change tests. They were checked on the tune families with tune seeds 1-3 and on the red team's honest populations rt-strict-cluster and rt-outage (tune) before the one report run; the held-out families were not run while developing them (camouflage* once, with session 8's detectors, to see the baseline). " +
      (() => {
        const stale = sizes.filter((n) => rows.some((r) => r.nodes === n && (!r.measured || r.measured.at < SESSION10)));
        return stale.length
          ? `The rows at ${stale.map((n) => n.toLocaleString("en-US")).join(" and ")} nodes were measured before session 10 (its timing table's dates are earlier than ${SESSION10}): they are stale, without the two tests.`
          : "Every size below was run with session 10's detectors or later.";
      })(),
    "",
    "Session 11 iterated the behaviour-change tests (docs/specs/trust.md §4, point 3): an entity flagged for turning bad and staying turned is no credible witness from its turn on, so the tests are run again without its later ratings, and a rater whose good outcomes on such entities during their episodes exceed what the other credible raters saw there (point 2's z >= 4 and 2.5 excess outcomes, the episode as the reference) is flagged good-mouthing and weighs nothing; no new constant. It was developed on the tune families and on sybil-late with tune seeds 1-3 only (sybil-late is therefore no longer held out, and carries no asterisk), and checked on the red team's tune families rt-strict-cluster, rt-outage, rt-frame and rt-ballot-stuff (seeds 1-2); the other held-out families were not run while developing it. " +
      (() => {
        const older = sizes.filter((n) => rows.some((r) => r.nodes === n && !SINCE11.includes(r.detectors ?? "")));
        return older.length
          ? `The rows at ${older.map((n) => n.toLocaleString("en-US")).join(" and ")} nodes were run with earlier detectors (session 10's, or older as said above: their JSON rows carry no \`detectors\` version of session 11 or later), without the iteration.`
          : "Every size below was run with session 11's detectors or later.";
      })(),
    "",
    "Session 13 changed how raters on a binary scale (exactly two values, one on either side of 0.5: thumbs up / down) are tested (docs/specs/trust.md §4, point 2a), without a tuned constant. Such a rater is compared, in the unfair-rater test, with the other raters' outcomes at its own bar (the value below which they would have given as many bad verdicts on its targets as it gave, capped at 0.5 ± 0.3 like the strictness offset) only when one bar explains its downs on every target: a likelihood-ratio test of that hypothesis against its downs target by target (beta-binomial nulls from the seed-anchored reference, exact tail, rejected only if rejected at every bar within the cap) at alpha = 0.01 per rater; otherwise it is tested at 0.5 like any rater. Developed on the tune families with tune seeds 1-3, on the red team's tune families rt-strict-cluster, rt-outage, rt-frame and rt-ballot-stuff (seeds 1-3) and on test worlds of our own (test/trust/binary-liar.test.ts: rt-clean seeds 1-2 with binary bad-mouthers; test/trust/robust.tail.test.ts); the held-out families were not run while developing it. " +
      (() => {
        const older = sizes.filter((n) => rows.some((r) => r.nodes === n && !SINCE13.includes(r.detectors ?? "")));
        return older.length
          ? `The rows at ${older.map((n) => n.toLocaleString("en-US")).join(" and ")} nodes were run with earlier detectors (their JSON rows carry no \`detectors\` version of session 13 or later), without this rule.`
          : "Every size below was run with session 13's detectors or later.";
      })(),
    "",
    "Session 14 added the selective-liar scan (docs/specs/trust.md §4, point 2c), without a tuned constant: a rater that point 2's summed z does not flag is tested on the targets where it disagrees (per-target exact beta-binomial tails under point 2's null, Zaykin et al. 2002's truncated product at their tau = 0.05, the largest term left out, its null tail computed exactly by convolution) at point 2's own level (z = 4, one-sided) with 2.5 excess outcomes. Developed on the tune families with tune seeds 1-3 and the red team's tune families rt-strict-cluster, rt-outage, rt-frame and rt-ballot-stuff (seeds 1-3) at 500 nodes (identical to session 13 per seed, except sybil-attack-edges seed 3: 48 → 49 of 50), on test worlds of our own (test/trust/robust.scan.test.ts), and on flood tune seed 1 at 500 and 5,000 nodes (flood had already been looked at in session 13, so it is not a clean held-out family for this rule; camouflage*, onoff-random* and whitewash* were not run while developing it). " +
      (() => {
        const older = sizes.filter((n) => rows.some((r) => r.nodes === n && !SINCE14.includes(r.detectors ?? "")));
        return older.length
          ? `The rows at ${older.map((n) => n.toLocaleString("en-US")).join(" and ")} nodes were run with earlier detectors, without the scan.`
          : "Every size below was run with session 14's detectors or later.";
      })(),
    "",
    "Session 15 added a rater test for rare extreme lies (docs/specs/trust.md §4, point 2d), at a stated level of 0.001 per rater and without a tuned constant: per rater, the count of its very low ratings (below 0.2 on its own scale; a binary rater's downs) of targets the seed-anchored reference finds good and the other raters do not dispute, against the exact tail of the convolution of beta-binomials whose shares are the others' share of strictness-corrected values below the rater's bar there (point 2's seed-anchored reference, the seeds' share on good targets as one pseudo-observation, values at 0 censored); flagged raters weigh nothing before the behaviour-change tests. Developed on the tune families with tune seeds 1-3, the red team's rt-strict-cluster, rt-weekly-outage, rt-outage, rt-loyal, rt-newcomers, rt-loyal-regional (seeds 1-2), rt-sybil-seed-court (seeds 1-2 and report seed 201, after a first report run at 500 nodes flagged its honest raters: the disputed-target rule followed), rt-frame, rt-budget-liar, rt-frame-recur and rt-rotate-stuff (seed 1), and camouflage* and flood* on tune seeds 1-3 (so camouflage* and flood* are not clean held-out families for this rule); whitewash* and onoff-random* were not run while developing it. A provider test of two service levels (point 3c) was built too and was off by default until session 17 (below). " +
      (() => {
        const rerun = rows.filter((r) => SINCE15.includes(r.detectors ?? ""));
        const partial = rerun.filter((r) => r.rerun);
        const older = rows.filter((r) => !SINCE15.includes(r.detectors ?? ""));
        // per size, its families (or "every family")
        const list = (rs: SuiteRow[]) =>
          sizes
            .filter((n) => rs.some((r) => r.nodes === n))
            .map((n) => {
              const fs = rs.filter((r) => r.nodes === n).map((r) => r.family);
              const all = rows.filter((r) => r.nodes === n).length === fs.length;
              return `${all ? "every family" : fs.join(", ")} at ${n.toLocaleString("en-US")} nodes`;
            })
            .join("; ");
        return (
          (older.length
            ? `Rows without it (run with earlier detectors, their JSON \`detectors\` older than session 15's): ${list(older)}. `
            : "Every row below was run with session 15's detectors or later. ") +
          (partial.length
            ? `In ${list(partial)} only the metatrust detector was re-run with session 15's detectors (the only one this session changed); the other detectors' rows there are the previous run's, on the same generated networks.`
            : "")
        );
      })(),
    "",
    "Session 17 turned on by default the provider test of two service levels (point 3c, session 15) with its outage rule (point 3d, session 16) (docs/specs/trust.md §4): per provider, the spread of its strictness-corrected, peer-normalized values in units of the population's noise against a provider at one level with that noise (Monte Carlo, 0.001 per provider), an outage's shape (the same low level for everyone it served in an epoch, in at most a fifth of its epochs) a notice rather than a flag; it runs only when the population's noise is estimated from at least log2(1 / 0.001) = 10 mid-scale providers (every population here has hundreds). Developed in sessions 15-16 (onoff-random* was looked at on tune seeds 1-2 then, and rt-onoff-cusum on seed 1: neither is a clean held-out family for it); session 17 changed nothing the suite's networks reach. " +
      (() => {
        const older = rows.filter((r) => r.detectors !== DETECTORS_VERSION);
        const list = sizes
          .filter((n) => older.some((r) => r.nodes === n))
          .map((n) => {
            const fs = older.filter((r) => r.nodes === n).map((r) => r.family);
            return `${rows.filter((r) => r.nodes === n).length === fs.length ? "every family" : fs.join(", ")} at ${n.toLocaleString("en-US")} nodes`;
          })
          .join("; ");
        return older.length
          ? `Rows run with earlier detectors (their JSON \`detectors\` is not session 17's), without 3c and 3d, so that on-off there is what point 3 alone finds: ${list}.`
          : "Every row below was run with session 17's detectors.";
      })() +
      (() => {
        // a size's heading names the seeds of its first row; a row re-run on fewer seeds says so here
        const fewer = rows.filter((r) => r.seeds.length < rows.find((x) => x.nodes === r.nodes)!.seeds.length);
        return fewer.length
          ? ` Rows run on fewer seeds than their size's heading: ${fewer.map((r) => `${r.family} at ${r.nodes.toLocaleString("en-US")} nodes (seed ${r.seeds.join(", ")})`).join("; ")}.`
          : "";
      })(),
    "",
    "Columns: detection = attacker identities flagged; FPR = trustworthy honest (q >= 0.5) flagged, without / with the victims; victims = bad-mouthed or flooded honest flagged; ttd = median rounds from first misbehaviour to first flag (detectors re-run every 4 rounds; 500 nodes only); damage = mean |effective trust - same seed without attackers| over trustworthy honest (n/a where not measured); boosted > median = boosted bad providers above the median trustworthy honest. ± is the 95% interval over seeds.",
    "",
  ];
  for (const n of sizes) {
    const r0 = rows.find((x) => x.nodes === n)!;
    md.push(`## ${n.toLocaleString("en-US")} nodes (seeds ${r0.seeds.join(", ")}; ${r0.rounds} rounds)`, "");
    md.push(
      "| # | family | detector | detection | FPR | FPR with victims | victims flagged | ttd (rounds) | damage | victims' move | boosted > median |",
    );
    md.push("|---|---|---|---|---|---|---|---|---|---|---|");
    for (const r of rows.filter((x) => x.nodes === n)) {
      const idx = FAMILIES.indexOf(r.family as (typeof FAMILIES)[number]) + 1;
      const held = SPLIT.reportFamilies.includes(r.family) ? "*" : "";
      for (const [det, s] of Object.entries(r.results)) {
        const m = s.mean;
        const c = s.ci95;
        const pm = (k: keyof Metrics) =>
          Number.isFinite(m[k]) ? `${pct(m[k])}${Number.isFinite(c[k]) ? ` ± ${(100 * c[k]).toFixed(1)}` : ""}` : "n/a";
        md.push(
          `| ${idx || ""} | ${r.family}${held} | ${det} | ${pm("detection")} | ${pm("fpr")} | ${pm("fprWithVictims")} | ${pm("victimsFlagged")} | ${r.checkpointRounds > 0 ? num(m.ttdRounds, 1) : "n/a"} | ${num(m.damage)} | ${num(m.victimMove)} | ${pct(m.boostedAboveMedian)} |`,
        );
      }
    }
    md.push("");
  }
  md.push(
    "## Time of the detectors on the whole history (mean per run, honest-noisy population)",
    "",
    "| nodes | ratings | detector | ms | µs per rating | measured (UTC) | machine |",
    "|---|---|---|---|---|---|---|",
  );
  for (const n of sizes) {
    const r = rows.find((x) => x.nodes === n && x.family === "honest-noisy");
    if (!r) continue;
    for (const [det, s] of Object.entries(r.results))
      md.push(
        `| ${n.toLocaleString("en-US")} | ${Math.round(s.mean.ratings).toLocaleString("en-US")} | ${det} | ${s.mean.ms.toFixed(0)} | ${((1000 * s.mean.ms) / s.mean.ratings).toFixed(1)} | ${r.measured?.at ?? "not recorded"} | ${r.measured?.machine ?? "not recorded"} |`,
      );
  }
  md.push("", "Times are wall-clock on a shared, loaded machine: compare ratios between sizes, not absolute values.", "");
  const mdFile = path.join(benchDir, "trust-detection.md");
  fs.writeFileSync(mdFile, md.join("\n"));
  const jsonFile = path.join(benchDir, "trust-detection.json");
  fs.writeFileSync(jsonFile, JSON.stringify({ split: SPLIT, rows }, null, 1) + "\n");
  files.push(mdFile, jsonFile);
  const summary = sizes.flatMap((n) =>
    detectors.map((det) => {
      const d = avgOver(n, det, "detection", FAMILIES);
      const f = avgOver(n, det, "fprWithVictims", ["honest-noisy", ...FAMILIES]);
      return `  ${n.toLocaleString("en-US").padStart(6)} nodes ${det.padEnd(18)} detection ${pct(d?.y ?? NaN)} (mean of families), FPR with victims ${pct(f?.y ?? NaN)}`;
    }),
  );
  return { files, summary };
}
