/**
 * The identity provider (which is also the platform server) as a service (issue 19): a thin
 * adapter around the pure IdentityProvider agent (offchain/avatars/agents.ts) and the protocol
 * steps of offchain/avatars/protocols.ts, adding the network, persistence and the chain.
 *
 * Routes (envelopes, offchain/services/envelope.ts; wire: ./wire.ts):
 * - `POST /v1/mit/issue` (IssueRequest): a user's or an AI proxy's MIT, its enrollment and real
 *   identity sealed to the channel key; the MIT goes on-chain, the serial comes back. The envelope
 *   is signed by the key of a one-time enrolment token the operator issued for that real identity
 *   (or operator) out of band (`idp:enrol-token`, offchain/services/enrolment.ts); unsigned only
 *   when the IdP runs with open registration (development);
 * - `POST /v1/challenge` (ChallengeRequest): a one-time challenge bound to the envelope's session;
 * - `POST /v1/login` (LoginResponse, Appendix B-A step 3): verified, then recorded on-chain;
 * - `POST /v1/delegate` (DelegationResponse, Appendix B-B step 4): verified, then recorded;
 * - `POST /v1/stamp` (Evidence): the platform's receipt on it, by its own clock (stateless), for evidence of a session held on this platform only (WRONG_PLATFORM);
 * - `POST /v1/trace` (case id and Evidence): for a case the reporter opened on-chain with this
 *   evidence's hash, the verdict (§V-B1); the reply carries the verdict commitment, never the
 *   identity. Idempotent by the chain: a closed case is answered from its on-chain verdict. A
 *   case an avatar dispute claimed (`AwaitingCourt`) is refused (AWAITING_COURT, nothing recorded)
 *   until the court's final verdict upholds it (`CourtUpheld`), then judged as any other
 *   (`CourtTraced`); a dismissed one never (DISMISSED). The IdP judges authenticity only: the
 *   court decided misbehaviour (docs/specs/disputes.md, "The court files the trace");
 * - `GET /v1/info`: the account, the channel key and the receipt key, signed by the account (a
 *   client checks that the account holds IDP_ROLE on the MIT registry).
 * Replies are signed by the IdP's account and bound to their request (inReplyTo).
 *
 * Who signs requests. Users and proxies hold CPS keys (BLS12-381), not accounts, so their
 * envelopes are unsigned (scheme 0) and the protocol authenticates them: an issuance by the key's
 * proof of possession and the enrollment sealed under that key; a login or a delegation by the CPS
 * proxy signature over the challenge, which the IdP issued to one session and accepts only in a
 * response from that session (a relay cannot move a response to another session).
 *
 * Durability. Open challenges are files (`challenges/`), written before the challenge is sent; a
 * challenge is spent by the hash of the request that used it, so a retry of the same bytes passes
 * again and any other request is refused. Every chain write is preceded by a write-ahead intent
 * (`journal/`) made after all checks passed (and after the IdP's record is written, for an
 * issuance); the reply is cached before it is sent, then the intent is deleted. On start-up, each
 * intent left by a crash is finished from what the chain says ({@link IdpService.recover}): the
 * write is sent if it was not mined, and the reply is cached so that the client's retry gets it.
 * One whose recovery fails (not a refusal by the chain: the node unreachable, say) stays in the
 * journal and is tried again in the background while the IdP serves; only the retry of its own
 * request waits (503) until it is finished ({@link IdpService.finishStalled}).
 * A crash before the intent leaves nothing on-chain: the retry is verified afresh (and refused
 * with STALE_CHALLENGE only if the challenge had expired, when the client asks for a new one).
 * An issuance is refused (DUPLICATE_IDENTITY, naming no MIT; the operator's log names it, and the
 * refusal spends the enrolment token: s24-rta R1) when the eye is enrolled already (one person, one
 * MIT); so an issuance that fails before its intent reloads the agent from the keystore (its
 * enrollment is forgotten), and a retry of one that failed after its intent (the chain write) is
 * finished from the intent rather than issued again.
 */
import fs from "fs";
import path from "path";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { Wallet } from "ethers";
import type { MITRegistry } from "../../../typechain-types";
import { equalBytes, fromHex, toBytes, toHex } from "../../crypto/bytes";
import { encodePk, keyId } from "../../crypto/cps";
import type { ContentStore } from "../../storage/content-store";
import type { Keystore } from "../../storage/keystore";
import { writeFileAtomic } from "../../storage/fs-atomic";
import { AvatarParty, AvatarProtocolError, DuplicateIdentityError, IdentityProvider } from "../../avatars/agents";
import {
  ChallengeBook,
  caseHash,
  evidenceHash,
  issueProxyMit,
  issueUserMit,
  judgeTrace,
  platformId,
  platformNow,
  requireOwnPlatform,
  isTraced,
  TraceStatus,
  verifyDelegation,
  verifyLogin,
  type AvatarContext,
} from "../../avatars/protocols";
import { decodeDelegationResponse, decodeEvidence, decodeLoginResponse } from "../../avatars/wire";
import type { G1Point, G2Point } from "../../crypto/bls";
import {
  Kind,
  Route,
  Scheme,
  audienceOf,
  envelopeHash,
  openEnvelope,
  sealReply,
  verifyEnvelope,
  EnvelopeError,
  type ExpectedSender,
} from "../envelope";
import { EnrolmentBook, EnrolmentTokenError, loadEnrolmentToken, type TokenRecord, type TokenUse } from "../enrolment";
import { decodePoint } from "../../crypto/group";
import { ReplyCache, DEFAULT_WINDOW_MS, payloadHash, payloadId } from "../replies";
import { Journal, Mutex, StalledIntents, type Intent } from "../journal";
import { MetatrustError } from "../../errors";
import { faultPoint } from "../faults";
import { accountSigner } from "../common";
import { startService, type RunningService, type ServiceConfig } from "../server";
import {
  ChallengePurpose,
  IssueKind,
  decodeChallengeRequest,
  decodeIssueRequest,
  decodeTraceRequest,
  encodeChallengeReply,
  encodeReceipt,
  encodeTraceAck,
  encodeDelegationAck,
  encodeIssueReply,
  encodeLoginAck,
  enrolAad,
  possessionContext,
  splitEnrolment,
} from "./wire";
import { minedReceipt } from "../../chain/mined";
import { checkBoundCourt } from "../../chain/court";
import { FolderHold } from "../folder-lock";

