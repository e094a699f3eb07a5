/**
 * A process-wide signal that the chain went back or was reset under this process (s27-fxc): a
 * fast-path write mined with no event from its contract (the contract's code is gone: a development
 * node restarted or reverted under a running process; offchain/chain/direct.ts), or the join view's
 * cursor block replaced (offchain/rsms/join-view.ts). The caches of chain state a process keeps
 * listen and drop themselves: tasks/lib/context.ts `codeSeen` (addresses found to hold code), the
 * join views, the first live epochs and the kept RSMS agents (offchain/rsms/flows.ts, tasks/rsms.ts),
 * the balances found sufficient (offchain/chain/accounts.ts `fundedAt`) and the TrustManagers'
 * models (offchain/trust/ledger.ts). Nothing here reads the chain.
 */

const listeners = new Set<(why: string) => void>();

/**
 * Calls `f` whenever {@link noteChainReset} is called, until the returned function is called.
 * @param f - drops a cache; it must not throw (an error it throws is ignored)
 */
export function onChainReset(f: (why: string) => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

/**
 * Tells every listener that the chain went back or was reset under this process.
 * @param why - one line, for the listeners (what was seen)
 */
export function noteChainReset(why: string): void {
  for (const f of listeners) {
    try {
      f(why);
    } catch {
      // a cache that could not drop itself is no reason to hide the caller's own error
    }
  }
}
