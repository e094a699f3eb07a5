/**
 * Content-addressed storage for metadata that the chain refers to by CID (trust paper Eqs. 55-59).
 *
 * Two implementations behind one interface, computing the same CIDv1 for the same content:
 * - {@link FileContentStore}: the embedded default, one file per block under a data folder
 *   (`.metatrust/<network>/ipfs` by default); every block read back is re-hashed against its CID.
 * - {@link KuboContentStore}: a kubo daemon through kubo-rpc-client, selected by IPFS_API_URL.
 *
 * JSON goes in as dag-json (codec 0x0129), bytes as raw (0x55), both hashed with sha2-256.
 */
import fs from "fs";
import path from "path";
import * as dagJson from "@ipld/dag-json";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { equalBytes } from "../crypto/bytes";
import { writeFileAtomic } from "./fs-atomic";
import { ContentCorruptedError, ContentNotFoundError, InvalidCidError, IpfsUnreachableError } from "./errors";

/** Codecs a metatrust store accepts. */
export const CODECS = { "dag-json": dagJson.code, raw: raw.code } as const;

/** A content-addressed store. */
export interface ContentStore {
  /** Human-readable kind, for logs ("embedded" or "kubo"). */
  readonly kind: string;
  /**
   * Stores a JSON-compatible value as dag-json.
   * @returns its CIDv1 (string, base32)
   */
  putJson(value: unknown, opts?: { pin?: boolean }): Promise<string>;
  /**
   * Stores raw bytes.
   * @returns their CIDv1 (string, base32)
   */
  putBytes(bytes: Uint8Array, opts?: { pin?: boolean }): Promise<string>;
  /**
   * Returns a block's bytes, verified against the CID: the embedded store reads its folder; kubo
   * fetches through its daemon (its repo, else the IPFS network: s25-rte K1) within the timeout,
   * and refuses a block over {@link MAX_BLOCK_BYTES}.
   * @param opts.timeoutMs - how long kubo may look for the block (default: the store's timeout)
   * @throws ContentNotFoundError (not held, or not found in time), ContentCorruptedError, InvalidCidError
   */
  get(cid: string, opts?: { timeoutMs?: number }): Promise<Uint8Array>;
  /** Returns a dag-json block decoded (fetched as {@link get} fetches it). */
  getJson<T = unknown>(cid: string, opts?: { timeoutMs?: number }): Promise<T>;
  /**
   * True iff the block is present locally (embedded) or in the daemon's repo (kubo), never a
   * network search: a reader of another party's block calls {@link get}, not this (s25-rte K1).
   */
  has(cid: string): Promise<boolean>;
  /** Pins a stored block so garbage collection keeps it. */
  pin(cid: string): Promise<void>;
}

/**
 * The largest block a store returns (2 MiB: kubo's own limit for a block sent over bitswap); a
 * larger one is refused as corrupt, whatever its hash.
 */
export const MAX_BLOCK_BYTES = 2 * 1024 * 1024;

/**
 * Computes the CIDv1 of bytes under a codec, exactly as kubo or Helia would.
 * @param bytes - the block
 * @param codec - "dag-json" or "raw"
 * @returns the CID
 */
export async function cidOf(bytes: Uint8Array, codec: keyof typeof CODECS): Promise<CID> {
  return CID.createV1(CODECS[codec], await sha256.digest(bytes));
}

/**
 * Encodes a value as dag-json (deterministic: sorted keys, no undefined).
 * @param value - the value
 * @returns the bytes
 */
export function encodeJson(value: unknown): Uint8Array {
  return dagJson.encode(value);
}

/**
 * Parses a CID string and checks that metatrust can verify it (CIDv1, sha2-256, dag-json or raw).
 * @param cid - the CID string
 * @returns the parsed CID
 * @throws InvalidCidError
 */
export function parseCid(cid: string): CID {
  let c: CID;
  try {
    c = CID.parse(cid);
  } catch (e) {
    throw new InvalidCidError(`parseCid: not a CID: ${String(cid).slice(0, 64)}`, { cause: e });
  }
  if (c.version !== 1) throw new InvalidCidError(`parseCid: only CIDv1 is used, got v${c.version}`);
  if (c.multihash.code !== sha256.code) throw new InvalidCidError(`parseCid: only sha2-256 CIDs are verifiable here`);
  if (c.code !== dagJson.code && c.code !== raw.code) throw new InvalidCidError(`parseCid: unsupported codec 0x${c.code.toString(16)}`);
  return c;
}

