/**
 * One MSSA place authority as a service (issue 19): a thin adapter around the pure AuthorityAgent
 * (offchain/mssa/registration.ts), adding the network, persistence and the chain, so that a
 * registration collects its keys and its k approvals from authorities on separate machines.
 *
 * Routes (envelopes; wire: ./wire.ts):
 * - `POST /v1/mssa/key` (KeyRequest, signed by the user's account): Step 1, the session's one-time
 *   key, derived (HKDF of the authority's secret seed and the scoped session: nothing is written,
 *   and a retry gets the same key; h9-red finding F9), sent over the SIMULATED quantum channel and
 *   sealed to the user's transport key;
 * - `POST /v1/mssa/release` (ReleaseRequest, signed by another authority of the place): Step 4,
 *   that authority's copy of this authority's key of the session (once per recipient; the key pads
 *   one request only), only for a session the user's signed verify request to that authority names,
 *   carried in the release, at the length it needs (h15-red2 R2, R10);
 * - `POST /v1/mssa/verify` (VerifyRequest, signed by the user; every member of the set S it names,
 *   k or more sitting authorities of the place: h15-red2 R1): Steps 4-9, S checked and the session
 *   bound to it, the keys collected from S's other members (each compared with the user's digest), the request checked against the documents sealed to this
 *   authority, the commitment (with the user's salt), the identity nullifier (with the place key)
 *   and the registration id computed here and kept, and, when the user asks that this registration
 *   make her an elector, her election nullifier (with the election key; h11-red2 M1, docs/specs/mssa.md
 *   §1.8), refused if another account is her elector already; the same five values back;
 * - `POST /v1/mssa/propose` (ProposeRequest, signed by the user; an authority that verified the
 *   session): the proposal on-chain with the user's EIP-712 consent, then the other authorities'
 *   approvals over the network;
 * - `POST /v1/mssa/approve` (ApproveRequest, signed by another authority of the place): this
 *   authority approves the registration only if it is exactly the one it computed when it verified
 *   the session itself (id, so place, user and commitment; nullifier and election nullifier). A verifier that proposes
 *   what the documents do not support gets no approval (h7-audit finding M4, docs/specs/mssa.md §2.6);
 * - `GET /v1/info`: the place, the account and the channel key the documents are sealed to, signed.
 * The user sends the request to every member of S; its first member that verified proposes (as
 * in `mssa:register`), but any authority that verified the session could.
 *
 * Service discovery. On start the service announces its URL on the CredentialLedger
 * (`setAuthorityEndpoint`, skipped when the chain already holds that URL), and it finds the other
 * authorities of the place there too (`authorityEndpoint`, looked up when it needs one, so a peer
 * that restarts elsewhere is found again); `peers` (`mssa:serve --peers`) overrides the chain.
 * Users find the services the same way (./clients.ts {@link discoverAuthorities}).
 *
 * The place key (the nullifier key the place's authorities share) is provisioned, never made here:
 * the service refuses to start without `mssa-placekey-<place>` in its keystore (`mssa:serve
 * --place-key <file>` imports it; docs/specs/mssa.md §2.6 says how it is distributed). The election
 * key (one for the deployment, `mssa-electionkey`, `mssa:serve --election-key <file>`) is
 * provisioned the same way to the authorities of every place; without it the service serves
 * access-only registrations and refuses to make anyone an elector.
 *
 * Durability. The agent's sessions that advanced (their one-time keys, sealed in the keystore), the
 * users checked, what was released to whom and what was verified are written before a reply leaves;
 * a key request writes nothing;
 * a reply that changed state is recorded in the journal before the state is written and cached on
 * recovery, so a retry after a crash gets it instead of a refused second use of a one-time key. The
 * verifier keeps its release requests, so its retry resends the same bytes and the other authority
 * answers from its reply cache. Proposal and approvals are idempotent by the chain (a registration
 * already proposed is not proposed again; an approval already given is not sent again).
 *
 * No lock across the network: a route that needs its peers (verify's releases, propose's approvals)
 * calls them without the service lock, so a peer that stalls delays that request only (s25-rtm F2).
 */
import { EndpointError, checkEndpoint } from "../endpoint";
import path from "path";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { Signature, ZeroAddress, ZeroHash, getAddress, hexlify, recoverAddress, verifyTypedData, type Wallet } from "ethers";
import { AuthorityElection__factory, type CredentialLedger } from "../../../typechain-types";
import { equalBytes, fromHex, toBytes, toHex } from "../../crypto/bytes";
import { decodeScalar, encodeScalar, mulBase, randomScalar } from "../../crypto/group";
import type { Keystore } from "../../storage/keystore";
import { Bits } from "../../mssa/bits";
import { commitment as commitmentOf } from "../../mssa/credential";
import {
  AuthorityAgent,
  RegistrationError,
  checkRequest,
  electorNullifier,
  checkIdentityType,
  identityDocument,
  identityNullifier,
  placeId,
} from "../../mssa/registration";
import { DEFAULT_CHANNEL, EavesdroppingDetectedError, transmit } from "../../mssa/quantum";
import { CONSENT_TTL_S, registrationTypedData } from "../../mssa/ledger";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope, sealReply, verifyEnvelope, EnvelopeError } from "../envelope";
import { ReplyCache, DEFAULT_WINDOW_MS } from "../replies";
import { Journal, Mutex } from "../journal";
import { faultPoint } from "../faults";
import { accountSigner, fromAccount, freshId } from "../common";
import { ServiceError, postEnvelope, type RetryPolicy } from "../client";
import { startService, type RunningService, type ServiceConfig } from "../server";
import {
  decodeApproveRequest,
  decodeKeyRequest,
  decodeOutcome,
  decodeProposeRequest,
  decodeReleaseRequest,
  decodeVerifyRequest,
  encodeApproveRequest,
  encodeOutcome,
  encodeReleaseRequest,
  encodeVerifyReply,
  keyDigest,
  openDocs,
  openKey,
  sealKey,
  type Outcome,
} from "./wire";
import { minedReceipt } from "../../chain/mined";
import { FolderHold } from "../folder-lock";

/** The digest a session is bound to its set S by: keccak256 of the members' lower-case addresses, sorted. */
export function setDigest(set: readonly string[]): string {
  return toHex(
    keccak_256(
      toBytes(
        `metatrust-mssa-set|${set
          .map((a) => a.toLowerCase())
          .sort()
          .join(",")}`,
      ),
    ),
  );
}

/** An authority refused a request for the reason given (HTTP 422 with the reason). */
const refuse = (what: string) => new RegistrationError("unknown-session", what);
/**
 * How long a verified session's consent may wait for its proposal (the ledger's PENDING_TTL and CONSENT_TTL): an
 * authority neither proposes nor approves a registration proposed later than this after it verified
 * the session, and forgets the session twice this long after (s20-redm F3: a withheld consent does
 * not register its user weeks later).
 */
export const CONSENT_TTL_MS = CONSENT_TTL_S * 1000;

/** The keystore record of an authority service for a place. */
export const authorityRecord = (place: string) => `mssa-authority-${placeId(place).slice(2, 18)}`;
/** The place authorities' shared nullifier key (the same record `mssa:register` uses). */
export const placeKeyRecord = (place: string) => `mssa-placekey-${placeId(place).slice(2, 18)}`;

