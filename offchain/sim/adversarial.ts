/**
 * The detectors compared on the adversary suite (offchain/trust/adversaries/): metatrust's
 * detectors as `trust:detect` runs them, the detectors before issue 15 (`detectAllLegacy`, called
 * the way `trust:detect` called it), and the average-rating and EigenTrust baselines. Effective
 * trust for the damage measure: the legacy detectors' is the mean rating received times 0.2 when
 * flagged (TrustManager's flag penalty); the average baseline's is the mean rating.
 */
import { detectAllLegacy, type RatingEvent } from "../trust/detectors";
import { analyze, DETECTORS_VERSION, type Analysis, type AnalyzeOptions } from "../trust/robust";
import { withIdentityLayer } from "../trust/identity-layer";
import { evaluateFamily, type DetectorUnderTest, type Summary } from "../trust/adversaries/evaluate";
import { FAMILIES, type Family } from "../trust/adversaries/generate";
import { averageModel, eigenTrust } from "./baselines";

/** TrustManager multiplies a flagged entity's trust by this. */
export const FLAG_PENALTY = 0.2;

const meanReceived = (ratings: readonly RatingEvent[]) => {
  const acc = new Map<string, { s: number; n: number }>();
  for (const r of ratings) {
    const a = acc.get(r.to);
    if (a) ((a.s += r.value), a.n++);
    else acc.set(r.to, { s: r.value, n: 1 });
  }
  return new Map([...acc].map(([k, a]) => [k, a.s / a.n]));
};

export const LEGACY: DetectorUnderTest = {
  name: "before (issue 15)",
  run: (ratings, nodes, seeds) => {
    const flagged = new Set(detectAllLegacy(ratings, nodes, seeds).map((d) => d.entity));
    const mean = meanReceived(ratings);
    return { flagged, trust: new Map(nodes.map((n) => [n, (mean.get(n) ?? 0.5) * (flagged.has(n) ? FLAG_PENALTY : 1)])) };
  },
};

export const AVERAGE: DetectorUnderTest = {
  name: "average",
  run: (ratings, nodes) => {
    const r = averageModel(ratings, nodes);
    return { flagged: r.flagged, trust: r.score };
  },
};

export const EIGENTRUST: DetectorUnderTest = {
  name: "EigenTrust",
  run: (ratings, nodes, seeds) => ({ flagged: eigenTrust(ratings, nodes, seeds).flagged }),
};

/** metatrust's detectors (offchain/trust/robust.ts), one observation per pair per round. */
export const metatrust = (o: AnalyzeOptions = {}): DetectorUnderTest => ({
  name: "metatrust",
  run: (ratings, nodes, seeds, net) => {
    const a = analyze(ratings, nodes, seeds, { epochSeconds: net.roundSeconds, ...o });
    return { flagged: new Set(a.detections.map((d) => d.entity)), trust: a.trust };
  },
});
export const METATRUST = metatrust();
/** metatrust ignoring ratings without an evidence record set (docs/specs/trust.md §8, `trust:detect --evidence-only`). */
export const METATRUST_EVIDENCE_ONLY: DetectorUnderTest = { ...metatrust({ unevidenced: "ignore" }), name: "metatrust, evidence only" };

/**
 * metatrust with and without the identity layer (docs/specs/trust.md §6, offchain/trust/identity-layer.ts),
 * for the whitewashing study: the same detections (one analysis per history, shared by the three),
 * three effective trusts: as `trust:detect` reports it; with every honest identity verified and a
 * whitewasher's fresh identities not (`Network.verified`: one verified identity per person); and with
 * only the pre-trusted seeds verified (honest newcomers unverified too: the layer's honest cost).
 * @returns the three detectors
 */
export function metatrustIdentityStudy(): DetectorUnderTest[] {
  // the harness runs each detector on the attacked history and then on the clean one: keep both
  let kept: { ratings: readonly RatingEvent[]; a: Analysis }[] = [];
  const analysis = (ratings: RatingEvent[], nodes: string[], seeds: Set<string>, epochSeconds: number) => {
    const hit = kept.find((k) => k.ratings === ratings);
    if (hit) return hit.a;
    const a = analyze(ratings, nodes, seeds, { epochSeconds });
    kept = [...kept.slice(-1), { ratings, a }];
    return a;
  };
  const flaggedOf = (a: Analysis) => new Set(a.detections.map((d) => d.entity));
  return [
    {
      name: "metatrust",
      run: (ratings, nodes, seeds, net) => {
        const a = analysis(ratings, nodes, seeds, net.roundSeconds);
        return { flagged: flaggedOf(a), trust: a.trust };
      },
    },
    {
      name: "metatrust + identity layer",
      run: (ratings, nodes, seeds, net) => {
        if (!net.verified) throw new Error("metatrustIdentityStudy: the network names no verified identities");
        const a = analysis(ratings, nodes, seeds, net.roundSeconds);
        return { flagged: flaggedOf(a), trust: withIdentityLayer(a.support, { verified: net.verified }) };
      },
    },
    {
      name: "metatrust + identity layer, only seeds verified",
      run: (ratings, nodes, seeds, net) => {
        const a = analysis(ratings, nodes, seeds, net.roundSeconds);
        return { flagged: flaggedOf(a), trust: withIdentityLayer(a.support, { verified: seeds }) };
      },
    },
  ];
}

/** One row of the suite: a family at one size, per detector the summary over the seeds. */
export type SuiteRow = {
  family: Family;
  nodes: number;
  rounds: number;
  seeds: number[];
  /** rounds between detection checkpoints (0: time to detect not measured) */
  checkpointRounds: number;
  results: Record<string, Summary>;
  /** When and on what the row was run (its times depend on both); absent in rows from before this was recorded. */
  measured?: { at: string; machine: string };
  /** the detectors' version (robust.ts's DETECTORS_VERSION) the row was run with; absent in rows from before session 11 */
  detectors?: string;
  /**
   * the detectors re-run for this row with `detectors` when not all were (session 14 re-ran metatrust alone at
   * 5,000 nodes); the others' results are the previous row's, on the same generated networks
   */
  rerun?: string[];
};

/**
 * Runs the suite: every family (honest-noisy first) on the given seeds at one size.
 * @param o.nodes, o.rounds, o.seeds - the networks (report on SPLIT.reportSeeds)
 * @param o.detectors - defaults: metatrust, before (issue 15), average, EigenTrust
 * @param o.checkpointRounds - time to detect from prefixes of this many rounds (0: off)
 * @param o.progress - called with the fraction done
 */
export function runSuite(o: {
  nodes: number;
  rounds?: number;
  seeds: number[];
  families?: Family[];
  detectors?: DetectorUnderTest[];
  checkpointRounds?: number;
  /** measure damage (runs every detector again on the same seed without attackers; default true) */
  damage?: boolean;
  progress?: (done: number) => void;
}): SuiteRow[] {
  const families = o.families ?? (["honest-noisy", ...FAMILIES] as Family[]);
  const rows: SuiteRow[] = [];
  families.forEach((family, k) => {
    const results = evaluateFamily(
      { family, nodes: o.nodes, rounds: o.rounds, seeds: o.seeds, checkpointRounds: o.checkpointRounds, damage: o.damage },
      o.detectors ?? [METATRUST, LEGACY, AVERAGE, EIGENTRUST],
    );
    rows.push({
      family,
      nodes: o.nodes,
      rounds: o.rounds ?? 24,
      seeds: o.seeds,
      checkpointRounds: o.checkpointRounds ?? 0,
      results,
      detectors: DETECTORS_VERSION,
    });
    o.progress?.((k + 1) / families.length);
  });
  return rows;
}