/** The IdP's keystore record (the same one `idp:setup` creates). */
export const IDP_RECORD = "avatar-idp";
/** Seconds a challenge stays open (protocols.CHALLENGE_TTL). */
const CHALLENGE_TTL = 120;

/** The text an IdP's description is signed over. */
export function idpInfoDigest(chainId: bigint, registry: string, channelKey: string, receiptKey: string, account: string): Uint8Array {
  return keccak_256(
    toBytes(`metatrust-idp-info|${chainId}|${registry.toLowerCase()}|${channelKey}|${receiptKey}|${account.toLowerCase()}`),
  );
}

export type OpenChallenge = { session: string; purpose: number; expires: number; usedBy?: string };

/**
 * The most challenge files the IdP keeps (default). `/v1/challenge` answers anyone (a login starts
 * there), and each challenge is a file kept until 10 minutes after it expires (a retry of its
 * login may still need it), so a flood from many addresses (the rate limit counts per address)
 * used to grow the folder without bound. At the cap, unused expired challenges are dropped at
 * once (nothing can use them), and if the folder is still full the request is refused (429).
 */
export const MAX_CHALLENGES = 10_000;

/** Refused: the IdP keeps as many challenges as it may (HTTP 429 QUOTA_EXCEEDED). */
export class ChallengeQuotaError extends MetatrustError {
  constructor(message: string) {
    super("QUOTA_EXCEEDED", message);
  }
}

/** A challenge's file name: its bytes in hex (32 from the service), `.json`. */
const CHALLENGE_FILE = /^[0-9a-f]+\.json$/;
/** A temporary file older than this (ms) is a crash's leftover (writeFileAtomic renames its own at once). */
const STALE_TMP_MS = 60_000;

/**
 * Open challenges on disk: one file each, written before the challenge is sent; at most `max` files.
 * The count is kept in memory (read from the folder once, at the first `put`, and again by every
 * `prune`, which lists the folder anyway), so a full store refuses without touching the disk; at the
 * cap, `put` prunes at most once per second of the IdP's clock (session 16's final read: every
 * refused request used to list and parse the whole folder). Expiry is measured on that same clock, so
 * a second prune within one second could free nothing the first did not.
 */
export class ChallengeStore {
  /** challenge files in the folder; undefined until the first `put` reads it */
  private n?: number;
  /** the IdP time (s) of the last prune `put` ran at the cap */
  private prunedAt = -Infinity;
  constructor(
    readonly dir: string,
    readonly max = MAX_CHALLENGES,
  ) {}
  private file(c: Uint8Array): string {
    return path.join(this.dir, `${toHex(c).slice(2)}.json`);
  }
  private names(): string[] {
    return fs.existsSync(this.dir) ? fs.readdirSync(this.dir) : [];
  }
  /** Challenge files kept (read from the folder once). */
  count(): number {
    this.n ??= this.names().filter((f) => CHALLENGE_FILE.test(f)).length;
    return this.n;
  }
  /**
   * Stores a challenge issued to a session for a purpose.
   * @throws ChallengeQuotaError if `max` challenges are kept and none of them is unused and expired
   */
  put(c: Uint8Array, session: Uint8Array, purpose: number, now: number): void {
    if (this.count() >= this.max && now > this.prunedAt) {
      this.prunedAt = now;
      this.prune(now, 0, true); // unused and expired: nothing can spend them
    }
    if (this.count() >= this.max)
      throw new ChallengeQuotaError(`the IdP keeps ${this.max} challenges, the most it may: ask again after ${CHALLENGE_TTL} s`);
    const f = this.file(c);
    const added = !fs.existsSync(f);
    const o: OpenChallenge = { session: toHex(session), purpose, expires: now + CHALLENGE_TTL };
    writeFileAtomic(f, JSON.stringify(o));
    if (added) this.n = this.count() + 1;
  }
  /**
   * Spends a challenge for a request: the session and purpose must be the ones it was issued to,
   * and it must be open, or already spent by this very request (a retry).
   * @throws AvatarProtocolError(STALE_CHALLENGE)
   */
  spend(c: Uint8Array, session: Uint8Array, purpose: number, now: number, requestHash: string): void {
    const o = this.check(c, session, purpose, now, requestHash);
    if (o.usedBy === requestHash) return;
    writeFileAtomic(this.file(c), JSON.stringify({ ...o, usedBy: requestHash }));
  }
  /**
   * What `spend` checks, spending nothing: a response is checked against its challenge first and
   * spends it only once its signatures verify (h16-red R2: a refused response used to spend it).
   * @returns the open challenge
   * @throws AvatarProtocolError(STALE_CHALLENGE)
   */
  check(c: Uint8Array, session: Uint8Array, purpose: number, now: number, requestHash: string): OpenChallenge {
    let o: OpenChallenge;
    try {
      o = JSON.parse(fs.readFileSync(this.file(c), "utf8")) as OpenChallenge;
    } catch {
      throw new AvatarProtocolError("STALE_CHALLENGE", "the challenge is unknown, used or expired (replayed response?)");
    }
    if (o.session !== toHex(session) || o.purpose !== purpose)
      throw new AvatarProtocolError("STALE_CHALLENGE", "the challenge was issued to another session or for another step (relayed?)");
    if (o.usedBy === requestHash) return o;
    if (o.usedBy !== undefined || now > o.expires)
      throw new AvatarProtocolError("STALE_CHALLENGE", "the challenge is unknown, used or expired (replayed response?)");
    return o;
  }
  /**
   * Deletes challenges that expired more than `graceSec` ago (only those never spent, if
   * `unusedOnly`), challenge files that do not parse (`check` refuses them, so nothing can ever
   * spend them: writeFileAtomic never leaves a half-written one, so such a file is damage or a
   * stranger's, and keeping it would hold a place under the cap for ever), and a crash's leftover
   * temporary files. Recounts the folder.
   * @returns how many challenge files it deleted
   */
  prune(now: number, graceSec = 600, unusedOnly = false): number {
    let n = 0;
    let kept = 0;
    for (const f of this.names()) {
      const file = path.join(this.dir, f);
      if (!CHALLENGE_FILE.test(f)) {
        try {
          if (f.endsWith(".tmp") && Date.now() - fs.statSync(file).mtimeMs > STALE_TMP_MS) fs.rmSync(file, { force: true });
        } catch {
          /* gone meanwhile */
        }
        continue;
      }
      let text: string;
      try {
        text = fs.readFileSync(file, "utf8");
      } catch {
        continue; // gone meanwhile
      }
      let o: Partial<OpenChallenge> | null = null;
      try {
        o = JSON.parse(text) as Partial<OpenChallenge> | null;
      } catch {
        /* damaged: deleted below */
      }
      const expires = o?.expires;
      if (typeof expires !== "number" || (now > expires + graceSec && !(unusedOnly && o?.usedBy !== undefined))) {
        fs.rmSync(file, { force: true });
        n++;
      } else kept++;
    }
    this.n = kept;
    return n;
  }
}

