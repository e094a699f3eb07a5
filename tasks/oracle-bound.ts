/**
 * sim:oracle-bound: the oracle bound of the adversary suite's sparse families (issue 15;
 * offchain/trust/adversaries/oracle-bound.ts, docs/specs/trust.md §4, "The oracle bound") -> bench/results/trust-oracle-bound.{md,json}.
 */
import fs from "fs";
import path from "path";
import { task, types } from "hardhat/config";
import { UsageError, parseScale } from "./lib/cli";

const ALPHAS = [0.001, 0.0025, 0.005, 0.007, 0.01, 0.02, 0.05, 0.1];

task(
  "sim:oracle-bound",
  "The best detection any detector could reach at a given FPR on the adversary suite's on-off, camouflage, whitewash and sparse bad-mouther families (a likelihood-ratio test that knows the generator's model), beside metatrust's -> bench/results/trust-oracle-bound.{md,json}",
)
  .addOptionalParam("scale", "Comma-separated network sizes (20 to 20,000 nodes)", "500,5000")
  .addOptionalParam("seeds", "Report seeds to run (1-3 of 101, 102, 103)", 3, types.int)
  .addFlag("noSweep", "Skip the evidence sweep (run length and interaction rate at 500 nodes)")
  .addOptionalParam(
    "out",
    "Directory for the results; metatrust's figures beside the bound are read from trust-detection.json there (sim:attacks with the same --out)",
    "bench/results",
  )
  .setAction(async (a: { scale: string; seeds: number; noSweep: boolean; out: string }) => {
    const ob = await import("../offchain/trust/adversaries/oracle-bound");
    const { generateNetwork, SPLIT } = await import("../offchain/trust/adversaries/generate");
    const sizes = parseScale(a.scale, 20_000);
    if (!Number.isInteger(a.seeds) || a.seeds < 1 || a.seeds > SPLIT.reportSeeds.length)
      throw new UsageError(`--seeds: ${a.seeds} is out of range (1-${SPLIT.reportSeeds.length})`);
    if (!fs.existsSync(a.out) || !fs.statSync(a.out).isDirectory()) throw new UsageError(`--out: ${a.out} is not a directory`);
    const seeds = SPLIT.reportSeeds.slice(0, a.seeds);
    const detFile = path.join(a.out, "trust-detection.json"); // sim:attacks' rows, from the same --out
    type DetRow = { family: string; nodes: number; results: Record<string, { mean: { detection: number; fpr: number } }> };
    const detRows: DetRow[] = fs.existsSync(detFile)
      ? JSON.parse(fs.readFileSync(detFile, "utf8"), (_k, v) => (v === null ? NaN : v)).rows
      : [];
    const detOf = (family: string, nodes: number) => detRows.find((r) => r.family === family && r.nodes === nodes)?.results.metatrust?.mean;
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "n/a" : `${(100 * x).toFixed(1)}%`);

    type Point = {
      family: string;
      nodes: number;
      rounds: number;
      activityScale: number;
      seeds: number[];
      evidence: number;
      views: Record<string, { alpha: number; detection: number[]; fpr: number[]; honestBad: number[] }[]>;
    };
    const runPoint = (
      family: (typeof ob.ORACLE_FAMILIES)[number],
      nodes: number,
      rounds: number,
      activityScale: number,
      views: ("sat" | "value" | "blind")[],
    ): Point => {
      const p: Point = { family, nodes, rounds, activityScale, seeds, evidence: 0, views: {} };
      const ev: number[] = [];
      for (const seed of seeds) {
        const net = generateNetwork({ family, nodes, seed, rounds, activityScale, latent: true });
        ev.push(ob.evidencePerAttacker(net, family));
        for (const s of [...ob.oracleScores(net, family, views), ob.simpleScores(net, family)]) {
          const pts = ob.roc(s.honest, s.attackers, ALPHAS);
          const list = (p.views[s.view] ??= ALPHAS.map((alpha) => ({ alpha, detection: [], fpr: [], honestBad: [] })));
          pts.forEach((x, k) => {
            list[k].detection.push(x.detection);
            list[k].fpr.push(x.fpr);
            if (s.honestBad?.length) list[k].honestBad.push(s.honestBad.filter((y) => y > x.threshold).length / s.honestBad.length);
          });
        }
      }
      p.evidence = mean(ev);
      return p;
    };
    const at = (p: Point, view: string, alpha: number, what: "detection" | "honestBad" = "detection") => {
      const list = p.views[view];
      if (!list) return undefined;
      // the largest tabulated alpha not above the requested one
      const k = ALPHAS.reduce((best, x, i) => (x <= alpha + 1e-12 ? i : best), 0);
      return list[k][what].length ? mean(list[k][what]) : undefined;
    };
    const alphaOf = (x: number) => ALPHAS.reduce((best, y) => (y <= x + 1e-12 ? y : best), ALPHAS[0]);

    const t0 = Date.now();
    const main: Point[] = [];
    for (const n of sizes)
      for (const family of ob.ORACLE_FAMILIES) {
        console.log(`oracle bound: ${family} at ${n.toLocaleString("en-US")} nodes`);
        main.push(runPoint(family, n, 24, 1, family === "camouflage" ? [] : ["sat", "value", "blind"]));
      }
    const artifacts: { nodes: number; seed: number; attackersRevealed: number; honestRevealed: number; neverBad: number }[] = [];
    for (const n of sizes)
      for (const seed of seeds)
        artifacts.push({ nodes: n, seed, ...ob.whitewashArtifacts(generateNetwork({ family: "whitewash", nodes: n, seed })) });
    // sparse bad-mouthers (test/trust/sparse-liar.findings.test.ts's world), continuous liars
    const { attackWorld } = await import("../test/helpers/binary-liar-world");
    const sparse: { seed: number; evidence: number; views: Record<string, { alpha: number; detection: number; fpr: number }[]> }[] = [];
    for (const seed of [1, 2, ...seeds]) {
      const w = attackWorld(seed, 3);
      const ratings = w.ratings("continuousLiar");
      const lies = new Map<string, number>();
      for (const r of ratings) if (w.attackers.has(r.from) && w.victims.has(r.to)) lies.set(r.from, (lies.get(r.from) ?? 0) + 1);
      const views: Record<string, { alpha: number; detection: number; fpr: number }[]> = {};
      for (const s of ob.victimLiarScores({
        ratings,
        quality: w.net.truth.quality,
        seeds: w.net.seeds,
        trustworthy: w.net.truth.trustworthy,
        attackers: w.attackers,
        victims: w.victims,
      }))
        views[s.view] = ob.roc(s.honest, s.attackers, ALPHAS).map((x, k) => ({ alpha: ALPHAS[k], detection: x.detection, fpr: x.fpr }));
      sparse.push({ seed, evidence: mean([...lies.values()]), views });
    }
    const sweep: Point[] = [];
    if (!a.noSweep) {
      const plan: [(typeof ob.ORACLE_FAMILIES)[number], number, number][] = [];
      for (const family of ["onoff-under-window", "onoff-random"] as const) {
        for (const rounds of [6, 8, 12, 16]) plan.push([family, rounds, 1]);
        for (const s of [0.25, 0.5]) plan.push([family, 24, s]);
      }
      for (const rounds of [2, 3, 4, 6, 12]) plan.push(["camouflage", rounds, 1]);
      for (const s of [0.5, 1.5, 2, 3, 4]) plan.push(["whitewash", 24, s]);
      for (const [family, rounds, s] of plan) {
        console.log(`oracle bound sweep: ${family}, ${rounds} rounds, activity x${s}`);
        sweep.push(runPoint(family, 500, rounds, s, family === "camouflage" ? [] : ["sat", "blind"]));
      }
      for (const p of main) if (p.nodes === 500) sweep.push(p);
      sweep.sort((x, y) => x.family.localeCompare(y.family) || x.evidence - y.evidence);
    }
    const seconds = (Date.now() - t0) / 1000;

    const md: string[] = [];
    md.push("# Oracle bound: the best detection any detector could reach on the adversary suite's sparse families");
    md.push("");
    md.push(
      `Generated by \`npx hardhat sim:oracle-bound\` (offchain/trust/adversaries/oracle-bound.ts; docs/specs/trust.md §4, "The oracle bound", says what the bound means and what it assumes). Report seeds ${seeds.join(", ")}, 24 rounds, 10% attackers, the suite's generator (offchain/trust/adversaries/generate.ts) unchanged. ${seconds.toFixed(0)} s on ${new Date().toISOString().slice(0, 10)}.`,
    );
    md.push("");
    md.push(
      'For each identity, a Neyman-Pearson likelihood-ratio test of "attacker of this family" against "trustworthy honest identity", knowing the generator\'s model; an identity is flagged when its ratio exceeds the threshold that at most the given share of trustworthy honest identities (victims left out, as in the FPR of trust-detection.md) exceed. Seeds (observable, all honest) are never flagged. Detection is the mean over seeds. Views:',
    );
    md.push("");
    md.push(
      "- **sat** (upper bound): the latent satisfaction of every service the identity gave, before the raters' strictness. No detector reading the ratings received can do better on that channel.",
    );
    md.push("- **value**: the ratings received as generated, with every rater's strictness known to the oracle (exact likelihood).");
    md.push(
      "- **blind** (achievable with the model alone): the ratings received, every rater's strictness unknown, the attacker's good-service quality unknown (not the suite's exact 0.9). A lower bound on the oracle's power.",
    );
    md.push(
      "- **ratings** (rater channel: camouflage, sparse bad-mouthers): each rating given read as low (< 0.2, the lie range) or not, with its target's quality, the rater's strictness unknown. A lower bound on the oracle's power.",
    );
    md.push(
      "- **simple**: a statistic any detector can compute without the model (provider families: share of ratings received below 0.3; rater families: share of ratings below 0.2 given to targets whose mean received rating is at least 0.7); only its threshold is set on the honest scores.",
    );
    md.push("");
    md.push(
      "metatrust's detection and FPR are read from bench/results/trust-detection.json (the committed results of `sim:attacks`). \"at its FPR\" tabulates the oracle at the largest tabulated FPR (0.1%, 0.25%, 0.5%, 0.7%, 1%, 2%, 5%, 10%) not above metatrust's.",
    );
    md.push("");
    md.push("## Per family, 24 rounds");
    md.push("");
    md.push(
      "| family | nodes | evidence per attacker (median) | metatrust detection | metatrust FPR | oracle at its FPR: sat / value / blind / simple | oracle at FPR 5%: sat / value / blind / simple | honest-bad providers flagged at FPR 5% |",
    );
    md.push("|---|---|---|---|---|---|---|---|");
    for (const p of main) {
      const d = detOf(p.family, p.nodes);
      const alpha = d ? alphaOf(d.fpr) : 0.01;
      const views = p.family === "camouflage" ? ["ratings", "simple"] : ["sat", "value", "blind", "simple"];
      const cell = (al: number, what: "detection" | "honestBad" = "detection") => views.map((v) => pct(at(p, v, al, what))).join(" / ");
      const unit = p.family === "camouflage" ? "ratings given" : "ratings received";
      md.push(
        `| ${p.family} | ${p.nodes.toLocaleString("en-US")} | ${p.evidence.toFixed(0)} ${unit} | ${pct(d?.detection)} | ${pct(d?.fpr)} | ${cell(alpha)} (at ${pct(alpha)}) | ${cell(0.05)} | ${cell(0.05, "honestBad")} |`,
      );
    }
    md.push("");
    md.push(
      "Camouflage: the two numbers are the rater-channel test (ratings) and the simple statistic. Honest-bad providers (honest, quality < 0.5: 8% of the population) are not counted in the FPR, as in trust-detection.md; the last column shows what each test's threshold at 5% does to them (same views, in order).",
    );
    md.push("");
    md.push("## Whitewash: what the generator reveals beyond behaviour");
    md.push("");
    md.push(
      "Every honest identity is verified and lives the whole run; a whitewasher's fresh identities are unverified and each lives 6 rounds. Flagging the unverified and the short-lived:",
    );
    md.push("");
    md.push(
      "| nodes | seed | whitewash identities flagged | trustworthy honest flagged | whitewash identities with no bad round in the run |",
    );
    md.push("|---|---|---|---|---|");
    for (const r of artifacts)
      md.push(
        `| ${r.nodes.toLocaleString("en-US")} | ${r.seed} | ${pct(r.attackersRevealed)} | ${pct(r.honestRevealed)} | ${pct(r.neverBad)} |`,
      );
    md.push("");
    md.push(
      "An identity with no bad round in the run (its last life's bad rounds fall after the end) behaved as an honest provider of quality 0.9 throughout. On behaviour alone the oracle tells it from an honest identity observed over the same kind of window (one whose bad rounds would fall after the end: about one honest window in seven here) only by quality, so it finds such identities only by spending its FPR budget on those honest windows: at FPR 1% little of it, at 5% up to about a third. That is why the behaviour-only bound stays under 90% at FPR 1% at every interaction rate in the sweep.",
    );
    md.push("");
    md.push(
      `The whitewash rows above are behaviour only: each honest identity is observed over a whitewash identity's life (6 rounds, drawn at random among the attackers'; ${ob.WINDOWS} draws per honest identity, each scored), as an honest newcomer living as long would be.`,
    );
    md.push("");
    md.push("## Sparse bad-mouthers (test/trust/sparse-liar.findings.test.ts)");
    md.push("");
    md.push(
      "The finding's world (rt-clean, 500 nodes; 25 honest raters who give 5 victims of quality >= 0.9 a value in [0, 0.2) in one round of three; continuous liars). Rater-channel test with the victims known to the oracle.",
    );
    md.push("");
    md.push("| seed | lies per liar (mean) | oracle (ratings) at FPR 1% / 5% | simple at FPR 1% / 5% |");
    md.push("|---|---|---|---|");
    for (const s of sparse) {
      const d = (v: string, al: number) => pct(s.views[v].find((x) => x.alpha === al)?.detection);
      md.push(
        `| ${s.seed} | ${s.evidence.toFixed(1)} | ${d("ratings", 0.01)} / ${d("ratings", 0.05)} | ${d("simple", 0.01)} / ${d("simple", 0.05)} |`,
      );
    }
    if (sweep.length) {
      md.push("");
      md.push("## Evidence sweep (500 nodes): where the oracle reaches 90%");
      md.push("");
      md.push(
        "The generator with fewer rounds (`rounds`) or a scaled interaction rate (`activityScale`: each slot's 2-4 interactions a round multiplied, same draws), the attackers' strategy unchanged. Sorted by the evidence per attacker.",
      );
      md.push("");
      md.push(
        "| family | rounds | activity | evidence per attacker (median) | sat at 1% / 5% | blind (or ratings) at 1% / 5% | simple at 1% / 5% |",
      );
      md.push("|---|---|---|---|---|---|---|");
      for (const p of sweep) {
        const two = (v: string) => (p.views[v] ? `${pct(at(p, v, 0.01))} / ${pct(at(p, v, 0.05))}` : "n/a");
        md.push(
          `| ${p.family} | ${p.rounds} | x${p.activityScale} | ${p.evidence.toFixed(0)} | ${two("sat")} | ${p.family === "camouflage" ? two("ratings") : two("blind")} | ${two("simple")} |`,
        );
      }
    }
    md.push("");
    const mdFile = path.join(a.out, "trust-oracle-bound.md");
    fs.writeFileSync(mdFile, md.join("\n"));
    fs.writeFileSync(
      path.join(a.out, "trust-oracle-bound.json"),
      JSON.stringify(
        { seeds, alphas: ALPHAS, seconds, main, artifacts, sparse, sweep },
        (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v),
        1,
      ) + "\n",
    );
    console.log(`wrote ${mdFile} (${seconds.toFixed(0)} s)`);
  });