async function verify(c: CID, bytes: Uint8Array): Promise<void> {
  if (bytes.length > MAX_BLOCK_BYTES)
    throw new ContentCorruptedError(c.toString(), `the block is ${bytes.length} bytes, over ${MAX_BLOCK_BYTES}`);
  const d = await sha256.digest(bytes);
  if (!equalBytes(d.digest, c.multihash.digest))
    throw new ContentCorruptedError(c.toString(), "sha2-256 of the bytes does not match the CID");
}

/** The embedded store: one file per block, named by its CID, under `dir/blocks`. */
export class FileContentStore implements ContentStore {
  readonly kind = "embedded";
  readonly dir: string;

  /** @param dir - the store's folder (created on first write) */
  constructor(dir: string) {
    this.dir = dir;
  }

  private blockPath(c: CID): string {
    return path.join(this.dir, "blocks", c.toString());
  }

  private pinsPath(): string {
    return path.join(this.dir, "pins.json");
  }

  private async put(bytes: Uint8Array, codec: keyof typeof CODECS, pin: boolean): Promise<string> {
    const c = await cidOf(bytes, codec);
    const file = this.blockPath(c);
    if (!fs.existsSync(file)) writeFileAtomic(file, bytes, 0o644); // public: content-addressed blocks
    if (pin) await this.pin(c.toString());
    return c.toString();
  }

  async putJson(value: unknown, opts: { pin?: boolean } = {}): Promise<string> {
    return this.put(encodeJson(value), "dag-json", opts.pin ?? true);
  }

  async putBytes(bytes: Uint8Array, opts: { pin?: boolean } = {}): Promise<string> {
    return this.put(bytes, "raw", opts.pin ?? true);
  }

  async get(cid: string, _opts?: { timeoutMs?: number }): Promise<Uint8Array> {
    const c = parseCid(cid);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(fs.readFileSync(this.blockPath(c)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new ContentNotFoundError(cid);
      throw e;
    }
    await verify(c, bytes);
    return bytes;
  }

  async getJson<T = unknown>(cid: string, opts?: { timeoutMs?: number }): Promise<T> {
    const c = parseCid(cid);
    if (c.code !== dagJson.code) throw new InvalidCidError(`getJson: ${cid} is not a dag-json CID`);
    return dagJson.decode<T>(await this.get(cid, opts));
  }

  async has(cid: string): Promise<boolean> {
    return fs.existsSync(this.blockPath(parseCid(cid)));
  }

  async pin(cid: string): Promise<void> {
    if (!(await this.has(cid))) throw new ContentNotFoundError(cid);
    const pins = this.pins();
    if (pins.includes(cid)) return;
    pins.push(cid);
    writeFileAtomic(this.pinsPath(), JSON.stringify(pins.sort(), null, 1), 0o644);
  }

  /** The pinned CIDs. */
  pins(): string[] {
    try {
      return JSON.parse(fs.readFileSync(this.pinsPath(), "utf8")) as string[];
    } catch {
      return [];
    }
  }
}

type KuboClient = {
  block: {
    put(b: Uint8Array, o: Record<string, unknown>): Promise<CID>;
    get(c: CID, o?: Record<string, unknown>): Promise<Uint8Array>;
    stat(c: CID, o?: Record<string, unknown>): Promise<unknown>;
  };
  pin: { add(c: CID): Promise<unknown> };
};

/** A kubo daemon through its RPC API (IPFS_API_URL), with the same CIDs as the embedded store. */
export class KuboContentStore implements ContentStore {
  readonly kind = "kubo";
  readonly url: string;
  private client: KuboClient;
  private timeoutMs: number;