/** The protocol's ChallengeBook, spending from the store for one request (its session, purpose and hash). */
class SpendFor extends ChallengeBook {
  constructor(
    private readonly store: ChallengeStore,
    private readonly session: Uint8Array,
    private readonly purpose: number,
    private readonly requestHash: string,
  ) {
    super();
  }
  override issue(): Uint8Array {
    throw new AvatarProtocolError("INVALID_STATE", "SpendFor: issues no challenges");
  }
  override check(c: Uint8Array, now: number): void {
    this.store.check(c, this.session, this.purpose, now, this.requestHash);
  }
  override consume(c: Uint8Array, now: number): void {
    this.store.spend(c, this.session, this.purpose, now, this.requestHash);
  }
}

/**
 * The party as the IdP sees it over the network: its public key and the proof of possession it
 * sent (the secret key stays on the user's machine; nothing here signs).
 */
class RemoteParty extends AvatarParty {
  constructor(
    pk: G2Point,
    private readonly pi: G1Point,
  ) {
    super("remote", { sk: 0n, pk });
  }
  override possession(): G1Point {
    return this.pi;
  }
}

/** What the IdP service needs. */
export type IdpServiceDeps = {
  keystore: Keystore;
  /** the service's folder (journal, reply cache, challenges) */
  dir: string;
  /** the MIT registry, connected with the IdP's account */
  registry: MITRegistry;
  /**
   * the deployment's DisputeResolution: the court whose verdicts let the IdP trace a claimed case;
   * `start` refuses a registry that binds another court (or none)
   */
  court: string;
  store: ContentStore;
  wallet: Wallet;
  chainId: bigint;
  /**
   * the IdP's clock (unix seconds); default: {@link platformNow}, the latest block's time + 1 (the
   * earliest the next block can have), the clock the in-process tasks use
   */
  now?: () => Promise<number>;
  /** Development only: MITs are issued without an enrolment token. Default false (`idp:enrol-token`). */
  openRegistration?: boolean;
  windowMs?: number;
  /** the most challenges kept on disk (default MAX_CHALLENGES); more are refused 429 until some expire */
  maxChallenges?: number;
  /** how often an intent whose recovery failed at start-up is tried again (ms; default STALLED_RETRY_MS) */
  stalledRetryMs?: number;
  log?: (line: string) => void;
};

/** The IdP service. */
export class IdpService {
  /** Its data folder's lock (one process per folder: folder-lock.ts). */
  private readonly folder = new FolderHold("idp");
  idp: IdentityProvider;
  /** the enrolment tokens used (kept in the IdP's record, written with the issuance) */
  private book: EnrolmentBook;
  readonly audience: Uint8Array;
  private readonly journal: Journal;
  private readonly cache: ReplyCache;
  private readonly challenges: ChallengeStore;
  private readonly mutex = new Mutex();
  private readonly signer;
  private readonly registryAddress: string;
  /** this platform's id (its receipt key on the registry): the sessions it stamps and traces evidence of */
  private platform: Uint8Array;
  private running?: RunningService;
  private pruner?: NodeJS.Timeout;
  /** intents whose recovery failed at start-up (not refused by the chain), by id: tried again in the background */
  private readonly stalled: StalledIntents;

