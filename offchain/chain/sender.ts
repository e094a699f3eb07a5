/**
 * A wallet that sends with as few JSON-RPC calls as it can (issue 20). ethers' `Wallet` asks the
 * node, before every transaction, for the nonce (eth_getTransactionCount), the gas
 * (eth_estimateGas), the chain id (eth_chainId) and the fees (eth_gasPrice, the latest block,
 * eth_maxPriorityFeePerGas): six calls around one eth_sendRawTransaction. `ChainWallet` keeps,
 * per provider:
 *
 * - the nonce of each of its accounts: read once (the `pending` count), then counted locally. A
 *   send that fails forgets it (the next one reads it again); a send the node refuses for its nonce
 *   (another process used the account: "nonce too low", or the chain was reverted: "nonce too
 *   high") is read again and retried, up to NONCE_RETRIES times. Counting locally also avoids
 *   ethers' 250 ms cache of identical calls, which hands two quick transactions of one account the
 *   same `pending` count.
 * - the chain id, read once;
 * - the fee data, read again after FEE_TTL_MS. ethers offers maxFeePerGas = 2 x base fee + tip: it
 *   stays valid while the base fee at most doubles (six full blocks in a row, over a minute on a
 *   12-second chain), so a few seconds' reuse is safe.
 *
 * and it sends the calls whose gas is known (KNOWN_GAS: the largest gas of the call measured in
 * gas-snapshot.json, plus headroom) with that limit instead of estimating it. Such a call is not
 * simulated first: if it reverts, it reverts on-chain. A development node (Hardhat) refuses it at
 * once with the revert data, as an estimate would; a public chain mines it with status 0 (see
 * `minedReceipt` in offchain/chain/mined.ts, which replays it for the reason). It sends the signed
 * transaction itself (one eth_sendRawTransaction: see `broadcast`).
 *
 * Its key signs through the secp256k1 backend (offchain/crypto/backend: libsecp256k1 by default,
 * noble when it cannot load): `BackendSigningKey`. Transactions, messages and typed data get the
 * same signatures as ethers' own SigningKey (RFC 6979, low s), about 10x faster.
 */
import {
  Interface,
  Signature,
  SigningKey,
  Transaction,
  TransactionResponse,
  Wallet,
  getAddress,
  getBytes,
  hexlify,
  keccak256,
  type BytesLike,
  type Provider,
  type TransactionReceipt,
  type TransactionRequest,
} from "ethers";
import { groupBackend } from "../crypto/backend";
import { signTransaction, type SignedTx } from "./fastpath";
import { waitKnown } from "./mined";
import snapshot from "../../gas-snapshot.json";
import { ResourcePoolRegistry__factory, TrustManager__factory } from "../../typechain-types";

/** How many times a send refused for its nonce is counted again and retried (another process may keep sending with the account). */
export const NONCE_RETRIES = 3;

/** How long fee data is reused (ms). */
export const FEE_TTL_MS = 5_000;

/** Headroom over the largest measured gas of a call with a static limit: x1.5, plus 10,000. */
export const gasWithHeadroom = (measured: number): bigint => (BigInt(measured) * 3n) / 2n + 10_000n;

/**
 * The calls sent with a static gas limit: the hot paths of the task steps, whose gas does not
 * depend on the size of their input. Each maps to the gas-snapshot.json entries of the call
 * (`Contract.function` and its variants); the limit is the largest of them with headroom.
 */
const STATIC: { contract: string; iface: Interface; fn: string }[] = [
  { contract: "TrustManager", iface: TrustManager__factory.createInterface() as unknown as Interface, fn: "rate" },
  { contract: "ResourcePoolRegistry", iface: ResourcePoolRegistry__factory.createInterface() as unknown as Interface, fn: "recordJoin" },
];

