/**
 * Service groups on the MSRP service (RSMS §IV.B, issue 19): user registration, group formation,
 * the mailbox of the multi-round group protocol, and the group key update after an eviction. The
 * user and the RNs are clients: each posts its signed round messages here and fetches the others'.
 * The Msrp agent and the GroupParty agents stay pure; this module is transport, persistence and
 * chain (offchain/services/rsms/group-wire.ts has the formats).
 *
 * Routes (envelopes, offchain/services/envelope.ts; all on the MSRP's audience):
 * - `POST /v1/user/register` (UserRegister, signed by an enrolment token's key like an RN's registration): the user's keys
 *   back, sealed to its transport key;
 * - `POST /v1/group/request` (GroupRequest, Schnorr by sk_User, session groupSession(gid, 0)):
 *   allocates the RNs, deals, records the group on-chain, opens its mailbox;
 * - `POST /v1/group/post` (GroupPost, Schnorr by the key the roster names for the `from` index,
 *   session groupSession(gid, epoch)): stores one round message of one party;
 * - `POST /v1/group/fetch` (GroupFetch, Schnorr by the key the roster names for the PID, session
 *   groupSession(gid, 0)): that party's Allocation or Rekey, the others' broadcasts, its key shares;
 *   with an epoch, that retired update epoch's roster and the party's Rekey (kept for parties that
 *   missed it, s18-redg G3);
 * - `POST /v1/group/rekey` (RekeyRequest, Schnorr by sk_User, session groupSession(gid, epoch)):
 *   evicts members the trust layer flagged on-chain, adds as many fresh joined RNs, records the new
 *   epoch on-chain and puts each remaining party's sealed key in the mailbox;
 *   the MSRP's flag sync makes the same update by itself for a member the trust layer flags
 *   ({@link GroupDesk.evictFlaggedMembers}, `rsms:serve msrp --auto-evict`, default on);
 * - `POST /v1/group/add` (GroupAdd, Schnorr by sk_User, session groupSession(gid, epoch)): the same
 *   update with no eviction: as many fresh joined RNs as asked, a new epoch and key;
 * - `POST /v1/group/send` (GroupSend: a Channel message, Schnorr by the key the roster names for its
 *   sender, session groupSession(gid, epoch)): appends service traffic to the epoch's log;
 * - `POST /v1/group/read` (GroupRead, Schnorr by the key that epoch's roster names for the PID,
 *   session groupSession(gid, epoch)): the epoch's Channel messages from an index on.
 * A party whose RN is in S_RN is refused `read`, `send` and a retired fetch (SUSPICIOUS, s18-redg G1).
 *
 * Idempotency: every request goes through the reply cache (a retry gets the same bytes); a round
 * slot takes one message per party, and the same message again changes nothing while another one
 * is refused (EQUIVOCATION); a Channel message already in the log gets its index again, and one
 * whose sequence number is not above its sender's last is refused (REPLAYED); the channel log is
 * append-only (channel-log.ts: one line and an fsync per message). Durability: the dealing or the update, with the reply, is journaled
 * before the transaction, the mailbox is written before the reply; recovery finishes from the chain.
 */
import fs from "fs";
import path from "path";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { TrustManager } from "../../../typechain-types";
import { equalBytes, fromHex, toHex } from "../../crypto/bytes";
import { Point, decodePoint, encodePoint } from "../../crypto/group";
import { MetatrustError } from "../../errors";
import type { AutoRetry, Msrp } from "../../rsms/msrp";
import { contractRevert } from "../../chain/reverts";
import type { GroupLedger } from "../../rsms/group-flows";
import { decodeChannel, decodeKeyShare, decodeMembership } from "../../rsms/group-messages";
import { channelSignedBy } from "../../rsms/group";
import { writeFileAtomic } from "../../storage/fs-atomic";
import { rnTrustFlagged } from "../../trust/rn-flags";
import { Kind, Route, Scheme, EnvelopeError, openEnvelope, verifyEnvelope, type Envelope } from "../envelope";
import type { ReplyCache } from "../replies";
import type { Journal, Mutex } from "../journal";
import { faultPoint } from "../faults";
import { GroupQuota, type GroupPolicy, DEFAULT_GROUP_POLICY } from "./group-quota";
import { ChannelLog } from "./channel-log";
import type { BinaryRoute } from "../server";
import { decodeRnRegister, registrationBinding } from "./wire";
import { LogCursor } from "../../chain/log-cursor";
import {
  MAX_READ,
  Round,
  decodeGroupAdd,
  decodeGroupRead,
  encodeGroupChannel,
  encodeGroupSent,
  decodeGroupFetch,
  decodeGroupPost,
  decodeGroupRequest,
  decodeRekeyRequest,
  encodeGroupFormed,
  encodeGroupMailbox,
  encodeRekeyDone,
  groupSession,
  sealUserCreds,
} from "./group-wire";

/** Why the group desk refused a request. */
export type GroupRefusal =
  | "UNKNOWN_GROUP"
  | "GROUP_EXISTS"
  | "STALE_EPOCH"
  | "NOT_A_MEMBER"
  | "WRONG_INDEX"
  | "EQUIVOCATION"
  | "ROUND_NOT_OPEN"
  | "NOT_FLAGGED"
  | "NOTHING_TO_EVICT"
  | "NO_FRESH_RN"
  | "FORGED_SENDER"
  | "REPLAYED"
  | "CHANNEL_FULL"
  | "SUSPICIOUS";

/** A group request the MSRP refuses (422; nothing changed). */
export class GroupServiceError extends MetatrustError {
  readonly reason: GroupRefusal;
  constructor(reason: GroupRefusal, message: string) {
    super("PROTOCOL_REJECTED", message);
    this.reason = reason;
  }
}

/** A group's mailbox at its current epoch (the file `groups/<gid>.json`). */
type Mailbox = {
  epoch: number;
  kind: 0 | 1;
  user: string;
  /** [PID, PK] per party, the user first */
  roster: [string, string][];
  /** PID -> the party's Allocation (kind 0) or Rekey (kind 1) */
  mine: Record<string, string>;
  /** round -> party index -> its messages */
  rounds: Record<string, Record<string, string[]>>;
  /** an update epoch the MSRP's flag sync made by itself (rsms-group.md §8): the PIDs it evicted, told to the parties with their fetch */
  auto?: string[];
};

/**
 * A group's retired update epochs, epoch -> its roster and Rekey messages, the newest
 * MAX_RETIRED_UPDATES (the file `groups/<gid>.past.json`, apart from the mailbox, which every
 * channel request reads): a party away through two updates fetches the key of the one in between
 * with `GroupFetch.epoch` (s18-redg G3). Each Rekey is sealed to its party; a formation epoch is
 * not kept (every party took part in it, or the group has no key).
 */
type Retired = Record<string, { roster: [string, string][]; mine: Record<string, string>; auto?: string[] }>;

/** How many retired update epochs a group's mailbox keeps for parties that missed them (s18-redg G3). */
export const MAX_RETIRED_UPDATES = 64;

/** Most Channel messages one epoch's log keeps (a group that needs more renews its key). */
export const MAX_CHANNEL_LOG = 10_000;

/** What the desk shares with the MsrpService that hosts it. */
export type GroupDeskDeps = {
  msrp: Msrp;
  groups: GroupLedger;
  /** the TrustManager (read): which members the trust layer flagged */
  trust?: TrustManager;
  dir: string;
  audience: Uint8Array;
  journal: Journal;
  cache: ReplyCache;
  mutex: Mutex;
  save(): void;
  /** the MSRP's enrolment-token gate (MsrpService.admitToken) */
  admitToken(env: ReturnType<typeof openEnvelope>, kind: "user", tokenId: Uint8Array, name: string): { check(): void; consume(): void };
  reply(req: Envelope, raw: Uint8Array, body: Uint8Array): Uint8Array;
  log(line: string): void;
  /** the limits on formations and adds (group-quota.ts; default DEFAULT_GROUP_POLICY) */
  policy?: GroupPolicy;
  /** the quota's clock (ms; default Date.now) */
  clock?: () => number;
};

const pointHex = (p: Point) => toHex(encodePoint(p));

/** The MSRP's service-group desk. */
export class GroupDesk {
  /** the ids the trust layer has flagged, by its logs up to the cursor's last read ({@link everFlagged}) */
  private readonly flagged = new Set<string>();
  private readonly flagLog = new LogCursor(
    {
      latest: () => this.d.trust!.runner!.provider!.getBlockNumber(),
      logs: (from, to) => this.d.trust!.queryFilter(this.d.trust!.filters.EntityFlagged(), from, to),
    },
    (l) => this.flagged.add(String(l.args.id).toLowerCase()),
  );

  /** the per-user quota and global budget of gas-costing requests (formations, adds) */
  readonly quota: GroupQuota;
  /** the groups' service traffic, append-only (`groups/<gid>.channel.log`, channel-log.ts) */
  readonly channel: ChannelLog;

  constructor(private readonly d: GroupDeskDeps) {
    this.quota = new GroupQuota(d.dir, d.policy ?? DEFAULT_GROUP_POLICY, d.clock);
    this.channel = new ChannelLog(d.dir);
  }