  constructor(private readonly d: IdpServiceDeps) {
    [this.idp, this.book] = this.load();
    this.registryAddress = String(d.registry.target);
    this.platform = platformId(this.registryAddress, this.idp.receiptKey);
    this.audience = audienceOf(d.chainId, this.registryAddress, "idp");
    this.journal = new Journal(path.join(d.dir, "journal"));
    this.stalled = new StalledIntents(this.journal, (l) => this.log(l));
    this.cache = new ReplyCache(path.join(d.dir, "replies"), d.windowMs ?? DEFAULT_WINDOW_MS);
    this.challenges = new ChallengeStore(path.join(d.dir, "challenges"), d.maxChallenges);
    this.signer = accountSigner(d.wallet);
    this.cache.rebindWith(this.signer);
  }

  private log(s: string): void {
    (this.d.log ?? ((x: string) => process.stdout.write(x + "\n")))(s);
  }

  private async now(): Promise<number> {
    if (this.d.now) return this.d.now();
    return platformNow(this.d.registry.runner!.provider!);
  }

  /** The agent and the used tokens, from the keystore. */
  private load(): [IdentityProvider, EnrolmentBook] {
    const { enrolment, ...rec } = this.d.keystore.load(IDP_RECORD) as { enrolment?: Record<string, TokenUse> };
    return [IdentityProvider.fromRecord(rec), new EnrolmentBook(enrolment ?? {})];
  }

  /** The agent's record and the used tokens, in one atomic write. */
  private save(): void {
    this.d.keystore.update(IDP_RECORD, { ...this.idp.toRecord(), enrolment: this.book.toRecord() });
  }

  private ctx(now: number, beforeSend?: AvatarContext["beforeSend"]): AvatarContext {
    return { registry: this.d.registry, idp: this.idp, store: this.d.store, now: () => now, beforeSend, platform: this.platform };
  }

  private reply(req: ReturnType<typeof openEnvelope>, raw: Uint8Array, body: Uint8Array): Uint8Array {
    return sealReply(req, raw, this.audience, body, this.signer);
  }

  private open(raw: Uint8Array, route: number): ReturnType<typeof openEnvelope> {
    const env = openEnvelope(raw);
    verifyEnvelope(env, { kind: Kind.Request, route, audience: this.audience, sender: { scheme: Scheme.None } });
    return env;
  }

  /** The signed public description (GET /v1/info). */
  async info(): Promise<Record<string, unknown>> {
    const channelKey = toHex(this.idp.channelKey.toBytes(true));
    const receiptKey = toHex(this.idp.receiptKey);
    const account = this.d.wallet.address;
    const digest = idpInfoDigest(this.d.chainId, this.registryAddress, channelKey, receiptKey, account);
    const sig = toHex(this.signer.scheme === Scheme.Ecdsa ? this.signer.sign(digest) : new Uint8Array());
    return { service: "idp", account, channelKey, receiptKey, registry: this.registryAddress, chainId: this.d.chainId.toString(), sig };
  }

  // ---------------------------------------------------------------- issuance

  /** POST /v1/mit/issue */
  async issue(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    if (env.route !== Route.IdpIssue)
      throw new EnvelopeError("WRONG_ROUTE", `issue: signed for route 0x${env.route.toString(16)}, not 0x${Route.IdpIssue.toString(16)}`);
    const m = decodeIssueRequest(env.body);
    const token = this.tokenOf(env, m.tokenId);
    const pk = encodePk(m.pk);
    return this.cache.once(
      env.requestId,
      env.issuedAt,
      raw,
      () =>
        this.mutex.run(async () => {
          const id = `issue-${toHex(env.requestId).slice(2)}`;
          // a retry of this request whose chain write failed after its intent: finished from the
          // intent (the enrollment is in the record; issuing again would refuse it as a duplicate).
          // The intent is this request's only if its bytes are: another request under its id (copied
          // from the wire) neither gets its reply nor replaces it (s24-fxr, the class of s24-rtr R3)
          const left = this.ownIntent(id, raw);
          if (left) {
            const reply = await this.finishIssue(env, raw, left.data as Record<string, string>);
            this.journal.done(id);
            return reply;
          }
          const { label, enrollment } = splitEnrolment(
            m.kind,
            this.idp.openSealed(m.sealed, enrolAad(m.kind, pk, env.requestId, m.tokenId)),
          );
          // the token must enrol this very identity (known only now: it travels sealed), unused or used by these bytes
          const want = {
            service: "idp" as const,
            kind: m.kind === IssueKind.user ? ("user" as const) : ("proxy" as const),
            identity: label,
          };
          if (token) this.book.admit(token, m.tokenId, want, env.body, Math.floor(Date.now() / 1000));
          // the agent's protocol step, with the party reduced to what the IdP sees of it
          const party = new RemoteParty(m.pk, m.possession);
          let intent = false;
          const ctx = this.ctx(await this.now(), (step) => {
            if (step.kind !== "issueMIT") return;
            // the template and the serial in the IdP's record before the MIT goes on-chain
            this.journal.put(id, "issueMIT", { serial: toHex(step.serial), cid: step.cid, keyId: toHex(keyId(m.pk)), request: toHex(raw) });
            if (token) this.book.consume(m.tokenId, env.body, Math.floor(Date.now() / 1000));
            this.save();
            intent = true;
            faultPoint("idp:before-chain-write");
          });
          // the proof of possession must name this request (its kind, token, id and this IdP)
          const pop = possessionContext(m.kind, m.tokenId, env.requestId, this.audience);
          let r: { cid: string };
          try {
            r =
              m.kind === IssueKind.user
                ? await issueUserMit(ctx, party, label, { capture: () => enrollment! }, pop)
                : await issueProxyMit(ctx, party, label, pop);
          } catch (e) {
            // failed before its intent (IPFS, or refused): the agent forgets what it enrolled in
            // memory, so that a retry is not refused as a duplicate of an MIT that never existed
            if (!intent) [this.idp, this.book] = this.load();
            // an enrolled eye tells the requester one thing about another person (that this iris is
            // enrolled): the refusal spends the token, one probe per token (s24-rta R1); a retry of
            // these bytes is admitted again and refused the same way. Which MIT: the operator's log.
            if (e instanceof DuplicateIdentityError) {
              if (token) {
                this.book.consume(m.tokenId, env.body, Math.floor(Date.now() / 1000));
                this.save();
              }
              this.log(
                `issue refused: the iris is enrolled for MIT ${e.enrolledSerial}${token ? `; token ${toHex(m.tokenId)} spent` : ""}`,
              );
            }
            throw e;
          }
          faultPoint("idp:after-chain-write");
          const reply = this.issueReply(env, raw, party.mit!.serial, r.cid);
          this.cache.store(env.requestId, raw, reply, true);
          this.journal.done(id);
          this.log(`MIT ${toHex(party.mit!.serial).slice(0, 12)}… issued (${m.kind === IssueKind.user ? "user" : "proxy"})`);
          return reply;
        }),
      // kept for good (h10-red): a retry of these bytes however late gets this MIT. Pruned, a late
      // retry was STALE, the client dropped its keys, and the user's eye stayed enrolled for an MIT
      // nobody holds (one person, one MIT: locked out); and the token's holder could re-sign the
      // same body under the same request id and have a second MIT minted. Bounded by the tokens.
      true,
    );
  }