/**
 * The place key of `place` from an authority's keystore. It is provisioned by the place's operator
 * to every authority of the place out of band (docs/specs/mssa.md §2.6), never made by a service:
 * a service that made its own would compute nullifiers no other authority of the place agrees with.
 * @throws RegistrationError("unknown-session") when the keystore holds none, or one shorter than 16 bytes
 */
export function loadPlaceKey(keystore: Keystore, place: string): Uint8Array {
  const name = placeKeyRecord(place);
  if (!keystore.exists(name))
    throw refuse(
      `the keystore holds no place key for ${place} (${name}): the place's operator provisions one to every authority of the place (mssa:serve --place-key <file>)`,
    );
  const key = String((keystore.load(name) as { key: string }).key).replace(/^0x/, "");
  if (!/^([0-9a-fA-F]{2}){16,}$/.test(key)) throw refuse(`the place key ${name} is not 16 or more bytes of hex`);
  return fromHex("0x" + key);
}

/**
 * Imports a provisioned place key into an authority's keystore (sealed there like its other secrets).
 * @param hexKey - the key as the operator handed it out: 32 bytes of hex (64 characters, optional 0x)
 * @returns true when it was imported, false when the keystore already held the same key
 * @throws RangeError when the text is not 32 bytes of hex, or the keystore holds a different key for the place
 */
export function importPlaceKey(keystore: Keystore, place: string, hexKey: string): boolean {
  const t = hexKey.trim().replace(/^0x/, "").toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(t)) throw new RangeError(`importPlaceKey: the place key for ${place} must be 32 bytes of hex (64 characters)`);
  const name = placeKeyRecord(place);
  if (keystore.exists(name)) {
    if (
      String((keystore.load(name) as { key: string }).key)
        .replace(/^0x/, "")
        .toLowerCase() === t
    )
      return false;
    throw new RangeError(
      `importPlaceKey: the keystore already holds another place key for ${place} (${name}); rotating it is not supported`,
    );
  }
  keystore.create(name, { key: t });
  return true;
}

/** The deployment's election key (the same record at every authority of every place). */
export const ELECTION_KEY_RECORD = "mssa-electionkey";

/**
 * The deployment's election key from an authority's keystore, if one was provisioned (h11-red2 M1):
 * one key for the whole election, handed by the operator to the authorities of every place, never
 * made by a service (a key of its own would give one person another election nullifier here).
 * @returns the key, or undefined when the keystore holds none (the service then makes no electors)
 * @throws RegistrationError("unknown-session") when the record holds fewer than 16 bytes of hex
 */
export function loadElectionKey(keystore: Keystore): Uint8Array | undefined {
  if (!keystore.exists(ELECTION_KEY_RECORD)) return undefined;
  const key = String((keystore.load(ELECTION_KEY_RECORD) as { key: string }).key).replace(/^0x/, "");
  if (!/^([0-9a-fA-F]{2}){16,}$/.test(key)) throw refuse(`the election key ${ELECTION_KEY_RECORD} is not 16 or more bytes of hex`);
  return fromHex("0x" + key);
}

/**
 * Imports the provisioned election key into an authority's keystore (sealed like its other secrets).
 * @param hexKey - the key as the operator handed it out: 32 bytes of hex (64 characters, optional 0x)
 * @returns true when it was imported, false when the keystore already held the same key
 * @throws RangeError when the text is not 32 bytes of hex, or the keystore holds a different key
 */
export function importElectionKey(keystore: Keystore, hexKey: string): boolean {
  const t = hexKey.trim().replace(/^0x/, "").toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(t)) throw new RangeError("importElectionKey: the election key must be 32 bytes of hex (64 characters)");
  if (keystore.exists(ELECTION_KEY_RECORD)) {
    if (
      String((keystore.load(ELECTION_KEY_RECORD) as { key: string }).key)
        .replace(/^0x/, "")
        .toLowerCase() === t
    )
      return false;
    throw new RangeError(
      `importElectionKey: the keystore already holds another election key (${ELECTION_KEY_RECORD}); rotating it is not supported`,
    );
  }
  keystore.create(ELECTION_KEY_RECORD, { key: t });
  return true;
}

/**
 * The id under which an authority keeps a user's registration session: keccak256 of the session
 * and the user. The session id is the user's choice and travels in the clear, so keyed by the
 * session alone, a one-time key could be taken by another account that asked for it first (and
 * the user refused key-reuse: h9-red finding F5). The authorities of a place derive the same id,
 * so a release or approval request between them names it.
 */
export function scopedSession(session: string, user: string): string {
  return toHex(keccak_256(toBytes(`metatrust-mssa-session|${session.toLowerCase()}|${getAddress(user).toLowerCase()}`)));
}

/**
 * The CredentialLedger's custom error (or the election's, which the ledger passes on) in a failed
 * transaction, or undefined if it is not a revert:
 * ethers' decoded `revert` (a JSON-RPC node), the revert data, or Hardhat's in-process message.
 */
function ledgerRefusal(ledger: CredentialLedger, e: unknown): string | undefined {
  const x = e as { revert?: { name: string }; data?: string; message?: string };
  if (x.revert?.name) return x.revert.name;
  if (typeof x.data === "string" && x.data.length >= 10) {
    // the ledger's own errors, or the election's that it passes on (ElectorNullifierTaken...)
    for (const iface of [ledger.interface, AuthorityElection__factory.createInterface()]) {
      try {
        const parsed = iface.parseError(x.data);
        if (parsed) return parsed.name;
      } catch {
        /* not one of these errors */
      }
    }
  }
  return /reverted with custom error '([A-Za-z0-9_$]+)/.exec(x.message ?? "")?.[1];
}

/** The account that signed an envelope (ECDSA), for a route any of several accounts may call. */
function signerOf(env: ReturnType<typeof openEnvelope>): string {
  try {
    return getAddress(recoverAddress(hexlify(env.signedDigest), Signature.from(hexlify(env.sig))));
  } catch {
    throw new EnvelopeError("BAD_SIGNATURE", "the account signature does not recover");
  }
}

/** The audience of an authority service: its account at its place. */
export function authorityAudience(chainId: bigint, ledger: string, account: string, place: string): Uint8Array {
  return audienceOf(chainId, ledger, `mssa-authority:${account.toLowerCase()}:${placeId(place)}`);
}

/** The text an authority's description is signed over. */
export function authorityInfoDigest(chainId: bigint, ledger: string, place: string, account: string, channelKey: string): Uint8Array {
  return keccak_256(
    toBytes(`metatrust-mssa-authority-info|${chainId}|${ledger.toLowerCase()}|${placeId(place)}|${account.toLowerCase()}|${channelKey}`),
  );
}

