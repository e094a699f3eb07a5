/**
 * The trust layer's attack detector as a service (issue 19): a thin adapter around the detection
 * pipeline (offchain/trust/pipeline.ts, itself pure detectors over the chain's ratings), with its
 * own account holding DETECTOR_ROLE and its own data folder.
 *
 * It watches the chain: every `intervalMs` it reads the rating history and, when its input moved
 * since its last run (a rating, registration, reclaim or verification event: s25-rte D1; the
 * identity seeds, which move with MIT logins and revocations and with a login's expiry, no event
 * at all; a deferred evidence or report fetch whose backoff ended: s26-fxl L1), runs the detectors, stores the report on IPFS and flags each new detection
 * on-chain with the report's digest. `POST /v1/detect` (an unsigned envelope: anyone may ask; a
 * quota of its own per address, DETECT_PER_MINUTE, bounds them) runs it now when the chain moved
 * (an input event since the last run, or a deferred flag run whose time came) and otherwise answers
 * with the last report, never a new run or a new pinned report (s23-rth F3); the reply is the
 * report's CID signed by the detector's account; `GET /v1/info` names the account and the last report.
 *
 * Durability. Flags are idempotent by the chain (a detection whose flag is set is not flagged
 * again), and the report is on IPFS before any flag names it, so a crash at any point is finished
 * by the next run. The last report's summary is written atomically (`last.json`) after each run.
 */
import fs from "fs";
import path from "path";
import type { Wallet } from "ethers";
import { toBytes } from "../../crypto/bytes";
import type { ContentStore } from "../../storage/content-store";
import { writeFileAtomic } from "../../storage/fs-atomic";
import type { TrustLedger } from "../../trust/ledger";
import { runDetectors } from "../../trust/pipeline";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealReply, verifyEnvelope } from "../envelope";
import { ReplyCache, DEFAULT_WINDOW_MS } from "../replies";
import { Mutex } from "../journal";
import { accountSigner } from "../common";
import { startService, type RunningService, type ServiceConfig } from "../server";
import { FolderHold } from "../folder-lock";

/** The summary of a run. */
/**
 * One run's summary; `block` is the block the run read (its report names it with its hash);
 * `input` is where the detectors' input last moved when it ran (`TrustLedger.lastInputChange`).
 */
export type DetectorRun = { ratings: number; input?: string; cid: string; block: number; detections: number; flagged: number; at: string };

/** What the detector service needs. */
export type DetectorServiceDeps = {
  /** the TrustManager through the detector's account */
  ledger: TrustLedger;
  store: ContentStore;
  wallet: Wallet;
  chainId: bigint;
  dir: string;
  /** how often it looks for new ratings (ms); 0: only on request */
  intervalMs: number;
  evidenceOnly?: boolean;
  windowMs?: number;
  /** `/v1/detect` requests per client address per minute (default {@link DETECT_PER_MINUTE}): its own quota, below the service's */
  detectPerMinute?: number;
  log?: (line: string) => void;
};

/** Default quota of `/v1/detect` per client address per minute (s23-rth F3: a request may cost a pipeline run). */
export const DETECT_PER_MINUTE = 30;

/** The detector service. */
export class DetectorService {
  /** Its data folder's lock (one process per folder: folder-lock.ts). */
  private readonly folder = new FolderHold("detector");
  readonly audience: Uint8Array;
  private readonly cache: ReplyCache;
  private readonly mutex = new Mutex();
  private readonly signer;
  private last?: DetectorRun;
  /** a run whose flags were deferred, and the chain time its flag run may begin (s23-rth F3) */
  private deferred?: { run: DetectorRun; until: number };
  private timer?: NodeJS.Timeout;
  private running?: RunningService;

  constructor(private readonly d: DetectorServiceDeps) {
    this.audience = audienceOf(d.chainId, String(d.ledger.tm.target), "detector");
    this.cache = new ReplyCache(path.join(d.dir, "replies"), d.windowMs ?? DEFAULT_WINDOW_MS);
    this.signer = accountSigner(d.wallet);
    this.cache.rebindWith(this.signer);
    try {
      this.last = JSON.parse(fs.readFileSync(this.lastFile, "utf8")) as DetectorRun;
    } catch {
      /* never ran */
    }
  }