/** Selector -> static gas limit. */
export const KNOWN_GAS: ReadonlyMap<string, bigint> = new Map(
  STATIC.map(({ contract, iface, fn }) => {
    const measured = Object.entries(snapshot as Record<string, number>)
      .filter(([k]) => k === `${contract}.${fn}` || k.startsWith(`${contract}.${fn} (`))
      .map(([, g]) => g);
    if (measured.length === 0) throw new Error(`sender: gas-snapshot.json measures no ${contract}.${fn}`);
    return [iface.getFunction(fn)!.selector, gasWithHeadroom(Math.max(...measured))];
  }),
);

/** EIP-7825 (Osaka): the most gas one transaction may ask for, 2^24. A static limit above it is never mined. */
export const TX_GAS_CAP = 16_777_216n;

/**
 * The static gas limit of `ResourcePoolRegistry.recordJoins` with `n` joins, which the MSRP sends
 * without estimating (as recordJoin): its gas is linear in n, every join writing the same three
 * slots and emitting the same event. The fixed part and the per-join gas come from the 1-join and
 * 8-join batches of gas-snapshot.json, with the headroom of every static limit (x1.5 + 10,000),
 * which covers what the snapshot's batches do not pay: the registry's first join (≈ 17,000 once),
 * a cold pool slot per other pool in the batch (2,100 a join at most) and calldata with no zero
 * bytes (≈ 1,000 a join at most), under 5% of a join. test/rsms/recordJoins-gas.test.ts sends the
 * largest batch with it.
 * @throws Error for n not in [1, MAX]: the caller bounds it (RsmsLedger.recordJoins)
 */
export function recordJoinsGas(n: number): bigint {
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`recordJoinsGas: ${n} is not a number of joins`);
  return gasWithHeadroom(JOINS_BASE + JOIN_GAS * n);
}

const measuredJoins = (k: number): number => {
  const g = (snapshot as Record<string, number>)[`ResourcePoolRegistry.recordJoins (${k} join${k > 1 ? "s" : ""})`];
  if (g === undefined) throw new Error(`sender: gas-snapshot.json measures no recordJoins of ${k}`);
  return g;
};
/** Gas of one more join in a recordJoins batch (rounded up), and the batch's fixed part. */
const JOIN_GAS = Math.ceil((measuredJoins(8) - measuredJoins(1)) / 7);
const JOINS_BASE = measuredJoins(1) - JOIN_GAS;

/** The static gas limit of a call, if it has one (by the selector its data starts with). */
export function knownGas(data: string | null | undefined): bigint | undefined {
  return data && data.length >= 10 ? KNOWN_GAS.get(data.slice(0, 10).toLowerCase()) : undefined;
}

type Fees = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { gasPrice: bigint };

/** What a provider's wallets share: nonces by account, the chain id, the fee data. */
type ChainState = {
  nonces: Map<string, Promise<number>>;
  /** How long fee data is reused here (default FEE_TTL_MS; see `setFeeTtl`). */
  feeTtlMs?: number;
  chainId?: Promise<bigint>;
  fees?: { at: number; value: Promise<Fees> };
};

const states = new WeakMap<Provider, ChainState>();

function stateOf(provider: Provider): ChainState {
  let s = states.get(provider);
  if (!s) states.set(provider, (s = { nonces: new Map() }));
  return s;
}

/**
 * Sets how long the wallets of a provider reuse fee data (default FEE_TTL_MS). A test that pins the
 * calls of a step sets it longer than the test can take, so that a slow machine does not add a
 * fee refresh between two steps; the refresh itself is pinned separately.
 * @param provider - the provider the wallets send through
 * @param ms - milliseconds; undefined restores the default
 */
export function setFeeTtl(provider: Provider, ms: number | undefined): void {
  if (ms !== undefined && !(Number.isFinite(ms) && ms >= 0)) throw new Error(`setFeeTtl: ${ms} is not a duration in ms`);
  stateOf(provider).feeTtlMs = ms;
}

/**
 * Forgets the nonce the ChainWallets of `provider` counted for `address` (their next transaction
 * reads the node's `pending` count again): for a sent transaction the node dropped, whose nonce the
 * next one must take (offchain/chain/mined.ts, direct.ts). Nothing for an account they never used.
 */