/** What an authority verified; `electorNullifier` absent (a record from before h12) or zero: access only. */
type Verified = {
  user: string;
  commitment: string;
  salt: string;
  nullifier: string;
  id: string;
  electorNullifier?: string;
  /** the set S the user named (h15-red2 R1; absent in a record from before: every authority of the place) */
  set?: string[];
  /** when it was verified, wall clock (ms; a record from before s20 gets its load time): pruned CONSENT_TTL_MS * 2 later */
  at?: number;
  /** the chain's time (s) when it was verified: proposed later than CONSENT_TTL_MS after it, it is not approved (s20-redm F3) */
  chainAt?: number;
};
type Record_ = {
  place: string;
  channelSk: string;
  agent: ReturnType<AuthorityAgent["toRecord"]>;
  /**
   * The secret the one-time keys are derived from (32 bytes hex): a session's key is
   * HKDF(otkSeed, session, bits), so a key request needs no state (h9-fix F9). Made on first start.
   */
  otkSeed?: string;
  /** session -> the user whose request this authority checked under its key (written at verify since h9-fix; at key issue before) */
  users: Record<string, string>;
  /** session -> the authorities its key was released to */
  released: Record<string, string[]>;
  /** session -> authority -> this authority's release request (resent as is) and transport key */
  releases: Record<string, Record<string, { envelope: string; transportSk: string }>>;
  /** session -> what this authority verified itself (and will approve, nothing else) */
  verified: Record<string, Verified>;
  /**
   * session -> the digest of the set S the session was first released or verified under here
   * (h15-red2 R1): another set is refused, so one key never pads two requests under two sets
   */
  sets?: Record<string, string>;
};

/** What an authority service needs. */
export type AuthorityServiceDeps = {
  keystore: Keystore;
  dir: string;
  /** the place's name (PL1) or id */
  place: string;
  /** the CredentialLedger, connected with this authority's account */
  ledger: CredentialLedger;
  wallet: Wallet;
  chainId: bigint;
  /**
   * Overrides of the other authorities' URLs: lower-case account -> URL (`--peers`). An authority
   * not in it is reached at the endpoint it announced on-chain.
   */
  peers?: Map<string, string>;
  peerRetry?: RetryPolicy;
  windowMs?: number;
  /**
   * The clock (unix ms; default Date.now) the freshness window, the pruning horizons, the reply
   * cache and the times this service writes (a session's, a verification's, its own requests') read:
   * tests move it instead of waiting on the wall clock
   */
  now?: () => number;
  /**
   * How often (ms) the service checks that the chain still holds its endpoint while the place lists
   * it, and announces it again when not: an authority removed from the place loses its endpoint
   * (`setPlace` deletes it) and, re-added, has none until it announces. 0 or absent: at start only.
   */
  announceMs?: number;
  /**
   * `/v1/mssa/key` requests per client address per minute (default {@link KEY_PER_MINUTE}): the
   * route's own quota, below the service's (s25-rtm: a key request of MAX_BITS costs about 150 ms
   * of CPU under the service lock and writes nothing, so the service's 600 a minute filled a core)
   */
  keyPerMinute?: number;
  /**
   * The document type that identifies a person at the place (default `IDENTITY_TYPE` of
   * mssa/registration, "passport"): a registration carries exactly one, and the nullifiers are
   * computed from its canonical form, whatever its position (h12-red N1, mssa.md §1.8). Only a
   * type of `IDENTITY_FORMS` (one with a canonical form): the service refuses to start otherwise
   */
  identityType?: string;
  log?: (line: string) => void;
};

/**
 * Default quota of `/v1/mssa/key` per client address per minute. A registration asks each authority
 * of S for one key, so a user needs a few; 60 a minute at MAX_BITS is at most about 9 s of CPU a
 * minute per address (a sixth of a core), where the service's general 600 allowed a whole core.
 */
export const KEY_PER_MINUTE = 60;

/** When a kept release request was made (ms; its envelope's time); 0 when it does not open (an old format). */
function releaseMadeAt(envelope: string): number {
  try {
    return openEnvelope(fromHex(envelope)).issuedAt;
  } catch {
    return 0;
  }
}

/** An MSSA place authority service. */
export class AuthorityService {
  /** Its data folder's lock (one process per folder: folder-lock.ts). */
  private readonly folder = new FolderHold("mssa authority");
  readonly audience: Uint8Array;
  readonly place: string;
  private rec: Record_;
  private agent: AuthorityAgent;
  private readonly ledgerAddress: string;
  private readonly journal: Journal;
  private readonly cache: ReplyCache;
  private readonly mutex = new Mutex();
  private readonly signer;
  private running?: RunningService;
  /** the URL it announces, and the timer that checks the chain still holds it */
  private url?: string;
  private timer?: NodeJS.Timeout;
  private announcing = false;
  private readonly placeKey: Uint8Array;
  private readonly electionKey?: Uint8Array;
  private readonly windowMs: number;
  private readonly now: () => number;

  /** @throws RegistrationError when the keystore holds no place key for the place (it is provisioned, not made) */
  constructor(private readonly d: AuthorityServiceDeps) {
    // an identity type without a canonical form would give one person many nullifiers (mssa.md §1.8)
    if (d.identityType !== undefined) checkIdentityType(d.identityType, "AuthorityService: identityType");
    this.now = d.now ?? Date.now;
    this.place = placeId(d.place);
    this.placeKey = loadPlaceKey(d.keystore, d.place);
    this.electionKey = loadElectionKey(d.keystore);
    this.ledgerAddress = String(d.ledger.target);
    // read here, written only once the folder is held ({@link loadRecord} at the start: s23-fxops):
    // a second service built on the folder of a running one must not write over its record
    const name = authorityRecord(d.place);
    this.rec = d.keystore.exists(name)
      ? (d.keystore.load(name) as Record_)
      : {
          place: this.place,
          channelSk: toHex(encodeScalar(randomScalar())),
          agent: new AuthorityAgent(d.wallet.address).toRecord(),
          otkSeed: toHex(randomBytes(32)),
          users: {},
          released: {},
          releases: {},
          verified: {},
        };
    this.agent = this.fromRecord(this.rec);
    this.audience = authorityAudience(d.chainId, this.ledgerAddress, d.wallet.address, d.place);
    this.journal = new Journal(path.join(d.dir, "journal"));
    this.windowMs = d.windowMs ?? DEFAULT_WINDOW_MS;
    this.cache = new ReplyCache(path.join(d.dir, "replies"), this.windowMs, this.now);
    this.signer = accountSigner(d.wallet);
    this.cache.rebindWith(this.signer);
  }

  /** The agent of a record, the record's fields from older builds filled in. */
  private fromRecord(rec: Record_): AuthorityAgent {
    rec.sets ??= {};
    for (const v of Object.values(rec.verified)) v.at ??= this.now();
    return AuthorityAgent.fromRecord(rec.agent, this.now());
  }

  /**
   * The record as it stands now that the folder is held (made from the one drawn at construction
   * if the folder has none): another service that served the folder, or a start that failed, may
   * have written it since the constructor read it, and this agent is written back whole.
   */
  private loadRecord(): void {
    const name = authorityRecord(this.d.place);
    if (!this.d.keystore.exists(name)) this.d.keystore.create(name, this.rec);
    this.rec = this.d.keystore.load(name) as Record_;
    this.agent = this.fromRecord(this.rec);
    // a record from before h9-fix: give it its seed; either way, forget stale unverified sessions
    const legacy = !this.rec.otkSeed || Object.values(this.rec.agent.sessions).some((x) => x.at === undefined);
    this.rec.otkSeed ??= toHex(randomBytes(32));
    if (this.prune() || legacy) this.save();
  }

