/**
 * Open finding (issue 20's latency goal, read from the committed results; nothing is run here): a task
 * step's p50 is at most 2x the bare transaction round trip's p50 measured in the same run, in
 * `bench/results/steps.json` (refresh it with `hardhat run bench/steps.bench.ts`). The rating meets it in
 * some runs and not in others (1.0-3.2x over fifteen runs in session 13, the median of per-sample ratios
 * 1.3-2.5x; the committed run, at load 4, 3.19x and 2.36x: its bare round trip there was 2.1 ms). The join
 * does not meet it. Its round-trip floor is its one read plus its transaction with the receipt asked for early
 * (session 13: the records' fsync now runs during that wait, rsms-join.md change 17), 0.7-1.6x
 * the bare round trip; what remains is the client's CPU on the path (7.3-10.3 ms per join at load average
 * 4-25, against under 1.5 ms for the bare round trip), which a loaded 2-core machine turns into wall
 * time: loading the MSRP's whole record, the RSMS messages, the records' serialization, three HTTP
 * requests through Hardhat's provider (bench/results/steps.md). Session 14 kept the MSRP agent across
 * joins and cut per-read overheads: client CPU per join 7.2-7.8 -> 5.4-6.1 ms (ABBA, load 12-27), the
 * join still 3.4-3.8x the bare round trip (medians of per-sample ratios); what remains is three HTTP
 * round trips' client CPU (no lower through a minimal node:http client), the RSMS messages (about
 * 1.2 ms on native libsecp256k1), signing and the records, against a floor (read + transaction) of
 * 3.3-3.9 ms: 2x a bare round trip of 2.3-3.5 ms is below what this path needs on 2 shared cores.
 * Session 15 took the join's read off its path (rsms-join.md change 18: its checks from the process's
 * local view of the registry, the registry's recordJoin the arbiter): ABBA against the code before, five
 * runs each at load 9-13, the join 3.99x -> 2.43x the bare round trip (medians of per-sample ratios; p50
 * over p50 4.09x -> 2.55x), 1.76-3.16x over the runs; the committed run (load 3.6) 2.66x. Its floor is
 * now its transaction with the early receipt (0.8x the bare round trip); what is left is the client's
 * CPU on the path (4.0-5.2 ms per join: the RSMS messages, signing, the agents, the records).
 * Session 16 serializes the records once the transaction has left and keeps the RPM agent
 * (rsms-join.md change 19): ABBA against the code before, seven runs each at load 8-41, 3.35x -> 2.62x
 * (medians of per-sample ratios; 2.32-4.11x over the runs), client CPU 5.34 -> 4.80 ms; joins back to
 * back 3.69x -> 3.19x. The join's own transaction takes the node longer than the bare transfer (it
 * executes recordJoin), and at these loads the records' CPU, run while the node mines, competes with
 * the node for the two cores.
 * Session 17 timed marks inside the joins (offchain/util/spans.ts, the bench's STEPS_SPANS). The journal
 * run after the send took 2.3 ms of the main thread: the MSRP's whole record serialized and compared
 * with the disk's, and hashed in JavaScript. Meanwhile the transaction's answers waited, and the intent's
 * fsync had not started. A join with the MSRP agent kept now journals only the RN entry it changed
 * (rsms-join.md change 20), and the keystore hashes on node:crypto: the journal took 1.0 ms after.
 * ABBA against the code before, five runs each at load 18-25, medians over the runs:
 * - join p50 11.40 -> 8.87 ms; client CPU 5.82 -> 4.98 ms;
 * - join / bare 2.13x -> 2.65x (medians of per-sample ratios): at that load the bare round trip's p50
 *   moved between 1.9 and 8.2 ms from run to run, more than the change;
 * - two of the ten runs were at or below 2x;
 * - the committed run (load 20): 2.14x p50 over p50, 2.19x the median of per-sample ratios.
 * Where a join's time goes now (load 16-17), in ms:
 * - before the send, 1.8: the task's records, stamps and signer 0.8, the RSMS messages 0.85, signing 0.15;
 * - after it, on the main thread: HTTP client work 0.5, the journal 1.0;
 * - then the receipt and the intent's fsync, 1-2 ms under load on the shared disk.
 * The goal needs the pre-send CPU and the fsync's wait well under a bare round trip at these loads.
 * Session 18 asks for a rating's receipt, with the pair after and the pair at the block seen, two turns
 * after its send, while the node mines it (DirectContract.prepare's early receipt, as a join's), not once
 * the node has answered the send: one round trip less on its path. ABBA against main (26b38fd), five runs
 * of main and six of this code, alternating, N = 30, load average 10-16 (other helpers' tests), medians
 * over the runs:
 * - rating / bare 2.17x -> 1.91x (medians of per-sample ratios; p50 over p50 2.17x -> 1.94x); at or below
 *   2x in 1 of 5 runs of main, 3 of 6 of this code (1.72-2.30x): at this load still not robustly;
 * - rating p50 5.77 -> 5.21 ms; client CPU unchanged (2.1 and 2.0 ms: about 1.2 ms more than the bare round
 *   trip's, the task's bookkeeping, the model's check and the batch's encoding);
 * - the join is unchanged code: 2.89x and 2.63x over the two sets of runs (noise), at or below 2x in none;
 * - two more pairs at load 17-19 (the bare round trip's p50 3.7-11.1 ms): over all 15 runs the rating
 *   2.12x -> 1.91x, at or below 2x in 2 of 7 and 4 of 8; the join in none.
 * Where a join's time goes at load 14-16 (marks of 120 joins, medians of each step, ms):
 * - before the send, 2.2: the task's bookkeeping 1.0 (its modules and records 0.3, the local view 0.17,
 *   the signer and registry 0.14, the kept MSRP agent's stamp 0.23, the RPM's 0.07), the RSMS messages 1.0
 *   (request 0.23, open 0.08, forward 0.32, verify 0.24, accept 0.06), signing 0.18;
 * - after it: the early receipt handed to HTTP 0.4 later, the journal 1.0 (its pieces 0.1 each: the
 *   journal folder's listing, the MSRP's patch, the records' checksums, the intent's open and write);
 * - then the node: the send's answer is processed at 6.0 from the start (a bare transaction with the
 *   early receipt takes 2.0 in all), the receipt at 6.3; the intent's fsync ends after the receipt in
 *   42% of the joins (by 1.9 ms or more in a quarter of them).
 * At this load the join needs about 2x the bare round trip for its client CPU alone; the node's answer,
 * which waits for the same two cores, takes the rest.
 * Session 19 draws the join's three ephemerals between joins (rsms-join.md change 21): the send leaves
 * 3.05 -> 2.81 ms after the step's start (marks of 240 joins, ABBA, eight runs each at load 9-17). The
 * wall-clock ratio did not move (2.25x -> 2.26x, medians of per-sample ratios; at or below 2x in 3 of 8
 * runs of main and 2 of 8 of this code). In those runs a lone 2 KB fsync took 0.6-11.4 ms at p50, often
 * more than the bare round trip, and the intent's fsync (the commit point a join must wait for
 * before it reports success) ended after the receipt in 60% of the joins. No quiet run was possible
 * (the load average rose from 2 to 9 at 23:04 and stayed at 9-17). Not renamed: the join fails here, and
 * a timed check is not allowed in npm test in any case.
 * Session 25 (swc, a quiet run at load 1.6, N = 30): rating 2.05x p50 over p50 (2.08x the median of per-sample
 * ratios), join 2.61x (2.78x), client CPU per join 5.8 ms against a bare round trip of 2.5 ms; alternating
 * TypeScript's transpiler and swc (two pairs, STEPS_CLI=0): join 2.67x / 2.34x and 2.97x / 2.89x, noise.
 * Session 26: the bench's new row sends the join's own recordJoin bare (evm_snapshot, a join, evm_revert,
 * the same signed transaction again): 1.14-1.24x the transfer's early-receipt round trip, so the node's
 * share is not the gap. The join took 2.5-3.1x with 4.9-5.6 ms of client CPU per join (over 2x the bare
 * round trip by itself): before the send 2.5 ms (the task's bookkeeping 1.35, the RSMS messages 0.93,
 * signing 0.22), then the journal 0.9 ms while the node mines, competing with it for the two cores.
 * Session 27: the task's bookkeeping trimmed (checksummed addresses, module imports, contract handles), then the
 * red team's fixes of the join's caches (a receipt's event checked on the fast path): client CPU per join 4.5-4.9 ms
 * before and 4.2-5.2 ms after in ABBA runs at load 2.5-4.4 (noise); the committed run gives the rating 1.99x p50
 * over p50 (1.97x the median of per-sample ratios), the join 2.77x (2.82x). What remains of the join's gap is the
 * folder hold and the kept agents' stamps (about 0.55 ms: the cross-process rule) and the three parties' messages.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";

type Step = { p50: number };
const r = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "bench", "results", "steps.json"), "utf8")) as {
  bare: Step;
  rate: Step;
  join: Step;
};

describe("task-step latency: issue 20's goal on the committed results (open findings)", () => {
  for (const [name, step] of [
    ["a rating (trust:rate)", r.rate],
    ["an RSMS join (rsms:join)", r.join],
  ] as const) {
    const ratio = step.p50 / r.bare.p50;
    it(`${name}: p50 at most 2x the bare transaction round trip's (${ratio.toFixed(2)}x)`, () => expect(ratio).to.be.at.most(2));
  }
});