export function forgetNonceOf(provider: Provider, address: string): void {
  states.get(provider)?.nonces.delete(getAddress(address));
}

/** Whether the node refused a transaction for its nonce (so a fresh count and a retry can fix it). */
export function isNonceError(e: unknown): boolean {
  const x = e as { code?: string; message?: string; shortMessage?: string };
  return (
    x?.code === "NONCE_EXPIRED" ||
    /nonce too low|nonce too high|nonce has already been used|invalid nonce|replacement (transaction )?underpriced/i.test(
      `${x?.shortMessage ?? ""} ${x?.message ?? ""}`,
    )
  );
}

/**
 * An ethers SigningKey whose `sign` runs on the secp256k1 backend (libsecp256k1 by default): the
 * same deterministic signature as ethers' noble path (test/chain/signing.test.ts compares them),
 * without its pure-JavaScript scalar multiplication. Everything else (public key, ECDH) is ethers'.
 */
export class BackendSigningKey extends SigningKey {
  readonly #secret: Uint8Array;

  constructor(privateKey: BytesLike) {
    super(privateKey);
    this.#secret = getBytes(this.privateKey);
  }

  override sign(digest: BytesLike): Signature {
    const d = getBytes(digest);
    if (d.length !== 32) return super.sign(digest); // ethers' own "invalid digest length"
    const { signature, recovery } = this.signDigest(d);
    return Signature.from({ r: hexlify(signature.subarray(0, 32)), s: hexlify(signature.subarray(32, 64)), v: recovery ? 0x1c : 0x1b });
  }

  /** The compact signature (r || s, low s) of a 32-byte digest and its recovery bit, without ethers' Signature object. */
  signDigest(digest: Uint8Array): { signature: Uint8Array; recovery: number } {
    return groupBackend().ecdsaSign(digest, this.#secret);
  }
}

/**
 * A transaction ChainWallet sent (`broadcast`). Its `wait()` without a timeout goes through
 * `waitKnown` (offchain/chain/mined.ts): a transaction the node dropped ends the wait with
 * TransactionDroppedError and frees the wallet's counted nonce, where ethers' own `wait()` listens
 * forever (h11-red R1c). A wait with a timeout is ethers' (the caller bounds it). An ethers
 * Contract builds its own response from this one, without this `wait`: contract calls are awaited
 * with `minedReceipt`.
 */
export class ChainTransactionResponse extends TransactionResponse {
  override wait(confirms?: number, timeout?: number): Promise<TransactionReceipt | null> {
    if (timeout != null || confirms === 0) return super.wait(confirms, timeout);
    return waitKnown(this, confirms ?? 1);
  }
}

/** A Wallet whose transactions cost one JSON-RPC call to send, once its chain state is known (see above). */
export class ChainWallet extends Wallet {
  /**
   * @param key - the private key, or a SigningKey (signing moves to a BackendSigningKey of the same key)
   * @param provider - the provider it sends through
   */
  constructor(key: string | SigningKey, provider?: Provider | null) {
    const hex = typeof key === "string" ? (key.startsWith("0x") ? key : `0x${key}`) : key.privateKey;
    super(key instanceof BackendSigningKey ? key : new BackendSigningKey(hex), provider);
  }

  override connect(provider: Provider | null): ChainWallet {
    return new ChainWallet(this.signingKey, provider);
  }

  /**
   * Forgets the nonce counted for this account on its provider: the next transaction reads the
   * node's `pending` count again. For a sent transaction that will never be mined (the node
   * dropped it: offchain/chain/direct.ts waitReceipt), whose nonce the next one must take.
   */
  forgetNonce(): void {
    if (this.provider) forgetNonceOf(this.provider, this.address);
  }

  /** The next nonce of this account (its `pending` count on first use, then counted here). */
  private nextNonce(s: ChainState): Promise<number> {
    const prev = s.nonces.get(this.address) ?? this.getNonce("pending");
    const mine = prev;
    s.nonces.set(
      this.address,
      mine.then((n) => n + 1),
    );
    return mine;
  }