  /**
   * The one-time key of a scoped session, `bits` long: HKDF-SHA256 of the authority's secret seed,
   * bound to the place, this authority, the session and the length. The same request again gets
   * the same key with nothing stored; a session is written only when it advances (a release or a
   * verification uses its key; h9-fix F9). The key is still used once: that state is written at
   * the step that consumes it ({@link AuthorityAgent.releaseKeyTo}, kept with the session then).
   */
  private otk(session: string, bits: number): Bits {
    const info = toBytes(`metatrust-mssa-otk|${this.place}|${this.me.toLowerCase()}|${session.toLowerCase()}|${bits}`);
    return Bits.fromBytes(hkdf(sha256, fromHex(this.rec.otkSeed!, 32), toBytes("metatrust-mssa-otk-v1"), info, Math.ceil(bits / 8)), bits);
  }

  /** The session's key to consume: the one kept (a key issued before h9-fix), else derived, and kept from now on. */
  private keyToUse(session: string, bits: number): Bits {
    return this.agent.adopt(session, this.agent.keptKey(session) ?? this.otk(session, bits), this.now());
  }

  /**
   * Forgets sessions keyed more than twice the freshness window ago whose key was never used or
   * released and that were not verified here (h9-red finding F9), and those whose key only went to
   * other authorities (h15-red2 R10); this authority's release requests of a session it did not
   * verify, made that long ago, and the set the session was bound to when nothing else keeps it
   * (session 16's final read); and the legacy user index.
   * @returns how many were forgotten
   */
  private prune(): number {
    const before = this.now() - 2 * this.windowMs;
    // this authority's own release requests for a session it did not verify, all made before the
    // horizon: its user's verify request was refused (a peer refused or did not answer, a key
    // differed, the check failed). They are useless by then (a peer refuses the carried user request
    // as too old, and the user's verify request is stale), and they kept the session and its set
    // for ever (session 16's final read: a flood of refused verify requests grew the record)
    // verified sessions whose consent can no longer be proposed nor its proposal approved (F3)
    let stale = 0;
    for (const [sid, v] of Object.entries(this.rec.verified))
      if (v.at !== undefined && v.at < this.now() - 2 * CONSENT_TTL_MS) {
        delete this.rec.verified[sid];
        ++stale;
      }
    for (const sid of Object.keys(this.rec.releases))
      if (!this.rec.verified[sid] && Object.values(this.rec.releases[sid]).every((r) => releaseMadeAt(r.envelope) < before))
        delete this.rec.releases[sid];
    const keep = (sid: string) => !!this.rec.verified[sid] || !!this.rec.releases[sid];
    const gone = this.agent.pruneUnused(before, keep);
    // released to peers only, for a user request that never completed here (h15-red2 R10: a peer
    // can sign requests as accounts it makes up, so the carried request alone bounds nothing)
    for (const sid of this.agent.pruneReleasedToOthers(before, this.me, keep)) {
      delete this.rec.released[sid];
      gone.push(sid);
    }
    for (const sid of Object.keys(this.rec.users)) if (!this.agent.keptKey(sid)) delete this.rec.users[sid];
    for (const sid of Object.keys(this.rec.sets ?? {})) if (!this.agent.keptKey(sid) && !keep(sid)) delete this.rec.sets![sid];
    return gone.length + stale;
  }

  private log(s: string): void {
    (this.d.log ?? ((x: string) => process.stdout.write(x + "\n")))(s);
  }

  private get me(): string {
    return this.d.wallet.address;
  }

  private get channelKey() {
    return mulBase(decodeScalar(fromHex(this.rec.channelSk, 32)));
  }

  /** Writes the agent and the record (atomically, through the keystore), stale unverified sessions pruned. */
  private save(): void {
    this.prune();
    this.rec.agent = this.agent.toRecord();
    this.d.keystore.update(authorityRecord(this.d.place), this.rec);
  }

  /** The reply goes to the journal, then the state is written: a crash in between is recovered by caching the reply. */
  private commit(env: ReturnType<typeof openEnvelope>, raw: Uint8Array, reply: Uint8Array): Uint8Array {
    const id = `reply-${toHex(env.requestId).slice(2)}`;
    this.journal.put(id, "reply", { requestId: toHex(env.requestId), request: toHex(raw), reply: toHex(reply) });
    this.save();
    faultPoint("authority:after-state");
    this.cache.store(env.requestId, raw, reply);
    this.journal.done(id);
    return reply;
  }

  private reply(req: ReturnType<typeof openEnvelope>, raw: Uint8Array, body: Uint8Array): Uint8Array {
    return sealReply(req, raw, this.audience, body, this.signer);
  }

  /** The place on-chain: its authorities (the first verifies) and k. */
  private async placeOnChain(): Promise<{ authorities: string[]; k: number }> {
    const p = await this.d.ledger.place(this.place);
    if (Number(p.threshold) === 0) throw new RegistrationError("unknown-session", `the place ${this.place} is not on-chain`);
    const authorities = p.authorities.map((a) => getAddress(a));
    if (!authorities.includes(getAddress(this.me)))
      throw new RegistrationError("unknown-session", `${this.me} is not an authority of the place ${this.place} on-chain`);
    return { authorities, k: Number(p.threshold) };
  }

  /** The signed public description (GET /v1/info). */
  async info(): Promise<Record<string, unknown>> {
    const channelKey = toHex(this.channelKey.toBytes(true));
    const digest = authorityInfoDigest(this.d.chainId, this.ledgerAddress, this.place, this.me, channelKey);
    const sig = toHex(this.signer.scheme === Scheme.Ecdsa ? this.signer.sign(digest) : new Uint8Array());
    return {
      service: "mssa-authority",
      place: this.place,
      account: this.me,
      channelKey,
      ledger: this.ledgerAddress,
      chainId: this.d.chainId.toString(),
      sig,
    };
  }

  // ---------------------------------------------------------------- Step 1: one-time keys

  /** POST /v1/mssa/key */
  async key(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const m = decodeKeyRequest(env.body);
    verifyEnvelope(env, { kind: Kind.Request, route: Route.MssaKey, audience: this.audience, sender: fromAccount(m.user) });
    // nothing is written for a key request (h9-red finding F9): the key is derived again for a
    // retry, so no reply cache either; the freshness window still refuses an old request
    const now = this.now();
    if (Math.abs(now - env.issuedAt) > this.windowMs)
      throw new EnvelopeError("STALE", `request issued at ${env.issuedAt}, outside the ${this.windowMs} ms window around ${now}`);
    return this.mutex.run(async () => {
      await this.placeOnChain();
      const sid = scopedSession(m.session, m.user);
      // spent (burnt, or used by this authority's own check) or verified here: never again. A release
      // to another authority does not spend it for the user (that authority checks her request).
      if (this.agent.used(sid) || this.agent.releasedTo(sid).includes(this.me.toLowerCase()) || this.rec.verified[sid])
        throw new RegistrationError("key-reuse", `authority ${this.me}: the key of session ${m.session} was already used or burnt`);
      const key = this.agent.keptKey(sid) ?? this.otk(sid, m.bits);
      // SIMULATED quantum channel (decoy photons); a detected eavesdropper burns the key (written)
      const t = transmit(key, DEFAULT_CHANNEL);
      if (!t.accepted) {
        this.agent.adopt(sid, key, this.now());
        this.agent.burn(sid);
        this.save();
        throw new RegistrationError("eavesdropping", EavesdroppingDetectedError.of(t, DEFAULT_CHANNEL.threshold).message);
      }
      return this.reply(env, raw, sealKey("KEY", m.transport, m.session, this.me, t.received));
    });
  }

