/**
 * The detection pipeline: reads the rating history from the chain (each entity's from its last
 * registration: a reclaimed id starts afresh, docs/specs/trust.md §6), runs the detectors
 * (offchain/trust/robust.ts: one observation per pair per decay epoch, SybilRank from the
 * identity-verified seeds, iterated filtering of unfair raters, CUSUM and windowed dispersion for
 * behaviour changes), stores the report on IPFS and flags the run's new detections on-chain with the
 * report's digest, as one flag run (TrustManager.beginFlagRun .. endFlagRun: no flag contest opens
 * between two of its batches). The report is the flag's evidence: for every detection it names the statistic,
 * its value and threshold and the observations behind it (rater, target, time, value), so that the
 * flagged entity, or anyone, can recompute it from the chain's ratings and contest it in a dispute.
 */
import type { ContentStore } from "../storage/content-store";
import { AttackKind, Detection, type RatingEvent } from "./detectors";
import { analyze } from "./robust";
import type { RefusedEvidence, TrustLedger } from "./ledger";
import { cidOf, encodeJson, FETCH_BUDGET_MS } from "../storage/content-store";
import { cidOfEvidenceDigest } from "./evidence";

const KIND_NAME: Record<number, string> = { 0: "sybil", 1: "on-off", 2: "good-mouthing", 3: "bad-mouthing" };

/** How to read the report: what each statistic is and where its definition lives. */
export const REPORT_METHOD = {
  source: "offchain/trust/robust.ts (docs/specs/trust.md §4)",
  view: "everything is read at one block (block: its number and hash): the ratings and entities logged up to its end, the seeds (seeds: the ids isIdentityVerified at it) and each id's generation at it (a detection's generation, the one its flag names); recompute with analyze(ratings to block, entities to block, seeds) and the options below",
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
  cleared:
    "a detection of kind k on an entity whose flag k was cleared at block B (EntityUnflagged: an upheld flag contest, or the detector's withdrawal) is flagged again only if the detectors, run without the entity's ratings up to block J on the side the kind judges (good- and bad-mouthing: the ratings it gave; on-off: those it received; Sybil: both), still find it: the verdict covers the conduct up to J, the block the cleared flag's report read (its EntityFlagged evidence; the block before the flag when the report is not in the store), not B (conduct while a contest is pending was before no juror: s20-redt F4); its `cleared` field says which",
  serviceLevels:
    "on-off by two service levels (point 3c, on by default since session 17): per provider, the spread of its strictness-corrected values received, each minus the population's mean deviation in its epoch, over its whole time span, in units of the population's noise s^2 (the median variance of the providers whose median is in 0.3-0.7), against a provider at one level (its median) with Gaussian noise s^2 clipped to [0, 1] at the same times, by Monte Carlo (stopped after 10 exceedances), flagged at p <= 0.001; an outage's shape (point 3d: the spread within its epochs at most s^2 and its low level, by a two-level mixture of its epochs' means, in at most a fifth of its epochs) is a notice, not a flag, and turns point 3's recurrence flags into notices too; neither runs when fewer than log2(1 / 0.001) = 10 providers are mid-scale (levels: whether they ran, from how many providers, the noise)",
  notices: "evidence that is not a flag (no on-chain flag, no penalty): one behaviour change followed by recovery, or an outage's shape",
  lockstep:
    "lockstep groups: a (rater, target) pair is regular when the rater rated the target in more of its active epochs than the binomial tail at the target's rate allows (alpha / pairs); a group is the (3 raters, 2 targets)-core of the regular pairs, each pair's target taken with the rater's verdict on it (raters who praise a target and raters who blame it are different groups); its ratings of its targets count as one observation per target (one voice); its voice is discarded when, tested as one rater per epoch against the seed-anchored reference with the voice left out, it reaches z >= threshold, also with any one of its targets left out (disagreement on one target is evidence about that target); then each member whose own ratings of the group's targets reach z >= threshold against the same reference is flagged (good- or bad-mouthing)",
};

