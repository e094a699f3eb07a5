/**
 * Contract calls on the fast path (issue 20): calldata and results through the compiled codecs of
 * offchain/chain/fastpath.ts, JSON-RPC through the provider's own `send` (for Hardhat, straight to
 * the network's EIP-1193 provider: not through hardhat-ethers' request copying and result
 * formatting), transactions signed by a ChainWallet (its nonce, fee and chain-id state, shared
 * with its ethers path), and the receipt asked for at once and then polled with a short backoff (a
 * transaction the node no longer knows ends the wait with TransactionDroppedError, and the wallet
 * counts its nonce again).
 *
 * `direct(contract)` gives the fast path of an ethers contract when its runner allows it: reads
 * when its provider has `send` (a HardhatEthersProvider, an ethers JsonRpcProvider), writes when
 * its runner is a ChainWallet. Otherwise (a node-managed signer such as a development node's
 * unlocked account) it is undefined and the caller keeps the ethers path.
 *
 * Errors stay typed and one-line: a call or transaction that reverts with one of the contracts'
 * custom errors throws {@link ContractRevertError} (the revert data in `data`, decoded in `revert`
 * and in the message); a transaction that reverted on-chain (a public chain mines it) is replayed
 * at the block before it for the reason, as offchain/chain/mined.ts does for the ethers path.
 *
 * A write names the event its call must emit (`ExpectedLog`): a receipt with status 1 that carries
 * no such log from the contract's address is not the call's effect (s27-rtc F1: a call to an
 * address whose code is gone, a development chain reset under a running process, is a plain
 * transfer, mined with status 1, when its gas is static). `wait` throws {@link ContractCodeGoneError}
 * for it and tells the process's caches of chain state (offchain/chain/reset.ts). No extra request:
 * the receipt's logs are read, as they are anyway.
 *
 * Calls issued together (a receipt and the reads that go with it) leave in one turn of the event
 * loop: over HTTP they are one JSON-RPC batch (offchain/chain/transport.ts `batchHttp`). The
 * highest block of a receipt read here is kept per provider (`lastBlockSeen`): a block mined
 * before anything sent afterwards, whose state TrustLedger.rate reads with the receipt.
 */
import type { Contract, Interface } from "ethers";
import { MetatrustError } from "../errors";
import { FastPathError, abiCodec, eventCodec, parseReceipt, type EventCodec, type FastReceipt, type FunctionCodec } from "./fastpath";
import { contractRevert } from "./reverts";
import { noteChainReset } from "./reset";
import type { ChainWallet } from "./sender";

/** A provider that takes raw JSON-RPC. */
export type RawProvider = { send(method: string, params: unknown[]): Promise<unknown> };

/** A call or transaction refused by a contract with one of its custom errors (revert data in `data`). */
export class ContractRevertError extends MetatrustError {
  /** The revert data (0x: selector and arguments). */
  readonly data: string;
  /** The custom error's name and arguments as text (as ethers' `revert`, for readers of either). */
  readonly revert: { name: string; args: string[] };

  constructor(message: string, data: string, revert: { name: string; args: string[] }, cause: unknown) {
    super("PROTOCOL_REJECTED", message, { cause });
    this.data = data;
    this.revert = revert;
  }
}

/** The revert data in a node's error (`data`, or nested `data.data` / `error` / `cause`), if any. */
export function revertDataOf(e: unknown, depth = 0): string | undefined {
  if (!e || typeof e !== "object" || depth > 4) return undefined;
  const x = e as { data?: unknown; error?: unknown; cause?: unknown; info?: { error?: unknown } };
  if (typeof x.data === "string" && /^0x[0-9a-fA-F]{8}/.test(x.data)) return x.data;
  const inner = (x.data as { data?: unknown } | undefined)?.data;
  if (typeof inner === "string" && /^0x[0-9a-fA-F]{8}/.test(inner)) return inner;
  return revertDataOf(x.error, depth + 1) ?? revertDataOf(x.info?.error, depth + 1) ?? revertDataOf(x.cause, depth + 1);
}

/**
 * `e` as a ContractRevertError when it is a revert with a known custom error; else `e` itself.
 * @param what - the call, for the message (`TrustManager.rate`)
 */
export function typedRevert(e: unknown, what: string): unknown {
  const r = contractRevert(e);
  if (!r) return e;
  const data = revertDataOf(e) ?? "0x";
  const args = /\((.*)\)$/.exec(r.text)?.[1];
  return new ContractRevertError(`${what}: reverted with ${r.text}`, data, { name: r.name, args: args ? args.split(", ") : [] }, e);
}