  /**
   * The enrolment token an issuance names, its signature checked (a token's record never changes,
   * so this runs outside the mutex); undefined: open registration and no token.
   * @throws EnrolmentTokenError(TOKEN_REQUIRED | TOKEN_UNKNOWN), EnvelopeError(BAD_SIGNATURE)
   */
  private tokenOf(env: ReturnType<typeof openEnvelope>, tokenId: Uint8Array): TokenRecord | undefined {
    const sender = (s: ExpectedSender) =>
      verifyEnvelope(env, { kind: Kind.Request, route: Route.IdpIssue, audience: this.audience, sender: s });
    if (tokenId.every((x) => x === 0)) {
      if (!this.d.openRegistration)
        throw new EnrolmentTokenError("TOKEN_REQUIRED", "issue: the request presents no enrolment token (the IdP's operator issues one)");
      sender({ scheme: Scheme.None });
      return undefined;
    }
    const rec = loadEnrolmentToken(this.d.keystore, tokenId);
    if (!rec || rec.service !== "idp")
      throw new EnrolmentTokenError("TOKEN_UNKNOWN", `issue: token ${toHex(tokenId)} was not issued by this IdP`);
    sender({ scheme: Scheme.Schnorr, pk: decodePoint(fromHex(rec.pk, 33)) });
    return rec;
  }

  /** Finishes an issuance from its intent: the MIT on-chain unless it is, and the reply. */
  private async finishIssue(env: ReturnType<typeof openEnvelope>, raw: Uint8Array, d: Record<string, string>): Promise<Uint8Array> {
    // the IdP's record was written with the intent: the serial is known to the agent
    const reg = this.d.registry;
    if (Number((await reg.mit(d.serial)).status) === 0) await minedReceipt(reg.issueMIT(d.serial, d.keyId, d.cid));
    const reply = this.issueReply(env, raw, fromHex(d.serial, 32), d.cid);
    this.cache.store(env.requestId, raw, reply, true);
    return reply;
  }

  private issueReply(env: ReturnType<typeof openEnvelope>, raw: Uint8Array, serial: Uint8Array, cid: string): Uint8Array {
    let commitment: Uint8Array = new Uint8Array(32);
    try {
      commitment = this.idp.commitmentOf(serial);
    } catch {
      /* a proxy: no iris */
    }
    return this.reply(env, raw, encodeIssueReply({ serial, commitment, cid }));
  }

  // ---------------------------------------------------------------- challenges

  /** POST /v1/challenge */
  async challenge(raw: Uint8Array): Promise<Uint8Array> {
    const env = this.open(raw, Route.IdpChallenge);
    const purpose = decodeChallengeRequest(env.body);
    return this.cache.once(env.requestId, env.issuedAt, raw, async () => {
      const now = await this.now();
      const c = new ChallengeBook().issue(now);
      this.challenges.put(c, env.session, purpose, now);
      return this.reply(env, raw, encodeChallengeReply({ challenge: c, purpose, time: now }));
    });
  }

  // ---------------------------------------------------------------- login and delegation

  /** POST /v1/login */
  async login(raw: Uint8Array): Promise<Uint8Array> {
    const env = this.open(raw, Route.IdpLogin);
    const r = decodeLoginResponse(env.body);
    const serial = fromLoginBody(r.message.body);
    // keyed by its payload (its session and body), not the id the client chose: a copy under
    // another id or issuedAt is this request (answered from the cache), never a second login (s23-rth F1)
    return this.cache.once(payloadId(env, true), env.issuedAt, raw, () =>
      this.mutex.run(async () => {
        const id = `login-${toHex(env.requestId).slice(2)}`;
        this.holdBack(id);
        this.ownIntent(id, raw);
        const book = new SpendFor(this.challenges, env.session, ChallengePurpose.login, toHex(envelopeHash(raw)));
        // the avatar's whole record before this write: recovery sends it only while the record is
        // exactly that (h12-red S1 kept the warrant only, and a revocation keeps the warrant: A1)
        const state = await this.avatarState(r.avatarId);
        const ctx = this.ctx(await this.now(), (step) => {
          if (step.kind !== "recordLogin") return;
          this.journal.put(id, "recordLogin", { request: toHex(raw), vid: toHex(step.vidCommitment), state });
          faultPoint("idp:before-chain-write");
        });
        await verifyLogin(ctx, book, serial, this.idp.keyOf(serial), r);
        faultPoint("idp:after-chain-write");
        const reply = this.reply(env, raw, encodeLoginAck({ avatarId: r.avatarId, serial, h: r.o.h }));
        this.cache.store(payloadId(env, true), raw, reply);
        this.journal.done(id);
        return reply;
      }),
    );
  }