  /** Its routes, for the MSRP service's server. */
  routes(): BinaryRoute[] {
    return [
      { path: "/v1/user/register", handle: (b) => this.registerUser(b) },
      { path: "/v1/group/request", handle: (b) => this.requestGroup(b) },
      { path: "/v1/group/post", handle: (b) => this.post(b) },
      { path: "/v1/group/fetch", handle: (b) => this.fetch(b) },
      { path: "/v1/group/rekey", handle: (b) => this.rekey(b) },
      { path: "/v1/group/add", handle: (b) => this.add(b) },
      { path: "/v1/group/send", handle: (b) => this.send(b) },
      { path: "/v1/group/read", handle: (b) => this.read(b) },
    ];
  }

  private file(gid: Uint8Array): string {
    return path.join(this.d.dir, `${toHex(gid).slice(2)}.json`);
  }
  /** A group's mailbox, if this MSRP formed the group. */
  mailbox(gid: Uint8Array): Mailbox | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.file(gid), "utf8")) as Mailbox;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }
  private pastFile(gid: Uint8Array): string {
    return path.join(this.d.dir, `${toHex(gid).slice(2)}.past.json`);
  }
  /** A group's retired update epochs ({@link Retired}), none if it had no update retired. */
  private retired(gid: Uint8Array): Retired {
    try {
      return JSON.parse(fs.readFileSync(this.pastFile(gid), "utf8")) as Retired;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw e;
    }
  }
  /**
   * The roster of a retired update epoch, from an index of the group's retired file built once per
   * write of it (its stat changes: written atomically), so that a retired fetch's signature is
   * checked before the whole file is parsed again (s18-review1 L3: any 68-byte request parsed up to
   * about 6 MB).
   */
  private retiredRoster(gid: Uint8Array, epoch: number): [string, string][] | undefined {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.pastFile(gid));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    const key = toHex(gid);
    let ix = this.pastIndex.get(key);
    if (ix?.stamp !== stamp) {
      ix = { stamp, rosters: new Map(Object.entries(this.retired(gid)).map(([e, k]) => [e, k.roster])) };
      this.pastIndex.set(key, ix);
    }
    return ix.rosters.get(String(epoch));
  }
  private readonly pastIndex = new Map<string, { stamp: string; rosters: Map<string, [string, string][]> }>();
  private writeMailbox(gid: Uint8Array, m: Mailbox): void {
    writeFileAtomic(this.file(gid), JSON.stringify(m), 0o600);
  }
  private known(gid: Uint8Array): Mailbox {
    const m = this.mailbox(gid);
    if (!m) throw new GroupServiceError("UNKNOWN_GROUP", `group ${toHex(gid)} was not formed by this MSRP`);
    return m;
  }

  private static session(env: Envelope, gid: Uint8Array, epoch: number): void {
    if (!equalBytes(env.session, groupSession(gid, epoch)))
      throw new EnvelopeError("WRONG_SESSION", `the envelope's session is not group ${toHex(gid).slice(0, 10)}… epoch ${epoch}`);
  }

  // ---------------------------------------------------------------- users

  private async registerUser(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    if (env.route !== Route.UserRegister)
      throw new EnvelopeError(
        "WRONG_ROUTE",
        `registerUser: signed for route 0x${env.route.toString(16)}, not 0x${Route.UserRegister.toString(16)}`,
      );
    const m = decodeRnRegister(env.body);
    const token = this.d.admitToken(env, "user", m.tokenId, m.name);
    const id = `user-${toHex(env.requestId).slice(2)}`;
    const out = await this.d.cache.once(env.requestId, env.issuedAt, raw, () =>
      this.d.mutex.run(async () => {
        token.check();
        // the same registration again under another request id (its first reply was lost and the
        // retry came late, or a relay delivered a copy first): the same keys, no second effect
        if (this.sameRegistration(m.name, env.body))
          return this.d.reply(
            env,
            raw,
            sealUserCreds(this.d.msrp.pkPubBytes, m.transport, env.requestId, this.d.msrp.userCredentials(m.name)),
          );
        const c = this.d.msrp.registerUser(m.name, m.registration, registrationBinding("USER", m.name, m.transport));
        const reply = this.d.reply(env, raw, sealUserCreds(this.d.msrp.pkPubBytes, m.transport, env.requestId, c));
        this.d.journal.put(id, "registerUser", {
          name: m.name,
          pid: toHex(c.pid),
          requestId: toHex(env.requestId),
          request: toHex(raw),
          reply: toHex(reply),
        });
        writeFileAtomic(this.registrationFile(m.name), toHex(keccak_256(env.body)), 0o600);
        token.consume();
        this.d.save();
        return reply;
      }),
    );
    this.d.journal.done(id);
    return out;
  }

  /** `users/<name>.reg`: keccak256 of the UserRegister body the user was registered by. */
  private registrationFile(name: string): string {
    return path.join(this.d.dir, "users", `${name}.reg`);
  }

  /** Whether `body` is the very registration request the user was registered by (and she still is). */
  private sameRegistration(name: string, body: Uint8Array): boolean {
    try {
      if (fs.readFileSync(this.registrationFile(name), "utf8") !== toHex(keccak_256(body))) return false;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw e;
    }
    // the file is written before the record: a crash between them leaves a file and no user
    try {
      this.d.msrp.userCredentials(name);
      return true;
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------- formation

  private async requestGroup(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const m = decodeGroupRequest(env.body);
    const user = this.d.msrp.userCredentials(m.user);
    verifyEnvelope(env, {
      kind: Kind.Request,
      route: Route.GroupRequest,
      audience: this.d.audience,
      sender: { scheme: Scheme.Schnorr, pk: user.pk },
    });
    GroupDesk.session(env, m.groupId, 0);
    const id = `group-${toHex(m.groupId).slice(2)}`;
    // a resend of these very bytes whose formation was left pending (its chain write failed after
    // the intent) is finished however late it comes, as for a key update (s18-review1 M1)
    if (this.leftFor(id, raw)) {
      const done = await this.d.mutex.run(async () => {
        const left = this.leftFor(id, raw) as FormIntent | undefined;
        if (!left) return undefined; // finished meanwhile: its reply is in the cache
        if (!(await this.finishFormIntent(left)))
          throw new GroupServiceError("GROUP_EXISTS", `group ${toHex(m.groupId)} is on-chain with another key`);
        this.d.journal.done(id);
        return fromHex(left.reply);
      });
      if (done) return done;
    }
    const out = await this.d.cache.once(
      env.requestId,
      env.issuedAt,
      raw,
      () =>
        this.d.mutex.run(async () => {
          // a retry of this request whose chain write failed after its intent (it may have been
          // mined): finished from the intent, not dealt again (h11-red R7)
          const left = this.leftFor(id, raw) as FormIntent | undefined;
          if (left) {
            if (!(await this.finishFormIntent(left)))
              throw new GroupServiceError("GROUP_EXISTS", `group ${toHex(m.groupId)} is on-chain with another key`);
            return fromHex(left.reply);
          }
          // one formation per id, whoever asks (s24-rtr R3): a formation another request left pending
          // (its chain write failed, maybe after mining: its own resend finishes it) is never
          // replaced, and an id the chain holds is never dealt again, mailbox or not. Refused before
          // the quota, the deal and the journal: nothing changes, nothing is sent
          if (this.mailbox(m.groupId)) throw new GroupServiceError("GROUP_EXISTS", `group ${toHex(m.groupId)} exists`);
          if (this.d.journal.pending().some((i) => i.id === id))
            throw new GroupServiceError("GROUP_EXISTS", `group ${toHex(m.groupId)} is being formed for another request`);
          if (await this.d.groups.exists(m.groupId))
            throw new GroupServiceError("GROUP_EXISTS", `group ${toHex(m.groupId)} is already on-chain`);
          this.quota.check(m.user, "group request");
          // RNs the trust layer flags that the flag sync has not put in S_RN yet are skipped (h11-red2
          // G3): the picked RNs are checked (O(size) RNs' flagged pseudonyms read, not every RN's), and the
          // pick is made again without the flagged ones, until none is
          const skip = new Set<string>();
          const ids = await this.flagIds();
          // (RNs still marked revoked on the registry: Msrp.allocate never picks them)
          const avoid = () => new Set(skip);
          for (;;) {
            const flagged: string[] = [];
            for (const name of this.d.msrp.allocate(m.size, avoid())) if (await this.flaggedRn(name, ids)) flagged.push(name);
            if (flagged.length === 0) break;
            for (const n of flagged) skip.add(n);
          }
          const { dealing, parties } = this.d.msrp.requestGroup(m.user, m.size, m.groupId, avoid());
          // the skipped RNs join S_RN now (what the flag sync would do; saved with the group's record)
          if (skip.size) {
            this.d.msrp.applyTrustFlags([...skip], []);
            // counted, not named (s24-rts F2/F4 class): a name beside a flag the chain shows links them
            this.d.log(`group ${toHex(m.groupId).slice(0, 10)}…: ${skip.size} RN(s) skipped: flagged by the trust layer (now in S_RN)`);
          }
          const reply = this.d.reply(env, raw, encodeGroupFormed({ groupId: m.groupId, pids: parties.map((p) => p.pid) }));
          const data = {
            groupId: toHex(m.groupId),
            user: m.user,
            parties: parties.map((p) => ({ name: p.name, pid: toHex(p.pid), pk: pointHex(p.pk) })),
            allocations: dealing.allocations.map(toHex),
            Q: pointHex(dealing.Q),
            commitmentsHash: toHex(dealing.commitmentsHash),
            requestId: toHex(env.requestId),
            request: toHex(raw),
            reply: toHex(reply),
          };
          this.quota.charge(m.user, "group request");
          this.d.journal.put(id, "formGroup", data);
          const members = parties.slice(1);
          await this.d.groups.formGroup(
            m.groupId,
            parties[0].pid,
            members.map((p) => p.pid),
            dealing.Q,
            dealing.commitmentsHash,
          );
          faultPoint("msrp:after-chain-write");
          this.finishFormation(data);
          // no names (s24-rts F4): GroupFormed lists the user's PID and the members' PIDs, so names
          // in the line link them (by position); the operator's trace is its keystore (groupInfo)
          this.d.log(`group ${toHex(m.groupId).slice(0, 10)}…: formed (${members.length} members)`);
          return reply;
        }),
      true, // kept for good: the group is on-chain
    );
    this.doneFor(id, raw);
    return out;
  }

  /** After formGroup is on-chain: the agent's record, then the mailbox (each once). */
  private finishFormation(d: FormIntent): void {
    const gid = fromHex(d.groupId, 32);
    const members = d.parties.slice(1).map((p) => ({ name: p.name, pid: fromHex(p.pid, 32) }));
    let committed = false;
    try {
      committed = this.d.msrp.groupInfo(gid) !== undefined;
    } catch {
      /* not yet */
    }
    if (!committed) {
      this.d.msrp.commitGroup(gid, d.user, members);
      this.d.save();
    }
    if (!this.mailbox(gid))
      this.writeMailbox(gid, {
        epoch: 0,
        kind: 0,
        user: d.user,
        roster: d.parties.map((p) => [p.pid, p.pk]),
        mine: Object.fromEntries(d.parties.map((p, i) => [p.pid, d.allocations[i]])),
        rounds: {},
      });
  }

  // ---------------------------------------------------------------- the mailbox

  private async post(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const p = decodeGroupPost(env.body);
    const box = this.known(p.groupId);
    if (p.epoch !== box.epoch || box.kind !== 0)
      throw new GroupServiceError("STALE_EPOCH", `group ${toHex(p.groupId).slice(0, 10)}… has no rounds at epoch ${p.epoch}`);
    const n = box.roster.length;
    if (p.from >= n) throw new GroupServiceError("WRONG_INDEX", `post: party index ${p.from} in a group of ${n}`);
    verifyEnvelope(env, {
      kind: Kind.Request,
      route: Route.GroupPost,
      audience: this.d.audience,
      sender: { scheme: Scheme.Schnorr, pk: decodePoint(fromHex(box.roster[p.from][1], 33)) },
    });
    GroupDesk.session(env, p.groupId, p.epoch);
    // the messages must be this party's, for this group, epoch and round (the parties check the cryptography)
    const same = (g: Uint8Array, e: number) => equalBytes(g, p.groupId) && e === p.epoch;
    if (p.round === Round.Membership) {
      if (p.messages.length !== 1) throw new GroupServiceError("WRONG_INDEX", "post: round 1 carries one membership broadcast");
      const b = decodeMembership(p.messages[0]);
      if (!same(b.groupId, b.epoch) || b.index !== p.from)
        throw new GroupServiceError("WRONG_INDEX", `post: the broadcast is not party ${p.from}'s in this group and epoch`);
    } else {
      const to = p.messages.map((x) => {
        const k = decodeKeyShare(x);
        if (!same(k.groupId, k.epoch) || k.from !== p.from || k.to >= n || k.to === p.from)
          throw new GroupServiceError(
            "WRONG_INDEX",
            `post: a key share that is not from party ${p.from} to another party of this group and epoch`,
          );
        return k.to;
      });
      // exactly one share to each other party: a second share to one party stalled its agreement,
      // blaming nobody, while the sender derived the key (h15-red H2)
      if (to.length !== n - 1 || new Set(to).size !== n - 1)
        throw new GroupServiceError("WRONG_INDEX", `post: round 2 carries one key share to each of the ${n - 1} others`);
    }
    return this.d.cache.once(env.requestId, env.issuedAt, raw, () =>
      this.d.mutex.run(async () => {
        const cur = this.known(p.groupId);
        if (cur.epoch !== p.epoch || cur.kind !== 0) throw new GroupServiceError("STALE_EPOCH", `post: group moved to epoch ${cur.epoch}`);
        if (p.round === Round.KeyShares && Object.keys(cur.rounds[Round.Membership] ?? {}).length < n)
          throw new GroupServiceError("ROUND_NOT_OPEN", "post: key shares before every membership broadcast is in");
        const slot = (cur.rounds[p.round] ??= {});
        const mine = p.messages.map(toHex);
        const had = slot[p.from];
        if (had && (had.length !== mine.length || had.some((x, i) => x !== mine[i])))
          throw new GroupServiceError("EQUIVOCATION", `post: party ${p.from} already posted other round-${p.round} messages`);
        if (!had) {
          slot[p.from] = mine;
          this.writeMailbox(p.groupId, cur);
        }
        return this.d.reply(env, raw, Uint8Array.of(p.round, Object.keys(slot).length));
      }),
    );
  }

  private async fetch(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const f = decodeGroupFetch(env.body);
    const box = this.known(f.groupId);
    if (f.epoch !== undefined && f.epoch !== box.epoch) return this.fetchRetired(env, raw, f.groupId, f.pid, f.epoch);
    const index = box.roster.findIndex(([pid]) => pid === toHex(f.pid));
    if (index < 0)
      throw new GroupServiceError(
        "NOT_A_MEMBER",
        `fetch: ${toHex(f.pid).slice(0, 10)}… is not a party of group ${toHex(f.groupId).slice(0, 10)}… at epoch ${box.epoch}`,
      );
    verifyEnvelope(env, {
      kind: Kind.Request,
      route: Route.GroupFetch,
      audience: this.d.audience,
      sender: { scheme: Scheme.Schnorr, pk: decodePoint(fromHex(box.roster[index][1], 33)) },
    });
    GroupDesk.session(env, f.groupId, 0);
    // a key update is not handed to a party in S_RN, like its channel (s18-review1 L2); a
    // formation's rounds are, or no party of a group being formed could finish it
    if (box.kind === 1) this.refuseSuspicious("read", f.pid, f.groupId);
    return this.d.cache.once(env.requestId, env.issuedAt, raw, async () => {
      const cur = this.known(f.groupId);
      const others = (r: number) =>
        Object.entries(cur.rounds[r] ?? {})
          .filter(([i]) => Number(i) !== index)
          .flatMap(([, ms]) => ms.map((x) => fromHex(x)));
      return this.d.reply(
        env,
        raw,
        encodeGroupMailbox({
          epoch: cur.epoch,
          kind: cur.kind,
          roster: cur.roster.map(([pid, pk]) => ({ pid: fromHex(pid, 32), pk: decodePoint(fromHex(pk, 33)) })),
          mine: fromHex(cur.mine[toHex(f.pid)]),
          memberships: others(Round.Membership),
          keyShares: others(Round.KeyShares).filter((x) => decodeKeyShare(x).to === index),
          ...(cur.kind === 1 && cur.auto ? { auto: cur.auto.map((p) => fromHex(p, 32)) } : {}),
        }),
      );
    });
  }

  /**
   * `POST /v1/group/fetch` for a retired update epoch (s18-redg G3): that epoch's roster and the
   * party's Rekey of it, for a party of that epoch (signed with the key that epoch's roster names)
   * that is not in S_RN. The Rekey is sealed to the party and its key checked against the epoch's
   * Q on chain, so the mailbox hands out nothing the party was not dealt.
   */
  private fetchRetired(
    env: ReturnType<typeof openEnvelope>,
    raw: Uint8Array,
    gid: Uint8Array,
    pid: Uint8Array,
    epoch: number,
  ): Promise<Uint8Array> {
    const roster = this.retiredRoster(gid, epoch);
    if (!roster)
      throw new GroupServiceError("STALE_EPOCH", `fetch: group ${toHex(gid).slice(0, 10)}… keeps no key update of epoch ${epoch}`);
    const party = roster.find(([p]) => p === toHex(pid));
    if (!party)
      throw new GroupServiceError(
        "NOT_A_MEMBER",
        `fetch: ${toHex(pid).slice(0, 10)}… is not a party of group ${toHex(gid).slice(0, 10)}… at epoch ${epoch}`,
      );
    verifyEnvelope(env, {
      kind: Kind.Request,
      route: Route.GroupFetch,
      audience: this.d.audience,
      sender: { scheme: Scheme.Schnorr, pk: decodePoint(fromHex(party[1], 33)) },
    });
    GroupDesk.session(env, gid, 0);
    this.refuseSuspicious("read", pid, gid);
    return this.d.cache.once(env.requestId, env.issuedAt, raw, async () => {
      // the whole file, read once the request is known to come from a party of that epoch
      const kept = this.retired(gid)[String(epoch)];
      if (!kept?.mine[toHex(pid)])
        throw new GroupServiceError("STALE_EPOCH", `fetch: group ${toHex(gid).slice(0, 10)}… keeps no key update of epoch ${epoch}`);
      return this.d.reply(
        env,
        raw,
        encodeGroupMailbox({
          epoch,
          kind: 1,
          roster: kept.roster.map(([p, pk]) => ({ pid: fromHex(p, 32), pk: decodePoint(fromHex(pk, 33)) })),
          mine: fromHex(kept.mine[toHex(pid)]),
          memberships: [],
          keyShares: [],
          ...(kept.auto ? { auto: kept.auto.map((p) => fromHex(p, 32)) } : {}),
        }),
      );
    });
  }

  // ---------------------------------------------------------------- update

  /**
   * Every id the trust layer has ever flagged, from the TrustManager's `EntityFlagged` logs: one
   * `eth_getLogs` per call that names no id, from a kept cursor (offchain/chain/log-cursor.ts:
   * re-read over the last LOG_OVERLAP blocks, for a shallow reorganisation; concurrent callers share
   * one read). Only these ids are then read
   * one by one, so the node the MSRP reads through never sees an RN's unflagged pseudonyms asked
   * together (h12-red L1: every sync read every PID of every RN, RN by RN, and so linked them).
   */
  private async everFlagged(): Promise<Set<string>> {
    await this.flagLog.sync();
    return this.flagged;
  }

  /**
   * Whether the trust layer flags an RN under any of its pseudonyms, past or current: a flag is on
   * its trust identity (its first attested PID), so an RN that rotated since would otherwise shed
   * it (h11-red2 G2: a flagged RN in a group under a rotated PID could not be evicted). Only the
   * RN's own entity counts: an attested resource node (h12-red F1, {@link rnTrustFlagged}); and
   * only a pseudonym the trust layer has ever flagged (`ids`, {@link everFlagged}) is read (h12-red L1).
   * @param ids - {@link everFlagged}, read once per request or sync
   */
  private async flaggedRn(name: string, ids: ReadonlySet<string>): Promise<boolean> {
    return (await this.flaggedPid(name, ids)) !== undefined;
  }

  /**
   * {@link flaggedRn}, saying under which pseudonym: the first of the RN's PIDs found flagged,
   * `first` (one of them) read first, so that a caller who asks whether that PID carries the flag
   * itself reads no entity twice (s14 final read 6).
   * @returns the flagged PID, or undefined if the RN is flagged under none
   */
  private async flaggedPid(name: string, ids: ReadonlySet<string>, first?: Uint8Array): Promise<Uint8Array | undefined> {
    if (!this.d.trust) return undefined;
    const pids = this.d.msrp.rnPids(name);
    const order = first && pids.some((p) => equalBytes(p, first)) ? [first, ...pids.filter((p) => !equalBytes(p, first))] : pids;
    for (const p of order) if (ids.has(toHex(p).toLowerCase()) && (await rnTrustFlagged(this.d.trust, p))) return p;
    return undefined;
  }

  /** {@link everFlagged}, or none without a TrustManager. */
  private async flagIds(): Promise<ReadonlySet<string>> {
    return this.d.trust ? this.everFlagged() : new Set();
  }

  /**
   * The flag sync (h11-red2 G3): puts the RNs the trust layer flags under any of their pseudonyms
   * into S_RN, and takes out of S_RN the RNs held there by a flag that has been lifted since
   * ({@link Msrp.applyTrustFlags}). The flags are read outside the mutex (the flag log, then one
   * TrustManager read per ever-flagged pseudonym of every RN not in S_RN and of every flag-held
   * one: {@link flaggedRn}), then applied and saved in one
   * atomic keystore write under it: a crash between the reads and the write leaves the record as
   * it was, and the next sync reads again. RNs in S_RN for another reason are not read.
   * @returns the RNs that joined S_RN and the ones that left it
   */
  async syncTrustFlags(): Promise<{ added: string[]; lifted: string[] }> {
    if (!this.d.trust) return { added: [], lifted: [] };
    const suspicious = new Set(this.d.msrp.suspiciousRns());
    const held = new Set(this.d.msrp.flagHeldRns());
    const flagged: string[] = [];
    const unflagged: string[] = [];
    const ids = await this.flagIds();
    for (const { name } of this.d.msrp.summary().rns) {
      if (suspicious.has(name) && !held.has(name)) continue;
      ((await this.flaggedRn(name, ids)) ? flagged : unflagged).push(name);
    }
    return this.d.mutex.run(async () => {
      const r = this.d.msrp.applyTrustFlags(flagged, unflagged);
      if (r.added.length || r.lifted.length) {
        this.d.save();
        // counted, not named: the chain shows which trust identities are flagged (s24-rts F2 class)
        if (r.added.length) this.d.log(`flag sync: ${r.added.length} RN(s) flagged by the trust layer: in S_RN (no group, no rotation)`);
        if (r.lifted.length) this.d.log(`flag sync: ${r.lifted.length} RN(s)' trust flag lifted: out of S_RN`);
      }
      return r;
    });
  }

  /**
   * Joined RNs that may join `info`'s group: not in it (by name: under no PID, so that a member
   * the update evicts, which may have rotated its pseudonym since, is not re-added to it; h11-red2
   * G1), not suspicious, not flagged under any of its pseudonyms; at most `count`.
   * @param ids - {@link everFlagged}, as the caller read it for this request
   */
  private async freshRns(
    info: { members: { name: string }[] },
    count: number,
    ids: ReadonlySet<string>,
  ): Promise<{ add: string[]; flagged: string[] }> {
    const inGroup = new Set(info.members.map((m) => m.name));
    const suspicious = new Set(this.d.msrp.revokedRns());
    const barred = this.markedRns();
    const add: string[] = [];
    const flagged: string[] = [];
    for (const c of this.d.msrp.joinedRns()) {
      if (add.length === count) break;
      if (inGroup.has(c.name) || suspicious.has(c.name) || barred.has(c.name)) continue;
      if (await this.flaggedRn(c.name, ids)) flagged.push(c.name);
      else add.push(c.name);
    }
    if (flagged.length)
      this.d.log(`group update: ${flagged.length} RN(s) skipped: flagged by the trust layer (S_RN at the next flag sync)`);
    return { add, flagged };
  }

  /**
   * The joined RNs whose current PID the ResourcePoolRegistry still marks revoked, by the MSRP's
   * record of the marks (`Msrp.revokedTrustIds`, no chain read): an RN that left S_RN keeps its mark
   * until the revocation sync lifts it (the end of the flag sync, `rsms:rn:clear`), and until then
   * the registry refuses it as a member (`ServiceGroupRegistry__PidRevoked`, s24-rtr R1). Not
   * picked, so that a formation or an update is not refused by the chain for it.
   */
  private markedRns(): Set<string> {
    return this.d.msrp.markedRns();
  }

  /**
   * The members that may not take the group's next key (h15-red H1; the paper's update evicts the
   * suspicious parties first): flagged by the trust layer under any of the RN's pseudonyms, or in
   * S_RN for any reason. `own`: the ones flagged on their member PID itself (their own attested
   * entity: the chain already names it, evicting it alone links nothing). Any other (flagged only
   * under another pseudonym, before a rotation, or in S_RN by an eviction elsewhere or the
   * operator) makes `elsewhere` true: evicting it alone would name its PID here next to the one
   * named elsewhere (h14-red F1), so the whole group is replaced then.
   * `lift`: members in S_RN only by a trust flag (flag-held) that the trust layer has lifted since
   * the last flag sync: not suspects (s18-redg G2: the stale S_RN entry used to evict them, and the
   * eviction kept them in S_RN for good); the update takes them out of S_RN as the sync would.
   * `byFlag`: the suspects the trust layer flags now: an eviction keeps them flag-held in S_RN
   * (journaled with the update: `Msrp.commitRekey`), so the flag sync lifts them with the flag (s22-redx F1).
   */
  private async suspects(info: { members: { name: string; pid: Uint8Array }[] }): Promise<{
    own: Uint8Array[];
    flagged: string[];
    elsewhere: boolean;
    ids: ReadonlySet<string>;
    lift: string[];
    byFlag: string[];
  }> {
    const ids = await this.flagIds();
    const inSRN = new Set(this.d.msrp.revokedRns());
    const held = new Set(this.d.trust ? this.d.msrp.flagHeldRns() : []);
    const own: Uint8Array[] = [];
    const flagged: string[] = [];
    const lift: string[] = [];
    const byFlag: string[] = [];
    for (const m of info.members) {
      // under which pseudonym the RN is flagged, its member PID first (one read per member)
      const at = await this.flaggedPid(m.name, ids, m.pid);
      // (not when its real identity is revoked through another name: it stays revoked, and goes as
      // any revoked member does, the group re-formed)
      if (!at && held.has(m.name) && !this.d.msrp.revokedThroughOther(m.name)) {
        lift.push(m.name); // held by a flag the chain no longer shows
        continue;
      }
      if (!at && !inSRN.has(m.name)) continue;
      flagged.push(m.name);
      if (at) byFlag.push(m.name);
      if (at && equalBytes(at, m.pid)) own.push(m.pid);
    }
    return { own, flagged, elsewhere: flagged.length > own.length, ids, lift, byFlag };
  }

  private async rekey(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const r = decodeRekeyRequest(env.body);
    this.userRequest(env, r.groupId, r.epoch, Route.GroupRekey);
    return this.update(env, raw, r.groupId, r.epoch, undefined, (info) => this.rekeyChoice(info, r.groupId, r.evict));
  }

  /**
   * What a rekey evicts and adds (the user's `group:rekey`, and the flag sync's automatic update,
   * which names no PID): the members flagged on their own PID (all, or the named ones, with any in
   * S_RN), each replaced by a fresh joined RN; the whole group replaced when a member is suspicious
   * under another pseudonym ({@link suspects}, h14-red F1).
   * @throws GroupServiceError NOT_A_MEMBER / NOT_FLAGGED for a named PID, NOTHING_TO_EVICT when no member is flagged or in S_RN
   */
  private async rekeyChoice(
    info: ReturnType<Msrp["groupInfo"]>,
    gid: Uint8Array,
    named: Uint8Array[],
  ): Promise<{ evict: Uint8Array[]; add: string[]; suspicious?: string[]; lift?: string[]; byFlag?: string[] }> {
    for (const p of named)
      if (!info.members.some((m) => equalBytes(m.pid, p)))
        throw new GroupServiceError("NOT_A_MEMBER", `rekey: ${toHex(p).slice(0, 10)}… is not a member`);
    const { own, flagged, elsewhere, ids, lift, byFlag } = await this.suspects(info);
    if (elsewhere) {
      // every member goes, as many fresh RNs come in; only the flagged ones join S_RN. The answer
      // does not depend on which member the request named (no oracle: "is the RN behind PID_x
      // flagged under another PID"), only on whether some member is
      const fresh = (await this.freshRns(info, info.members.length, ids)).add;
      if (fresh.length > 0) return { evict: info.members.map((m) => m.pid), add: fresh, suspicious: flagged, lift, byFlag };
      // no RN to re-form with: the flagged members go alone (the key is what the eviction keeps
      // from them); their eviction then names them (rsms-group.md §8, residual)
      this.d.log(`rekey: no fresh RN to re-form group ${toHex(gid).slice(0, 10)}… with: the flagged member(s) are evicted alone`);
      const alone = info.members.filter((m) => flagged.includes(m.name)).map((m) => m.pid);
      return { evict: alone, add: [], suspicious: flagged, lift, byFlag };
    }
    for (const p of named)
      if (!own.some((x) => equalBytes(x, p)))
        throw new GroupServiceError("NOT_FLAGGED", `rekey: ${toHex(p).slice(0, 10)}… is not flagged by the trust layer`);
    // a named request narrows the eviction to the named flagged members, but never keeps one in
    // S_RN: the agent would evict it anyway, unreplaced (h15-red H1)
    const inSRN = new Set(this.d.msrp.revokedRns());
    const nameOf = (x: Uint8Array) => info.members.find((m) => equalBytes(m.pid, x))!.name;
    const evict = named.length > 0 ? own.filter((x) => named.some((p) => equalBytes(p, x)) || inSRN.has(nameOf(x))) : own;
    if (evict.length === 0)
      throw new GroupServiceError("NOTHING_TO_EVICT", "rekey: no member of the group is flagged by the trust layer or in S_RN");
    // as many fresh joined RNs as evicted, not in the group, not suspicious, not flagged
    return { evict, add: (await this.freshRns(info, evict.length, ids)).add, lift, byFlag };
  }

  /**
   * POST /v1/group/add: the user's group grows by `count` fresh RNs and the key is renewed. The
   * members that may not take the new key ({@link suspects}) are evicted by the same update, as a
   * rekey would (replaced by as many fresh RNs, or the whole group re-formed): the new key is never
   * sealed to a member in S_RN (h15-red H1).
   */
  private async add(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const a = decodeGroupAdd(env.body);
    this.userRequest(env, a.groupId, a.epoch, Route.GroupAdd);
    return this.update(env, raw, a.groupId, a.epoch, "add", async (info) => {
      const { own, flagged: out, elsewhere, ids, lift, byFlag } = await this.suspects(info);
      const evict = elsewhere ? info.members.map((m) => m.pid) : own;
      const want = evict.length + a.count;
      const { add, flagged } = await this.freshRns(info, want, ids);
      if (add.length < want)
        throw new GroupServiceError(
          "NO_FRESH_RN",
          `add: ${add.length} joined RN(s) can join the group, ${a.count} asked` +
            (evict.length ? ` and ${evict.length} to replace the members in S_RN it evicts` : "") +
            // counted, not named: the user learns no RN's name with its flag status (s24-fxs residual)
            (flagged.length ? ` (${flagged.length} skipped: flagged by the trust layer)` : ""),
        );
      return { evict, add, lift, byFlag, ...(elsewhere ? { suspicious: out } : {}) };
    });
  }

  /** Checks a request of the group's user: signed by sk_User, for this group and epoch. */
  private userRequest(env: ReturnType<typeof openEnvelope>, gid: Uint8Array, epoch: number, route: number): void {
    const box = this.known(gid);
    const user = this.d.msrp.userCredentials(box.user);
    verifyEnvelope(env, { kind: Kind.Request, route, audience: this.d.audience, sender: { scheme: Scheme.Schnorr, pk: user.pk } });
    GroupDesk.session(env, gid, epoch);
  }

  /**
   * A key update of the group (§IV.B.2.c), once per request: `charged` names a request the group
   * quota counts (an add; a rekey is not counted, group-quota.ts), `choose` names the members to evict and
   * the RNs to add; the update is journaled with its reply, recorded on-chain, then in the agent and
   * the mailbox.
   */
  private async update(
    env: Envelope,
    raw: Uint8Array,
    gid: Uint8Array,
    epoch: number,
    charged: string | undefined,
    choose: (
      info: ReturnType<Msrp["groupInfo"]>,
    ) => Promise<{ evict: Uint8Array[]; add: string[]; suspicious?: string[]; lift?: string[]; byFlag?: string[] }>,
  ): Promise<Uint8Array> {
    const id = `rekey-${toHex(gid).slice(2)}`;
    // a resend of these very bytes whose update was left pending (the MSRP's chain write failed
    // after its intent: no reply cached) is finished from the intent however late it comes, as the
    // reply cache answers a served request (s18-review1 M1: refused STALE after the window, the
    // client dropped it and its next run made a second update)
    if (this.leftFor(id, raw)) {
      const done = await this.d.mutex.run(async () => {
        const d = this.leftFor(id, raw) as RekeyIntent | undefined;
        if (!d) return undefined; // finished meanwhile: its reply is in the cache
        if (!(await this.finishRekeyIntent(d)))
          throw new GroupServiceError("STALE_EPOCH", `rekey: group ${toHex(gid).slice(0, 10)}… moved on without this update`);
        this.d.journal.done(id);
        return fromHex(d.reply!); // a user's intent (matched by its request)
      });
      if (done) return done;
    }
    const out = await this.d.cache.once(
      env.requestId,
      env.issuedAt,
      raw,
      () =>
        this.d.mutex.run(async () => {
          // a retry of this request whose chain write failed after its intent (it may have been
          // mined: the chain is then at the new epoch with this update's key): finished from the
          // intent, not computed again (h11-red R7: a second update was refused by the chain, the
          // agent stayed an epoch behind, and recovery dropped the first: the group bricked)
          // Another request's update left the same way (its client gave up) is finished first, by
          // recovery's rule, so that the agent is at the chain's epoch before this one is checked.
          const left = this.d.journal.pending().find((i) => i.id === id);
          if (left) {
            const d = left.data as RekeyIntent;
            const finished = await this.finishRekeyIntent(d);
            if (d.request === toHex(raw)) {
              if (!finished)
                throw new GroupServiceError("STALE_EPOCH", `rekey: group ${toHex(gid).slice(0, 10)}… moved on without this update`);
              return fromHex(d.reply!);
            }
            this.d.journal.done(id);
          }
          const info = this.d.msrp.groupInfo(gid);
          if (info.epoch !== epoch)
            throw new GroupServiceError("STALE_EPOCH", `rekey: group ${toHex(gid).slice(0, 10)}… is at epoch ${info.epoch}, not ${epoch}`);
          if (charged) this.quota.check(info.user, charged);
          const { reply, u } = await this.commitUpdate(gid, info, await choose(info), charged, { env, raw });
          this.d.log(
            // counted, not named: GroupUpdated lists the added PIDs (s24-rts F4)
            `group ${toHex(gid).slice(0, 10)}…: epoch ${u.epoch}, evicted ${u.evicted.length}, added ${u.added.length}`,
          );
          return reply!;
        }),
      true, // kept for good: the group is on-chain
    );
    this.doneFor(id, raw);
    return out;
  }

  /**
   * Makes a key update the caller chose (under the mutex, the group's pending update finished
   * first): members held in S_RN by a lifted flag leave it, the agent deals, the update is journaled
   * (with the request's reply, or as `auto`: the flag sync's own), recorded on-chain, then in the
   * agent and the mailbox ({@link finishRekey}).
   * @param req - the user's request it answers; undefined for the flag sync's automatic update
   */
  private async commitUpdate(
    gid: Uint8Array,
    info: ReturnType<Msrp["groupInfo"]>,
    choice: { evict: Uint8Array[]; add: string[]; suspicious?: string[]; lift?: string[]; byFlag?: string[] },
    charged: string | undefined,
    req: { env: Envelope; raw: Uint8Array } | undefined,
  ): Promise<{ u: ReturnType<Msrp["rekeyGroup"]>; data: RekeyIntent; reply?: Uint8Array }> {
    const { evict, add, suspicious, lift, byFlag } = choice;
    // members held in S_RN by a flag lifted since the last sync leave it first, or the agent
    // would evict them as suspicious (s18-redg G2); undone if the agent refuses the update
    const lifted = lift?.length ? this.d.msrp.applyTrustFlags([], lift).lifted : [];
    let u: ReturnType<Msrp["rekeyGroup"]>;
    try {
      u = this.d.msrp.rekeyGroup(gid, evict, add);
    } catch (e) {
      if (lifted.length) this.d.msrp.applyTrustFlags(lifted, []);
      throw e;
    }
    if (lifted.length) this.d.log(`group update: ${lifted.length} RN(s)' trust flag lifted: out of S_RN (kept in the group)`);
    const reply = req
      ? this.d.reply(req.env, req.raw, encodeRekeyDone({ epoch: u.epoch, evicted: u.evicted, added: u.added.map((a) => a.pid) }))
      : undefined;
    const data: RekeyIntent = {
      groupId: toHex(gid),
      epoch: u.epoch,
      Q: pointHex(u.Q),
      commitmentsHash: toHex(u.commitmentsHash),
      evicted: u.evicted.map(toHex),
      added: u.added.map((a) => toHex(a.pid)),
      members: u.members.map((m) => ({ name: m.name, pid: toHex(m.pid) })),
      roster: u.roster.map((p) => [toHex(p.pid), pointHex(p.pk)]),
      ...(suspicious ? { suspicious } : {}),
      ...(byFlag?.length ? { byFlag } : {}),
      messages: Object.fromEntries([...u.messages].map(([k, v]) => [k, toHex(v)])),
      ...(req && reply
        ? { requestId: toHex(req.env.requestId), request: toHex(req.raw), reply: toHex(reply) }
        : {
            auto: true as const,
            evictedRns: info.members.filter((m) => u.evicted.some((p) => equalBytes(p, m.pid))).map((m) => m.name),
            addedRns: u.added.map((a) => a.name),
          }),
    };
    if (charged) this.quota.charge(info.user, charged);
    this.d.journal.put(`rekey-${toHex(gid).slice(2)}`, "rekeyGroup", data);
    await this.d.groups.rekey(
      gid,
      u.epoch,
      u.evicted,
      u.added.map((a) => a.pid),
      u.Q,
      u.commitmentsHash,
    );
    faultPoint("msrp:after-chain-write");
    this.finishRekey(data);
    return { u, data, ...(reply ? { reply } : {}) };
  }

  // ---------------------------------------------------------------- the flag sync's update

  /**
   * The flag sync's key update (RSMS §IV.B.2.c step 1, rsms-group.md §8 "automatic update"): every
   * group this MSRP formed with a member in S_RN (the suspicious parties: {@link syncTrustFlags}
   * puts there an RN the trust layer flags under any PID the MSRP issued it, on the RN's own attested
   * entity only; an RN an update evicted elsewhere, or the operator's `rsms:rn:flag`, is there too)
   * gets the update its user's `group:rekey` naming no PID would make
   * ({@link rekeyChoice}: the flagged members evicted and replaced by fresh joined RNs, or the whole
   * group when one is flagged under another pseudonym), through the same path ({@link commitUpdate}:
   * the same journal intent `rekey-<gid>`, chain write and mailbox, fetched as any update). The
   * MSRP pays the gas; the group quota does not count it (a rekey never is).
   * Level-triggered, so that a second sync, a restart or a lost reply makes no second update, and an
   * RN in two groups leaves both: the groups are read from the record (a member still in S_RN), not
   * from what this sync added; an
   * automatic update left pending by a failed chain write is finished first, whatever the flags say
   * now (its transaction may still be mined: dropping it would let the chain move without the
   * agent, h11-red R7); a flag lifted before the update is dealt evicts nobody ({@link suspects}).
   * One try per group per sync (s19-review1 R5), and a per-group back-off after a failure (the
   * group's `autoRetry` in the MSRP's record, {@link nextAutoRetry}: until its next try no write is
   * made for it; a lasting chain refusal waits the cap and is logged once), ended by any committed
   * update of the group or when it has no member in S_RN any more.
   * @returns the updates made (group, epoch, evicted RNs, added RNs) and the groups whose try
   *   failed at this sync (once each; tried again after their back-off), each logged
   */
  async evictFlaggedMembers(): Promise<{ updates: AutoUpdate[]; failed: { groupId: string; error: string }[] }> {
    const updates: AutoUpdate[] = [];
    const failed: { groupId: string; error: string }[] = [];
    if (!this.d.trust) return { updates, failed };
    const now = (this.d.clock ?? Date.now)();
    // one try per group per sync (s19-review1 R5: a left intent whose write failed in step 1 was
    // written again in step 2); the outcome of each try, applied to its back-off at the end
    const tried = new Map<string, unknown>();
    /** whether the group's back-off lets this sync write to the chain for it */
    const due = (gid: Uint8Array) => {
      const r = this.d.msrp.groupInfo(gid).autoRetry;
      return !r || now >= r.next;
    };
    for (const i of this.d.journal.pending()) {
      if (i.kind !== "rekeyGroup" || !(i.data as RekeyIntent).auto) continue;
      const d = i.data as RekeyIntent;
      const gid = fromHex(d.groupId, 32);
      if (tried.has(d.groupId)) continue;
      tried.set(d.groupId, undefined);
      try {
        const u = await this.d.mutex.run(async () => {
          if (!this.d.journal.pending().some((j) => j.id === i.id && j.data.Q === d.Q)) return undefined; // finished meanwhile
          // backed off: finished only if the chain already shows it (a lost reply: a read, no gas), not written again
          if (!due(gid) && !(await this.chainShows(d))) {
            tried.set(d.groupId, BACKED_OFF);
            return undefined;
          }
          const finished = await this.finishRekeyIntent(d);
          this.d.journal.done(i.id);
          if (!finished) {
            this.d.log(`group ${d.groupId.slice(0, 10)}…: automatic update to epoch ${d.epoch} conflicts with the chain: dropped`);
            return undefined;
          }
          return this.autoDone(d);
        });
        if (u) updates.push(u);
      } catch (e) {
        tried.set(d.groupId, e);
      }
    }
    // members in S_RN (the sync put the flagged ones there; an RN that an update evicted from one
    // group is still in S_RN, held by its flag if evicted for it, and in its other groups)
    const suspicious = new Set(this.d.msrp.revokedRns());
    for (const gid of this.d.msrp.groupIds()) {
      if (tried.has(toHex(gid))) continue;
      const info = this.d.msrp.groupInfo(gid);
      if (!info.members.some((m) => suspicious.has(m.name)) || !this.mailbox(gid)) {
        // nothing to evict any more (the flag lifted, the operator's clear): a back-off left is over
        if (info.autoRetry) tried.set(toHex(gid), undefined);
        continue;
      }
      if (!due(gid)) continue;
      tried.set(toHex(gid), undefined);
      try {
        const u = await this.autoUpdate(gid);
        if (u) updates.push(u);
      } catch (e) {
        tried.set(toHex(gid), e);
      }
    }
    // the back-offs: a failure pushes the group's next try back, a try that did not fail ends it
    // (an update committed ends it already: Msrp.commitRekey)
    if ([...tried].some(([g, e]) => e !== BACKED_OFF && (e !== undefined || this.d.msrp.groupInfo(fromHex(g, 32)).autoRetry)))
      await this.d.mutex.run(async () => {
        for (const [g, e] of tried) {
          const gid = fromHex(g, 32);
          const before = this.d.msrp.groupInfo(gid).autoRetry;
          if (e === BACKED_OFF) continue;
          if (e === undefined) {
            if (before) this.d.msrp.setAutoRetry(gid, undefined);
            continue;
          }
          const r = nextAutoRetry(before, e, now);
          this.d.msrp.setAutoRetry(gid, r);
          failed.push({ groupId: g, error: r.error });
          const at = new Date(r.next).toISOString();
          if (!r.refused)
            this.d.log(
              `group ${g.slice(0, 10)}…: automatic update failed (${r.failures} in a row; tried again at the first flag sync from ${at}): ${r.error}`,
            );
          else if (!before?.refused || before.error !== r.error)
            // reported once: the same refusal again is not logged again (group:status shows it)
            this.d.log(
              `group ${g.slice(0, 10)}…: automatic update refused by the chain (${r.error}): trying again will not change it; next try from ${at} (the back-off's cap), or the user's own update (group:rekey, group:add)`,
            );
        }
        this.d.save();
      });
    return { updates, failed };
  }

  /**
   * Recovery of the flag sync's own update (at start-up, and the stalled intents' retries): under
   * the group's back-off like the sync ({@link evictFlaggedMembers}), so that no restart or retry
   * loop writes it more often. While the back-off runs it is finished only if the chain shows it
   * (a read); otherwise this throws (the intent stays pending, stalled: tried again later, by this
   * or the next sync once due). A failed write pushes the back-off on, like a sync's.
   * @returns false when it conflicts with the chain (dropped, logged); true when finished
   */
  private async recoverAuto(d: RekeyIntent): Promise<boolean> {
    const gid = fromHex(d.groupId, 32);
    const now = (this.d.clock ?? Date.now)();
    const before = this.d.msrp.groupInfo(gid).autoRetry;
    if (before && now < before.next && !(await this.chainShows(d)))
      throw new Error(
        `automatic update of group ${d.groupId.slice(0, 10)}… to epoch ${d.epoch} backed off (${before.failures} failure(s) in a row): tried again from ${new Date(before.next).toISOString()}`,
      );
    try {
      if (await this.finishRekeyIntent(d)) return true;
    } catch (e) {
      this.d.msrp.setAutoRetry(gid, nextAutoRetry(before, e, now));
      this.d.save();
      throw e;
    }
    this.d.log(`recovery: group ${d.groupId} epoch ${d.epoch} conflicts with the chain: update dropped`);
    return false;
  }

  /** Whether the chain is at an update intent's epoch with its key (a write of it was mined: finishing it writes nothing). */
  private async chainShows(d: RekeyIntent): Promise<boolean> {
    const on = await this.d.groups.view(fromHex(d.groupId, 32));
    return on.epoch === d.epoch && on.Q.equals(decodePoint(fromHex(d.Q, 33)));
  }

  /** One group's automatic update ({@link evictFlaggedMembers}), under the mutex; undefined when there is nothing to evict any more. */
  private autoUpdate(gid: Uint8Array): Promise<AutoUpdate | undefined> {
    const id = `rekey-${toHex(gid).slice(2)}`;
    return this.d.mutex.run(async () => {
      // another request's update left pending (its client gave up) is finished first, by
      // recovery's rule, so that the agent is at the chain's epoch before the members are read
      const left = this.d.journal.pending().find((i) => i.id === id);
      if (left) {
        await this.finishRekeyIntent(left.data as RekeyIntent);
        this.d.journal.done(id);
      }
      // read again under the mutex: a user's update, or another sync, may have evicted it since
      const info = this.d.msrp.groupInfo(gid);
      const suspicious = new Set(this.d.msrp.revokedRns());
      if (!info.members.some((m) => suspicious.has(m.name))) return undefined;
      let choice: Awaited<ReturnType<GroupDesk["rekeyChoice"]>>;
      try {
        choice = await this.rekeyChoice(info, gid, []);
      } catch (e) {
        // the flag was lifted since the sync read it (suspects: `lift`): nobody to evict, nothing changed
        if (e instanceof GroupServiceError && e.reason === "NOTHING_TO_EVICT") return undefined;
        throw e;
      }
      const { data } = await this.commitUpdate(gid, info, choice, undefined, undefined);
      this.d.journal.done(id);
      return this.autoDone(data);
    });
  }

  /**
   * Logs an automatic update made (one line: group, how many evicted, epoch, how many added; no
   * names: GroupUpdated lists the PIDs, s24-rts F4) and returns it (with the names, for the caller).
   */
  private autoDone(d: RekeyIntent): AutoUpdate {
    const u = { groupId: d.groupId, epoch: d.epoch, evicted: d.evictedRns ?? [], added: d.addedRns ?? [] };
    this.d.log(
      `group ${d.groupId.slice(0, 10)}…: automatic update (flag sync): evicted ${u.evicted.length} RN(s), epoch ${u.epoch}, added ${u.added.length}`,
    );
    return u;
  }

  // ---------------------------------------------------------------- the channel

  /** POST /v1/group/send: a party's Channel message, appended to its epoch's log once. */
  private async send(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const m = decodeChannel(env.body);
    const box = this.known(m.groupId);
    const sender = box.roster.find(([pid]) => pid === toHex(m.sender));
    if (!sender)
      throw new GroupServiceError(
        "NOT_A_MEMBER",
        `send: ${toHex(m.sender).slice(0, 10)}… is not a party of group ${toHex(m.groupId).slice(0, 10)}… at epoch ${box.epoch}`,
      );
    const pk = decodePoint(fromHex(sender[1], 33));
    verifyEnvelope(env, { kind: Kind.Request, route: Route.GroupSend, audience: this.d.audience, sender: { scheme: Scheme.Schnorr, pk } });
    GroupDesk.session(env, m.groupId, m.epoch);
    // the receivers check the sender's signature again; the mailbox keeps nobody's forgery
    if (!channelSignedBy(env.body, pk))
      throw new GroupServiceError(
        "FORGED_SENDER",
        `send: the channel message is not signed by its sender ${toHex(m.sender).slice(0, 10)}…`,
      );
    return this.d.cache.once(env.requestId, env.issuedAt, raw, () =>
      this.d.mutex.run(async () => {
        const cur = this.known(m.groupId);
        if (cur.epoch !== m.epoch)
          throw new GroupServiceError(
            "STALE_EPOCH",
            `send: group ${toHex(m.groupId).slice(0, 10)}… is at epoch ${cur.epoch}, not ${m.epoch}`,
          );
        // the sender, checked above against the roster of its time, must be a party of this epoch
        // under the same key: an update may have evicted it meanwhile (h15-red H3)
        if (cur.roster.find(([pid]) => pid === sender[0])?.[1] !== sender[1])
          throw new GroupServiceError(
            "NOT_A_MEMBER",
            `send: ${toHex(m.sender).slice(0, 10)}… is not a party of group ${toHex(m.groupId).slice(0, 10)}… at epoch ${cur.epoch}`,
          );
        // an RN in S_RN neither writes nor reads the group's traffic, however long the key
        // update that evicts it is put off (s18-redg G1); under the mutex, which the flag sync holds
        this.refuseSuspicious("send", m.sender, m.groupId);
        // one line appended and fsynced (channel-log.ts), not the epoch's whole log rewritten
        const e = this.channel.epoch(m.groupId, m.epoch);
        const hex = toHex(env.body);
        let index = e?.index.get(hex) ?? -1;
        if (index < 0) {
          const last = BigInt(e?.last[toHex(m.sender)] ?? "0");
          if (m.seq <= last)
            throw new GroupServiceError("REPLAYED", `send: sequence number ${m.seq} is not above the sender's last, ${last}`);
          if ((e?.messages.length ?? 0) >= MAX_CHANNEL_LOG)
            throw new GroupServiceError("CHANNEL_FULL", `send: epoch ${m.epoch} holds ${MAX_CHANNEL_LOG} messages; renew the key`);
          index = this.channel.append(m.groupId, m.epoch, cur.roster, hex, toHex(m.sender), m.seq);
        }
        return this.d.reply(env, raw, encodeGroupSent({ epoch: m.epoch, index }));
      }),
    );
  }

  /**
   * Refuses a channel request of a party whose RN is in S_RN (s18-redg G1). The MSRP's flag sync puts
   * an RN the trust layer flags there at once, and (unless `--auto-evict off`) makes the group's key
   * update at the same sync ({@link evictFlaggedMembers}); otherwise the key moves only when its user
   * asks for an update, and until then the mailbox, the group's only channel, would relay the flagged RN
   * every message of the epoch, and its own. What it already read stays read; a retired epoch it
   * took part in is refused too (it would read there what was sent while it was under suspicion),
   * and so is the current key update it has not fetched yet (s18-review1 L2).
   * The RN learns only what it knows already (it may not rotate: `SUSPICIOUS`); it is read again at
   * each request, so an RN whose flag is lifted reads again after the next flag sync.
   */
  private refuseSuspicious(what: "send" | "read", pid: Uint8Array, gid: Uint8Array): void {
    if (this.d.msrp.inSuspiciousRn(pid))
      throw new GroupServiceError(
        "SUSPICIOUS",
        `${what}: ${toHex(pid).slice(0, 10)}… is in the MSRP's set of suspicious RNs: no traffic of group ${toHex(gid).slice(0, 10)}… until a key update evicts it (the flag sync's own, or the user's) or the operator clears it`,
      );
  }

  /** POST /v1/group/read: an epoch's Channel messages from an index on, for a party of that epoch. */
  private async read(raw: Uint8Array): Promise<Uint8Array> {
    const env = openEnvelope(raw);
    const q = decodeGroupRead(env.body);
    const box = this.known(q.groupId);
    const e = this.channel.epoch(q.groupId, q.epoch);
    const roster = q.epoch === box.epoch ? box.roster : e?.roster;
    if (!roster)
      throw new GroupServiceError("STALE_EPOCH", `read: group ${toHex(q.groupId).slice(0, 10)}… has no traffic at epoch ${q.epoch}`);
    const reader = roster.find(([pid]) => pid === toHex(q.pid));
    if (!reader)
      throw new GroupServiceError(
        "NOT_A_MEMBER",
        `read: ${toHex(q.pid).slice(0, 10)}… is not a party of group ${toHex(q.groupId).slice(0, 10)}… at epoch ${q.epoch}`,
      );
    verifyEnvelope(env, {
      kind: Kind.Request,
      route: Route.GroupRead,
      audience: this.d.audience,
      sender: { scheme: Scheme.Schnorr, pk: decodePoint(fromHex(reader[1], 33)) },
    });
    GroupDesk.session(env, q.groupId, q.epoch);
    this.refuseSuspicious("read", q.pid, q.groupId);
    return this.d.cache.once(env.requestId, env.issuedAt, raw, async () => {
      const messages = this.channel.epoch(q.groupId, q.epoch)?.messages ?? [];
      const from = Math.min(q.from, messages.length);
      return this.d.reply(
        env,
        raw,
        encodeGroupChannel({
          epoch: q.epoch,
          total: messages.length,
          from,
          messages: messages.slice(from, from + MAX_READ).map((x) => fromHex(x)),
        }),
      );
    });
  }

  /** After rekey is on-chain: the agent's record (S_RN gains the evicted), then the mailbox. */
  private finishRekey(d: RekeyIntent): void {
    const gid = fromHex(d.groupId, 32);
    if (this.d.msrp.groupInfo(gid).epoch < d.epoch) {
      this.d.msrp.commitRekey(
        gid,
        d.epoch,
        d.members.map((m) => ({ name: m.name, pid: fromHex(m.pid, 32) })),
        d.suspicious,
        d.auto ? (d.evictedRns ?? []) : undefined,
        d.byFlag,
      );
      this.d.save();
    }
    const box = this.known(gid);
    if (box.epoch < d.epoch) {
      // the update epoch it retires stays fetchable for a party that missed it (s18-redg G3):
      // written before the mailbox moves on, so a crash in between is finished by this again
      if (box.kind === 1) {
        const past = this.retired(gid);
        past[String(box.epoch)] = { roster: box.roster, mine: box.mine, ...(box.auto ? { auto: box.auto } : {}) };
        const kept = Object.keys(past)
          .map(Number)
          .sort((a, b) => b - a)
          .slice(0, MAX_RETIRED_UPDATES);
        writeFileAtomic(this.pastFile(gid), JSON.stringify(Object.fromEntries(kept.map((e) => [String(e), past[String(e)]]))), 0o600);
      }
      this.writeMailbox(gid, {
        epoch: d.epoch,
        kind: 1,
        user: box.user,
        roster: d.roster,
        mine: d.messages,
        rounds: {},
        ...(d.auto ? { auto: d.evicted } : {}),
      });
    }
  }

  // ---------------------------------------------------------------- recovery

  /**
   * Finishes a formation from its intent: formGroup unless the group is on-chain, then the agent's
   * record, the mailbox and the reply (cached for good).
   * @returns false if the group is on-chain with another key (nothing done)
   */
  private async finishFormIntent(d: FormIntent): Promise<boolean> {
    const gid = fromHex(d.groupId, 32);
    const Q = decodePoint(fromHex(d.Q, 33));
    const on = await this.d.groups.view(gid).catch(() => undefined);
    if (!on)
      await this.d.groups.formGroup(
        gid,
        fromHex(d.parties[0].pid, 32),
        d.parties.slice(1).map((p) => fromHex(p.pid, 32)),
        Q,
        fromHex(d.commitmentsHash, 32),
      );
    else if (on.epoch === 0 && !on.Q.equals(Q)) return false;
    this.finishFormation(d);
    this.d.cache.store(fromHex(d.requestId), fromHex(d.request), fromHex(d.reply), true);
    return true;
  }

  /**
   * Finishes a key update from its intent: rekey if the chain is at the epoch before, then (the
   * chain at its epoch with its key) the agent's record, the mailbox and the reply (cached for good).
   * @returns false if the chain is elsewhere or holds another key (nothing done)
   */
  private async finishRekeyIntent(d: RekeyIntent): Promise<boolean> {
    const gid = fromHex(d.groupId, 32);
    const Q = decodePoint(fromHex(d.Q, 33));
    const on = await this.d.groups.view(gid);
    if (on.epoch === d.epoch - 1)
      await this.d.groups.rekey(
        gid,
        d.epoch,
        d.evicted.map((p) => fromHex(p, 32)),
        d.added.map((p) => fromHex(p, 32)),
        Q,
        fromHex(d.commitmentsHash, 32),
      );
    else if (on.epoch !== d.epoch || !on.Q.equals(Q)) return false;
    this.finishRekey(d);
    if (d.requestId && d.request && d.reply) this.d.cache.store(fromHex(d.requestId), fromHex(d.request), fromHex(d.reply), true);
    return true;
  }

  /**
   * The pending intent `id` journaled for these very request bytes (a retry whose chain write
   * failed after it, possibly mined: h11-red R7), if any.
   */
  private leftFor(id: string, raw: Uint8Array): Record<string, unknown> | undefined {
    return this.d.journal.pending().find((i) => i.id === id && i.data.request === toHex(raw))?.data;
  }

  /**
   * Deletes the intent `id` once this request is answered, unless it is another request's: a
   * retry answered from the reply cache (a late copy of a served request) must not drop the
   * intent another request (or the flag sync) left pending since, under the same group's id, whose
   * transaction may be mined (s24-fxr: the agent would stay behind the chain, every update refused).
   */
  private doneFor(id: string, raw: Uint8Array): void {
    const left = this.d.journal.pending().find((i) => i.id === id);
    if (left && left.data.request !== toHex(raw)) return;
    this.d.journal.done(id);
  }

  /** Finishes a group intent a crash left (called by MsrpService.recover); false: not a group intent. */
  async recoverOne(kind: string, data: Record<string, unknown>): Promise<boolean> {
    if (kind === "registerUser") {
      const d = data as { name: string; pid: string; requestId: string; request: string; reply: string };
      let pid: string | undefined;
      try {
        pid = toHex(this.d.msrp.userCredentials(d.name).pid);
      } catch {
        /* never saved */
      }
      if (pid === d.pid) this.d.cache.store(fromHex(d.requestId), fromHex(d.request), fromHex(d.reply));
      return true;
    }
    if (kind === "formGroup") {
      const d = data as FormIntent;
      if (!(await this.finishFormIntent(d))) {
        this.d.log(`recovery: group ${d.groupId} is on-chain with another key: formation dropped`);
        return true;
      }
      this.d.log(`recovery: group ${d.groupId.slice(0, 10)}… formation completed`);
      return true;
    }
    if (kind === "rekeyGroup") {
      const d = data as RekeyIntent;
      if (d.auto && !(await this.recoverAuto(d))) return true;
      if (!(await this.finishRekeyIntent(d))) {
        this.d.log(`recovery: group ${d.groupId} epoch ${d.epoch} conflicts with the chain: update dropped`);
        return true;
      }
      this.d.log(`recovery: group ${d.groupId.slice(0, 10)}… epoch ${d.epoch} completed`);
      return true;
    }
    return false;
  }
}

type FormIntent = {
  groupId: string;
  user: string;
  parties: { name: string; pid: string; pk: string }[];
  allocations: string[];
  Q: string;
  commitmentsHash: string;
  requestId: string;
  request: string;
  reply: string;
};
type RekeyIntent = {
  groupId: string;
  epoch: number;
  Q: string;
  commitmentsHash: string;
  evicted: string[];
  added: string[];
  members: { name: string; pid: string }[];
  roster: [string, string][];
  /** the evicted RNs that join S_RN when not every evicted one does (a re-formation, h14-red F1) */
  suspicious?: string[];
  /**
   * the members the trust layer flagged when the update was dealt: if evicted, they stay flag-held in
   * S_RN (Msrp.commitRekey's `byFlag`, s22-redx F1), and a recovery commits the same
   */
  byFlag?: string[];
  messages: Record<string, string>;
  /** the user's request it answers (none for the flag sync's automatic update) */
  requestId?: string;
  request?: string;
  reply?: string;
  /** the flag sync's automatic update (evictFlaggedMembers), with the RNs it evicted and added, by name */
  auto?: true;
  evictedRns?: string[];
  addedRns?: string[];
};

/** An automatic key update the flag sync made ({@link GroupDesk.evictFlaggedMembers}). */
export type AutoUpdate = { groupId: string; epoch: number; evicted: string[]; added: string[] };

/** A group the sync left alone: its back-off runs, and the chain does not show its pending update yet. */
const BACKED_OFF = Symbol("backed off");

/** The back-off of a group's automatic update after its first failure (ms): the next try waits this long, doubled at each failure in a row. */
export const AUTO_RETRY_BASE_MS = 60_000;
/** The back-off's cap (ms): a group whose automatic update keeps failing, or that the chain refuses for good, is tried once per this long. */
export const AUTO_RETRY_CAP_MS = 6 * 3_600_000;

/**
 * A chain refusal of the registry's `rekey` that trying the same update again will not change: a
 * custom error of the contracts (offchain/chain/reverts.ts) other than `EpochNotNext` (the chain
 * moved: the next sync finishes or drops the intent by the chain's state). Undefined for anything
 * else (the node unreachable, no funds, a nonce, a timeout, the desk's own refusals): those may pass.
 */
export function lastingRefusal(e: unknown): string | undefined {
  const r = contractRevert(e);
  return r && r.name !== "ServiceGroupRegistry__EpochNotNext" ? r.text : undefined;
}

/**
 * The back-off after a failed try at `now` (ms): `failures` in a row, the next try
 * AUTO_RETRY_BASE_MS x 2^(failures - 1) later, at most AUTO_RETRY_CAP_MS; a lasting refusal
 * ({@link lastingRefusal}) waits the cap at once.
 */
export function nextAutoRetry(before: AutoRetry | undefined, e: unknown, now: number): AutoRetry {
  const failures = (before?.failures ?? 0) + 1;
  const refused = lastingRefusal(e);
  const error = refused ?? (e instanceof Error ? e.message : String(e)).split("\n")[0];
  const wait = refused ? AUTO_RETRY_CAP_MS : Math.min(AUTO_RETRY_CAP_MS, AUTO_RETRY_BASE_MS * 2 ** Math.min(failures - 1, 30));
  return { failures, error, next: now + wait, ...(refused ? { refused: true as const } : {}) };
}