/**
 * The log a write's call must leave in its receipt: an event of the contract's ABI, emitted from the
 * contract's address, whose arguments (in declaration order, as EventCodec.decode gives them)
 * `match` accepts when given.
 */
export type ExpectedLog = { event: string; match?: (args: unknown[]) => boolean };

/**
 * A transaction to a contract that was mined with status 1 but without the event its call must
 * emit there: the contract's code is gone (or is not the contract's) at that address, the chain
 * was reset since the deployment. Its call did nothing; the transaction is final (nothing of the
 * call will ever be on-chain from it).
 */
export class ContractCodeGoneError extends MetatrustError {
  constructor(
    readonly address: string,
    readonly hash: string,
    message: string,
  ) {
    super("DEPLOYMENT_NOT_FOUND", message);
  }
}

/**
 * The error for a write mined with status 1 and without its call's event from the contract (see
 * ContractCodeGoneError), once the process's caches of chain state are told (offchain/chain/reset.ts).
 * @param what - the call (`ResourcePoolRegistry.recordJoin`)
 * @param name - the contract's name
 */
export function codeGone(what: string, name: string, address: string, hash: string, block: number, event: string): ContractCodeGoneError {
  const why = `${what}: transaction ${hash} was mined (block ${block}) with no ${event} from ${name} at ${address}: its code is gone there (the chain was reset since the deployment?); nothing was recorded`;
  noteChainReset(why);
  return new ContractCodeGoneError(address, hash, why);
}

const functionCodecs = new WeakMap<Interface, Map<string, FunctionCodec>>();
const eventCodecs = new WeakMap<Interface, Map<string, EventCodec>>();

/** The compiled codec of a function of an Interface (compiled once per Interface and name). */
export function functionCodec(iface: Interface, name: string): FunctionCodec {
  let m = functionCodecs.get(iface);
  if (!m) functionCodecs.set(iface, (m = new Map()));
  let c = m.get(name);
  if (!c) {
    const f = iface.getFunction(name);
    if (!f) throw new Error(`functionCodec: no function ${name} in the ABI`);
    m.set(name, (c = abiCodec(f)));
  }
  return c;
}