/**
 * A flag of `kind` on an entity cleared at `block` (EntityUnflagged: the court's upheld contest, or
 * the detector's withdrawal), the block `judgedBlock` up to which that clearing judged the entity's
 * conduct (the cleared flag's report; `time` is its block time), and whether the detection stands
 * on the entity's conduct after it.
 */
export type Clearing = { block: number; judgedBlock: number; time: number; again: boolean; reason: string };

/** One detection as reported; `stale` says why a detection was not flagged (its id was reclaimed since). */
/** `deferred`: a new detection not flagged because a flag run may not begin yet (FLAG_RUN_SPACING). */
/** `reasserted`: a held flag this run re-asserted (detected again on new conduct, a new instance). */
export type ReportedDetection = Detection & {
  kindName: string;
  flagged: boolean;
  stale?: string;
  deferred?: string;
  reasserted?: Reassertion;
  cleared?: Clearing;
};

/**
 * Which ratings a detection of `kind` on `entity` rests on, as a rater or as a target: the ratings
 * the court judged when it cleared the flag are those of this side up to the clearing's block.
 * Good- and bad-mouthing judge the entity's own ratings of others; on-off, the ratings it received;
 * Sybil (SybilRank, its place in the rating graph) and any other kind, both.
 */
function judgedSide(kind: number, entity: string, r: RatingEvent): boolean {
  const e = entity.toLowerCase();
  const gave = r.from.toLowerCase() === e;
  const got = r.to.toLowerCase() === e;
  if (kind === AttackKind.GoodMouthing || kind === AttackKind.BadMouthing) return gave;
  if (kind === AttackKind.OnOff) return got;
  return gave || got;
}

/**
 * The block up to which a clearing judged the entity's conduct (s20-redt F4): the block of the
 * report the cleared flag named (its `EntityFlagged` evidence is the report's digest; the jurors of
 * a flag contest, or the detector withdrawing it, judged that report), else, when the report is not
 * in the store or names no earlier block (a flag set by hand), the block before the flag's own
 * transaction (no report it rests on can have read a later one). Never the clearing's block: the
 * conduct between the report and the clearing (a pending contest's commit, reveal and appeal
 * windows) was before nobody.
 */
async function judgedUpTo(
  ledger: TrustLedger,
  store: ContentStore,
  flagBlock: number,
  evidence: string,
  budget: { left: number },
): Promise<{ block: number; from: string }> {
  try {
    // a digest someone else chose (a hand-set flag's may name a block nobody serves): fetched with
    // the ledger's bound, miss backoff and the run's budget, as record sets are (s26-fxl L2)
    const report = await ledger.fetcher.getJson<{ block?: { number?: unknown } }>(store, cidOfEvidenceDigest(evidence), budget);
    const b = report?.block?.number;
    if (typeof b === "number" && Number.isSafeInteger(b) && b >= 0 && b < flagBlock) return { block: b, from: "the flag's report" };
  } catch {
    // not in the store, not found in time, waiting out its backoff, or not a report: the flag's
    // own block bounds what it can rest on
  }
  return { block: flagBlock - 1, from: "the block before the flag (its report is not in the store)" };
}

/**
 * The court's clearings (h16-red2 R1, s20-redt F4): for each detection of kind k on an entity whose
 * flag k was last cleared (EntityUnflagged up to the block read), runs the detectors again without
 * the entity's ratings of the judged side up to the block J the cleared flag's report read
 * (`judgedUpTo`; a rating is after J when it was mined in a later block, i.e. its block time is
 * later than J's: block times increase). The detection is flagged again only if it still fires on
 * the conduct after J: the verdict judged that report, not what the entity did while it was pending.
 * @returns (entity:kind) -> the clearing, for the detections whose flag was cleared before
 */