  private fees(s: ChainState, provider: Provider): Promise<Fees> {
    if (!s.fees || performance.now() - s.fees.at > (s.feeTtlMs ?? FEE_TTL_MS)) {
      const value = provider.getFeeData().then((f): Fees => {
        if (f.maxFeePerGas != null && f.maxPriorityFeePerGas != null)
          return { maxFeePerGas: f.maxFeePerGas, maxPriorityFeePerGas: f.maxPriorityFeePerGas };
        if (f.gasPrice != null) return { gasPrice: f.gasPrice };
        throw new Error("ChainWallet: the node offers no fee data (neither EIP-1559 fees nor a gas price)");
      });
      s.fees = { at: performance.now(), value };
      value.catch(() => {
        if (s.fees?.value === value) s.fees = undefined;
      });
    }
    return s.fees.value;
  }

  override async populateTransaction(tx: TransactionRequest) {
    const provider = this.provider;
    // Fee fields or a type given by the caller: ethers' own path (it checks their combinations).
    if (!provider || tx.type != null || tx.gasPrice != null || tx.maxFeePerGas != null || tx.maxPriorityFeePerGas != null) {
      if (provider) stateOf(provider).nonces.delete(this.address); // ethers numbers this one: count again after it
      return super.populateTransaction(tx);
    }
    const s = stateOf(provider);
    const pop = await this.populateCall(tx);
    s.chainId ??= provider.getNetwork().then((n) => n.chainId);
    s.chainId.catch(() => (s.chainId = undefined));
    const [chainId, fees, gasLimit] = await Promise.all([
      s.chainId,
      this.fees(s, provider),
      pop.gasLimit ?? knownGas(pop.data) ?? this.estimateGas(pop),
    ]);
    if (pop.chainId != null && BigInt(pop.chainId) !== chainId)
      throw new Error(`ChainWallet: transaction chainId ${pop.chainId} is not the provider's ${chainId}`);
    // The nonce last: nothing after it can fail before the transaction is signed and sent.
    const nonce = pop.nonce ?? (await this.nextNonce(s));
    return { ...pop, ...fees, type: "gasPrice" in fees ? 0 : 2, chainId, gasLimit, nonce };
  }

  /**
   * Sends a signed transaction. Through a provider that takes raw JSON-RPC (`send`), one
   * eth_sendRawTransaction, and the response is built here: the provider's own
   * broadcastTransaction would recover the sender from the signature (a public-key recovery, about
   * 3 ms in JavaScript) and, in hardhat-ethers, ask for the block number as well, for a
   * replacement watch that an account numbering its own transactions does not need.
   */
  private async broadcast(provider: Provider, t: Transaction): Promise<TransactionResponse> {
    // serialized once: each read of ethers' `serialized` or `hash` encodes the transaction again
    const signed = t.serialized;
    const raw = provider as Provider & { send?: (method: string, params: unknown[]) => Promise<unknown> };
    if (typeof raw.send !== "function") return provider.broadcastTransaction(signed);
    const txHash = keccak256(signed);
    const hash = await raw.send("eth_sendRawTransaction", [signed]);
    if (hash !== txHash) throw new Error(`ChainWallet: the node answered ${String(hash)} for transaction ${txHash}`);
    return new ChainTransactionResponse(
      {
        blockNumber: null,
        blockHash: null,
        hash: txHash,
        index: 0,
        type: t.type ?? 0,
        to: t.to,
        from: this.address,
        nonce: t.nonce,
        gasLimit: t.gasLimit,
        gasPrice: t.gasPrice ?? t.maxFeePerGas ?? 0n,
        maxPriorityFeePerGas: t.maxPriorityFeePerGas,
        maxFeePerGas: t.maxFeePerGas,
        maxFeePerBlobGas: t.maxFeePerBlobGas,
        data: t.data,
        value: t.value,
        chainId: t.chainId,
        signature: t.signature!,
        accessList: t.accessList,
        blobVersionedHashes: t.blobVersionedHashes,
        authorizationList: t.authorizationList,
      },
      provider,
    );
  }

