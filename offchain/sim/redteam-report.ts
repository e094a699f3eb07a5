/**
 * bench/results/trust-redteam.{md,json}: the held-out red-team families' tables (per family and
 * size, each detector's detection, FPR without and with victims, victims flagged, time to detect,
 * damage and boosted providers), the plans' computed parameters, the detectors' time, and per
 * family what it does, which rule it evades and what a fix would need (RED_NOTES, written by the
 * red team from the measured results).
 */
import fs from "fs";
import path from "path";
import type { Metrics } from "../trust/adversaries/evaluate";
import { RED2_ATTACKS, RED2_HONEST, type RedFamily } from "../trust/adversaries/redteam/generate";

const RED2_FAMILIES = [...RED2_ATTACKS, ...RED2_HONEST];
import { RED_SPLIT, type RedRow } from "./redteam";

/** A family's name as reported: held-out families (never run while tuning) are marked *. */
const famName = (f: RedFamily) => (RED_SPLIT.tuneFamilies.includes(f) ? `${f} (tuned)` : `${f}*`);

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "n/a");
const num = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");

/** What each family does, the rule it evades and what a fix would need. */
export const RED_NOTES: Record<Exclude<RedFamily, "rt-clean">, { does: string; evades: string; fix: string; now?: string }> = {
  "rt-ballot-stuff": {
    does: "All attackers rate every boosted colluder high and every buried victim low once per round (one observation per epoch is all that counts). Boosted colluders and victims are the least popular ones, and a target is planned only where the colluders outnumber its expected honest raters 3 to 1.",
    evades:
      "The unfair-rater test measures each rater against the weighted consensus of the *other* raters of the target; where colluders are the majority of those raters the consensus is theirs, their lies have no excess, and the honest raters become the outliers (robust.ts §2; docs/specs/trust.md says 'consensus needs an honest majority among each target's raters' — 10% of the nodes are a majority on any low-traffic target). SybilRank does not help: the colluders are good providers with honest in-edges.",
    fix: "Bound the total weight any group can put on one target by what the honest graph vouches for it (SumUp-style vote capacity from the seeds: Tran et al., NSDI 2009), or estimate p from raters independent of the target's rater cluster (e.g. seeds and raters with few co-rated targets with the others); flag targets whose raters split into two disjoint camps; count a target's credible raters, not observations, before trusting a consensus.",
    now: "Session 6: detected. Lockstep groups (CopyCatch, Beutel et al., WWW 2013; robust.ts §1b): the colluders rate the same targets in every epoch, far more often than a rater choosing independently at those targets' rates would (binomial tail below alpha / pairs), so they form the (3 raters, 2 targets)-core of the regular pairs; the group's ratings of its targets count as one voice (one observation per target), and tested as one rater against the seed-anchored reference that voice disagrees, so every member is flagged and weighs nothing. At 500 nodes: detection 0% to 100%, boosted above the honest median 100% to 0%, the buried victims' move -0.66 to 0.00, honest damage 0.015 to 0.007, FPR unchanged. At 5,000 nodes: detection 0.4% to 100%, boosted above the honest median 98.7% to 0%, victims' move -0.67 to -0.01, damage 0.016 to 0.007, FPR 0.2-0.3%; the detector's time per rating did not grow (49-57 s for 1.56 million ratings, 130 s before, on a less loaded machine). Before (session 5): the unfair-rater reference is now anchored on the verified seeds (the unverified crowd counts as at most 3 observations), but the planned targets have 2-14 honest ratings over the whole run, 0-5 of them from seeds, against about 1,176 colluder observations, and the reference's variance (its error shared by each rater's 24 observations of a target) rightly says that this is too little independent evidence. Left: lockstep detection (the colluders rate the same targets every epoch; CopyCatch, Beutel et al., WWW 2013), or bounding effective trust by seed evidence (tried on the tune seeds: anchoring effective trust as well cut boosted-above-median from 100% to 30%, but it hands trust to whatever the public seeds see, which rt-sybil-seed-court exploits; not adopted).",
  },
  "rt-grey-mouth": {
    does: "Every attacker rates 4 of A/2 victims a round at 0.5 + 0.06, just on the good side of the bad threshold after the strictness correction; it rates honestly otherwise.",
    evades:
      "The unfair-rater test and the CUSUM see only binary outcomes (bad < 0.5): no grey rating is a bad outcome, so there is no excess and no behaviour change; the effective trust, a weighted mean of values, still falls.",
    fix: "Test the values, not only the outcomes: per rater, the weighted excess of (consensus value - its value) over its targets (a z on residuals, as the binary test does on outcomes), or use a median/trimmed estimator for effective trust so that a minority of low-but-passing values cannot move it.",
    now: "Unchanged (held out): no detection, victims move about -0.12. Not addressed: the strictness offset absorbs a rater whose grey ratings are most of its observations, so a residual test on corrected values sees little; the test would need a strictness estimated on targets other than the ones it is tested on. Session 7 (evidence capacity, robust.ts point 0b; held out): the grey ratings are sent outside any interaction, so they carry no evidence record set, and on each victim all of them together weigh at most 3 observations: at 500 nodes the victims' move -0.117 to +0.010, and, against a consensus the grey raters no longer own, detection 0.7% to 10.7%; at 5,000 nodes -0.126 to +0.012 and 0.7% to 10.3%.",
  },
  "rt-frame": {
    does: "Each attacker's lie budget keeps its expected unfair-rater z <= 2 (full weight). A victim's burst is the smallest number k of bad ratings in a row that crosses its CUSUM alarm ln(n/alpha), computed from its expected observations; k distinct attackers send them in the same second; the budgets pay for as many victims as possible.",
    evades:
      "CUSUM and the dispersion test run on each target's credible observations without asking who the bad outcomes come from; k credible raters, each with one lie, are indistinguishable from a real change of the victim's service. The liars stay under the per-rater z.",
    fix: "Before flagging a change, require it to be seen by raters that are independent of each other (bad outcomes from many raters who each lie once and are otherwise correlated in time), or re-run the change test after removing the raters whose only disagreement is inside the alarm window; test whether the burst's raters are unusually new to the target (first interaction) and co-timed. A flag from a burst of first-time raters should be evidence for a dispute, not a 0.2 penalty.",
    now: "A burst followed by the victim's usual service is now one episode with recovery: a notice in the report, not a flag (no penalty). Victims flagged fall from 97-99% to 4-7%, FPR with victims from 6.3-6.4% to 0.5-0.7%, the victims' move from -0.61 to -0.06/-0.08. The framers themselves are still not detected: each lies about 5 times, within its budget. Session 7 (evidence capacity, robust.ts point 0b; tuned family): the bursts carry no evidence record set, so together they weigh at most 3 observations on a victim, and a victim's change test reads its evidenced observations: at 500 nodes victims flagged 4.2% to 1.4%, FPR with victims 0.5% to 0.3%, victims' move -0.058 to -0.011; at 5,000 nodes 7.4% to 0%, 0.7% to 0.3%, -0.085 to -0.012.",
  },
  "rt-budget-liar": {
    does: "Each attacker spends its lie budget (expected z <= 2) on A/5 shared victims, one lie at a time spread evenly over the run: no victim sees a burst, no liar crosses the test.",
    evades:
      "The per-rater z accumulates over a rater's history, so each identity has a free budget of about 4 lies in 96 observations; the budget is per identity, so the damage scales with the number of cheap identities that look honest.",
    fix: "Give each rater a per-target or per-victim budget as well (a victim whose bad outcomes come from raters with a positive z, even below the flag, should have those outcomes down-weighted in proportion), and make identities cost something (issue 15's identity layer) so that budgets cannot be multiplied.",
    now: "Unchanged in substance until session 6 (held out): not detected, victims move about -0.26. Session 7 (evidence capacity, robust.ts point 0b): the lies are sent outside any interaction, so they carry no evidence record set, and on each victim all of them together weigh at most 3 observations: at 500 nodes the victims' move -0.261 to -0.049, victims flagged 3.3% to 0%, honest damage 0.009 to 0.005; at 5,000 nodes -0.263 to -0.049, 2.7% to 0%, 0.009 to 0.005. The liars are still not flagged (each stays within its budget). Lies told inside real interactions (with evidence) would not be bounded by this.",
  },
  "rt-onoff-cusum": {
    does: "On-off whose bad bursts are as long as the CUSUM allows (k bad observations computed from the attacker's own expected traffic and a planned long-run bad share of 0.25), and whose good phases are long enough to drain the CUSUM before the next burst.",
    evades:
      "It stays under the CUSUM, but not under the windowed dispersion test, which catches the alternation at 1-4 epoch scales: the detectors hold here.",
    fix: "None needed for detection; the misses are mostly attackers with too few credible observations for a test (minObservations 10). Cost: the bootstrap of the dispersion test runs its 1,000 replicates on every entity it flags (the early stop only helps entities that are not flagged), so this family costs the detector about 3 times the honest population's time at the same size (the detector s column): linear, but an attacker who makes many entities look dispersed makes each detection run slower.",
    now: "Detection fell from 89-94% to 72-75% (held out): an on-off flag now needs a second episode among the observations outside the first, a recovery inside the first, or no recovery, so an attacker whose bursts reach alpha only together is a notice, not a flag. This is the price of not flagging outages (rt-outage) and framed victims (rt-frame) on a single change. Session 6: the second change is tested at level 0.02 instead of 0.01 once a first episode was found (chosen on the tune split): 74.7% to 76.0% at 500 nodes, 71.9% to 73.4% at 5,000. Session 11 (change tests iterated without turned witnesses, point 3b): 78.0% to 79.3% at 500 nodes (session 10's figure in trust-redteam-after.md).",
  },
  "rt-sybil-seed-court": {
    does: "A Sybil cluster serves the public set of identity-verified seeds well (q 0.9) and everyone else badly (q 0.15), and praises itself: each round each Sybil gets praise from ceil(3 x its expected honest ratings a round) other Sybils.",
    evades:
      "SybilRank: the seeds' positive ratings are real attack edges, so no Sybil's degree-normalized trust falls below tau x median and none is flagged Sybil; SybilRank only lowers their weight (trust over the median, below 1), which keeps their praise from lifting them above the honest median but not from lifting them well above the genuinely bad providers they resemble. The unfair-rater test: the Sybils are the majority of their own raters, so their praise is the consensus and the honest non-seeds they serve badly are the outliers (each too rarely to be flagged). The change tests see a stationary entity.",
    fix: "Treat discrimination as evidence: compare a provider's outcomes by rater group (seeds vs non-seeds, or its praisers vs everyone else) and flag a provider whose groups disagree beyond chance; bound the total weight a rater community can put on its own members by the trust that flowed into it (SybilLimit/SumUp), instead of per-identity weights; keep the seed set private or sample it per run so that service cannot discriminate on it.",
    now: "Still not detected (held out), and FPR rose from 0.7-0.9% to 1.2-1.9%: the seed-anchored reference judges these Sybils by what the seeds see (good service), so the honest non-seeds they serve badly disagree with it a little more. No boosted Sybil is above the honest median (effective trust is not anchored on the seeds). Session 6 (lockstep groups): FPR at 500 nodes 1.9% to 1.0%, detection still 0%.",
  },
  "rt-strict-cluster": {
    does: "20% of honest raters rate thumbs-up/thumbs-down (0.9 if satisfied at 0.75 or more, else 0.1) and choose partners inside their cluster 60% of the time. Honest, no attackers.",
    evades:
      "The strictness correction is a median offset, capped at 0.3: it corrects a rater who is uniformly harsher, not one whose scale is nonlinear. Their bad outcomes on mediocre-but-fine providers add up to a bad-mouthing z over their history.",
    fix: "Correct strictness per rater with a monotone calibration (the rater's quantiles against the consensus quantiles, or a per-rater threshold on the value scale fitted from co-rated targets) before binarizing; or test for bad-mouthing only on targets where the consensus is clear (p far from 0.5) and at least several other raters agree.",
    now: "FPR fell from 12-13% to 6.3-6.4% with the seed-anchored reference and the per-pair variance (a thumbs rater who rates the same cluster partners again and again is no longer taken for independent witnesses); still above the 5% goal. Session 6 (second change at level 0.02): 6.6% at 500 nodes, 6.3% at 5,000. Session 7: unchanged (6.6% at 500 nodes, 6.3% at 5,000). On the tune seeds every flagged cluster member is a bad-mouthing flag at z 4-9; a thumbs rater with a bar of 0.75 says bad on about 31% of a q = 0.85 provider's services, a camouflaged liar of the suite on about 23%, so a per-rater threshold fitted to the rater's own verdicts would absorb camouflage's lies as well; a fix needs a test that separates where the bad verdicts fall (mediocre targets) from lies on good ones. Sessions 10-11: 6.9% at 500 nodes; on excellent providers (q = 0.95) a thumbs rater says bad on about 16% of services and a camouflaged liar on about 21%, so where the verdicts fall separates them only on mediocre targets (docs/specs/trust.md §4, session 11). Session 13 (docs/specs/trust.md §4 point 2a): a rater on a binary scale (two values, one on either side of 0.5) is compared with the other raters' outcomes at its own bar (where they would have given as many bad verdicts on its targets; capped at 0.5 ± 0.3) when one bar explains its downs on every target (a likelihood-ratio test, target by target, beta-binomial nulls, exact tail, at alpha per rater), and at 0.5 otherwise, so a binary liar aimed at chosen victims is still flagged: 6.9% to 0.8% at 500 nodes, 6.7% to 0.9% at 5,000, under the 5% goal.",
  },
  "rt-outage": {
    does: "10% of trustworthy providers have one outage of 2 rounds (service quality 0.1) at a random round, then recover fully. Honest.",
    evades:
      "Nothing is evaded: an outage is, to the CUSUM and the dispersion test, the same thing as an on-off attack's bad phase. The flag multiplies trust by 0.2 for the whole run.",
    fix: "Separate detection from consequence: a single change followed by recovery should not keep the penalty (decay the flag when the post-change window returns to the entity's long-run rate), and an on-off flag should need at least two bad phases (a return to bad after recovery) or a contested dispute before it costs 80% of trust.",
    now: "An outage followed by recovery is a notice, not a flag: FPR 5.4-5.6% to 1.0-1.1%. Session 6 (second change at level 0.02): 1.2% at 500 nodes, 1.1% at 5,000. Session 10 (GLR): 1.9% at 500 nodes; session 11 (iteration): 2.0%.",
  },
  "rt-seasonal": {
    does: "Every provider's quality dips by up to 0.2 every 8 rounds, all in phase (peak load). Honest.",
    evades:
      "A common-mode change moves every target's bad rate together; the per-target change tests compare each entity with its own long-run rate, not with the population at the same time.",
    fix: "Normalize each window's bad rate by the population's bad rate in the same window (test the entity against its peers, not against its own past), so that common-mode drift cancels.",
    now: "FPR fell from 3.7-3.8% to 1.5-1.8% (held out; no peer normalization was added: the single-episode rule absorbs part of it). Session 6 (second change at level 0.02): 2.1% at 500 nodes, 1.9% at 5,000. Session 10 (GLR): 2.9% at 500 nodes; session 11 (iteration): 3.0%.",
  },
  "rt-newcomers": {
    does: "25% of honest entities join at 75% of the run, with few ratings given and received. Honest.",
    evades: "Nothing evaded; this checks that few ratings do not read as a Sybil or an on-off change.",
    fix: "None needed for flags; note that a newcomer nobody has rated positively has weight 0 (its ratings do not count) until someone does.",
    now: "Unchanged (held out): FPR 0.2-0.3%.",
  },
  "rt-rotate-stuff": {
    does: "Ballot stuffing and burying in rotation (round 2): each (colluder, target) pair is rated in at most 2 epochs, the colluders taking turns per target (up to 4 a round at 500 nodes, 41 at 5,000), and a colluder's own interactions with its targets go unrated. The boosted (the 10% least popular attackers) serve the public seeds well (0.9) and everyone else badly (0.25). The buried victims are good honest providers the seeds rarely see, taken in order of the reference the attackers expect (their own lies in the crowd) while every colluder's expected bad-mouthing z stays <= 2.",
    evades:
      "Lockstep groups: a pair seen in fewer than 3 epochs is never tested for regularity, so no pair is regular and no group forms (robust.ts §1b says so under Limits). The unfair-rater test: on the boosted, the seed-anchored reference agrees with the praise (the seeds are served well); on the victims, the seeds have almost no evidence, the unverified crowd (mostly colluders) counts as 3 observations, so the reference sides with the lies or is too uncertain to make them excess. SybilRank: the colluders are good providers with honest in-edges.",
    fix: "Detect lockstep on targets, not pairs: a target whose raters are mostly first- or second-time raters who share the same other targets (a CopyCatch over (rater set, target set) without the per-pair repetition, or the raters' co-rating graph: these colluders co-rate the same few targets far more than chance, though never the same pair three times). Bound what unverified raters can do to a target's effective trust by the seeds' evidence (SumUp-style capacity), or weight a rater's rating of a target by how much honest (seed-reachable) evidence backs the target: effective trust, not only the unfair-rater reference, needs the anchor. Treat service that differs between seeds and non-seeds as evidence (rater-group disagreement test).",
    now: "Session 7 (evidence capacity, point 0b): the rotating colluders' ratings carry no evidence record set, so together they weigh at most 3 observations on a target and their consensus is gone: at 500 nodes detection 0% to 78% (± 95 over seeds), buried victims' move -0.57 to -0.047, boosted above the honest median 100% to 6.7%; at 5,000 nodes (first measured with sessions 7 and 8 together) detection 5.6% to 100%, victims' move -0.572 to -0.006, boosted above the median 94% to 0%. Session 8's lockstep rules do not touch this family (no pair is regular, no group forms): at 500 nodes identical to the last digit.",
  },
  "rt-frame-recur": {
    does: "Framing that recurs (round 2): each victim gets two same-second bursts of bad ratings from distinct framers, at 1/4 and 3/4 of the run; the first is the smallest run that crosses the CUSUM at alpha on the victim's whole history, the second the smallest that crosses it at recurrenceAlpha = 0.02 on the observations outside the first (each + 1). Framers keep their expected unfair-rater z <= 2.8 (still credible: weight >= 0.5).",
    evades:
      "The episode rule turned a single framing burst into a notice; a second burst is a second change, which the rule reads as on-off and flags (at the looser level 0.02). The change tests still do not ask who the bad outcomes come from; each framer lies about 6 times, under the per-rater z.",
    fix: "Before a change is a flag, test whether its bad outcomes are explained by the raters rather than by the entity: the bursts come from raters who rated the entity for the first time and never again, in the same second, and the entity's other raters in the same epochs saw good service; require the change to be seen by raters who also saw the entity before (returning customers), or down-weight outcomes from first-time raters inside a burst. A burst from raters co-timed to the second is itself a lockstep signal (timestamps, not epochs).",
    now: "Session 7 (evidence capacity, point 0b): the bursts carry no evidence record set, and a victim's change test reads its evidenced observations, so no burst is an episode: victims flagged 92% to 0% at 500 nodes (victims' move -0.60 to -0.008), 95% to 0% at 5,000 (-0.61 to -0.008, sessions 7 and 8 measured together). The framers are still not detected (1-3%). Session 8: identical at 500 nodes. Framing with bursts that carry evidence (lies told inside real interactions) would not be bounded this way.",
  },
  "rt-onoff-masked": {
    does: "On-off providers (bad 2 rounds in 8) whose every received rating is followed, in the same second, by rotating colluders' ratings that make a block at the long-run bad share s = 0.26 (2.8 good after a bad outcome, 0.35 bad after a good one); no (colluder, provider) pair in more than 2 epochs. Attackers too popular for the padding capacity stay good and pad.",
    evades:
      "The CUSUM (both levels) and the dispersion test see a stationary sequence at s: every window, at every scale, has the long-run bad share, so there is no first episode and nothing to recur. The padders' own bad share on the provider equals the reference's, so there is no excess. No pair repeats in 3 epochs, so no lockstep group.",
    fix: "Run the change tests per rater group, not on the pooled sequence: on the outcomes of raters who are not themselves rated by the entity's other raters, or on the seeds' outcomes alone (the seeds see the on-off pattern unmasked); test raters whose outcomes anti-correlate in time with the entity's other raters (a padder rates good exactly when the others rate bad). Unverified raters who rate a provider once or twice each, always right after someone else, are a timing signature.",
    now: "Unchanged through session 8: 0% at 500 and 5,000 nodes. Checked on the red team's development seeds 11-12 (not the report seeds): each on-off provider gets 6-7 seed observations over the run, and a test that knows the true phases reaches p <= 0.01 on 3 of 28 and 9 of 35 of them from the seeds' outcomes alone, against 23 of 28 and 30 of 35 from all honest raters' outcomes. So testing the seeds alone cannot work at this traffic; a fix has to tell the padders from the honest raters (a padder's verdict is the opposite of the rating it follows).",
  },
  "rt-loyal-poison": {
    does: "The honest population of rt-loyal (loyal regulars; damage measured against rt-loyal with the same seed). The attackers read the chain's first 3 rounds, find targets that at least 3 raters rated in every round (a lockstep group in the making), and from round 3 join each such group with enough members (ceil(0.78 x its regulars) + 2) rating its targets low every round, so that the group's voice, the members' mean, is bad.",
    evades:
      "Nothing is evaded; the rule is turned into a weapon. A lockstep group is judged as one voice and, when that voice disagrees with the seed-anchored reference, every member is flagged. The attackers make themselves members of honest groups and make the voice disagree: they are flagged (detection 100%), and so is every honest regular in the group (victims flagged 100%, FPR with victims ~19%), whose trust falls by 80%.",
    fix: "Do not flag a group as a whole: flag the members whose own ratings disagree (each member tested against the reference with the group's voice left out), or split the group by agreement before taking its voice (members whose values differ beyond noise are not one voice). Members who joined a group late and rate only against it are the ones to test. A group's voice should be a robust estimate (median), which a minority of joiners cannot move.",
    now: "Session 8 (robust.ts point 1b): lockstep groups are formed by verdict (raters who praise a target every epoch and raters who blame it are two groups, CopyCatch's same action), a group's flag must hold with any one of its targets left out, and a flagged group's members are flagged one by one, only those whose own ratings of the group's targets disagree with the reference (the group's voice left out) at z >= 4. At 500 nodes: victims flagged 100% to 0%, FPR with victims 19.3% to 0.1%, honest damage 0.119 to 0.007, victims' move -0.580 to -0.001, attackers still detected 100%; at 5,000 nodes 100% to 0.3%, 20.1% to 0.3%, 0.124 to 0.008, -0.579 to 0.000. The third rule was decided after a report run of the first two (500 nodes: FPR with victims 2.7%, victims flagged 14.1%: honest regulars whose verdict on their mediocre providers is bad shared a target node with the attackers and were merged into their group), so this family is no longer a clean held-out figure for it (docs/specs/trust.md §4).",
  },
  "rt-loyal": {
    does: "20% of honest raters in neighbourhoods of 8, each with 2 favourite providers (trustworthy) that every member rates every round. Honest.",
    evades: "Nothing: these are lockstep groups (11 a run), and they agree with the seeds, so none is flagged.",
    fix: "None needed.",
    now: "Session 8: 0.0% at 500 nodes, 0.3% at 5,000 (unchanged).",
  },
  "rt-loyal-regional": {
    does: "rt-loyal, where each neighbourhood's second favourite serves it 0.4 worse than it serves everyone else (distance, a congested local link). Honest: the regulars report what they get.",
    evades:
      "A neighbourhood is a lockstep group whose voice disagrees with the seeds on one of its two targets; when the disagreement reaches z >= 4 every member is flagged bad-mouthing (3 of 10 groups on a development seed). Whether a group is flagged depends on how many seeds happen to use that provider, hence the wide interval.",
    fix: "Disagreement by a group on one target is local evidence about that target (it serves this group badly), not about the raters: test per target, and flag a group only when it disagrees on most of its targets; treat a provider whose groups disagree as discriminating (the same test as rt-sybil-seed-court's fix).",
    now: "Session 8 (robust.ts point 1b): a group is flagged only if its voice still disagrees with any one of its targets left out (disagreement on one target is evidence about that target: a provider that serves some raters worse, Dellarocas 2000). FPR 5.3% to 0.6% at 500 nodes, 7.3% to 0.5% at 5,000; the neighbourhoods are still one voice on their targets.",
  },
  "rt-weekly-outage": {
    does: "10% of trustworthy providers are down (service 0.1) one round in every 8 at their own phase, three times in the run: scheduled maintenance. Honest.",
    evades:
      "The second change at recurrenceAlpha is exactly what a recurring outage is: the first outage is an episode, the next one outside it is a second change, so the provider is flagged on-off.",
    fix: "Nothing distinguishes a periodic outage from on-off by the outcomes alone; the difference is intent and announcement. Let a provider declare maintenance windows (on-chain, before they happen) and exclude outcomes inside them from the change tests; or make a recurring episode a notice with a dispute path rather than the 0.2 penalty when the provider's bad phases are short and its service between them is good.",
    now: "Unchanged through session 8: 4.1% at 500 nodes, 4.3% at 5,000, within the 5% goal. Re-run in session 13 (sessions 10-13's detectors; session 13's binary-scale rule has no rater to act on here): 4.6% and 4.8%, still within it.",
  },
};