/** The compiled codec of an event of an Interface (compiled once per Interface and name). */
export function eventCodecOf(iface: Interface, name: string): EventCodec {
  let m = eventCodecs.get(iface);
  if (!m) eventCodecs.set(iface, (m = new Map()));
  let c = m.get(name);
  if (!c) {
    const e = iface.getEvent(name);
    if (!e) throw new Error(`eventCodecOf: no event ${name} in the ABI`);
    m.set(name, (c = eventCodec(e)));
  }
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Per provider: the highest block number of a receipt this process read through it. */
const blocksSeen = new WeakMap<object, number>();

/**
 * The highest block of a receipt read through `provider` (by waitReceipt), if any: a block that
 * was mined before anything this process sends from now on, whose state a later read can ask for.
 */
export function lastBlockSeen(provider: RawProvider): number | undefined {
  return blocksSeen.get(provider);
}

/**
 * A sent transaction that the node no longer knows (dropped from its pool, or replaced): it will
 * never be mined. Not the request's fault: a service answers it 503, and the client's retry sends
 * the call again.
 */
export class TransactionDroppedError extends MetatrustError {
  constructor(readonly hash: string) {
    super("SERVICE_UNREACHABLE", `waitReceipt: the node no longer knows transaction ${hash} (dropped or replaced): it will not be mined`);
  }
}

/** A receipt the node answered for `hash`: parsed, checked to be that transaction's, its block noted. */
function checkedReceipt(provider: RawProvider, hash: string, r: unknown): FastReceipt {
  const receipt = parseReceipt(r);
  if (receipt.hash !== hash.toLowerCase())
    throw new FastPathError(`waitReceipt: the node answered the receipt of ${receipt.hash} for transaction ${hash}`);
  if (receipt.blockNumber > (blocksSeen.get(provider) ?? -1)) blocksSeen.set(provider, receipt.blockNumber);
  return receipt;
}

/** Polls in a row that find neither the receipt nor the transaction before it counts as dropped. */
export const DROPPED_AFTER_POLLS = 3;

/**
 * The receipt of a sent transaction: asked for at once (a node that mines on arrival has it), then
 * polled every 25 ms, doubling up to 1 s. Once the polls are 1 s apart (about 1.6 s after the
 * send: a load-balanced node may not show a fresh transaction at once), a missing receipt is
 * followed by eth_getTransactionByHash: a transaction the node no longer knows (h11-red R1:
 * evicted from its pool, or replaced by another of the account's transactions with its nonce) is
 * never mined, and waiting for it would strand the caller for good.
 * @throws TransactionDroppedError after DROPPED_AFTER_POLLS polls in a row that find neither
 * @throws FastPathError if the node answers with the receipt of another transaction (h11-red R3:
 *   its status and logs would be taken for this one's)
 */
export async function waitReceipt(provider: RawProvider, hash: string, early?: Promise<unknown>): Promise<FastReceipt> {
  let unknown = 0;
  if (early) {
    // asked for while the transaction was sent (DirectContract.prepare): a node that answers in
    // order has it mined; one that does not answers null, and it is asked again at once
    const r = await early.catch(() => null);
    if (r) return checkedReceipt(provider, hash, r);
  }
  for (let delay = 25; ; delay = Math.min(2 * delay, 1000)) {
    const r = await provider.send("eth_getTransactionReceipt", [hash]);
    if (r) return checkedReceipt(provider, hash, r);
    if (delay >= 1000) {
      unknown = (await provider.send("eth_getTransactionByHash", [hash])) ? 0 : unknown + 1;
      if (unknown >= DROPPED_AFTER_POLLS) throw new TransactionDroppedError(hash);
    }
    await sleep(delay);
  }
}

/** A transaction sent on the fast path: its hash, and its receipt when mined. */
export type SentCall = { hash: string; wait(): Promise<FastReceipt> };

/** A contract's fast path (see the module header). */
export class DirectContract {
  /**
   * @param address - the contract's address
   * @param iface - its ABI
   * @param provider - the provider reads and receipts go through
   * @param wallet - the ChainWallet that signs its transactions (none: reads only)
   */
  constructor(
    readonly address: string,
    readonly iface: Interface,
    readonly provider: RawProvider,
    readonly wallet?: ChainWallet,
    readonly name = "contract",
  ) {}

  /**
   * A view call (eth_call): the function's outputs in order, tuples as arrays.
   * @param blockTag - a block number (default: latest)
   * @throws ContractRevertError when it reverts with a custom error; the node's error otherwise
   */
  async call(fn: string, args: readonly unknown[], blockTag?: number): Promise<unknown[]> {
    const c = functionCodec(this.iface, fn);
    const tag = blockTag === undefined ? "latest" : "0x" + blockTag.toString(16);
    let out: unknown;
    try {
      out = await this.provider.send("eth_call", [{ to: this.address, data: c.encode(args) }, tag]);
    } catch (e) {
      throw typedRevert(e, `${this.name}.${fn}`);
    }
    return c.decode(out as string);
  }

  /**
   * Signs and sends a transaction calling `fn` (one eth_sendRawTransaction once the wallet's chain
   * state is known); `wait` gives its receipt, and throws the replay's typed revert when it reverted on-chain.
   * @param expect - the event the call must emit (see ExpectedLog): `wait` throws
   *   ContractCodeGoneError for a receipt without it
   * @throws ContractRevertError when the node refuses it with a custom error (a development node
   *   simulates it first); the node's error otherwise
   */
  async send(fn: string, args: readonly unknown[], expect: ExpectedLog): Promise<SentCall> {
    if (!this.wallet) throw new Error(`${this.name}.${fn}: no ChainWallet to sign with`);
    const what = `${this.name}.${fn}`;
    const data = functionCodec(this.iface, fn).encode(args);
    let hash: string;
    try {
      ({ hash } = await this.wallet.sendCall({ to: this.address, data }));
    } catch (e) {
      throw typedRevert(e, what);
    }
    return this.sent(what, data, hash, expect);
  }

  /**
   * Signs a transaction calling `fn` and does not send it yet: its hash and nonce are known before
   * anything reaches the node (a caller journals them while it sends: offchain/rsms/flows.ts).
   * `send` sends it once (no retry with another nonce: the hash journaled is the one sent; a caller
   * that sends again after a refused nonce prepares a new one and journals its hash: flows.ts
   * sendJournaled).
   * @param expect - as `send`'s
   */
  async prepare(fn: string, args: readonly unknown[], expect: ExpectedLog): Promise<PreparedCall> {
    if (!this.wallet) throw new Error(`${this.name}.${fn}: no ChainWallet to sign with`);
    const what = `${this.name}.${fn}`;
    const data = functionCodec(this.iface, fn).encode(args);
    const wallet = this.wallet;
    const signed = await wallet.signCall({ to: this.address, data });
    return {
      hash: signed.hash,
      nonce: signed.nonce,
      from: wallet.address,
      send: async (alongside?: () => void) => {
        const sending = wallet.sendSigned(signed);
        // The receipt is asked for while the transaction is sent, in a request of its own: two
        // turns after it, once the batching transport has sent the transaction (it sends what was
        // asked for in one turn as one batch, whose entries a node may answer concurrently). A
        // node that takes requests in order (`hardhat node`, automine) then answers it with the
        // mined transaction's receipt, one round trip earlier; a null answer is asked again at
        // once (waitReceipt). `alongside` asks for what the caller reads with the receipt (a
        // rating's pairs: TrustLedger.rate) in the same turn: the same batch, after the receipt.
        const early = new Promise<unknown>((resolve) =>
          setImmediate(() =>
            setImmediate(() => {
              resolve(this.provider.send("eth_getTransactionReceipt", [signed.hash]));
              alongside?.();
            }),
          ),
        );
        early.catch(() => undefined);
        try {
          await sending;
        } catch (e) {
          throw typedRevert(e, what);
        }
        return this.sent(what, data, signed.hash, expect, early);
      },
    };
  }

  /** Whether a receipt holds the expected event, emitted from this contract's address (the logs it has: no request). */
  private carries(r: FastReceipt, codec: EventCodec, expect: ExpectedLog): boolean {
    const at = this.address.toLowerCase();
    return r.logs.some((l) => {
      if (l.address !== at || l.topics[0] !== codec.topic) return false;
      if (!expect.match) return true;
      try {
        return expect.match(codec.decode(l.topics, l.data));
      } catch {
        return false;
      }
    });
  }

  private sent(what: string, data: string, hash: string, expect: ExpectedLog, early?: Promise<unknown>): SentCall {
    const from = this.wallet!.address;
    const wallet = this.wallet!;
    const codec = eventCodecOf(this.iface, expect.event);
    return {
      hash,
      wait: async () => {
        let r: FastReceipt;
        try {
          r = await waitReceipt(this.provider, hash, early);
        } catch (e) {
          // its nonce was never used: the wallet counts again, so its next transaction fills the gap
          // instead of queueing behind it (h11-red R1)
          if (e instanceof TransactionDroppedError) wallet.forgetNonce();
          throw e;
        }
        if (r.status === 1) {
          if (this.carries(r, codec, expect)) return r;
          throw codeGone(what, this.name, this.address, hash, r.blockNumber, expect.event);
        }
        try {
          await this.provider.send("eth_call", [{ from, to: this.address, data }, "0x" + (r.blockNumber - 1).toString(16)]);
        } catch (e) {
          const t = typedRevert(e, what);
          if (t instanceof Error) t.message = `transaction ${hash} reverted on-chain (block ${r.blockNumber}): ${t.message}`;
          throw t;
        }
        throw new MetatrustError("PROTOCOL_REJECTED", `${what}: transaction ${hash} reverted on-chain (block ${r.blockNumber})`);
      },
    };
  }
}

/**
 * A transaction signed and not sent yet (DirectContract.prepare). `send(alongside)` calls
 * `alongside` in the turn it asks for the early receipt, whether or not the node then takes the
 * transaction: the caller's reads there go in the receipt's batch.
 */
export type PreparedCall = { hash: string; nonce: number; from: string; send(alongside?: () => void): Promise<SentCall> };

/** Whether a runner is a ChainWallet (it has `sendCall`), without importing sender.ts here. */
function isChainWallet(x: unknown): x is ChainWallet {
  return !!x && typeof (x as { sendCall?: unknown }).sendCall === "function";
}

/**
 * The fast path of an ethers contract: reads if its provider takes raw JSON-RPC, writes too if its
 * runner is a ChainWallet; undefined when neither.
 * @param contract - a contract attached at an address (offchain/chain/contracts.ts `attach`)
 * @param name - the contract's name, for error messages
 */
export function direct(
  contract: Contract | { target: unknown; interface: Interface; runner: unknown },
  name?: string,
): DirectContract | undefined {
  const runner = contract.runner as { provider?: unknown; send?: unknown } | null;
  if (!runner || typeof contract.target !== "string") return undefined;
  const provider = (isChainWallet(runner) ? runner.provider : (runner.provider ?? runner)) as Partial<RawProvider> | null;
  if (!provider || typeof provider.send !== "function") return undefined;
  return new DirectContract(contract.target, contract.interface, provider as RawProvider, isChainWallet(runner) ? runner : undefined, name);
}