  /** The other authority of the place that signed an envelope. @throws EnvelopeError(BAD_SIGNATURE) otherwise */
  private async peerSender(env: ReturnType<typeof openEnvelope>, route: number, authorities: string[]): Promise<string> {
    const who = signerOf(env);
    if (!authorities.includes(who) || who === getAddress(this.me))
      throw new EnvelopeError("BAD_SIGNATURE", `signed by ${who}, not by another authority of the place ${this.place}`);
    verifyEnvelope(env, { kind: Kind.Request, route, audience: this.audience, sender: fromAccount(who) });
    return who;
  }

  /** POST /v1/mssa/release */
  async release(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const m = decodeReleaseRequest(env.body);
    const { authorities } = await this.placeOnChain();
    const to = await this.peerSender(env, Route.MssaRelease, authorities);
    return this.cache.once(env.requestId, env.issuedAt, raw, () =>
      this.mutex.run(async () => {
        // only a session a user asked `to` to verify, at the length her request needs (h15-red2 R2,
        // R10): checked before anything is derived or written, and inside the reply cache, so that a
        // retry of a release already answered gets its stored reply even once the user's request is
        // older than the check allows (the key is released once per recipient: refusing the retry
        // would strand the session; session 15's final read)
        const { bits, set } = await this.releasable(m, to);
        this.keyToUse(m.session, bits);
        const key = this.agent.releaseKeyTo(m.session, to);
        this.rec.released[m.session] = [...([] as string[]).concat(this.rec.released[m.session] ?? []), to];
        this.rec.sets![m.session] = set;
        return this.commit(env, raw, this.reply(env, raw, sealKey("RELEASE", m.transport, m.session, this.me, key)));
      }),
    );
  }

  /**
   * The key length of a release `to` asks for: the release must carry the user's signed verify
   * request to `to` for the session it names, and the length is that request's 2 |En| (h15-red2
   * R2: a peer chose the length, and the spoiled key was kept for the user's own check; R10: a
   * peer's release of an invented session was derived, kept and written for ever).
   * The request's set S must hold this authority and `to`, and be one {@link checkSet} accepts, and
   * the session must not be bound to another set here (h15-red2 R1: keys stay inside S).
   * @returns the key's length and the digest of S (the session is bound to it when the key goes)
   * @throws EnvelopeError / RegistrationError naming what is wrong; nothing is written
   */
  private async releasable(m: { session: string; request: Uint8Array }, to: string): Promise<{ bits: number; set: string }> {
    const inner = openEnvelope(m.request);
    const u = decodeVerifyRequest(inner.body);
    verifyEnvelope(inner, {
      kind: Kind.Request,
      route: Route.MssaVerify,
      audience: authorityAudience(this.d.chainId, this.ledgerAddress, to, this.d.place),
      sender: fromAccount(u.user),
    });
    // no older than the prune horizon, and no later than the freshness window allows any request:
    // a session forgotten there cannot be released again with it (a request dated ahead would
    // outlive the horizon by as much)
    const now = this.now();
    if (now - inner.issuedAt > 2 * this.windowMs || inner.issuedAt - now > this.windowMs)
      throw new EnvelopeError(
        "STALE",
        `release: the user's verify request was issued at ${inner.issuedAt}, outside [${now - 2 * this.windowMs}, ${now + this.windowMs}]`,
      );
    if (scopedSession(u.session, u.user).toLowerCase() !== m.session.toLowerCase())
      throw refuse(`release: the user's verify request names session ${u.session} of ${u.user}, not the scoped session ${m.session}`);
    if (!u.set.includes(getAddress(to))) throw refuse(`release: ${to} is not in the set the user's verify request names`);
    const set = await this.checkSet(u.set, "release");
    this.checkBinding(m.session, set, "release");
    return { bits: 2 * u.En.length, set };
  }

  /**
   * Checks a set S a user named (h15-red2 R1): this authority is in it, every member is an
   * authority of the place and sits in the election (`isAuthority`: an approval of anyone else
   * would not count at k, so it is not handed keys or documents), and it has at least k members.
   * Read from the chain; nothing is written.
   * @returns the digest of S (keccak256 of its lower-case addresses, sorted)
   * @throws RegistrationError naming the flag-like field ("the set") and what is wrong
   */
  private async checkSet(set: readonly string[], step: string): Promise<string> {
    const { authorities, k } = await this.placeOnChain();
    if (!set.includes(getAddress(this.me))) throw refuse(`${step}: the set the user named does not include this authority ${this.me}`);
    if (set.length < k) throw refuse(`${step}: the set the user named has ${set.length} authorities, fewer than the place's k = ${k}`);
    const outside = set.filter((a) => !authorities.includes(getAddress(a)));
    if (outside.length) throw refuse(`${step}: the set the user named holds ${outside.join(", ")}, not an authority of the place`);
    const el = AuthorityElection__factory.connect(await this.d.ledger.election(), this.d.ledger.runner);
    for (const a of set)
      if (!(await el.isAuthority(a))) throw refuse(`${step}: the set the user named holds ${a}, which does not sit in the election`);
    return setDigest(set);
  }

  /** Refuses a session already bound here to another set than `set` (a digest). Nothing is written. */
  private checkBinding(session: string, set: string, step: string): void {
    const bound = this.rec.sets![session];
    if (bound && bound !== set)
      throw new RegistrationError(
        "key-reuse",
        `${step}: session ${session} went here under another set of authorities: a new set needs a new session (its keys pad one request)`,
      );
  }

  // ---------------------------------------------------------------- Steps 4-9: every authority checks

  /**
   * Where another authority of the place answers: its `peers` override, else the endpoint it
   * announced on-chain (read each time, so a peer that moved is found again), checked (endpoint.ts).
   * @throws RegistrationError when neither names one
   */
  private async peerUrl(authority: string, step: string): Promise<string> {
    const given = this.d.peers?.get(authority.toLowerCase());
    if (given) return given;
    const url = await this.d.ledger.authorityEndpoint(this.place, authority);
    if (!url)
      throw refuse(
        `${step}: the place authority ${authority} has announced no endpoint on-chain (is its \`mssa:serve authority\` running?) and --peers names none`,
      );
    // the peer's choice: checked before this authority fetches it (endpoint.ts)
    try {
      return await checkEndpoint(url, `${step}: the endpoint the place authority ${authority} announced`, this.d.chainId);
    } catch (e) {
      if (e instanceof EndpointError) throw refuse(e.message);
      throw e;
    }
  }

  /**
   * This authority's release request to `authority` for a session: the one kept (a retry resends the
   * same bytes, and the peer's reply cache answers them), else a new one, kept (the caller writes it).
   * @returns the request and whether it is new
   */
  private releaseRequest(
    session: string,
    authority: string,
    userRequest: Uint8Array,
  ): { r: { envelope: string; transportSk: string }; made: boolean } {
    const byAuthority = (this.rec.releases[session] ??= {});
    let r = byAuthority[authority];
    const made = !r;
    if (!r) {
      const t = randomScalar();
      const env = sealEnvelope(
        {
          kind: Kind.Request,
          route: Route.MssaRelease,
          audience: authorityAudience(this.d.chainId, this.ledgerAddress, authority, this.d.place),
          session: freshId(),
          requestId: freshId(),
          issuedAt: this.now(),
          inReplyTo: new Uint8Array(32),
          body: encodeReleaseRequest({ session, transport: mulBase(t), request: userRequest }),
        },
        this.signer,
      );
      r = byAuthority[authority] = { envelope: toHex(env), transportSk: toHex(encodeScalar(t)) };
    }
    return { r, made };
  }