  private get lastFile(): string {
    return path.join(this.d.dir, "last.json");
  }

  private log(s: string): void {
    (this.d.log ?? ((x: string) => process.stdout.write(x + "\n")))(s);
  }

  /** Runs the detectors if ratings were added since the last run (or `force`). @returns the last run */
  async detect(force = false): Promise<DetectorRun> {
    return this.mutex.run(async () => {
      // "the chain moved" is keyed on the last event that changes the detectors' input (block, log
      // index), not on the number of ratings: a reclaim drops an era's ratings and as many new ones
      // left the count as it was, never examined (s25-rte D1). Read before the run: an event mined
      // during it is after the key, so the next call runs again.
      const input = await this.d.ledger.lastInputChange();
      // a deferred run is served as it is while the input has not moved and its flag run may not
      // begin (s23-rth F3: it was run again, and a new report pinned, for every anonymous request)
      if (!force && this.deferred && this.deferred.run.input === input) {
        const now = (await this.d.wallet.provider!.getBlock("latest"))!.timestamp;
        if (now < this.deferred.until) return this.deferred.run;
      }
      if (!force && !this.deferred && this.last && this.last.input === input) return this.last;
      const r = await runDetectors(this.d.ledger, this.d.store, { flag: true, evidenceOnly: this.d.evidenceOnly });
      const run: DetectorRun = {
        ratings: r.ratings,
        input,
        cid: r.cid,
        block: r.block.number,
        detections: r.detections.length,
        flagged: r.detections.filter((x) => x.flagged).length,
        at: new Date().toISOString(),
      };
      // a run whose flags were deferred (FLAG_RUN_SPACING) is not the last: it is served until new
      // ratings come or its flag run may begin, then the next call runs again
      if (r.deferredUntil !== undefined) {
        this.log(`detector: flags deferred until ${new Date(r.deferredUntil * 1000).toISOString()} (the next flag run)`);
        this.deferred = { run, until: r.deferredUntil };
        return run;
      }
      this.deferred = undefined;
      writeFileAtomic(this.lastFile, JSON.stringify(run));
      this.last = run;
      this.log(`detector: ${run.detections} detection(s) over ${run.ratings} rating(s) at block ${run.block}; report ${run.cid}`);
      return run;
    });
  }

  /** POST /v1/detect: runs now (when there are new ratings); the reply is the report's CID. */
  async detectRoute(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    verifyEnvelope(env, { kind: Kind.Request, route: Route.Detect, audience: this.audience, sender: { scheme: Scheme.None } });
    return this.cache.once(env.requestId, env.issuedAt, raw, async () => {
      const run = await this.detect();
      return sealReply(env, raw, this.audience, toBytes(JSON.stringify(run)), this.signer);
    });
  }

  /** Listens, and watches the chain. */
  /** Takes the lock of its data folder (one process per folder: folder-lock.ts), then {@link startLocked}; the lock is released by stop, or at once if the start fails. */
  async start(cfg: Omit<ServiceConfig, "name">): Promise<RunningService> {
    return this.folder.start(this.d.dir, () => this.startLocked(cfg));
  }

  private async startLocked(cfg: Omit<ServiceConfig, "name">): Promise<RunningService> {
    this.running = await startService(
      { ...cfg, name: "detector" },
      [
        {
          path: "/v1/detect",
          handle: (b) => this.detectRoute(b),
          rateLimit: { max: this.d.detectPerMinute ?? DETECT_PER_MINUTE, windowMs: 60_000 },
        },
      ],
      async () => ({
        service: "detector",
        account: this.d.wallet.address,
        trustManager: String(this.d.ledger.tm.target),
        chainId: this.d.chainId.toString(),
        last: this.last ?? null,
      }),
    );
    if (this.d.intervalMs > 0)
      this.timer = setInterval(() => {
        this.detect().catch((e) => this.log(`detector: run failed (retried next tick): ${(e as Error).message}`));
        this.cache.prune();
      }, this.d.intervalMs);
    return this.running;
  }

  async stop(): Promise<void> {
    await this.folder.stop(async () => {
      if (this.timer) clearInterval(this.timer);
      await this.mutex.run(async () => undefined); // let a run in progress finish
      await this.running?.close();
    });
  }
}