/** Columns of the tables. */
const header =
  "| family | detector | detection | FPR | FPR incl. victims | victims flagged | ttd (rounds) | damage | victims' move | boosted > median | detector s |";

/**
 * Writes the red-team report.
 * @param rows - {@link runRedteam} rows, any sizes
 * @param benchDir - bench/results/
 * @param runs - per size: the commit measured, machine load at the start, start time and wall time
 * @param base - the files' base name in benchDir (default trust-redteam; round 2: trust-redteam-r2)
 * @returns the files written
 */
export function writeRedteamReport(
  rows: RedRow[],
  benchDir: string,
  runs: Record<
    string,
    { commit: string; dirty: boolean; load: number[]; cpus: number; machine?: string; started: string; seconds: number }
  >,
  base = "trust-redteam",
): string[] {
  const round2 = rows.some((r) => (RED2_FAMILIES as readonly string[]).includes(r.family));
  const sizes = [...new Set(rows.map((r) => r.nodes))].sort((a, b) => a - b);
  const md: string[] = [
    "# Trust detection on the red-team families",
    "",
    "Generated by `npx hardhat sim:redteam` (offchain/trust/adversaries/redteam/, offchain/sim/redteam.ts). These families were written by an outside red team from the detectors' source (robust.ts, thresholds in redteam/known.ts) and are reported apart from the suite's families (bench/results/trust-detection.md). The honest population is the suite's, draw for draw. " +
      `After the red team, the detectors were changed and tuned on ${RED_SPLIT.tuneFamilies.join(", ")} with seeds ${RED_SPLIT.tuneSeeds.join(", ")} only (marked (tuned)); ` +
      "the families marked * were held out (never run while tuning). Every row is on the report seeds (docs/specs/trust.md §4, tuning split)." +
      (round2
        ? ` Round 2 (${RED2_FAMILIES.join(", ")}): written by a second red team (session 7) against session 6's detectors (lockstep groups and the second-change level), planned from the published rules in redteam/known.ts, developed on seeds 11-12 only; all held out (never run while the detectors were tuned), except that session 8's third lockstep rule (members flagged one by one) was decided after a report run of these families at 500 nodes (docs/specs/trust.md §4).`
        : ""),
    "",
    "| nodes | commit measured | started (UTC) | load average (1, 5, 15 min) at the start | machine | wall time |",
    "|---|---|---|---|---|---|",
    ...Object.entries(runs).map(
      ([n, r]) =>
        `| ${Number(n).toLocaleString("en-US")} | \`${r.commit}\`${r.dirty ? " + uncommitted changes" : ""} | ${r.started} | ${r.load.map((x) => x.toFixed(1)).join(", ")} | ${r.machine ?? `${r.cpus} CPUs (model not recorded)`} | ${r.seconds.toFixed(0)} s |`,
    ),
    "",
    "Columns: detection = attacker identities flagged (any kind); FPR = trustworthy honest (q >= 0.5) flagged, victims excluded / included; victims flagged = bad-mouthed, buried or framed honest flagged; ttd = median rounds from first misbehaviour to first flag (detectors re-run every checkpoint; n/a where not measured); damage = mean |effective trust - same seed without attackers| over trustworthy honest (goal <= 0.05); victims' move = mean signed move of the victims; boosted > median = boosted bad providers above the median trustworthy honest (goal 0%); detector s = the detector's time on the whole history. ± is the 95% interval over seeds. EigenTrust gives no trust values, so no damage.",
    "",
  ];
  for (const n of sizes) {
    const rs = rows.filter((r) => r.nodes === n);
    const r0 = rs[0];
    for (const [title, sel] of [
      ["attacks", rs.filter((r) => !r.honestOnly)],
      ["honest-but-noisy populations (every flag is a false positive)", rs.filter((r) => r.honestOnly)],
    ] as [string, RedRow[]][]) {
      if (!sel.length) continue;
      md.push(`## ${n.toLocaleString("en-US")} nodes, ${title} (seeds ${r0.seeds.join(", ")}; ${r0.rounds} rounds)`, "", header);
      md.push("|---|---|---|---|---|---|---|---|---|---|---|");
      for (const r of sel)
        for (const [det, s] of Object.entries(r.results)) {
          const m = s.mean;
          const c = s.ci95;
          const pm = (k: keyof Metrics) =>
            Number.isFinite(m[k]) ? `${pct(m[k])}${Number.isFinite(c[k]) ? ` ± ${(100 * c[k]).toFixed(1)}` : ""}` : "n/a";
          md.push(
            `| ${famName(r.family)} | ${det} | ${pm("detection")} | ${pm("fpr")} | ${pm("fprWithVictims")} | ${pm("victimsFlagged")} | ${r.checkpointRounds > 0 ? num(m.ttdRounds, 1) : "n/a"} | ${num(m.damage)} | ${num(m.victimMove)} | ${pct(m.boostedAboveMedian)} | ${(m.ms / 1000).toFixed(1)} |`,
          );
        }
      md.push("");
    }
    md.push(
      `### What the plans computed at ${n.toLocaleString("en-US")} nodes (per seed), and the commit of each row`,
      "",
      "| family | commit | plan |",
      "|---|---|---|",
    );
    const planText = (p: Record<string, number>) =>
      Object.entries(p)
        .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(2)}`)
        .join(", ") || "-";
    for (const r of rs)
      md.push(`| ${famName(r.family)} | ${r.commit ? `\`${r.commit}\`` : "n/a"} | ${r.plans.map(planText).join(" / ")} |`);
    md.push("");
  }
  md.push("## The families: what each does, what it evades, what a fix would need", "");
  for (const [f, note] of Object.entries(RED_NOTES)) {
    if (!rows.some((r) => r.family === f)) continue;
    md.push(
      `**${famName(f as RedFamily)}.** ${note.does} *Evades:* ${note.evades} *Fix:* ${note.fix}${note.now ? ` *Now (sessions 5-8):* ${note.now}` : ""}`,
      "",
    );
  }
  md.push("Times are wall-clock on a shared, loaded machine: compare ratios, not absolute values.", "");
  fs.mkdirSync(benchDir, { recursive: true });
  const mdFile = path.join(benchDir, `${base}.md`);
  fs.writeFileSync(mdFile, md.join("\n"));
  const jsonFile = path.join(benchDir, `${base}.json`);
  fs.writeFileSync(jsonFile, JSON.stringify({ runs, rows }, null, 1) + "\n");
  return [mdFile, jsonFile];
}