async function clearedAgain(
  ledger: TrustLedger,
  store: ContentStore,
  toBlock: number,
  detections: Detection[],
  rerun: (ratings: RatingEvent[]) => { detections: Detection[] },
  ratings: RatingEvent[],
  budget: { left: number },
): Promise<Map<string, Clearing>> {
  type At = { block: number; index: number };
  const later = (a: At, b: At) => a.block > b.block || (a.block === b.block && a.index > b.index);
  const last = new Map<string, At>();
  for (const l of await ledger.tm.queryFilter(ledger.tm.filters.EntityUnflagged(), 0, toBlock))
    last.set(`${l.args.id.toLowerCase()}:${Number(l.args.kind)}`, { block: l.blockNumber, index: l.index });
  // the flag each clearing cleared: the last EntityFlagged of its (id, kind) before it
  const flagOf = new Map<string, At & { evidence: string }>();
  if (last.size > 0)
    for (const l of await ledger.tm.queryFilter(ledger.tm.filters.EntityFlagged(), 0, toBlock)) {
      const key = `${l.args.id.toLowerCase()}:${Number(l.args.kind)}`;
      const c = last.get(key);
      const at = { block: l.blockNumber, index: l.index };
      if (c && later(c, at)) flagOf.set(key, { ...at, evidence: l.args.evidence });
    }
  const out = new Map<string, Clearing>();
  const provider = ledger.tm.runner!.provider!;
  for (const d of detections) {
    const key = `${d.entity.toLowerCase()}:${d.kind}`;
    const c = last.get(key);
    if (c === undefined) continue;
    const f = flagOf.get(key);
    // a clearing of a flag never set judged nothing
    if (f === undefined) continue;
    const block = c.block;
    const judged = await judgedUpTo(ledger, store, f.block, f.evidence, budget);
    const time = (await provider.getBlock(judged.block))!.timestamp;
    const after = ratings.filter((r) => !(r.time <= time && judgedSide(d.kind, d.entity, r)));
    const again = rerun(after).detections.some((x) => x.entity.toLowerCase() === d.entity.toLowerCase() && x.kind === d.kind);
    const side =
      d.kind === AttackKind.GoodMouthing || d.kind === AttackKind.BadMouthing
        ? "its ratings"
        : d.kind === AttackKind.OnOff
          ? "the ratings it received"
          : "the ratings it gave and received";
    const upTo = `up to block ${judged.block} (${judged.from}, flagged at block ${f.block})`;
    out.set(`${d.entity}:${d.kind}`, {
      block,
      judgedBlock: judged.block,
      time,
      again,
      reason: again
        ? `cleared at block ${block}; detected again without ${side} ${upTo}, which that verdict judged (new conduct)`
        : `cleared at block ${block}; not detected without ${side} ${upTo}, which that verdict judged: not flagged again`,
    });
  }
  return out;
}

/** A held flag the run re-asserts: detected again on conduct after the block its instance's report read. */
export type Reassertion = { judgedBlock: number; reason: string };

/**
 * The held flags this run re-asserts (s20-redt F3, door 2): for each detection of kind k on an
 * entity that holds flag k, runs the detectors again without the entity's ratings of the judged
 * side up to the block J the flag's current instance's report read (its last `EntityFlagged`;
 * `judgedUpTo`), and re-asserts the flag (a new instance, `FlagInstance` serial) only if it still
 * fires on the conduct after J: new evidence. A flag contest opened before this run then cannot
 * clear it (the F2 serial rule, `FlagContestFlaggedAgain`): the ring members this run flags after
 * the opening may vote in it (their flags follow its opening), but the verdict judges the report
 * it was opened on, not the conduct the ring kept up since. A flag detected again on the judged
 * conduct only is not re-asserted: a contest of it clears it, as the R1 rule (`clearedAgain`)
 * would not flag it again after the verdict. Costs one more detector pass per held flag detected.
 * @returns (entity:kind) -> the re-assertion
 */