  /** Sends a kept release request and opens the key it brings. Writes nothing. */
  private async collect(session: string, authority: string, r: { envelope: string; transportSk: string }): Promise<Bits> {
    const url = await this.peerUrl(authority, "verify");
    const env = fromHex(r.envelope);
    let raw: Uint8Array;
    try {
      raw = await postEnvelope(url, "/v1/mssa/release", env, this.d.peerRetry);
    } catch (e) {
      // the user's client drops the peer named here (h15-red2 R1): unreachable stays a 5xx (retryable)
      const why = (e as Error).message.split("\n")[0];
      if (e instanceof ServiceError && (e.status === 0 || e.status >= 500))
        throw new ServiceError(e.code, e.status, `verify: peer ${authority} gave no key: ${why}`);
      throw refuse(`verify: peer ${authority} refused its key: ${why}`);
    }
    const reply = openEnvelope(raw);
    verifyEnvelope(reply, {
      kind: Kind.Reply,
      route: Route.MssaRelease,
      audience: authorityAudience(this.d.chainId, this.ledgerAddress, authority, this.d.place),
      sender: fromAccount(authority),
      request: env,
    });
    return openKey("RELEASE", decodeScalar(fromHex(r.transportSk, 32)), session, authority, reply.body);
  }

  /** POST /v1/mssa/verify: every member of the user's set S runs the check itself (h7-audit finding M4, h15-red2 R1). */
  async verify(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const m = decodeVerifyRequest(env.body);
    verifyEnvelope(env, { kind: Kind.Request, route: Route.MssaVerify, audience: this.audience, sender: fromAccount(m.user) });
    const sid = scopedSession(m.session, m.user);
    return this.cache.once(env.requestId, env.issuedAt, raw, async () => {
      // under the lock: the checks, then the release requests to the other members of S, kept
      const { docs, identity, asks } = await this.mutex.run(async () => {
        if (this.rec.verified[sid]) throw refuse(`verify: session ${m.session} was already verified here`);
        // the set S the user named (h15-red2 R1): checked, and the session bound to it, before
        // anything is asked of a peer or written
        const set = await this.checkSet(m.set, "verify");
        this.checkBinding(sid, set, "verify");
        const docs = openDocs(decodeScalar(fromHex(this.rec.channelSk, 32)), m);
        // the identity document by its type, not its position (h12-red N1), in its canonical form
        // (mssa.md §1.8: one spelling per document); refused before any key is spent
        const identity = identityDocument(docs, this.d.identityType);
        const fresh = !this.rec.sets![sid];
        this.rec.sets![sid] = set;
        const asks = m.set.filter((a) => a !== getAddress(this.me)).map((a) => ({ a, ...this.releaseRequest(sid, a, raw) }));
        if (asks.some((x) => x.made) || (fresh && asks.length)) this.save();
        return { docs, identity, asks };
      });
      // the others' keys, without the lock: a peer verifying the same user's session at the same time
      // asks this authority for its key meanwhile (both used to wait on each other's lock until their
      // peer timeouts). A peer that is down leaves this authority's own key unused for the retry
      const others = new Map<string, Bits>();
      for (const x of asks) others.set(x.a, await this.collect(sid, x.a, x.r));
      return this.mutex.run(async () => {
        // a concurrent request of this session finished first
        if (this.rec.verified[sid]) throw refuse(`verify: session ${m.session} was already verified here`);
        // the keys are as long as the credential, En half of it (Eq. 14)
        const bits = 2 * m.En.length;
        // each key is the one the user received from its authority: a release that differs is its
        // sender's fault, named, not XORed in (the keys went either way: spent, as for a failed check)
        for (const [i, a] of m.set.entries()) {
          const k = others.get(a);
          if (k && !equalBytes(keyDigest(k, sid, a), m.keyDigests[i])) {
            this.save();
            throw new RegistrationError(
              "credential-mismatch",
              `verify: peer ${a} released another key than the one the user received from it`,
            );
          }
        }
        this.keyToUse(sid, bits);
        this.rec.users[sid] = getAddress(m.user);
        const own = this.agent.releaseKeyTo(sid, this.me);
        const keys = m.set.map((a) => others.get(a) ?? own);
        // Steps 5-7: En travels as photons with decoys (SIMULATED)
        const t = transmit(m.En, DEFAULT_CHANNEL);
        if (!t.accepted) {
          this.save();
          throw new RegistrationError("eavesdropping", EavesdroppingDetectedError.of(t, DEFAULT_CHANNEL.threshold).message);
        }
        const req = { session: m.session, place: this.place, user: getAddress(m.user), En: t.received, U12: m.U12, tag: m.tag };
        const verdict = checkRequest(req, docs, keys);
        if (!verdict.accepted || !verdict.tagOk) {
          this.save(); // the keys are spent either way
          throw new RegistrationError(
            verdict.accepted ? "bad-tag" : "credential-mismatch",
            verdict.accepted ? "verify: the request tag does not verify" : "verify: S1 or S2 is not zero: the credential does not match",
          );
        }
        const commitment = commitmentOf(this.place, req.user, m.U12, m.salt);
        const nullifier = identityNullifier(this.placeKey, this.place, identity);
        const holder = await this.d.ledger.nullifierHolder(this.place, nullifier);
        if (!/^0x0{64}$/.test(holder)) {
          this.save();
          // names no registration id (s24-fxs, the s24-rts F1 class): the id on-chain names the
          // other account, and the reply is plain on the wire
          throw new RegistrationError(
            "credential-mismatch",
            "verify: this identity already holds registration at the place (one per person)",
          );
        }
        let elector = ZeroHash;
        if (m.elector) {
          if (!this.electionKey) {
            this.save();
            throw refuse(
              `verify: this authority holds no election key (${ELECTION_KEY_RECORD}), so it makes no electors: register without --elector, or ask the operator to provision it (mssa:serve --election-key <file>)`,
            );
          }
          // of the typed identity document, as the place nullifier (h12-red N1: not the last line)
          elector = electorNullifier(this.electionKey, identity);
          // one person, one elector (h11-red2 M1): refused here first, as the election would
          const el = AuthorityElection__factory.connect(await this.d.ledger.election(), this.d.ledger.runner);
          const current = await el.electorOf(elector);
          if (current !== ZeroAddress && getAddress(current) !== req.user) {
            this.save();
            throw new RegistrationError(
              "ledger-refused",
              // names not the other account: it would link two accounts of one person on the wire
              "verify: this identity is an elector already, through another account: register without --elector",
            );
          }
        }
        const id = await this.d.ledger.registrationId(this.place, req.user, commitment);
        const chainAt = (await this.d.ledger.runner!.provider!.getBlock("latest"))!.timestamp;
        this.rec.verified[sid] = {
          user: req.user,
          commitment,
          salt: m.salt,
          nullifier,
          id,
          electorNullifier: elector,
          set: m.set,
          at: this.now(),
          chainAt,
        };
        this.log(`session ${m.session.slice(0, 10)}…: verified for ${req.user}${m.elector ? " (elector)" : ""}`);
        return this.commit(
          env,
          raw,
          this.reply(env, raw, encodeVerifyReply({ commitment, salt: m.salt, nullifier, id, electorNullifier: elector })),
        );
      });
    });
  }

