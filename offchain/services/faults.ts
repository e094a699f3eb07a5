/**
 * Fault injection for the process tests (issue 19): `METATRUST_FAULT=<point>[,<point>...]` makes a
 * service exit abruptly (exit code 86, no cleanup, nothing flushed beyond what was already made
 * durable) the first time it reaches a named point. Off unless the variable is set; the points are
 * the places where a crash is hardest to recover from:
 *
 * - `msrp:after-chain-write`: the MSRP's transaction is mined, and it has neither committed the
 *   join to its state nor replied;
 * - `msrp:after-registration`: an RN's registration is in the MSRP's record, its reply not cached;
 * - `rpm:after-forward`: the MSRP accepted and recorded the join, and the RPM has not replied to the RN;
 * - `idp:before-chain-write`: the IdP verified a login and recorded its intent, and sent nothing;
 * - `idp:after-chain-write`: the IdP's transaction (issueMIT, recordLogin, recordDelegation,
 *   recordVerdict) is mined and its reply not cached;
 * - `authority:after-state`: an MSSA authority wrote its state (a key issued or released) and has
 *   not cached its reply;
 * - `authority:after-propose`: the verifying authority's proposal (and its own approval) is on-chain,
 *   the other authorities' approvals not asked, the user not answered;
 * - `authority:after-approve`: an authority's approval, asked by the verifying authority, is on-chain
 *   and its reply not sent;
 * - `oracle:after-chain-write`: the oracle's `setOracle` is mined, and neither its state nor its reply records it;
 * - `avatar:after-trace-filed`: a reporter's trace case is mined, and its filing journal does not name the case yet.
 */

/** Exit code of an injected crash. */
export const FAULT_EXIT = 86;

let inProcess: ((point: string) => void) | undefined;

/**
 * For in-process tests: what an armed point does instead of exiting (throw, to stop the handler
 * where a crash would). `undefined` restores the exit.
 */
export function onFault(handler: ((point: string) => void) | undefined): void {
  inProcess = handler;
}

/** Exits the process (or calls the in-process handler) if `point` is armed in METATRUST_FAULT. */
export function faultPoint(point: string, env: NodeJS.ProcessEnv = process.env): void {
  const armed = (env.METATRUST_FAULT ?? "").split(",").map((s) => s.trim());
  if (!armed.includes(point)) return;
  if (inProcess) return inProcess(point);
  process.stderr.write(`injected fault at ${point}: exiting\n`);
  process.exit(FAULT_EXIT);
}
