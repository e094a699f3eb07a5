/**
 * The trust oracle as a service (issue 19; Eq. 46's O_ij): a thin adapter around
 * {@link OracleAggregator} (offchain/trust/oracle.ts), with its own account holding ORACLE_ROLE on
 * the TrustManager and its own data folder.
 *
 * Reporters (independent monitors with their own accounts, e.g. a platform's probes of service
 * outcomes) post signed observations to `POST /v1/oracle/observe`: an envelope signed by the
 * reporter's account, whose body is `{"from", "to", "round", "value", "eras"}` (entity ids, a
 * positive round, a WAD integer in [-1e18, 1e18] as a decimal string, and the two ids' generations
 * the reporter observed, `[gFrom, gTo]`: an observation of an era that is not the pair's when it
 * arrives is refused, STALE_ERA, before it counts). When a quorum of reporters has
 * observed a pair's round, the service writes their median with `setOracle` (if it moved by at least
 * the deviation) and answers with the decision; the reply is signed by the oracle's account.
 *
 * Durability. The aggregator's state is written atomically (`state.json`) before the reply and
 * before any transaction; a decision records that its write is due, and the write is confirmed in
 * the state after it is mined. A crash between the two is finished at the next start
 * (`settlePending`): the chain's value is read first, so a write already mined is not sent again.
 * A retry of a request gets the stored reply (ReplyCache); a retry that arrives after a crash before
 * the reply was cached is served again by the aggregator, which answers a reporter's own repeated
 * observation with the same decision and changes nothing.
 */
import fs from "fs";
import path from "path";
import { Signature, recoverAddress, hexlify, type Wallet } from "ethers";
import type { TrustManager } from "../../../typechain-types";
import { toBytes } from "../../crypto/bytes";
import { writeFileAtomic } from "../../storage/fs-atomic";
import { OracleAggregator, OracleError, type Eras, type OracleParams, type OracleState, type ObserveResult } from "../../trust/oracle";
import { EnvelopeError, Kind, Route, Scheme, audienceOf, openEnvelope, sealReply, verifyEnvelope } from "../envelope";
import { ReplyCache, DEFAULT_WINDOW_MS } from "../replies";
import { Mutex } from "../journal";
import { accountSigner, fromAccount } from "../common";
import { faultPoint } from "../faults";
import { startService, type RunningService, type ServiceConfig } from "../server";
import { minedReceipt } from "../../chain/mined";
import { FolderHold } from "../folder-lock";

/** The body of an observation. */
export type ObservationBody = { from: string; to: string; round: number; value: string; eras: [number, number] };

/**
 * The reply: the aggregator's result, values as decimal WAD strings; with a decision, the
 * transaction that wrote it (when this service knows it), `stale` when it was dropped because an id
 * was reclaimed before the write, and the value the chain holds after it.
 */
export type ObserveReply = Omit<ObserveResult, "decision"> & {
  decision?: { round: number; value: string; by: Record<string, string>; tx?: string; stale?: boolean; onChain: string };
};

/** What the oracle service needs. */
export type OracleServiceDeps = {
  /** the TrustManager through the oracle's account (ORACLE_ROLE) */
  tm: TrustManager;
  wallet: Wallet;
  chainId: bigint;
  dir: string;
  params: OracleParams;
  windowMs?: number;
  log?: (line: string) => void;
};

/** Parses an observation body; a one-line error names the field. */
export function parseObservation(body: Uint8Array): ObservationBody {
  let o: unknown;
  try {
    o = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw new EnvelopeError("MALFORMED", "oracle: the observation is not JSON");
  }
  const x = o as Record<string, unknown>;
  if (typeof x !== "object" || x === null || Array.isArray(x))
    throw new EnvelopeError("MALFORMED", "oracle: the observation is not an object");
  const keys = Object.keys(x).sort().join(",");
  if (keys !== "eras,from,round,to,value")
    throw new EnvelopeError("MALFORMED", `oracle: the observation must have exactly from, to, round, value, eras (got ${keys})`);
  if (typeof x.from !== "string" || typeof x.to !== "string") throw new EnvelopeError("MALFORMED", "oracle: from and to must be strings");
  if (typeof x.round !== "number") throw new EnvelopeError("MALFORMED", "oracle: round must be a number");
  if (typeof x.value !== "string" || !/^-?\d{1,19}$/.test(x.value))
    throw new EnvelopeError("MALFORMED", "oracle: value must be a decimal integer string (WAD)");
  const g = x.eras;
  if (!Array.isArray(g) || g.length !== 2 || !g.every((v) => Number.isInteger(v) && v >= 0 && v <= 255))
    throw new EnvelopeError("MALFORMED", "oracle: eras must be the two ids' generations observed, [from, to], integers in [0, 255]");
  return { from: x.from, to: x.to, round: x.round, value: x.value, eras: [g[0] as number, g[1] as number] };
}

