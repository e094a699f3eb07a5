/**
 * One MSSA place authority as a service (issue 19): a thin adapter around the pure AuthorityAgent
 * (offchain/mssa/registration.ts), adding the network, persistence and the chain, so that a
 * registration collects its keys and its k approvals from authorities on separate machines.
 *
 * Routes (envelopes; wire: ./wire.ts):
 * - `POST /v1/mssa/key` (KeyRequest, signed by the user's account): Step 1, a fresh one-time key
 *   for the session, sent over the SIMULATED quantum channel and sealed to the user's transport key;
 * - `POST /v1/mssa/release` (ReleaseRequest, signed by the place's verifying authority): Step 4,
 *   the verifier's copy of this authority's key of the session (once: keys are one-time pads);
 * - `POST /v1/mssa/verify` (VerifyRequest, signed by the user; verifier only): Steps 4-9, the keys
 *   collected from the other authorities, the request checked against the sealed documents, the
 *   commitment, its salt and the identity nullifier back;
 * - `POST /v1/mssa/propose` (ProposeRequest, signed by the user; verifier only): the proposal
 *   on-chain with the user's EIP-712 consent, then the other authorities' approvals over the network;
 * - `POST /v1/mssa/approve` (ApproveRequest, signed by the verifier): this authority approves a
 *   pending registration of a session whose key it released to that verifier, for that user;
 * - `GET /v1/info`: the place, the account and the channel key the documents are sealed to, signed.
 * The verifier is the place's first authority on-chain (as in `mssa:register`).
 *
 * Durability. The agent's sessions (its one-time keys, sealed in the keystore), the users they were
 * issued to, what was released to whom and what was verified are written before a reply leaves;
 * a reply that changed state is recorded in the journal before the state is written and cached on
 * recovery, so a retry after a crash gets it instead of a refused second use of a one-time key. The
 * verifier keeps its release requests, so its retry resends the same bytes and the other authority
 * answers from its reply cache. Proposal and approvals are idempotent by the chain (a registration
 * already proposed is not proposed again; an approval already given is not sent again).
 */
import path from "path";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { getAddress, verifyTypedData, type Wallet } from "ethers";
import type { CredentialLedger } from "../../../typechain-types";
import { fromHex, toBytes, toHex } from "../../crypto/bytes";
import { decodeScalar, encodeScalar, mulBase, randomScalar } from "../../crypto/group";
import type { Keystore } from "../../storage/keystore";
import { Bits } from "../../mssa/bits";
import { commitment as commitmentOf } from "../../mssa/credential";
import { AuthorityAgent, RegistrationError, checkRequest, fresh32, identityNullifier, placeId } from "../../mssa/registration";
import { DEFAULT_CHANNEL, EavesdroppingDetectedError, transmit } from "../../mssa/quantum";
import { registrationTypedData } from "../../mssa/ledger";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope, sealReply, verifyEnvelope, EnvelopeError } from "../envelope";
import { ReplyCache, DEFAULT_WINDOW_MS } from "../replies";
import { Journal, Mutex } from "../journal";
import { faultPoint } from "../faults";
import { accountSigner, fromAccount, freshId } from "../common";
import { postEnvelope, type RetryPolicy } from "../client";
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
  openDocs,
  openKey,
  sealKey,
  type Outcome,
} from "./wire";

/** The keystore record of an authority service for a place. */
export const authorityRecord = (place: string) => `mssa-authority-${placeId(place).slice(2, 18)}`;
/** The place authorities' shared nullifier key (the same record `mssa:register` uses). */
export const placeKeyRecord = (place: string) => `mssa-placekey-${placeId(place).slice(2, 18)}`;

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