  /**
   * A contract call signed and sent on the fast path (offchain/chain/fastpath.ts, used through
   * offchain/chain/direct.ts): the same nonce, chain id, fees and static gas limits as
   * `sendTransaction`, and the same retry when the node refuses the nonce, without ethers'
   * transaction objects. Needs a provider that takes raw JSON-RPC (`send`).
   * @returns the signed transaction (raw bytes and hash) the node accepted
   * @throws the node's error (a development node refuses a reverting call with its revert data)
   */
  async sendCall(call: { to: string; data: string; value?: bigint; gasLimit?: bigint }): Promise<SignedTx> {
    for (let attempt = 0; ; attempt++) {
      const signed = await this.signCall(call);
      try {
        await this.sendSigned(signed);
        return signed;
      } catch (e) {
        if (attempt < NONCE_RETRIES && isNonceError(e)) continue;
        throw e;
      }
    }
  }

  /**
   * A contract call signed for the fast path and not sent (the caller journals it first, or sends
   * it while it does: offchain/rsms/flows.ts): the nonce is counted as used; {@link sendSigned}
   * sends it. The same fields as {@link sendCall}.
   */
  async signCall(call: { to: string; data: string; value?: bigint; gasLimit?: bigint }): Promise<SignedTx & { nonce: number }> {
    const provider = this.provider as (Provider & { send?: (method: string, params: unknown[]) => Promise<unknown> }) | null;
    if (!provider || typeof provider.send !== "function")
      throw new Error("ChainWallet.sendCall: needs a provider that takes raw JSON-RPC (send)");
    const s = stateOf(provider);
    const value = call.value ?? 0n;
    try {
      s.chainId ??= provider.getNetwork().then((n) => n.chainId);
      s.chainId.catch(() => (s.chainId = undefined));
      const [chainId, fees, gasLimit] = await Promise.all([
        s.chainId,
        this.fees(s, provider),
        call.gasLimit ?? knownGas(call.data) ?? this.estimateGas({ to: call.to, data: call.data, value }),
      ]);
      // The nonce last: nothing after it can fail before the transaction is signed and sent.
      const nonce = await this.nextNonce(s);
      const key = this.signingKey as BackendSigningKey;
      const signed = signTransaction({ chainId, nonce, gasLimit, to: call.to, value, data: call.data, ...fees }, (d) => key.signDigest(d));
      return { ...signed, nonce };
    } catch (e) {
      s.nonces.delete(this.address);
      throw e;
    }
  }

  /**
   * Sends a transaction {@link signCall} signed: one eth_sendRawTransaction. If the node refuses
   * it, the wallet counts its nonce again (the nonce was not used).
   * @throws the node's error
   */
  async sendSigned(signed: SignedTx): Promise<void> {
    const provider = this.provider as Provider & { send: (method: string, params: unknown[]) => Promise<unknown> };
    try {
      const hash = await provider.send("eth_sendRawTransaction", [signed.raw]);
      if (typeof hash !== "string" || hash.toLowerCase() !== signed.hash)
        throw new Error(`ChainWallet: the node answered ${String(hash)} for transaction ${signed.hash}`);
    } catch (e) {
      stateOf(provider).nonces.delete(this.address);
      throw e;
    }
  }

  override async sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    const provider = this.provider;
    if (!provider) return super.sendTransaction(tx); // throws: no provider
    const s = stateOf(provider);
    for (let attempt = 0; ; attempt++) {
      try {
        const pop = await this.populateTransaction(tx);
        delete pop.from; // populateCall checked it is this wallet's address, and resolved `to`
        // signed here as Wallet.signTransaction signs, without its second resolution of the addresses
        const t = Transaction.from(pop);
        t.signature = this.signingKey.sign(t.unsignedHash);
        return await this.broadcast(provider, t);
      } catch (e) {
        // The nonce may not have been used (or was used by someone else): count again next time.
        s.nonces.delete(this.address);
        if (attempt < NONCE_RETRIES && tx.nonce == null && isNonceError(e)) continue;
        throw e;
      }
    }
  }
}