async function reasserted(
  ledger: TrustLedger,
  store: ContentStore,
  toBlock: number,
  held: Detection[],
  rerun: (ratings: RatingEvent[]) => { detections: Detection[] },
  ratings: RatingEvent[],
  budget: { left: number },
): Promise<Map<string, Reassertion>> {
  const out = new Map<string, Reassertion>();
  if (held.length === 0) return out;
  const want = new Set(held.map((d) => `${d.entity.toLowerCase()}:${d.kind}`));
  // the current instance of each held flag: its last EntityFlagged up to the block read
  const flagOf = new Map<string, { block: number; evidence: string }>();
  for (const l of await ledger.tm.queryFilter(ledger.tm.filters.EntityFlagged(), 0, toBlock)) {
    const key = `${l.args.id.toLowerCase()}:${Number(l.args.kind)}`;
    if (want.has(key)) flagOf.set(key, { block: l.blockNumber, evidence: l.args.evidence });
  }
  const provider = ledger.tm.runner!.provider!;
  for (const d of held) {
    const key = `${d.entity.toLowerCase()}:${d.kind}`;
    const f = flagOf.get(key);
    if (f === undefined) continue;
    const judged = await judgedUpTo(ledger, store, f.block, f.evidence, budget);
    const time = (await provider.getBlock(judged.block))!.timestamp;
    const after = ratings.filter((r) => !(r.time <= time && judgedSide(d.kind, d.entity, r)));
    if (rerun(after).detections.some((x) => x.entity.toLowerCase() === d.entity.toLowerCase() && x.kind === d.kind))
      out.set(`${d.entity}:${d.kind}`, {
        judgedBlock: judged.block,
        reason: `held since a report up to block ${judged.block} (${judged.from}, flagged at block ${f.block}); detected again on the conduct after it: re-asserted`,
      });
  }
  return out;
}

/**
 * The id (lower-case hex) the contract names when it refuses a flag for an era that is gone
 * (TrustManager__StaleEra), if `x` is that refusal.
 */