  /**
   * @param url - the daemon's RPC address, e.g. http://127.0.0.1:5001
   * @param timeoutMs - per-request timeout
   */
  constructor(url: string, timeoutMs = 10_000) {
    this.url = url;
    this.timeoutMs = timeoutMs;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { create } = require("kubo-rpc-client") as { create(o: { url: string; timeout: number }): KuboClient };
    this.client = create({ url, timeout: timeoutMs });
  }

  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      const msg = String((e as Error)?.message ?? e);
      const code = (e as { cause?: { code?: string } })?.cause?.code ?? (e as { code?: string })?.code;
      if (code === "ECONNREFUSED" || code === "ENOTFOUND" || /fetch failed|ECONNREFUSED|timed? ?out|aborted/i.test(msg)) {
        throw new IpfsUnreachableError(this.url, e);
      }
      throw e;
    }
  }

  private async put(bytes: Uint8Array, codec: keyof typeof CODECS, pin: boolean): Promise<string> {
    const expected = await cidOf(bytes, codec);
    const got = await this.call(() =>
      this.client.block.put(bytes, { format: codec, "cid-codec": codec, mhtype: "sha2-256", version: 1, pin }),
    );
    if (got.toString() !== expected.toString()) {
      throw new ContentCorruptedError(expected.toString(), `the daemon stored it as ${got.toString()} instead`);
    }
    return expected.toString();
  }

  async putJson(value: unknown, opts: { pin?: boolean } = {}): Promise<string> {
    return this.put(encodeJson(value), "dag-json", opts.pin ?? true);
  }

  async putBytes(bytes: Uint8Array, opts: { pin?: boolean } = {}): Promise<string> {
    return this.put(bytes, "raw", opts.pin ?? true);
  }

  async get(cid: string, opts: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    const c = parseCid(cid);
    // through the daemon, online: its repo, else its peers (bitswap), within the timeout. It was
    // gated on `has` (offline: the local repo only), so a block another node held was refused as
    // "not found" on every peered node (s25-rte K1). The bytes are re-hashed against the CID and
    // a block over MAX_BLOCK_BYTES is refused (verify).
    const timeout = opts.timeoutMs ?? this.timeoutMs;
    let bytes: Uint8Array;
    try {
      bytes = await this.call(() => this.client.block.get(c, { timeout }));
    } catch (e) {
      if (e instanceof IpfsUnreachableError && !/timed? ?out|aborted/i.test(String((e.cause as Error)?.message ?? ""))) throw e;
      // the daemon answered "not found", or found no provider within the timeout
      throw new ContentNotFoundError(cid, `not found through the IPFS daemon within ${timeout} ms`);
    }
    await verify(c, bytes);
    return bytes;
  }

  async getJson<T = unknown>(cid: string, opts?: { timeoutMs?: number }): Promise<T> {
    const c = parseCid(cid);
    if (c.code !== dagJson.code) throw new InvalidCidError(`getJson: ${cid} is not a dag-json CID`);
    return dagJson.decode<T>(await this.get(cid, opts));
  }

  async has(cid: string): Promise<boolean> {
    const c = parseCid(cid);
    try {
      // offline: only the local repo, never a network-wide search that would hang.
      await this.call(() => this.client.block.stat(c, { offline: true, timeout: this.timeoutMs }));
      return true;
    } catch (e) {
      if (e instanceof IpfsUnreachableError) throw e;
      return false;
    }
  }

  async pin(cid: string): Promise<void> {
    const c = parseCid(cid);
    await this.call(() => this.client.pin.add(c));
  }
}

/** The longest one fetch of a block someone else chose may look for it (ms; s26-fxl L2). */
export const FOREIGN_FETCH_TIMEOUT_MS = 10_000;
/** A block not found is asked for again after this (ms), doubling per miss ... */
export const MISS_RETRY_MS = 60_000;
/** ... up to this (ms). */
export const MISS_RETRY_MAX_MS = 6 * 3600_000;
/** The time one pass (a detector run, a filter sync) may spend on fetches that find nothing (ms, default). */
export const FETCH_BUDGET_MS = 60_000;
/**
 * The least a fetch is given of a pass's budget (ms; s27-fxl, s26-review L4): with less left (10 ms
 * after a 9.99 s miss) a fetch would time out on a block that exists and count as a full miss,
 * starting a backoff for it. Below this (or below the fetch's own bound, if smaller) the fetch is
 * deferred to the next pass ("budget"), with no miss counted and no backoff started.
 */
export const MIN_FETCH_WAIT_MS = 1_000;

/**
 * A fetch {@link ForeignFetcher} did not try: the CID waits out its backoff after a miss
 * (`why` "backoff": `misses` so far, asked again from `retryAt`, ms), or the pass's time for
 * fetches that find nothing is spent (`why` "budget").
 */
export class FetchDeferredError extends ContentNotFoundError {
  constructor(
    cid: string,
    readonly why: "backoff" | "budget",
    readonly misses = 0,
    readonly retryAt = 0,
  ) {
    super(
      cid,
      why === "backoff"
        ? `not found ${misses} time(s); asked again after ${new Date(retryAt).toISOString()}`
        : "not fetched: this pass's time for blocks not found is spent (too little left for a fetch)",
    );
  }
}

/**
 * Fetches blocks whose CIDs someone else chose (a rater's record set, a cleared flag's report, an
 * MSRP's filter, an agreement's terms: s25-rte K1, s26-fxl L2). Such a CID may name a block nobody
 * serves, and kubo then looks for it until its timeout: a long-running reader that asked on every
 * pass would wait that long for each such CID on each pass. So each fetch waits at most
 * `timeoutMs` (and at most what is left of the pass's budget, when one is given), a CID not found
 * is not asked for again before its backoff (from `retryMs`, doubling per miss up to `retryMaxMs`)
 * has passed, and a pass stops fetching once less than {@link MIN_FETCH_WAIT_MS} (or `timeoutMs`,
 * if smaller) is left of its budget for fetches that find nothing: such a fetch is deferred, not
 * counted as a miss (a wait that short could miss a block that exists).
 * A deferred fetch throws {@link FetchDeferredError} (a ContentNotFoundError) at once. A found
 * block clears its CID's misses. In memory only: a new process asks once more.
 */