  /**
   * Approves registration `id` on-chain if it is the one this authority verified for `session`:
   * the same id (place, user, commitment), the same nullifier and the same election nullifier.
   * Idempotent: nothing is sent when it is no longer pending or this authority approved it already.
   * @throws RegistrationError when this authority did not verify the session, or the registration
   *   differs; the contract's revert when the ledger refuses the approval (e.g. the election's
   *   ElectorNullifierTaken: another account became her elector meanwhile; nothing changed)
   */
  private async approveChecked(session: string, id: string): Promise<void> {
    const v = this.rec.verified[session];
    if (!v) throw refuse(`approve: this authority did not verify session ${session} itself (the user sends it the request and documents)`);
    if (id.toLowerCase() !== v.id.toLowerCase())
      throw refuse(`approve: registration ${id} is not the one this authority verified for session ${session} (${v.id})`);
    const reg = await this.d.ledger.registration(id);
    if (Number(reg.status) === 0) throw refuse(`approve: registration ${id} is not on-chain`);
    // a consent proposed long after its session was verified is a withheld one (s20-redm F3)
    if (v.chainAt !== undefined && Number(reg.proposedAt) > v.chainAt + CONSENT_TTL_MS / 1000)
      throw refuse(
        `approve: registration ${id} was proposed more than ${CONSENT_TTL_MS / 86_400_000} days after session ${session} was verified here`,
      );
    if (reg.nullifier.toLowerCase() !== v.nullifier.toLowerCase())
      throw refuse(`approve: registration ${id} carries nullifier ${reg.nullifier}, not the one this authority computed (${v.nullifier})`);
    const elector = v.electorNullifier ?? ZeroHash;
    if (reg.electorNullifier.toLowerCase() !== elector.toLowerCase())
      throw refuse(
        `approve: registration ${id} carries election nullifier ${reg.electorNullifier}, not the one this authority computed (${elector})`,
      );
    if (Number(reg.status) !== 1) return;
    // her signed deadline bounds the grant too (s23-rtm F5): the ledger refuses it after, said here first
    const now = (await this.d.ledger.runner!.provider!.getBlock("latest"))!.timestamp;
    if (now >= Number(reg.consentDeadline))
      throw refuse(
        `approve: registration ${id}'s consent runs out at ${reg.consentDeadline} (the deadline the user signed) and the chain is at ${now}: she consents again`,
      );
    if (!(await this.d.ledger.approvedBy(id, this.me))) {
      // a refusal (e.g. the election's ElectorNullifierTaken) is the server's 422 CHAIN_REFUSED
      await minedReceipt(this.d.ledger.approve(id));
      this.log(`registration ${id.slice(0, 10)}…: approved`);
      return;
    }
    // approved already, still pending with k approvals: some came while their authority was out of
    // its seat (ApprovalsStale). Approving again re-runs the check (h15-red2 R7); sent only when the
    // chain says it grants now, so a retry changes nothing
    if (Number(reg.approvals) < (await this.placeOnChain()).k) return;
    try {
      await this.d.ledger.approve.staticCall(id);
    } catch {
      return;
    }
    await minedReceipt(this.d.ledger.approve(id));
    this.log(`registration ${id.slice(0, 10)}…: approved again, granted`);
  }

  /** POST /v1/mssa/propose */
  async propose(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const m = decodeProposeRequest(env.body);
    // the session is the signer's: another account's proposal names another (unverified) session
    const sid = scopedSession(m.session, signerOf(env));
    const v = this.rec.verified[sid];
    if (!v) throw refuse(`propose: session ${m.session} was not verified here`);
    verifyEnvelope(env, { kind: Kind.Request, route: Route.MssaPropose, audience: this.audience, sender: fromAccount(v.user) });
    return this.cache.once(env.requestId, env.issuedAt, raw, async () => {
      // under the lock: the consent's check, the proposal and this authority's own approval. They
      // write nothing here: the chain is their record (a retry, or a retry after a crash, finds the
      // proposal and the approval there and sends neither again), and the reply cache keeps the reply
      const authorities = await this.mutex.run(async () => {
        const { authorities } = await this.placeOnChain();
        const { domain, types } = await registrationTypedData(this.d.ledger);
        const electorNullifier = v.electorNullifier ?? ZeroHash;
        const value = {
          place: this.place,
          user: v.user,
          commitment: v.commitment,
          nullifier: v.nullifier,
          electorNullifier,
          session: m.session,
          nonce: await this.d.ledger.consentNonce(v.user, this.place),
          deadline: m.deadline,
        };
        if (getAddress(verifyTypedData(domain, types, value, m.signature)) !== getAddress(v.user))
          throw new EnvelopeError("BAD_SIGNATURE", `propose: the consent is not signed by ${v.user}`);
        // idempotent by the chain: a retry after a crash finds its proposal there; another authority
        // that proposed it first (the consent is public once in the mempool) leaves this one to approve
        if (Number((await this.d.ledger.registration(v.id)).status) === 0) {
          const now = (await this.d.ledger.runner!.provider!.getBlock("latest"))!.timestamp;
          if (v.chainAt !== undefined && now > v.chainAt + CONSENT_TTL_MS / 1000)
            throw refuse(
              `propose: session ${m.session} was verified here more than ${CONSENT_TTL_MS / 86_400_000} days ago: verify afresh`,
            );
          // the deadline the user signed: the ledger would refuse it (ConsentExpired); the next block is later than now
          if (BigInt(now) >= m.deadline)
            throw new RegistrationError(
              "ledger-refused",
              `propose: the consent of ${v.user} to session ${m.session} expired at ${m.deadline} (chain time ${now}): sign afresh`,
            );
          try {
            await minedReceipt(
              this.d.ledger.propose(this.place, v.user, v.commitment, v.nullifier, electorNullifier, m.session, m.deadline, m.signature),
            );
            this.log(`registration ${v.id.slice(0, 10)}…: proposed`);
          } catch (e) {
            // proposed meanwhile by another authority: it is approved below. Otherwise the ledger's
            // refusal (AlreadyRegistered, PendingExists, DuplicateIdentity...) is the user's to
            // hear as a 422, not a 500 her client would retry (h9-red)
            if (Number((await this.d.ledger.registration(v.id)).status) === 0) {
              const refusal = ledgerRefusal(this.d.ledger, e);
              if (!refusal) throw e;
              throw new RegistrationError("ledger-refused", `propose: the ledger refused the registration: ${refusal}`);
            }
          }
        }
        await this.approveChecked(sid, v.id);
        faultPoint("authority:after-propose");
        return authorities;
      });
      // the others' approvals, without the lock (s25-rtm F2): a peer that holds its reply open (or
      // is cut off) delayed every route of this authority for its whole peer timeout. Nothing here
      // writes local state: each peer's approval is on-chain, read again before it is asked, and a
      // peer's own approve is idempotent, so two proposals of one session asking at once, or a
      // retry, approve once
      const missed: unknown[] = [];
      // the other members of the set the user named (they verified the session; h15-red2 R1), or
      // every authority of the place for a session verified before sets existed
      for (const a of v.set ?? authorities) {
        if (getAddress(a) === getAddress(this.me) || !authorities.includes(getAddress(a))) continue;
        const reg = await this.d.ledger.registration(v.id);
        // approvals of authorities that left the place count on-chain but not at k (ApprovalsStale):
        // ask on while the registration is pending
        if (Number(reg.status) !== 1) break;
        if (await this.d.ledger.approvedBy(v.id, a)) continue;
        // one member that does not answer or refuses is passed by: the others may make k
        try {
          await this.askApproval(a, sid, v.id);
        } catch (e) {
          missed.push(e);
          this.log(`registration ${v.id.slice(0, 10)}…: no approval from ${a} (${(e as Error).message.split("\n")[0]})`);
        }
      }
      const outcome = await this.outcome(v.id);
      // not granted: the first failure is the user's to hear (her client retries, or resumes later)
      if (!outcome.granted && missed.length) throw missed[0];
      return this.reply(env, raw, encodeOutcome(outcome));
    });
  }