function staleFlagId(ledger: TrustLedger, x: unknown): string | undefined {
  const data = (x as { data?: string }).data;
  if (typeof data === "string" && data.length > 2) {
    const e = ledger.tm.interface.parseError(data);
    return e?.name === "TrustManager__StaleEra" ? String(e.args[0]).toLowerCase() : undefined;
  }
  // a provider that gives only the message: the error's first argument is the id
  return /TrustManager__StaleEra\(\s*"?(0x[0-9a-fA-F]{64})/.exec(String((x as Error).message))?.[1]?.toLowerCase();
}

/** The ids of `part` whose era (TrustManager.generationOf, at the latest block) is no longer the one read. */
async function staleByEra(ledger: TrustLedger, part: readonly { id: string; generation: bigint }[]): Promise<string[]> {
  const moved: string[] = [];
  for (const r of part) if ((await ledger.tm.generationOf(r.id)) !== r.generation) moved.push(r.id.toLowerCase());
  return moved;
}

/**
 * Sends a run's new flags as one flag run (TrustManager.beginFlagRun, flagBatch in batches of at
 * most FLAG_BATCH_MAX, endFlagRun): no flag contest opens while the run is in flight, so a ring the
 * run detects is flagged whole before any member can open one, and in that contest every other
 * member is barred from the jury (s20-redt F3, door 1). A batch the contract refuses for a reclaim
 * mined since the block read (TrustManager__StaleEra, naming the id; or, a revert without data, the
 * batch's ids whose era moved since) is sent again without that id (the next run reads the new era
 * afresh). Returns the ids left out as stale, or, within
 * FLAG_RUN_SPACING of the previous run's start, flags nothing and says from when a run may begin
 * (`deferredUntil`, a timestamp: the detector runs again then). If the run fails
 * (the run expired, FLAG_RUN_MAX, or anything else), the run is ended if it still can be and the
 * error thrown: a crashed run is not resumed; its flags not sent are new to the next run, which
 * sends them (and until FLAG_RUN_MAX the run holds openings off at most).
 */
async function sendFlagRun(
  ledger: TrustLedger,
  batch: readonly { id: string; kind: number; generation: bigint }[],
  digest: Uint8Array,
): Promise<{ stale: Set<string>; deferredUntil?: number }> {
  const stale = new Set<string>();
  if (batch.length === 0) return { stale };
  try {
    await ledger.beginFlagRun(digest);
  } catch (x) {
    // too soon after the previous run (FLAG_RUN_SPACING): nothing is flagged now; the caller runs
    // again from `deferredUntil` (the detections are new to that run and it sends them)
    const data = (x as { data?: string }).data;
    const e = typeof data === "string" && data.length > 2 ? ledger.tm.interface.parseError(data) : null;
    if (e?.name === "TrustManager__FlagRunTooSoon") return { stale, deferredUntil: Number(e.args[0]) };
    throw x;
  }
  try {
    const max = Number(await ledger.tm.FLAG_BATCH_MAX());
    for (let i = 0; i < batch.length; i += max) {
      for (;;) {
        const part = batch.slice(i, i + max).filter((r) => !stale.has(r.id.toLowerCase()));
        if (part.length === 0) break;
        try {
          await ledger.flagBatch(part, digest);
          break;
        } catch (x) {
          const id = staleFlagId(ledger, x);
          if (id !== undefined && part.some((r) => r.id.toLowerCase() === id)) {
            stale.add(id);
            continue;
          }
          // A revert that names no id (a provider that replays a reverted transaction at the block
          // before, where it passes, gives no revert data: s22-review F1): the batch's ids whose era
          // moved since the block read are the stale ones; none moved, the failure is something else.
          const moved = await staleByEra(ledger, part);
          if (moved.length === 0) throw x;
          for (const m of moved) stale.add(m);
        }
      }
    }
  } catch (x) {
    await ledger.endFlagRun().catch(() => undefined);
    throw x;
  }
  await ledger.endFlagRun();
  return { stale };
}

/**
 * Runs every detector over the chain's ratings.
 * @param o.flag - flag new detections on-chain (needs DETECTOR_ROLE)
 * @param o.atBlock - the block to read (default: the latest when the run starts); every read is at it
 *   and the report names it (number and hash), its seeds and each detection's generation
 * @returns the detections, the report's CID and counts
 */
export async function runDetectors(
  ledger: TrustLedger,
  store: ContentStore,
  o: { flag: boolean; evidenceOnly?: boolean; atBlock?: number },
) {
  // A rating counts as evidenced only if its record set is on IPFS and checks against the chain:
  // the contract attaches any bytes32 a rater sends (red team finding F1, h8-redtrust).
  // One view of the chain (h16-red2 R2): every read is at one block, which the report names with its
  // hash, so that anyone can recompute the detections after the chain has moved on (a seed's login
  // lapses with no event; ratings keep coming).
  const provider = ledger.tm.runner?.provider;
  if (!provider) throw new Error("runDetectors: the ledger's contract has no provider to read the chain at one block");
  const head = await provider.getBlock(o.atBlock ?? "latest");
  if (!head || head.hash === null) throw new Error(`runDetectors: block ${o.atBlock ?? "latest"} not found`);
  const at = { blockTag: head.number };
  const refused: RefusedEvidence[] = [];
  // one budget for the run's fetches that find nothing: record sets and cleared flags' reports (s26-fxl L2)
  const budget = { left: FETCH_BUDGET_MS };
  const ratings = await ledger.ratings(0, { store, refused, toBlock: head.number, budget });
  const entities = await ledger.entities(head.number);
  const nodes = entities.map((e) => e.id);
  // the seeds as the detector service's input key reads them (TrustLedger.seeds: s26-fxl L1)
  const seeds = new Set<string>(await ledger.seeds(nodes, head.number));
  const generations = new Map<string, bigint>();
  for (const e of entities) generations.set(e.id, await ledger.tm.generationOf(e.id, at));
  const epochSeconds = Number((await ledger.getModel()).epochLength);
  const unevidenced = o.evidenceOnly ? "ignore" : "cap";
  const analysis = analyze(ratings, nodes, seeds, { epochSeconds, unevidenced });
  const all: Detection[] = analysis.detections;
  const cleared = await clearedAgain(
    ledger,
    store,
    head.number,
    all,
    (r) => analyze(r, nodes, seeds, { epochSeconds, unevidenced }),
    ratings,
    budget,
  );
  // the held flags this run detects again on new conduct, re-asserted in its run (door 2)
  const heldNow: Detection[] = [];
  if (o.flag) for (const d of all) if ((Number((await ledger.tm.entity(d.entity)).flags) & (1 << d.kind)) !== 0) heldNow.push(d);
  const again = await reasserted(
    ledger,
    store,
    head.number,
    heldNow,
    (r) => analyze(r, nodes, seeds, { epochSeconds, unevidenced }),
    ratings,
    budget,
  );
  const report = {
    // the time of the block read, not the clock's: two runs over one block put one report, one CID
    // (a wall-clock time gave each run its own CID and pin: s23-rth F3's residual)
    generatedAt: new Date(head.timestamp * 1000).toISOString(),
    // what the detections were computed from: the chain at this block (ratings, entities, seeds and
    // generations as of its end), the seeds by id, the generation each flag names
    block: { number: head.number, hash: head.hash },
    ratings: ratings.length,
    method: REPORT_METHOD,
    epochSeconds,
    unevidenced,
    ratingsWithEvidence: ratings.filter((r) => r.evidence).length,
    evidenceRefused: refused,
    seeds: [...seeds].sort(),
    detections: all.map((d) => {
      const c = cleared.get(`${d.entity}:${d.kind}`);
      const r = again.get(`${d.entity}:${d.kind}`);
      return {
        ...d,
        kindName: KIND_NAME[d.kind],
        generation: Number(generations.get(d.entity) ?? 0n),
        ...(c ? { cleared: c } : {}),
        ...(r ? { reasserted: r } : {}),
      };
    }),
    notices: analysis.notices.map((d) => ({ ...d, kindName: KIND_NAME[d.kind] })),
    lockstep: analysis.lockstep,
    levels: analysis.levels,
  };
  const cid = await store.putJson(report);
  const digest = (await cidOf(encodeJson(report), "dag-json")).multihash.digest;
  // rows in the detections' order; `send`: a new flag this run sends
  const rows: { d: Detection; c?: Clearing; already: boolean; send: boolean }[] = [];
  for (const d of all) {
    const e = await ledger.tm.entity(d.entity);
    const already = (Number(e.flags) & (1 << d.kind)) !== 0;
    const c = cleared.get(`${d.entity}:${d.kind}`);
    // a flag cleared at c.block (by the court or the detector) with nothing after it showing the
    // conduct again: the verdict stands (h16-red2 R1), nothing is sent
    const stands = c !== undefined && !c.again;
    // new, or held and detected again on new conduct (re-asserted: a new instance)
    const reassert = already && again.has(`${d.entity}:${d.kind}`);
    rows.push({ d, ...(c ? { c } : {}), already, send: o.flag && (reassert || !already) && !stands });
  }
  // The run's new flags go as one flag run (sendFlagRun). Each names the era the detection read
  // (h16-red2 R5): a reclaim mined since makes the contract refuse it, and it is left out.
  const { stale, deferredUntil } = await sendFlagRun(
    ledger,
    rows.filter((r) => r.send).map((r) => ({ id: r.d.entity, kind: r.d.kind, generation: generations.get(r.d.entity)! })),
    digest,
  );
  const out: ReportedDetection[] = rows.map(({ d, c, already, send }) => {
    const r = again.get(`${d.entity}:${d.kind}`);
    const gone = send && stale.has(d.entity.toLowerCase());
    const stalePart = gone
      ? { stale: `not flagged: ${d.entity} was reclaimed after the block read (generation ${generations.get(d.entity)})` }
      : {};
    const deferredPart =
      send && deferredUntil !== undefined
        ? { deferred: `not flagged yet: the next flag run may begin at ${new Date(deferredUntil * 1000).toISOString()} (FLAG_RUN_SPACING)` }
        : {};
    const flagged = already || (send && !gone && deferredUntil === undefined);
    const reassertedPart = r && already && send && !gone && deferredUntil === undefined ? { reasserted: r } : {};
    return { ...d, kindName: KIND_NAME[d.kind], flagged, ...stalePart, ...deferredPart, ...reassertedPart, ...(c ? { cleared: c } : {}) };
  });
  return {
    detections: out,
    ...(deferredUntil !== undefined ? { deferredUntil } : {}),
    notices: analysis.notices,
    cid,
    block: report.block,
    ratings: ratings.length,
    entities: nodes.length,
    evidenceRefused: refused,
  };
}

export { AttackKind };