export class ForeignFetcher {
  private readonly misses = new Map<string, { n: number; retryAt: number }>();
  /** retry times not passed yet, and how many have passed (for {@link due}) */
  private pending: number[] = [];
  private passed = 0;
  private readonly timeoutMs: number;
  private readonly retryMs: number;
  private readonly retryMaxMs: number;
  private readonly now: () => number;

  /**
   * @param o.timeoutMs - the longest wait of one fetch (default {@link FOREIGN_FETCH_TIMEOUT_MS})
   * @param o.retryMs - the first backoff after a miss (default {@link MISS_RETRY_MS})
   * @param o.retryMaxMs - the longest backoff (default {@link MISS_RETRY_MAX_MS})
   * @param o.now - the clock (ms)
   */
  constructor(o: { timeoutMs?: number; retryMs?: number; retryMaxMs?: number; now?: () => number } = {}) {
    this.timeoutMs = o.timeoutMs ?? FOREIGN_FETCH_TIMEOUT_MS;
    this.retryMs = o.retryMs ?? MISS_RETRY_MS;
    this.retryMaxMs = o.retryMaxMs ?? MISS_RETRY_MAX_MS;
    this.now = o.now ?? Date.now;
  }

  /**
   * A block's bytes through `store` (verified against the CID by the store), within the bounds above.
   * @param budget - the pass's time left for fetches that find nothing (ms; decreased by each miss)
   * @throws FetchDeferredError (not tried), ContentNotFoundError (a miss: backoff started), or what the store throws
   */
  async get(store: ContentStore, cid: string, budget?: { left: number }): Promise<Uint8Array> {
    const t0 = this.now();
    const miss = this.misses.get(cid);
    if (miss && t0 < miss.retryAt) throw new FetchDeferredError(cid, "backoff", miss.n, miss.retryAt);
    if (budget && budget.left < Math.min(MIN_FETCH_WAIT_MS, this.timeoutMs)) {
      this.pending.push(t0 + this.retryMs); // a pass that can fetch it comes due then (due())
      throw new FetchDeferredError(cid, "budget");
    }
    try {
      const bytes = await store.get(cid, { timeoutMs: budget ? Math.min(budget.left, this.timeoutMs) : this.timeoutMs });
      this.misses.delete(cid);
      return bytes;
    } catch (x) {
      if (x instanceof ContentNotFoundError) {
        const t1 = this.now();
        if (budget) budget.left -= t1 - t0;
        const n = (miss?.n ?? 0) + 1;
        const retryAt = t1 + Math.min(this.retryMs * 2 ** Math.min(n - 1, 30), this.retryMaxMs);
        this.misses.set(cid, { n, retryAt });
        this.pending.push(retryAt);
      }
      throw x;
    }
  }

  /** A dag-json block decoded, fetched as {@link get} fetches it. */
  async getJson<T = unknown>(store: ContentStore, cid: string, budget?: { left: number }): Promise<T> {
    const c = parseCid(cid);
    if (c.code !== dagJson.code) throw new InvalidCidError(`getJson: ${cid} is not a dag-json CID`);
    return dagJson.decode<T>(await this.get(store, cid, budget));
  }

  /** The CID's misses and the time (ms) it is asked for again, if it is waiting out a backoff. */
  missOf(cid: string): { n: number; retryAt: number } | undefined {
    const m = this.misses.get(cid);
    return m ? { ...m } : undefined;
  }

  /**
   * How many retry times (backoffs ended, budget-deferred fetches due) have passed so far: never
   * decreases, and grows when a deferred fetch may be tried again. A watcher that runs only when
   * its input moved keys on it, so that a deferred block is asked for again without any other change.
   */
  due(): number {
    const now = this.now();
    const still: number[] = [];
    for (const t of this.pending)
      if (t <= now) this.passed++;
      else still.push(t);
    this.pending = still;
    return this.passed;
  }
}

/**
 * The store a user gets: kubo when IPFS_API_URL is set, else the embedded store in `dataDir/ipfs`.
 * @param dataDir - the network's data folder (e.g. .metatrust/hardhat)
 * @param env - the environment (defaults to process.env)
 * @returns the store
 */
export function createContentStore(dataDir: string, env: NodeJS.ProcessEnv = process.env): ContentStore {
  if (env.IPFS_API_URL) return new KuboContentStore(env.IPFS_API_URL);
  return new FileContentStore(env.METATRUST_IPFS_DIR ?? path.join(dataDir, "ipfs"));
}
