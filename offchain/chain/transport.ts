/**
 * JSON-RPC transport that survives a dropped connection. A node's HTTP server closes idle keep-alive
 * sockets; a client whose event loop was busy (a pairing, an iris match) can send its next request on
 * a socket the server already closed and get "other side closed" for a request the node never saw.
 * The request is sent again when that is safe:
 * - reads and every other method whose repetition has no second effect, at most `retries` times;
 * - `eth_sendRawTransaction`: a signed transaction is idempotent by its hash. If the first attempt did
 *   reach the node, the retry is told the transaction is already known (or its nonce used): the
 *   answer is then the transaction's hash, so the caller waits for it instead of failing. A used
 *   nonce proves only that *a* transaction took it (another sender of the account may have): the
 *   hash is answered only when the node has this very transaction (eth_getTransactionByHash),
 *   else the node's refusal is (the wallet counts its nonce again and retries);
 * - never `eth_sendTransaction` (the node signs, assigning a nonce: a repetition could send twice).
 *
 * And it batches (issue 20): below Hardhat's own wrappers, the requests issued in one turn of the
 * event loop go to the node as one HTTP request, a JSON-RPC batch (`batchHttp`): the reads a step
 * makes together, a receipt with the read after it, cost one round trip. The retry rules above
 * hold per request: a lost batch fails each of its requests, and each is re-sent as it would be alone.
 */
import { keccak256 } from "ethers";
import { ProviderWrapper } from "hardhat/plugins";
import { ProviderError } from "hardhat/internal/core/providers/errors";
import type { EIP1193Provider, RequestArguments } from "hardhat/types";
import { isDroppedConnection } from "./dropped";
import { mark } from "../util/spans";

export { isDroppedConnection };

/** Methods whose repetition could have a second effect. */
const NOT_REPEATABLE = new Set([
  "eth_sendTransaction",
  "personal_sendTransaction",
  "eth_sign",
  "hardhat_mine",
  "evm_mine",
  "evm_increaseTime",
]);

/** Whether a node's refusal of a raw transaction means it already has it (an earlier attempt landed). */
function alreadyKnown(e: unknown): boolean {
  return /already known|known transaction|already imported|AlreadyKnown/i.test(String((e as Error)?.message ?? ""));
}

/**
 * Whether a node refused a raw transaction for its nonce: an earlier attempt may have landed (and
 * been mined), or another sender of the account took the nonce (h11-red R2): the node is asked.
 */
function nonceUsed(e: unknown): boolean {
  return /nonce too low|nonce has already been used/i.test(String((e as Error)?.message ?? ""));
}

/** A provider that re-sends a request lost to a dropped connection, when that is safe (see above). */
export class RetryingProvider extends ProviderWrapper {
  constructor(
    provider: EIP1193Provider,
    private readonly retries = 2,
    private readonly delayMs = 50,
  ) {
    super(provider);
    batchHttp(provider);
  }

  async request(args: RequestArguments): Promise<unknown> {
    if (NOT_REPEATABLE.has(args.method)) return this._wrappedProvider.request(args);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this._wrappedProvider.request(args);
      } catch (e) {
        if (attempt > 0 && args.method === "eth_sendRawTransaction" && (alreadyKnown(e) || nonceUsed(e))) {
          const [raw] = this._getParams<[string]>(args);
          if (raw !== undefined) {
            const hash = keccak256(raw);
            if (alreadyKnown(e)) return hash;
            // the nonce is used: by this transaction (the first attempt landed) or by another one
            const tx = await this._wrappedProvider.request({ method: "eth_getTransactionByHash", params: [hash] });
            if (tx) return hash;
            throw e;
          }
        }
        if (!isDroppedConnection(e) || attempt >= this.retries) throw e;
        await new Promise((r) => setTimeout(r, this.delayMs * (attempt + 1)));
      }
    }
  }
}

/**
 * Methods an HTTP batch may carry: reads, and eth_sendRawTransaction (idempotent by its hash).
 * Hardhat's HttpProvider handles none of them specially (it does for eth_accounts, hardhat_reset,
 * evm_revert), and none signs or assigns a nonce.
 */
export const BATCHABLE = new Set([
  "eth_call",
  "eth_sendRawTransaction",
  "eth_getTransactionReceipt",
  "eth_getTransactionByHash",
  "eth_blockNumber",
  "eth_getBlockByNumber",
  "eth_getBlockByHash",
  "eth_getTransactionCount",
  "eth_getBalance",
  "eth_getCode",
  "eth_getStorageAt",
  "eth_getLogs",
  "eth_chainId",
  "eth_gasPrice",
  "eth_maxPriorityFeePerGas",
  "eth_feeHistory",
  "eth_estimateGas",
]);

/**
 * Most requests one JSON-RPC batch carries: well under geth's default limit (1,000), and within
 * the lower limits some providers set; a node answers a longer batch with a single error (h12-red B1).
 */
export const MAX_BATCH_ENTRIES = 100;

/** The parts of Hardhat's HttpProvider (hardhat/internal/core/providers/http.js, 2.x) the batcher uses. */
type HardhatHttp = EIP1193Provider & {
  _getJsonRpcRequest(method: string, params?: unknown[]): { jsonrpc: "2.0"; id: number; method: string; params: unknown[] };
  _fetchJsonRpcResponse(request: unknown[]): Promise<unknown>;
};

type JsonRpcAnswer = { id: number; result?: unknown; error?: { code: number; message: string; data?: unknown } };

