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
 */
import { keccak256 } from "ethers";
import { ProviderWrapper } from "hardhat/plugins";
import type { EIP1193Provider, RequestArguments } from "hardhat/types";

/** Methods whose repetition could have a second effect. */
const NOT_REPEATABLE = new Set([
  "eth_sendTransaction",
  "personal_sendTransaction",
  "eth_sign",
  "hardhat_mine",
  "evm_mine",
  "evm_increaseTime",
]);

/** Whether an error is the transport losing the connection, not the node answering. */
export function isDroppedConnection(e: unknown): boolean {
  const x = e as { code?: string; message?: string; cause?: { code?: string } } | undefined;
  const code = x?.code ?? x?.cause?.code;
  return (
    code === "UND_ERR_SOCKET" ||
    code === "ECONNRESET" ||
    code === "EPIPE" ||
    /other side closed|socket hang up|ECONNRESET/.test(String(x?.message ?? ""))
  );
}

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