/** The oracle service. */
export class OracleService {
  /** Its data folder's lock (one process per folder: folder-lock.ts). */
  private readonly folder = new FolderHold("oracle");
  readonly audience: Uint8Array;
  readonly agg: OracleAggregator;
  private readonly cache: ReplyCache;
  private readonly mutex = new Mutex();
  private readonly signer;
  private running?: RunningService;

  constructor(private readonly d: OracleServiceDeps) {
    this.audience = audienceOf(d.chainId, String(d.tm.target), "oracle");
    this.cache = new ReplyCache(path.join(d.dir, "replies"), d.windowMs ?? DEFAULT_WINDOW_MS);
    this.signer = accountSigner(d.wallet);
    this.cache.rebindWith(this.signer);
    let saved: OracleState | undefined;
    try {
      saved = JSON.parse(fs.readFileSync(this.stateFile, "utf8")) as OracleState;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    this.agg = new OracleAggregator(d.params, saved);
  }

  private get stateFile(): string {
    return path.join(this.d.dir, "state.json");
  }

  private save(): void {
    writeFileAtomic(this.stateFile, JSON.stringify(this.agg.state()));
  }

  private log(s: string): void {
    (this.d.log ?? ((x: string) => process.stdout.write(x + "\n")))(s);
  }

  /** The generations of (from, to) now. */
  private async erasOf(from: string, to: string): Promise<Eras> {
    return [Number(await this.d.tm.generationOf(from)), Number(await this.d.tm.generationOf(to))];
  }

  /**
   * Writes a pair's decided value if it is due against the chain's value; records the outcome. A
   * decision observed of an era one id has left (a reclaim since) is dropped, not written to the
   * new era's pair: checked here, and by the contract (`StaleEra`) for a reclaim mined meanwhile.
   */
  private async settle(from: string, to: string): Promise<{ tx?: string; stale?: boolean }> {
    const eras = this.agg.decision(from, to)?.eras ?? [0, 0];
    const stale = async () => {
      const now = await this.erasOf(from, to);
      if (now[0] === eras[0] && now[1] === eras[1]) return false;
      this.agg.dropStale(from, to);
      this.save();
      this.log(`oracle: O(${from.slice(0, 10)}, ${to.slice(0, 10)}) of generations (${eras.join(", ")}) dropped: now (${now.join(", ")})`);
      return true;
    };
    if (await stale()) return { stale: true };
    const onChain = (await this.d.tm.pairOf(from, to)).oracle;
    const v = this.agg.due(from, to, onChain);
    if (v === undefined) {
      this.agg.written(from, to);
      this.save();
      return {};
    }
    let tx;
    try {
      tx = await this.d.tm.setOracle(from, to, v, eras[0], eras[1]);
      await minedReceipt(Promise.resolve(tx));
    } catch (e) {
      if (await stale()) return { stale: true }; // a reclaim was mined before the write: StaleEra
      throw e;
    }
    faultPoint("oracle:after-chain-write");
    this.agg.written(from, to, tx.hash);
    this.save();
    this.log(`oracle: O(${from.slice(0, 10)}, ${to.slice(0, 10)}) = ${v} (tx ${tx.hash})`);
    return { tx: tx.hash };
  }

  /** Finishes the writes a crash left due (called by `start`). @returns how many pairs were settled */
  async settlePending(): Promise<number> {
    return this.mutex.run(async () => {
      const due = this.agg.pending();
      for (const p of due) await this.settle(p.from, p.to);
      return due.length;
    });
  }

  /** POST /v1/oracle/observe: one reporter's observation. */
  async observeRoute(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    if (env.scheme !== Scheme.Ecdsa)
      throw new EnvelopeError("BAD_SIGNATURE", "oracle: an observation must be signed by its reporter's account");
    let reporter: string;
    try {
      reporter = recoverAddress(hexlify(env.signedDigest), Signature.from(hexlify(env.sig)));
    } catch {
      throw new EnvelopeError("BAD_SIGNATURE", "oracle: the reporter's signature does not recover");
    }
    verifyEnvelope(env, { kind: Kind.Request, route: Route.OracleObserve, audience: this.audience, sender: fromAccount(reporter) });
    const o = parseObservation(env.body);
    return this.cache.once(env.requestId, env.issuedAt, raw, () =>
      this.mutex.run(async () => {
        // an unknown entity would make the write revert and strand the decision: refused first
        for (const [field, id] of [
          ["from", o.from],
          ["to", o.to],
        ] as const)
          if (/^0x[0-9a-fA-F]{64}$/.test(id) && (await this.d.tm.entity(id)).kind === 0n)
            throw new OracleError("UNKNOWN_ENTITY", `oracle: ${field} ${id} is not a registered entity`);
        // The eras observed: the reporter signs the generations of both ids it observed (a reclaim
        // starts a new era, trust.md §6). An observation of an era that is not the pair's now (one
        // of a squatter's service delivered or retried after the owner's reclaim) is refused before
        // it counts: it is not the owner's era's (h16-red2 R4's residual, session 17).
        if (/^0x[0-9a-fA-F]{64}$/.test(o.from) && /^0x[0-9a-fA-F]{64}$/.test(o.to)) {
          const now = await this.erasOf(o.from, o.to);
          if (now[0] !== o.eras[0] || now[1] !== o.eras[1])
            throw new OracleError(
              "STALE_ERA",
              `oracle: the observation is of generations (${o.eras.join(", ")}) of (from, to), which are at (${now.join(", ")}) now: an id was reclaimed since`,
            );
        }
        const r = this.agg.observe({ reporter, from: o.from, to: o.to, round: o.round, value: BigInt(o.value), eras: o.eras });
        this.save();
        let decision: ObserveReply["decision"];
        if (r.decision) {
          const s = r.decision.due ? await this.settle(r.from, r.to) : { tx: r.decision.tx };
          const onChain = (await this.d.tm.pairOf(r.from, r.to)).oracle;
          decision = { round: r.decision.round, value: r.decision.value.toString(), by: r.decision.by, ...s, onChain: onChain.toString() };
        }
        const reply: ObserveReply = {
          from: r.from,
          to: r.to,
          round: r.round,
          observed: r.observed,
          quorum: r.quorum,
          ...(decision ? { decision } : {}),
        };
        return sealReply(env, raw, this.audience, toBytes(JSON.stringify(reply)), this.signer);
      }),
    );
  }

  /** Listens, after finishing the writes a crash left due. */
  /** Takes the lock of its data folder (one process per folder: folder-lock.ts), then {@link startLocked}; the lock is released by stop, or at once if the start fails. */
  async start(cfg: Omit<ServiceConfig, "name">): Promise<RunningService> {
    return this.folder.start(this.d.dir, () => this.startLocked(cfg));
  }

  private async startLocked(cfg: Omit<ServiceConfig, "name">): Promise<RunningService> {
    const n = await this.settlePending();
    if (n) this.log(`oracle: settled ${n} decision(s) left by the last run`);
    this.running = await startService(
      { ...cfg, name: "oracle" },
      [{ path: "/v1/oracle/observe", handle: (b) => this.observeRoute(b) }],
      async () => ({
        service: "oracle",
        account: this.d.wallet.address,
        trustManager: String(this.d.tm.target),
        chainId: this.d.chainId.toString(),
        reporters: this.d.params.reporters,
        quorum: this.d.params.quorum,
        deviation: this.d.params.deviation.toString(),
      }),
    );
    return this.running;
  }

  async stop(): Promise<void> {
    await this.folder.stop(async () => {
      await this.mutex.run(async () => undefined);
      await this.running?.close();
    });
  }
}