  private async askApproval(authority: string, session: string, id: string): Promise<Outcome> {
    const url = await this.peerUrl(authority, "propose");
    const audience = authorityAudience(this.d.chainId, this.ledgerAddress, authority, this.d.place);
    const env = sealEnvelope(
      {
        kind: Kind.Request,
        route: Route.MssaApprove,
        audience,
        session: freshId(),
        requestId: freshId(),
        issuedAt: this.now(),
        inReplyTo: new Uint8Array(32),
        body: encodeApproveRequest({ session, id }),
      },
      this.signer,
    );
    const reply = openEnvelope(await postEnvelope(url, "/v1/mssa/approve", env, this.d.peerRetry));
    verifyEnvelope(reply, { kind: Kind.Reply, route: Route.MssaApprove, audience, sender: fromAccount(authority), request: env });
    return decodeOutcome(reply.body);
  }

  private async outcome(id: string): Promise<Outcome> {
    const r = await this.d.ledger.registration(id);
    return { id, approvals: Number(r.approvals), granted: Number(r.status) === 2 };
  }

  /** POST /v1/mssa/approve: only the registration this authority verified for the session itself. */
  async approve(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const m = decodeApproveRequest(env.body);
    const { authorities } = await this.placeOnChain();
    await this.peerSender(env, Route.MssaApprove, authorities);
    return this.cache.once(env.requestId, env.issuedAt, raw, () =>
      this.mutex.run(async () => {
        await this.approveChecked(m.session, m.id);
        faultPoint("authority:after-approve");
        return this.reply(env, raw, encodeOutcome(await this.outcome(m.id)));
      }),
    );
  }

  // ---------------------------------------------------------------- lifecycle

  /** Caches the replies a crash left in the journal (their state was written). */
  recover(): number {
    let n = 0;
    for (const i of this.journal.pending()) {
      const d = i.data as Record<string, string>;
      if (i.kind === "reply") this.cache.store(fromHex(d.requestId), fromHex(d.request), fromHex(d.reply));
      this.journal.done(i.id);
      n++;
    }
    return n;
  }

  /**
   * Announces `url` as this authority's endpoint for the place on-chain, unless the chain already
   * holds it (a restart at the same address sends nothing).
   * @returns whether a transaction was sent
   */
  async announce(url: string): Promise<boolean> {
    if ((await this.d.ledger.authorityEndpoint(this.place, this.me)) === url) return false;
    await minedReceipt(this.d.ledger.setAuthorityEndpoint(this.place, url));
    return true;
  }

  /**
   * Announces the endpoint again when the place lists this authority and the chain does not hold
   * it (it was removed from the place, which deleted its endpoint, and added back). Nothing is sent
   * while it is not an authority of the place, nor when the chain holds the endpoint.
   * The membership and the endpoint are read at one block: read at two, a removal mined between
   * them looked like "a member without its endpoint" and sent a transaction the ledger refuses
   * (NotPlaceAuthority; session 13's flake of mssa-verifier-left). A removal mined after that block
   * and before the send still refuses the send: then, if the place no longer lists this authority,
   * the refusal is the removal's, nothing is reported, and the next check sees it out (on a public
   * chain the refused transaction may have been mined, reverted: its gas is the only effect).
   * @returns whether a transaction was sent
   */
  async reannounce(): Promise<boolean> {
    if (!this.url || this.announcing) return false;
    this.announcing = true;
    try {
      const listed = async (blockTag: number | "latest") =>
        (await this.d.ledger.place(this.place, { blockTag })).authorities.some((a) => getAddress(a) === getAddress(this.me));
      const block = await this.d.ledger.runner!.provider!.getBlockNumber();
      const [member, endpoint] = await Promise.all([
        listed(block),
        this.d.ledger.authorityEndpoint(this.place, this.me, { blockTag: block }),
      ]);
      if (!member || endpoint === this.url) return false;
      try {
        await minedReceipt(this.d.ledger.setAuthorityEndpoint(this.place, this.url));
      } catch (e) {
        if (!(await listed("latest"))) return false; // removed since the block read: the refusal is the removal's
        throw e;
      }
      this.log(`place ${this.d.place}: endpoint ${this.url} announced on-chain again (back in the place)`);
      return true;
    } finally {
      this.announcing = false;
    }
  }

  /**
   * Recovers, listens, and announces the endpoint.
   * @param publicUrl - the URL users and the other authorities reach it at (default: the bound URL)
   */
  /** Takes the lock of its data folder (one process per folder: folder-lock.ts), then {@link startLocked}; the lock is released by stop, or at once if the start fails. */
  async start(cfg: Omit<ServiceConfig, "name">, publicUrl?: string): Promise<RunningService> {
    return this.folder.start(this.d.dir, () => this.startLocked(cfg, publicUrl));
  }

  private async startLocked(cfg: Omit<ServiceConfig, "name">, publicUrl?: string): Promise<RunningService> {
    this.loadRecord();
    const n = this.recover();
    if (n) this.log(`recovered: ${n} repl${n === 1 ? "y" : "ies"} cached`);
    this.running = await startService(
      { ...cfg, name: `mssa-authority:${this.me}` },
      [
        // its own quota per address (s25-rtm, key-request CPU): a 429 the client retries later
        { path: "/v1/mssa/key", handle: (b) => this.key(b), rateLimit: { max: this.d.keyPerMinute ?? KEY_PER_MINUTE, windowMs: 60_000 } },
        { path: "/v1/mssa/release", handle: (b) => this.release(b) },
        { path: "/v1/mssa/verify", handle: (b) => this.verify(b) },
        { path: "/v1/mssa/propose", handle: (b) => this.propose(b) },
        { path: "/v1/mssa/approve", handle: (b) => this.approve(b) },
      ],
      () => this.info(),
    );
    const url = publicUrl ?? this.running.url;
    try {
      if (await this.announce(url)) this.log(`place ${this.d.place}: endpoint ${url} announced on-chain`);
    } catch (e) {
      await this.running.close();
      throw e;
    }
    this.url = url;
    if (this.d.announceMs)
      this.timer = setInterval(
        () => void this.reannounce().catch((e) => this.log(`endpoint check failed (retried): ${(e as Error).message.split("\n")[0]}`)),
        this.d.announceMs,
      );
    return this.running;
  }

  async stop(): Promise<void> {
    await this.folder.stop(async () => {
      if (this.timer) clearInterval(this.timer);
      await this.running?.close();
    });
  }
}
