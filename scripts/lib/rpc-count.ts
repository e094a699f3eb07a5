/**
 * Counts the JSON-RPC calls a process makes through a Hardhat runtime's provider, by method, and
 * the time spent waiting for each method: for the task-step benchmark (bench/steps.bench.ts) and
 * the test that pins the calls of each step (test/chain/rpc-calls.test.ts). Wraps `request` and
 * `send` of `hre.network.provider` (the object hardhat-ethers and every task use); the wrapped
 * provider answers as before.
 */
import type { EIP1193Provider } from "hardhat/types";

/** What one stretch of work sent. */
export type RpcCalls = {
  /** Calls by method name. */
  calls: Record<string, number>;
  /** Milliseconds spent in each method's calls (overlapping calls each count their own time). */
  ms: Record<string, number>;
  /** All calls. */
  total: number;
  /**
   * Calls answered with null, by method: a receipt asked for before its transaction was mined (the
   * join's early receipt, offchain/chain/direct.ts), which is then asked for again.
   */
  empty: Record<string, number>;
  /**
   * Round trips: groups of calls issued in one turn of the event loop (before the next
   * `setImmediate`), which the batching HTTP transport (offchain/chain/transport.ts `batchHttp`)
   * sends to a node as one JSON-RPC batch. On the in-process network, the round trips the same
   * step makes over HTTP.
   */
  roundTrips: number;
};

/** Calls by method, counted since the last `reset`. */
export type RpcCounter = {
  /** What was sent since the last reset. */
  snapshot(): RpcCalls;
  /** Starts counting from zero. */
  reset(): void;
  /** The calls `fn` made, and what it returned (counting starts from zero). */
  during<T>(fn: () => Promise<T>): Promise<RpcCalls & { value: T }>;
};

/**
 * Wraps the provider's `request` and `send` (once; a second call returns the first counter).
 * @param provider - `hre.network.provider`
 */
export function countRpc(provider: EIP1193Provider): RpcCounter {
  const p = provider as EIP1193Provider & {
    send?: (method: string, params?: unknown[]) => Promise<unknown>;
    __rpcCounter?: RpcCounter;
  };
  if (p.__rpcCounter) return p.__rpcCounter;
  let calls: Record<string, number> = {};
  let ms: Record<string, number> = {};
  let empty: Record<string, number> = {};
  let roundTrips = 0;
  let open = false;
  // Hardhat's outer provider (LazyInitializationProviderAdapter) passes `send` to the inner
  // provider's `send`, not to its own `request`: each call is counted once.
  const counted =
    <A extends unknown[], R>(method: (...a: A) => string, f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const m = method(...a);
      calls[m] = (calls[m] ?? 0) + 1;
      if (!open) {
        open = true;
        roundTrips++;
        setImmediate(() => (open = false));
      }
      const [into, nulls] = [ms, empty];
      const t = performance.now();
      try {
        const answer = await f(...a);
        if (answer === null) nulls[m] = (nulls[m] ?? 0) + 1;
        return answer;
      } finally {
        into[m] = (into[m] ?? 0) + performance.now() - t;
      }
    };
  const request = p.request.bind(p);
  p.request = counted((args: { method: string; params?: unknown }) => args.method, request) as typeof p.request;
  if (typeof p.send === "function") {
    const send = p.send.bind(p);
    p.send = counted((method: string) => method, send);
  }
  const snapshot = (): RpcCalls => ({ calls, ms, empty, total: Object.values(calls).reduce((a, b) => a + b, 0), roundTrips });
  const reset = () => {
    calls = {};
    ms = {};
    empty = {};
    roundTrips = 0;
  };
  const counter: RpcCounter = {
    snapshot,
    reset,
    during: async (fn) => {
      reset();
      const value = await fn();
      const s = snapshot();
      reset();
      return { ...s, value };
    },
  };
  p.__rpcCounter = counter;
  return counter;
}