  /** POST /v1/delegate */
  async delegate(raw: Uint8Array): Promise<Uint8Array> {
    const env = this.open(raw, Route.IdpDelegate);
    const r = decodeDelegationResponse(env.body);
    // keyed by its payload (its session and body), not the id the client chose: a copy under
    // another id or issuedAt is this request (answered from the cache), never a second login (s23-rth F1)
    return this.cache.once(payloadId(env, true), env.issuedAt, raw, () =>
      this.mutex.run(async () => {
        const id = `delegate-${toHex(env.requestId).slice(2)}`;
        this.holdBack(id);
        this.ownIntent(id, raw);
        const book = new SpendFor(this.challenges, env.session, ChallengePurpose.delegation, toHex(envelopeHash(raw)));
        const state = await this.avatarState(r.avatarId); // (h12-red S1 and A1, as for a login)
        const ctx = this.ctx(await this.now(), (step) => {
          if (step.kind === "recordDelegation") this.journal.put(id, "recordDelegation", { request: toHex(raw), state });
        });
        const v = await verifyDelegation(ctx, book, r);
        faultPoint("idp:after-chain-write");
        const reply = this.reply(
          env,
          raw,
          encodeDelegationAck({ avatarId: r.avatarId, proxySerial: r.proxySerial, h: r.o.h, delegationId: v.delegationId }),
        );
        this.cache.store(payloadId(env, true), raw, reply);
        this.journal.done(id);
        return reply;
      }),
    );
  }

  // ---------------------------------------------------------------- receipts and tracing

  /** POST /v1/stamp: the platform's receipt on evidence shown to it (its clock, not the signer's). */
  async stamp(raw: Uint8Array): Promise<Uint8Array> {
    const env = this.open(raw, Route.IdpStamp);
    const e = decodeEvidence(env.body);
    // the platform stamps evidence of its own sessions only (WRONG_PLATFORM, 422: session 17)
    requireOwnPlatform("stamp", e, this.platform);
    return this.cache.once(env.requestId, env.issuedAt, raw, async () =>
      this.reply(env, raw, encodeReceipt(this.idp.stamp(evidenceHash(e), await this.now()))),
    );
  }

