/**
 * The detection pipeline: reads the rating history from the chain (each entity's from its last
 * registration: a reclaimed id starts afresh, docs/specs/trust.md §6), runs the detectors
 * (offchain/trust/robust.ts: one observation per pair per decay epoch, SybilRank from the
 * identity-verified seeds, iterated filtering of unfair raters, CUSUM and windowed dispersion for
 * behaviour changes), stores the report on IPFS and flags each new detection on-chain with the
 * report's digest. The report is the flag's evidence: for every detection it names the statistic,
 * its value and threshold and the observations behind it (rater, target, time, value), so that the
 * flagged entity, or anyone, can recompute it from the chain's ratings and contest it in a dispute.
 */
import type { ContentStore } from "../storage/content-store";
import { AttackKind, Detection } from "./detectors";
import { analyze } from "./robust";
import type { RefusedEvidence, TrustLedger } from "./ledger";
import { cidOf, encodeJson } from "../storage/content-store";

const KIND_NAME: Record<number, string> = { 0: "sybil", 1: "on-off", 2: "good-mouthing", 3: "bad-mouthing" };

/** How to read the report: what each statistic is and where its definition lives. */
export const REPORT_METHOD = {
  source: "offchain/trust/robust.ts (docs/specs/trust.md §4)",
  observations: "ratings of one rater for one target within one decay epoch are averaged into one observation",
  eras: "a rating given or received by an entity before its last registration (a reclaim by its owner: EntityReclaimed, then EntityRegistered) is an earlier controller's and is not read (by block and log index); a pair's rating index counts from there, as the contract's pair does",
  sybil:
    "SybilRank: trust from the verified seeds spread along positive ratings for ceil(log2 n) steps, divided by the positive raters; flagged below tau x median",
  mouthing:
    "unfair rater: sum(b - p) / sd over the rater's observations (one side, or both together), b its outcome (value < 0.5 after its strictness), p the reference's beta estimate of the target without the rater: the verified seeds' outcomes in full, the other raters' consensus as at most 3 observations; the estimate's error counted once per (rater, target) pair; flagged at z >= threshold. Tail test (Whitby et al.'s quantile filter over the rater's whole history): an observation is a hit when its conformal rank among the target's other raters' strictness-corrected values is at most max(0.01, 1 / (others + 1)), values at 0 or 1 censored, the rater's offset moved 2 standard errors against a hit; flagged when its hits' Poisson tail (mean: the summed levels) is <= alpha / raters tested, with at least 2.5 excess hits not on poorer targets than its average (lower tail: bad-mouthing, upper: good-mouthing)",
  rareLies:
    "unfair rater (rare extreme lies, session 15): the count of the rater's very low observations (value below 0.2; a binary rater's downs) on the targets whose seed-anchored reference p is below 0.5, against the exact tail of the convolution of BetaBinomial(n_t, pi_t, m_t + 1), pi_t the others' share of strictness-corrected values below the rater's bar (0.2 - its strictness + 2 standard errors; a binary rater's bar), the seeds' outcomes in full, the other raters' as at most 3 observations, the seeds' share on good targets as one pseudo-observation, values at 0 censored (below every bar); flagged bad-mouthing at tail <= 0.001 with at least 2.5 excess",
  onOff:
    "behaviour-change episodes in the credible observations: Bernoulli CUSUM from the entity's own bad rate p0 to p0 + delta, alarm at ln(n / alpha), or one change point with both rates unknown (binomial likelihood ratio, change points in the middle 70%, bootstrap p-value <= alpha; its episode is the worse segment), or the windowed dispersion of bad outcomes with a bootstrap p-value <= alpha; flagged when a second episode follows recovery (tested among the observations outside the first at level 0.02), or when the observations after the episode do not favour p0 over p0 + delta by 1 / alpha; one episode followed by recovery is a notice, not a flag",
  unevidenced:
    "a rating is evidenced only when the record set its digest names is on IPFS and verifies against the chain as verifyRating checks it (an attached digest that does not is listed in evidenceRefused and its rating is unevidenced); cap (the default): on each target, the observations that contain a rating without an evidence record set weigh together at most 3 observations in its consensus, the reference and effective trust (each still counts whole in its rater's unfair-rater test), and the target's behaviour-change test reads its evidenced observations when it has at least 10; ignore (--evidence-only): they weigh nothing anywhere",
  notices: "evidence that is not a flag (no on-chain flag, no penalty): one behaviour change followed by recovery",
  lockstep:
    "lockstep groups: a (rater, target) pair is regular when the rater rated the target in more of its active epochs than the binomial tail at the target's rate allows (alpha / pairs); a group is the (3 raters, 2 targets)-core of the regular pairs, each pair's target taken with the rater's verdict on it (raters who praise a target and raters who blame it are different groups); its ratings of its targets count as one observation per target (one voice); its voice is discarded when, tested as one rater per epoch against the seed-anchored reference with the voice left out, it reaches z >= threshold, also with any one of its targets left out (disagreement on one target is evidence about that target); then each member whose own ratings of the group's targets reach z >= threshold against the same reference is flagged (good- or bad-mouthing)",
};

/** One detection as reported. */
export type ReportedDetection = Detection & { kindName: string; flagged: boolean };

/**
 * Runs every detector over the chain's ratings.
 * @param o.flag - flag new detections on-chain (needs DETECTOR_ROLE)
 * @returns the detections, the report's CID and counts
 */
export async function runDetectors(ledger: TrustLedger, store: ContentStore, o: { flag: boolean; evidenceOnly?: boolean }) {
  // A rating counts as evidenced only if its record set is on IPFS and checks against the chain:
  // the contract attaches any bytes32 a rater sends (red team finding F1, h8-redtrust).
  const refused: RefusedEvidence[] = [];
  const ratings = await ledger.ratings(0, { store, refused });
  const entities = await ledger.entities();
  const nodes = entities.map((e) => e.id);
  const seeds = new Set<string>();
  for (const e of entities) if (await ledger.tm.isIdentityVerified(e.id)) seeds.add(e.id);
  const epochSeconds = Number((await ledger.getModel()).epochLength);
  const unevidenced = o.evidenceOnly ? "ignore" : "cap";
  const analysis = analyze(ratings, nodes, seeds, { epochSeconds, unevidenced });
  const all: Detection[] = analysis.detections;
  const report = {
    generatedAt: new Date().toISOString(),
    ratings: ratings.length,
    method: REPORT_METHOD,
    epochSeconds,
    unevidenced,
    ratingsWithEvidence: ratings.filter((r) => r.evidence).length,
    evidenceRefused: refused,
    seeds: seeds.size,
    detections: all.map((d) => ({ ...d, kindName: KIND_NAME[d.kind] })),
    notices: analysis.notices.map((d) => ({ ...d, kindName: KIND_NAME[d.kind] })),
    lockstep: analysis.lockstep,
  };
  const cid = await store.putJson(report);
  const digest = (await cidOf(encodeJson(report), "dag-json")).multihash.digest;
  const out: ReportedDetection[] = [];
  for (const d of all) {
    const e = await ledger.tm.entity(d.entity);
    const already = (Number(e.flags) & (1 << d.kind)) !== 0;
    let flagged = already;
    if (o.flag && !already) {
      await ledger.flag(d.entity, d.kind, digest);
      flagged = true;
    }
    out.push({ ...d, kindName: KIND_NAME[d.kind], flagged });
  }
  return { detections: out, notices: analysis.notices, cid, ratings: ratings.length, entities: nodes.length, evidenceRefused: refused };
}

export { AttackKind };