/** HTTP round trips made by a batching transport (installed by `batchHttp`). */
export type HttpStats = {
  /** HTTP requests sent (a batch counts once). */
  requests: number;
  /** Of these, batches (two requests or more in one)... */
  batches: number;
  /** ... and the requests they carried. */
  batched: number;
  /** Whether concurrent requests are batched (true; false sends each alone, for comparisons). */
  enabled: boolean;
};

const httpStats = new WeakMap<object, HttpStats>();

/** The Hardhat HttpProvider at the bottom of a chain of ProviderWrappers, if there is one. */
export function hardhatHttpOf(provider: unknown): HardhatHttp | undefined {
  // through hardhat-ethers' provider (_hardhatProvider), Hardhat's lazy (provider) and
  // backwards-compatibility (_provider) adapters, and its ProviderWrappers (_wrappedProvider)
  type Layer = { _hardhatProvider?: unknown; provider?: unknown; _provider?: unknown; _wrappedProvider?: unknown };
  for (let p = provider as Layer | undefined, depth = 0; p && typeof p === "object" && depth < 16; depth++) {
    const h = p as Partial<HardhatHttp>;
    if (typeof h._fetchJsonRpcResponse === "function" && typeof h._getJsonRpcRequest === "function") return h as HardhatHttp;
    p = (p._wrappedProvider ?? p._provider ?? p._hardhatProvider ?? p.provider) as Layer | undefined;
  }
  return undefined;
}

/**
 * Makes a Hardhat HttpProvider send the requests issued in one turn of the event loop as one HTTP
 * request (a JSON-RPC batch; {@link MAX_BATCH_ENTRIES} at most, more go in several) when they are all BATCHABLE: concurrent calls (`Promise.all` of reads;
 * a read issued together with a transaction; a receipt with a read) cost one round trip, not one
 * each. A lone request goes out as before (one JSON-RPC object). Every request keeps its own answer
 * and its own error: a batch's entry that fails rejects that request alone, with the same
 * ProviderError (message, code, data) the single request would get; a batch the transport loses (a
 * dropped connection) rejects each of its requests with that error, and RetryingProvider above
 * re-sends each as it would have re-sent it alone (a raw transaction that had landed is answered
 * with its hash), so a retry never sends anything twice that a single request would not. Hardhat's
 * wrappers between (the sender, gas and chain-id providers) see each request as before: the
 * batching happens below them. Installed once per HttpProvider.
 *
 * A batch's entries have no order: a node may answer them concurrently (`hardhat node` does). A
 * caller that batches a read with a transaction must not depend on which comes first.
 * @returns the HttpProvider's round-trip counters, or undefined when `provider` is not over Hardhat's HTTP
 */
export function batchHttp(provider: unknown): HttpStats | undefined {
  const http = hardhatHttpOf(provider);
  if (!http) return undefined;
  const known = httpStats.get(http);
  if (known) return known;
  const stats: HttpStats = { requests: 0, batches: 0, batched: 0, enabled: true };
  httpStats.set(http, stats);
  const single = http.request.bind(http);
  type Queued = { args: RequestArguments; resolve(v: unknown): void; reject(e: unknown): void };
  let queue: Queued[] = [];
  /** Sends one batch of at most MAX_BATCH_ENTRIES requests (one alone as a plain request). */
  const send = async (q: Queued[]) => {
    mark(`http.${q.map((x) => x.args.method).join("+")}`);
    stats.requests++;
    if (q.length === 1) {
      single(q[0].args).then(q[0].resolve, q[0].reject);
      return;
    }
    stats.batches++;
    stats.batched += q.length;
    const requests = q.map((x) => http._getJsonRpcRequest(x.args.method, (x.args.params as unknown[] | undefined) ?? []));
    let answers: unknown;
    try {
      answers = await http._fetchJsonRpcResponse(requests);
    } catch (e) {
      for (const x of q) x.reject(e);
      return;
    }
    const byId = new Map((Array.isArray(answers) ? (answers as JsonRpcAnswer[]) : []).map((a) => [a.id, a]));
    q.forEach((x, i) => {
      const a = byId.get(requests[i].id);
      if (!a) return x.reject(new Error(`batchHttp: the node's batch answer has no entry for ${x.args.method} (id ${requests[i].id})`));
      if (a.error) return x.reject(Object.assign(new ProviderError(a.error.message, a.error.code), { data: a.error.data }));
      x.resolve(a.result);
    });
  };
  // A node caps a batch (geth: 1,000 entries by default; some providers set fewer) and answers
  // a longer one with one error for the whole batch: the requests of one turn go out in batches of
  // at most MAX_BATCH_ENTRIES, concurrently (h12-red B1).
  const flush = async () => {
    const q = queue;
    queue = [];
    const sends: Promise<void>[] = [];
    for (let i = 0; i < q.length; i += MAX_BATCH_ENTRIES) sends.push(send(q.slice(i, i + MAX_BATCH_ENTRIES)));
    await Promise.all(sends);
  };
  http.request = (args: RequestArguments) => {
    if (!stats.enabled || !BATCHABLE.has(args.method)) {
      stats.requests++;
      return single(args);
    }
    return new Promise((resolve, reject) => {
      if (queue.length === 0) setImmediate(() => void flush());
      queue.push({ args, resolve, reject });
    });
  };
  return stats;
}

/** The round-trip counters of the batching HTTP transport under `provider`, if it has one. */
export function httpStatsOf(provider: unknown): HttpStats | undefined {
  const http = hardhatHttpOf(provider);
  return http && httpStats.get(http);
}