  /** POST /v1/trace */
  async trace(raw: Uint8Array): Promise<Uint8Array> {
    const env = this.open(raw, Route.IdpTrace);
    const { caseId, evidence } = decodeTraceRequest(env.body);
    const e = decodeEvidence(evidence);
    return this.cache.once(env.requestId, env.issuedAt, raw, () =>
      this.mutex.run(async () => {
        const c = await this.d.registry.traceCase(caseId);
        // the case commits to the whole evidence filed (caseHash): any other copy is refused by
        // judgeTrace with UNKNOWN_CASE and changes nothing (h7-audit finding T1)
        const mine = equalBytes(fromHex(c.evidenceHash, 32), caseHash(e));
        // a case already closed for this evidence (a retry after a crash): the chain has the answer
        if (mine && isTraced(c.status))
          return this.reply(env, raw, encodeTraceAck({ caseId, verdictCommitment: fromHex(c.verdictCommitment, 32) }));
        if (mine && Number(c.status) === TraceStatus.Rejected)
          throw new AvatarProtocolError("REJECTED", `trace: case ${caseId} was rejected (the evidence did not verify)`);
        // the verdict's opening (its salt) in the IdP's record before the commitment goes on-chain
        // and saved again once the chain mined or refused it (a refused verdict leaves no slot: s24-rta R3)
        const t = await judgeTrace({ ...this.ctx(await this.now(), () => this.save()), afterSend: () => this.save() }, caseId, e);
        faultPoint("idp:after-chain-write");
        this.log(`case #${caseId}: traced${Number(c.status) === TraceStatus.CourtUpheld ? ` (upheld by dispute #${c.disputeId})` : ""}`);
        return this.reply(env, raw, encodeTraceAck({ caseId, verdictCommitment: t.verdictCommitment }));
      }),
    );
  }

  // ---------------------------------------------------------------- recovery

  /**
   * Finishes what a crash interrupted (called before serving). An intent whose recovery fails for
   * another reason than a refusal by the chain (the node unreachable, a transaction dropped) does
   * not stop the service (h11-fix3): it stays in the journal, is tried again in the background
   * ({@link finishStalled}), and holds back only the retry of its own request (503).
   * @returns the intents handled, by kind (`dropped`: refused by the chain; `stalled`: left for the background)
   */
  async recover(): Promise<Record<string, number>> {
    const done: Record<string, number> = {};
    for (const i of this.journal.pending()) {
      const r = await this.recoverOrDrop(i);
      if (r === "stalled") {
        done.stalled = (done.stalled ?? 0) + 1;
        continue;
      }
      done[r] = (done[r] ?? 0) + 1;
      this.journal.done(i.id);
    }
    return done;
  }

  /** One intent: its kind when finished, "dropped" when the chain refuses it, "stalled" (recorded) when it failed otherwise. */
  private async recoverOrDrop(i: Intent): Promise<string> {
    try {
      return (await this.recoverOne(i)) ?? i.kind;
    } catch (e) {
      const error = (e instanceof Error ? e.message : String(e)).split("\n")[0];
      // the chain refuses the write now (an MIT revoked since, say): nothing was recorded and no
      // reply cached, so the client's retry is verified afresh and refused cleanly
      // (ethers says CALL_EXCEPTION; Hardhat's providers throw "... reverted with ...")
      if ((e as { code?: string }).code === "CALL_EXCEPTION" || /revert/i.test(error)) {
        this.log(`recovery: ${i.kind} ${i.id} refused by the chain (${error}): dropped`);
        return "dropped";
      }
      if (!this.stalled.has(i.id)) this.log(`recovery: intent ${i.id} (${i.kind}) failed, tried again in the background: ${error}`);
      this.stalled.record(i.id, { kind: i.kind, at: i.at, error });
      return "stalled";
    }
  }

  /**
   * The pending intent `id` if it is this request's (its bytes), else undefined; an intent another
   * request left under this id (the ids carry the client-chosen request id, which anyone on the wire
   * reads) refuses this one, before anything is done: it is neither finished for it (its reply) nor
   * replaced by it (s24-fxr: the class of s24-rtr R3, one request never overwrites another's
   * journalled state).
   * @throws EnvelopeError(REQUEST_ID_REUSED) when the intent is another request's
   */
  private ownIntent(id: string, raw: Uint8Array): Intent | undefined {
    const left = this.journal.pending().find((i) => i.id === id);
    // the same request as the reply cache reads it: these bytes, or an unsigned copy of them (F1)
    const mine = (r: unknown) => r === toHex(raw) || (typeof r === "string" && equalBytes(payloadHash(fromHex(r)), payloadHash(raw)));
    if (left && !mine(left.data.request))
      throw new EnvelopeError("REQUEST_ID_REUSED", `request id 0x${id.slice(id.indexOf("-") + 1)} is in use by another request`);
    return left;
  }

  /** A retry of a request whose intent is still being finished waits (503) until it is; the cache answers it then. */
  private holdBack(id: string): void {
    const st = this.stalled.get(id);
    if (st)
      throw new MetatrustError(
        "SERVICE_UNREACHABLE",
        `${st.kind}: intent ${id} is still being finished (its recovery failed: ${st.error}); retry later`,
      );
  }

  /** The intents whose recovery failed and is not finished yet: id → kind and last error. */
  stalledIntents(): Record<string, { kind: string; error: string }> {
    return this.stalled.list();
  }

  /**
   * Tries again, under the mutex, each intent whose recovery failed at start-up (by recovery's
   * rule: nothing is done twice); one finished meanwhile (an issuance by its retry) is forgotten.
   * @returns how many are left
   */
  async finishStalled(): Promise<number> {
    return this.mutex.run(() =>
      this.stalled.finish(async (i) => {
        const r = await this.recoverOrDrop(i);
        return r === "stalled" || r === "dropped" ? r : "finished";
      }),
    );
  }

  /**
   * The avatar's whole on-chain state now, as one string: every field of its record (owner, driver
   * serial, driver, updatedAt, notAfter, warrant, VID commitment) and its active delegation's id.
   * Every write that moves the avatar (a login, a delegation, a revocation) changes at least one of
   * them, even two writes in one block (where updatedAt alone would not move).
   */
  private async avatarState(avatarId: Uint8Array): Promise<string> {
    const id = toHex(avatarId);
    const [a, active] = await Promise.all([this.d.registry.avatar(id), this.d.registry.activeDelegation(id)]);
    return [a.owner, a.driverSerial, a.driver, a.updatedAt, a.notAfter, a.warrantHash, a.vidCommitment, active]
      .map((x) => String(x).toLowerCase())
      .join("/");
  }

  /**
   * Whether a login or delegation intent that never reached the chain has been overtaken: the
   * avatar's record is no longer exactly what it was when the intent was journaled (a newer login
   * or delegation was recorded, or the delegation was revoked, since). Sending it now would undo
   * the owner's later decision (h12-red S1: back to an older warrant; h12-red2 A1: a revoked
   * delegation revived, which the warrant alone did not show, since `revokeDelegation` keeps it).
   * An intent journaled before session 13 kept only the warrant (`prev`): judged by it, as then.
   * Intents journaled before S1 kept neither and are not judged (false).
   */
  private async superseded(i: Intent, avatarId: Uint8Array): Promise<boolean> {
    const { state, prev } = i.data as { state?: string; prev?: string };
    if (state !== undefined) {
      if ((await this.avatarState(avatarId)) === state) return false;
    } else if (prev === undefined) return false;
    else if (String((await this.d.registry.avatar(toHex(avatarId))).warrantHash).toLowerCase() === prev.toLowerCase()) return false;
    this.log(
      `recovery: ${i.kind} ${i.id} of avatar ${toHex(avatarId).slice(0, 12)}… superseded (its record moved since: a newer login or delegation, or a revocation): dropped, nothing sent`,
    );
    return true;
  }

  /** Finishes one intent; "dropped" when it is superseded (nothing sent, no reply cached). */
  private async recoverOne(i: Intent): Promise<"dropped" | undefined> {
    const d = i.data as Record<string, string>;
    const raw = fromHex(d.request);
    const env = openEnvelope(raw);
    const reg = this.d.registry;
    if (i.kind === "issueMIT") {
      this.cache.store(env.requestId, raw, await this.finishIssue(env, raw, d));
      this.log(`recovery: MIT ${d.serial.slice(0, 12)}… issuance completed`);
    } else if (i.kind === "recordLogin") {
      const r = decodeLoginResponse(env.body);
      const serial = fromLoginBody(r.message.body);
      const logged = await reg.queryFilter(reg.filters.AvatarLoggedIn(toHex(r.avatarId), toHex(serial)));
      // verified before the crash; sent again only if it never reached the chain, and only while
      // the avatar is where the intent left it (h12-red S1)
      if (!logged.some((l) => l.args.warrantHash === toHex(r.o.h))) {
        if (await this.superseded(i, r.avatarId)) return "dropped";
        await minedReceipt(reg.recordLogin(toHex(r.avatarId), toHex(serial), toHex(r.o.h), d.vid, r.warrant.notAfter));
      }
      this.cache.store(payloadId(env, true), raw, this.reply(env, raw, encodeLoginAck({ avatarId: r.avatarId, serial, h: r.o.h })));
      this.log(`recovery: login of avatar ${toHex(r.avatarId).slice(0, 12)}… completed`);
    } else if (i.kind === "recordDelegation") {
      const r = decodeDelegationResponse(env.body);
      const find = async () =>
        (await reg.queryFilter(reg.filters.AvatarDelegated(undefined, toHex(r.avatarId), toHex(r.proxySerial)))).find(
          (l) => l.args.warrantHash === toHex(r.o.h),
        );
      let ev = await find();
      if (!ev) {
        if (await this.superseded(i, r.avatarId)) return "dropped";
        await minedReceipt(reg.recordDelegation(toHex(r.avatarId), toHex(r.proxySerial), toHex(r.o.h), r.warrant.notAfter));
        ev = await find();
      }
      const ack = { avatarId: r.avatarId, proxySerial: r.proxySerial, h: r.o.h, delegationId: ev!.args.delegationId as bigint };
      this.cache.store(payloadId(env, true), raw, this.reply(env, raw, encodeDelegationAck(ack)));
      this.log(`recovery: delegation of avatar ${toHex(r.avatarId).slice(0, 12)}… completed`);
    } else throw new AvatarProtocolError("INVALID_STATE", `recover: unknown intent kind ${i.kind}`);
  }

  // ---------------------------------------------------------------- lifecycle

  /** Announces `url` as the IdP's endpoint on-chain unless it is already. */
  async announce(url: string): Promise<boolean> {
    const [account, current] = await this.d.registry.idpEndpoint();
    if (current === url && account.toLowerCase() === this.d.wallet.address.toLowerCase()) return false;
    await minedReceipt(this.d.registry.setIdpEndpoint(url));
    return true;
  }

  /** Recovers, listens, and announces the endpoint. */
  /** Takes the lock of its data folder (one process per folder: folder-lock.ts), then {@link startLocked}; the lock is released by stop, or at once if the start fails. */
  async start(cfg: Omit<ServiceConfig, "name">, publicUrl?: string): Promise<RunningService> {
    return this.folder.start(this.d.dir, () => this.startLocked(cfg, publicUrl));
  }

  private async startLocked(cfg: Omit<ServiceConfig, "name">, publicUrl?: string): Promise<RunningService> {
    // the record as it stands now that the folder is held: a command that held it before (idp:issue,
    // avatar:trace in this folder: tasks/lib/idp-record.ts) may have written it since the constructor
    // read it, and this agent is written back whole (s22-redo R9)
    const drawn = this.d.keystore.load(IDP_RECORD).receiptSk === undefined;
    [this.idp, this.book] = this.load();
    this.platform = platformId(this.registryAddress, this.idp.receiptKey);
    if (drawn) this.save(); // a record from before platform receipts: the receipt key drawn now is kept
    // the court the registry binds is the deployment's: before anything is recovered, served or announced
    await checkBoundCourt(this.d.registry, this.d.court, "IdpService");
    const r = await this.recover();
    if (Object.keys(r).length) this.log(`recovered: ${JSON.stringify(r)}`);
    this.running = await startService(
      { ...cfg, name: "idp" },
      [
        { path: "/v1/mit/issue", handle: (b) => this.issue(b) },
        { path: "/v1/challenge", handle: (b) => this.challenge(b) },
        { path: "/v1/login", handle: (b) => this.login(b) },
        { path: "/v1/delegate", handle: (b) => this.delegate(b) },
        { path: "/v1/stamp", handle: (b) => this.stamp(b) },
        { path: "/v1/trace", handle: (b) => this.trace(b) },
      ],
      () => this.info(),
    );
    this.pruner = setInterval(() => {
      this.cache.prune();
      this.challenges.prune(Math.floor(Date.now() / 1000));
    }, this.d.windowMs ?? DEFAULT_WINDOW_MS);
    this.pruner.unref();
    this.stalled.start(() => this.finishStalled(), this.d.stalledRetryMs);
    const url = publicUrl ?? this.running.url;
    if (await this.announce(url)) this.log(`idp: endpoint ${url} announced on-chain`);
    return this.running;
  }

  async stop(): Promise<void> {
    await this.folder.stop(async () => {
      this.stalled.stop();
      if (this.pruner) clearInterval(this.pruner);
      await this.running?.close();
    });
  }
}

/** The owner serial a login names (loginBody: challenge || owner serial || avatar || VID commitment). */
function fromLoginBody(body: Uint8Array): Uint8Array {
  if (body.length !== 128) throw new AvatarProtocolError("MALFORMED", "login: the signed body is not 128 bytes");
  return body.slice(32, 64);
}