type Verified = { user: string; commitment: string; salt: string; nullifier: string; id: string };
type Record_ = {
  place: string;
  channelSk: string;
  agent: ReturnType<AuthorityAgent["toRecord"]>;
  /** session -> the user its key was issued to */
  users: Record<string, string>;
  /** session -> the verifier its key was released to */
  released: Record<string, string>;
  /** verifier: session -> authority -> its release request (resent as is) and transport key */
  releases: Record<string, Record<string, { envelope: string; transportSk: string }>>;
  /** verifier: session -> what it verified */
  verified: Record<string, Verified>;
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
  /** the other authorities of the place: account -> URL (the verifier needs them) */
  peers: Map<string, string>;
  peerRetry?: RetryPolicy;
  windowMs?: number;
  log?: (line: string) => void;
};

/** An MSSA place authority service. */
export class AuthorityService {
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

  constructor(private readonly d: AuthorityServiceDeps) {
    this.place = placeId(d.place);
    this.ledgerAddress = String(d.ledger.target);
    const name = authorityRecord(d.place);
    if (!d.keystore.exists(name))
      d.keystore.create(name, {
        place: this.place,
        channelSk: toHex(encodeScalar(randomScalar())),
        agent: new AuthorityAgent(d.wallet.address).toRecord(),
        users: {},
        released: {},
        releases: {},
        verified: {},
      });
    this.rec = d.keystore.load(name) as Record_;
    this.agent = AuthorityAgent.fromRecord(this.rec.agent);
    this.audience = authorityAudience(d.chainId, this.ledgerAddress, d.wallet.address, d.place);
    this.journal = new Journal(path.join(d.dir, "journal"));
    this.cache = new ReplyCache(path.join(d.dir, "replies"), d.windowMs ?? DEFAULT_WINDOW_MS);
    this.signer = accountSigner(d.wallet);
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

  /** Writes the agent and the record (atomically, through the keystore). */
  private save(): void {
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
    return this.cache.once(env.requestId, env.issuedAt, raw, () =>
      this.mutex.run(async () => {
        await this.placeOnChain();
        const key = this.agent.issueKey(m.session, m.bits);
        this.rec.users[m.session] = getAddress(m.user);
        // SIMULATED quantum channel (decoy photons); a detected eavesdropper burns the key
        const t = transmit(key, DEFAULT_CHANNEL);
        if (!t.accepted) {
          this.agent.burn(m.session);
          this.save();
          throw new RegistrationError("eavesdropping", new EavesdroppingDetectedError(t.errorRate, DEFAULT_CHANNEL.threshold).message);
        }
        return this.commit(env, raw, this.reply(env, raw, sealKey("KEY", m.transport, m.session, this.me, t.received)));
      }),
    );
  }

  /** POST /v1/mssa/release */
  async release(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const m = decodeReleaseRequest(env.body);
    const { authorities } = await this.placeOnChain();
    const verifier = authorities[0];
    verifyEnvelope(env, { kind: Kind.Request, route: Route.MssaRelease, audience: this.audience, sender: fromAccount(verifier) });
    return this.cache.once(env.requestId, env.issuedAt, raw, () =>
      this.mutex.run(async () => {
        const key = this.agent.releaseKey(m.session);
        this.rec.released[m.session] = verifier;
        return this.commit(env, raw, this.reply(env, raw, sealKey("RELEASE", m.transport, m.session, this.me, key)));
      }),
    );
  }

  // ---------------------------------------------------------------- Steps 4-9: the verifier

  /** This authority's key of a session from another authority (the request kept, so a retry resends it). */
  private async collect(session: string, authority: string): Promise<Bits> {
    const url = this.d.peers.get(authority.toLowerCase());
    if (!url) throw new RegistrationError("unknown-session", `verify: no URL for the place authority ${authority} (--peers)`);
    const byAuthority = (this.rec.releases[session] ??= {});
    let r = byAuthority[authority];
    if (!r) {
      const t = randomScalar();
      const env = sealEnvelope(
        {
          kind: Kind.Request,
          route: Route.MssaRelease,
          audience: authorityAudience(this.d.chainId, this.ledgerAddress, authority, this.d.place),
          session: freshId(),
          requestId: freshId(),
          issuedAt: Date.now(),
          inReplyTo: new Uint8Array(32),
          body: encodeReleaseRequest({ session, transport: mulBase(t) }),
        },
        this.signer,
      );
      r = byAuthority[authority] = { envelope: toHex(env), transportSk: toHex(encodeScalar(t)) };
      this.save();
    }
    const env = fromHex(r.envelope);
    const reply = openEnvelope(await postEnvelope(url, "/v1/mssa/release", env, this.d.peerRetry));
    verifyEnvelope(reply, {
      kind: Kind.Reply,
      route: Route.MssaRelease,
      audience: authorityAudience(this.d.chainId, this.ledgerAddress, authority, this.d.place),
      sender: fromAccount(authority),
      request: env,
    });
    return openKey("RELEASE", decodeScalar(fromHex(r.transportSk, 32)), session, authority, reply.body);
  }

  /** POST /v1/mssa/verify */
  async verify(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const m = decodeVerifyRequest(env.body);
    verifyEnvelope(env, { kind: Kind.Request, route: Route.MssaVerify, audience: this.audience, sender: fromAccount(m.user) });
    return this.cache.once(env.requestId, env.issuedAt, raw, () =>
      this.mutex.run(async () => {
        const { authorities } = await this.placeOnChain();
        if (authorities[0] !== getAddress(this.me))
          throw new RegistrationError("unknown-session", `verify: ${this.me} is not the place's verifying authority (${authorities[0]})`);
        if (this.rec.users[m.session] !== getAddress(m.user))
          throw new RegistrationError("unknown-session", `verify: no key of session ${m.session} was issued here to ${m.user}`);
        const docs = openDocs(decodeScalar(fromHex(this.rec.channelSk, 32)), m);
        // the others' keys first: a peer that is down leaves this authority's own key unused for the retry
        const others = new Map<string, Bits>();
        for (const a of authorities) if (a !== getAddress(this.me)) others.set(a, await this.collect(m.session, a));
        const own = this.agent.releaseKey(m.session);
        const keys = authorities.map((a) => others.get(a) ?? own);
        // Steps 5-7: En travels as photons with decoys (SIMULATED)
        const t = transmit(m.En, DEFAULT_CHANNEL);
        if (!t.accepted) {
          this.save();
          throw new RegistrationError("eavesdropping", new EavesdroppingDetectedError(t.errorRate, DEFAULT_CHANNEL.threshold).message);
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
        const salt = fresh32();
        const commitment = commitmentOf(this.place, req.user, m.U12, salt);
        const placeKey = this.placeKey();
        const nullifier = identityNullifier(placeKey, this.place, docs[docs.length - 1]);
        const holder = await this.d.ledger.nullifierHolder(this.place, nullifier);
        if (!/^0x0{64}$/.test(holder))
          throw new RegistrationError("credential-mismatch", `verify: this identity already holds registration ${holder} at the place`);
        const id = await this.d.ledger.registrationId(this.place, req.user, commitment);
        this.rec.verified[m.session] = { user: req.user, commitment, salt, nullifier, id };
        this.log(`session ${m.session.slice(0, 10)}…: verified for ${req.user}`);
        return this.commit(env, raw, this.reply(env, raw, encodeVerifyReply({ commitment, salt, nullifier, id })));
      }),
    );
  }

  private placeKey(): Uint8Array {
    const name = placeKeyRecord(this.d.place);
    if (!this.d.keystore.exists(name)) this.d.keystore.create(name, { key: toHex(freshId()).slice(2) + toHex(freshId()).slice(2) });
    return fromHex("0x" + (this.d.keystore.load(name) as { key: string }).key);
  }

  /** POST /v1/mssa/propose */
  async propose(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const m = decodeProposeRequest(env.body);
    const v = this.rec.verified[m.session];
    if (!v) throw new RegistrationError("unknown-session", `propose: session ${m.session} was not verified here`);
    verifyEnvelope(env, { kind: Kind.Request, route: Route.MssaPropose, audience: this.audience, sender: fromAccount(v.user) });
    return this.cache.once(env.requestId, env.issuedAt, raw, () =>
      this.mutex.run(async () => {
        const { authorities, k } = await this.placeOnChain();
        const { domain, types } = await registrationTypedData(this.d.ledger);
        const value = { place: this.place, user: v.user, commitment: v.commitment, nullifier: v.nullifier, session: m.session };
        if (getAddress(verifyTypedData(domain, types, value, m.signature)) !== getAddress(v.user))
          throw new EnvelopeError("BAD_SIGNATURE", `propose: the consent is not signed by ${v.user}`);
        // idempotent by the chain: a retry after a crash finds its proposal there
        if (Number((await this.d.ledger.registration(v.id)).status) === 0) {
          await (await this.d.ledger.propose(this.place, v.user, v.commitment, v.nullifier, m.session, m.signature)).wait();
          this.log(`registration ${v.id.slice(0, 10)}…: proposed`);
        }
        faultPoint("authority:after-propose");
        for (const a of authorities.slice(1)) {
          const reg = await this.d.ledger.registration(v.id);
          if (Number(reg.status) !== 1 || Number(reg.approvals) >= k) break;
          if (await this.d.ledger.approvedBy(v.id, a)) continue;
          await this.askApproval(a, m.session, v.id);
        }
        return this.reply(env, raw, encodeOutcome(await this.outcome(v.id)));
      }),
    );
  }

  private async askApproval(authority: string, session: string, id: string): Promise<Outcome> {
    const url = this.d.peers.get(authority.toLowerCase());
    if (!url) throw new RegistrationError("unknown-session", `propose: no URL for the place authority ${authority} (--peers)`);
    const audience = authorityAudience(this.d.chainId, this.ledgerAddress, authority, this.d.place);
    const env = sealEnvelope(
      {
        kind: Kind.Request,
        route: Route.MssaApprove,
        audience,
        session: freshId(),
        requestId: freshId(),
        issuedAt: Date.now(),
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

  /** POST /v1/mssa/approve */
  async approve(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const m = decodeApproveRequest(env.body);
    const { authorities } = await this.placeOnChain();
    verifyEnvelope(env, { kind: Kind.Request, route: Route.MssaApprove, audience: this.audience, sender: fromAccount(authorities[0]) });
    return this.cache.once(env.requestId, env.issuedAt, raw, () =>
      this.mutex.run(async () => {
        // only a registration of a session this authority took part in, for its user, through this verifier
        if (this.rec.released[m.session] !== authorities[0])
          throw new RegistrationError(
            "unknown-session",
            `approve: this authority released no key of session ${m.session} to ${authorities[0]}`,
          );
        const reg = await this.d.ledger.registration(m.id);
        if (reg.place !== this.place || getAddress(reg.user) !== this.rec.users[m.session])
          throw new RegistrationError("unknown-session", `approve: registration ${m.id} is not session ${m.session}'s user at this place`);
        if (Number(reg.status) === 1 && !(await this.d.ledger.approvedBy(m.id, this.me))) {
          await (await this.d.ledger.approve(m.id)).wait();
          this.log(`registration ${m.id.slice(0, 10)}…: approved`);
        }
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

  /** Recovers, then listens. */
  async start(cfg: Omit<ServiceConfig, "name">): Promise<RunningService> {
    const n = this.recover();
    if (n) this.log(`recovered: ${n} repl${n === 1 ? "y" : "ies"} cached`);
    this.running = await startService(
      { ...cfg, name: `mssa-authority:${this.me}` },
      [
        { path: "/v1/mssa/key", handle: (b) => this.key(b) },
        { path: "/v1/mssa/release", handle: (b) => this.release(b) },
        { path: "/v1/mssa/verify", handle: (b) => this.verify(b) },
        { path: "/v1/mssa/propose", handle: (b) => this.propose(b) },
        { path: "/v1/mssa/approve", handle: (b) => this.approve(b) },
      ],
      () => this.info(),
    );
    return this.running;
  }

  async stop(): Promise<void> {
    await this.running?.close();
  }
}
