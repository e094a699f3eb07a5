/**
 * RSMS §IV.B service groups: the MSRP deals a Shamir sharing of the group key to the user and the
 * N allocated RNs; the parties authenticate each other's membership, agree on the key, and the
 * MSRP renews it when members are evicted or added. Pure: no I/O.
 *
 *   Deal (§IV.B.2.a step 2):   r <-$ Z_q*, s = H2(PIDs, r, msk), f(x) = s + a_1 x + ... + a_N x^N,
 *                              Q = s*P, x_i = H2(PID_i); Party_i gets Enc_PK_i(f(x_i)) and the PID list.
 *                              + Feldman commitments A_k = a_k*P (A_0 = Q), hash on-chain      [metatrust]
 *   Membership (steps 3-5):    Party_i sends Y_i = f(x_i)*P                + a Schnorr proof of f(x_i) [metatrust]
 *                              C_j = lambda_j(0) * Y_j;  accept iff sum_j C_j = Q
 *                              + Y_j = sum_k x_j^k A_k for every j, naming any party that fails [metatrust]
 *   Key agreement (§IV.B.2.b): Party_i -> Party_j: f(x_i) xor KDF(f(x_i) * Y_j); Party_j unmasks with
 *                              f(x_j) * Y_i, checks f(x_i)*P = Y_i, s' = sum lambda_r f(x_r), H4(s') = H4(s)
 *                              (checked as s'*P = Q); session key K = HKDF(s, gid, epoch)
 *   Update (§IV.B.2.c):        the paper's s_new = s + H5(Q, PK_pub)*msk lets any member who sees two
 *                              consecutive keys compute msk = (s_new - s) / H5(Q, PK_pub). metatrust draws
 *                              s_new <-$ Z_q* instead, commits Q_new on-chain with epoch + 1 and sends
 *                              Enc_PK_i(s_new) (bound to gid, epoch, PID_i) to the remaining and added
 *                              members only, who check s_new*P = Q_new (docs/specs/rsms-group.md).
 *   Key shares are signed by their sender, so a share altered in transit names nobody and a signed
 *   bad share names its sender (sound blame)                                                   [metatrust]
 *   Channel:                   live traffic under the current epoch only; each message carries the
 *                              sender's sequence number and its Schnorr signature (non-repudiation,
 *                              §III.D.2), checked against the roster the MSRP's sealed share or key
 *                              vouches for                                                        [metatrust]
 */
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { bytesToNumberBE, concat, equalBytes, fromHex, toBytes, toHex, xor } from "../crypto/bytes";
import { eciesDecrypt, eciesEncrypt } from "../crypto/ecies";
import {
  GENERATOR,
  ORDER,
  Point,
  add,
  addMod,
  decodePoint,
  decodeScalar,
  encodePoint,
  encodeScalar,
  mul,
  mulBase,
  mulMod,
  msmPublic,
  randomScalar,
} from "../crypto/group";
import { H2, H3, hashToScalar } from "../crypto/hash";
import { schnorrSign, schnorrVerify } from "../crypto/schnorr";
import { evaluate, lagrangeCoefficients, randomPolynomial } from "../crypto/shamir";
import { MetatrustError } from "../errors";
import { AgentStateError, MalformedMessageError } from "./errors";
import {
  channelHeader,
  channelSigned,
  keyShareSigned,
  decodeAllocation,
  decodeChannel,
  decodeKeyShare,
  decodeMembership,
  decodeRekey,
  encodeAllocation,
  encodeChannel,
  encodeKeyShare,
  encodeMembership,
  encodeRekey,
} from "./group-messages";

/** Why a group protocol step failed, and which parties are to blame. */
export type GroupFailure =
  /** A party's share (or broadcast) is inconsistent with the dealt polynomial. */
  | "INCONSISTENT_SHARE"
  /** A party could not prove knowledge of its share (outsider or replayed broadcast). */
  | "BAD_PROOF"
  /** sum C_j != Q, or the recovered s' does not match Q. */
  | "KEY_MISMATCH"
  /** The dealing does not match the on-chain commitments (forged Q or commitments). */
  | "DEALING_MISMATCH"
  /** A message of an old or unknown epoch or group. */
  | "STALE_EPOCH"
  /** A message this party already processed (replayed or duplicated): refused, nothing changes. */
  | "REPLAYED"
  /** A channel message that does not open under this epoch's key. */
  | "CHANNEL_REJECTED"
  /** A channel message not signed by the member its sender field names. */
  | "FORGED_SENDER"
  /** This party's own channel message handed back to it (the network reflected it): not traffic it received. */
  | "REFLECTED";

/** A group protocol step failed; `parties` names the PIDs at fault when they can be identified. */
export class GroupAuthenticationError extends MetatrustError {
  readonly failure: GroupFailure;
  readonly parties: string[];
  constructor(failure: GroupFailure, message: string, parties: string[] = []) {
    super("PROTOCOL_REJECTED", message);
    this.failure = failure;
    this.parties = parties;
  }
}

/** A party of a dealing: its PID and public key (the user first, then the RNs). */
export type GroupPartyInfo = { pid: Uint8Array; pk: Point };

/** What the MSRP produces for a new group or a new epoch. */
export type Dealing = {
  groupId: Uint8Array;
  epoch: number;
  s: bigint;
  Q: Point;
  commitments: Point[];
  commitmentsHash: Uint8Array;
  /** one Allocation message per party, in party order */
  allocations: Uint8Array[];
};

/** The chain's view of a group, which every party checks messages against. */
export type GroupChainView = { epoch: number; Q: Point; commitmentsHash: Uint8Array };

const SHARE_AAD = (gid: Uint8Array, epoch: number, pid: Uint8Array, roster: Uint8Array) =>
  concat(toBytes(`RSMS-V1-GROUP-SHARE/${epoch}/`), gid, pid, roster);
const REKEY_AAD = (gid: Uint8Array, epoch: number, pid: Uint8Array, roster: Uint8Array) =>
  concat(toBytes(`RSMS-V1-GROUP-REKEY/${epoch}/`), gid, pid, roster);
const CHANNEL_DST = "METATRUST-V1-RSMS-GROUP-CHANNEL";
const KEYSHARE_DST = "METATRUST-V1-RSMS-GROUP-KEYSHARE";

/**
 * Whether a Channel message carries its sender's signature under `pk` over header || ct: what a
 * relay that holds no epoch key (the MSRP's mailbox) can check before it stores the message.
 * @param message - an encoded Channel message
 * @param pk - the key the epoch's roster names for the message's sender
 * @returns true when the signature verifies
 * @throws MalformedMessageError when the bytes are not a Channel message
 */
export function channelSignedBy(message: Uint8Array, pk: Point): boolean {
  const m = decodeChannel(message);
  return schnorrVerify(pk, CHANNEL_DST, channelSigned(m), m.sig);
}

/**
 * keccak256(PID_0 || ... || PID_n || PK_0 || ... || PK_n): the roster a dealing or an update
 * vouches for. It enters the associated data of every sealed share and key, so the roster a party
 * checks channel signatures against is the MSRP's.
 */
export function rosterHash(parties: GroupPartyInfo[]): Uint8Array {
  return keccak_256(concat(...parties.map((p) => p.pid), ...parties.map((p) => encodePoint(p.pk))));
}
const POK_DST = "METATRUST-V1-RSMS-GROUP-POK";
const KEY_INFO = "METATRUST-V1-RSMS-GROUP-KEY";

/** keccak256 of the concatenated commitments: the value stored on-chain. */
export function commitmentsHash(commitments: Point[]): Uint8Array {
  return keccak_256(concat(...commitments.map(encodePoint)));
}

/** x_i = H2(PID_i), checked distinct. */
export function partyXs(pids: Uint8Array[]): bigint[] {
  const xs = pids.map((p) => H2(p));
  if (new Set(xs).size !== xs.length) throw new AgentStateError("partyXs: two parties share an x-coordinate (duplicate PID)");
  return xs;
}

/** sum_k x^k A_k: the Feldman commitment to f(x). */
export function feldmanEval(commitments: Point[], x: bigint): Point {
  const powers: bigint[] = [];
  let p = 1n;
  for (let k = 0; k < commitments.length; k++) {
    powers.push(p);
    p = mulMod(p, x);
  }
  return msmPublic(commitments, powers);
}

/** The symmetric key of an epoch: HKDF-SHA256(s, salt = gid, info = DST || epoch). */
export function epochKey(s: bigint, groupId: Uint8Array, epoch: number): Uint8Array {
  const e = new Uint8Array(4);
  new DataView(e.buffer).setUint32(0, epoch);
  return hkdf(sha256, encodeScalar(s), groupId, concat(toBytes(KEY_INFO), e), 32);
}

/**
 * The MSRP's dealing (§IV.B.2.a step 2) for a new group, or for a new epoch when `s` is given.
 * @param msk - the MSRP's master key (enters s = H2(PIDs, r, msk) at formation)
 * @param groupId - 32-byte group id
 * @param epoch - the epoch
 * @param parties - the user first, then the RNs
 * @param s - the epoch's key (rekey); drawn per the paper at formation when omitted
 */
export function dealGroup(msk: bigint, groupId: Uint8Array, epoch: number, parties: GroupPartyInfo[], s?: bigint): Dealing {
  if (parties.length < 2) throw new AgentStateError("dealGroup: a group needs the user and at least one RN");
  const pids = parties.map((p) => p.pid);
  const xs = partyXs(pids);
  const key = s ?? H2(...pids, randomScalar(), msk, groupId);
  const f = randomPolynomial(key, parties.length - 1);
  // A zero coefficient has no commitment point; redraw it (probability 2^-256 per coefficient).
  for (let k = 1; k < f.length; k++) while (f[k] === 0n) f[k] = randomScalar();
  const commitments = f.map((a) => mulBase(a));
  const roster = rosterHash(parties);
  const allocations = parties.map((p, i) =>
    encodeAllocation({
      groupId,
      epoch,
      pids,
      commitments,
      pks: parties.map((q) => q.pk),
      sealed: eciesEncrypt(p.pk, encodeScalar(evaluate(f, xs[i])), SHARE_AAD(groupId, epoch, p.pid, roster)),
    }),
  );
  return { groupId, epoch, s: key, Q: commitments[0], commitments, commitmentsHash: commitmentsHash(commitments), allocations };
}

/**
 * The MSRP's key update message for one member (§IV.B.2.c step 1, with a fresh s), bound to the
 * new epoch's roster (the user first, then the RNs).
 */
export function rekeyMessage(groupId: Uint8Array, epoch: number, s: bigint, member: GroupPartyInfo, roster: GroupPartyInfo[]): Uint8Array {
  return encodeRekey({
    groupId,
    epoch,
    sealed: eciesEncrypt(member.pk, encodeScalar(s), REKEY_AAD(groupId, epoch, member.pid, rosterHash(roster))),
  });
}

/**
 * Party_i's membership broadcast: Y_i = y*P and a Schnorr proof of y bound to (gid, epoch, i, PID_i).
 * Exported so that tests can build the messages of a dishonest party.
 */
export function membershipMessage(groupId: Uint8Array, epoch: number, index: number, pid: Uint8Array, y: bigint): Uint8Array {
  const Y = mulBase(y);
  const k = randomScalar();
  const R = mulBase(k);
  const c = pokChallenge(groupId, epoch, index, pid, Y, R);
  return encodeMembership({ groupId, epoch, index, Y, R, z: encodeScalar(addMod(k, mulMod(c, y))) });
}

function pokChallenge(groupId: Uint8Array, epoch: number, index: number, pid: Uint8Array, Y: Point, R: Point): bigint {
  return hashToScalar(
    POK_DST,
    concat(groupId, encodeScalar(BigInt(epoch) + 1n), encodeScalar(BigInt(index) + 1n), pid, encodePoint(Y), encodePoint(R)),
  );
}

type GroupState = {
  groupId: Uint8Array;
  epoch: number;
  index: number;
  pids: Uint8Array[];
  xs: bigint[];
  commitments: Point[];
  Q: Point;
  share: bigint;
  Ys: Point[];
  authenticated: boolean;
  keys: Map<number, Uint8Array>;
  /** lambda_j(0) for the epoch's xs, computed once (membership and key agreement both need them). */
  lambdas?: bigint[];
  /** f(x_i) * Y_j per party j: the same point masks i -> j and j -> i, so it is computed once. */
  dh: Map<number, Point>;
  /** the roster (PIDs and PKs) of every epoch this party held, for channel signatures */
  rosters: Map<number, GroupPartyInfo[]>;
  /** the last sequence number this party sent in the current epoch */
  sent: bigint;
  /** the highest sequence number accepted from each sender (PID hex) in the current epoch */
  seen: Map<string, bigint>;
};

/** A party of service groups: the user or an RN, with its long-term key and its groups. */
export class GroupParty {
  readonly name: string;
  readonly pid: Uint8Array;
  private readonly sk: bigint;
  private pk?: Point;
  private readonly groups = new Map<string, GroupState>();

  constructor(name: string, pid: Uint8Array, sk: bigint) {
    this.name = name;
    this.pid = Uint8Array.from(pid);
    this.sk = sk;
  }

  /** PK = sk*P (computed once). */
  get publicKey(): Point {
    this.pk ??= mulBase(this.sk);
    return this.pk;
  }

  private group(groupId: Uint8Array): GroupState {
    const g = this.groups.get(toHex(groupId));
    if (!g) throw new AgentStateError(`${this.name}: not a member of group ${toHex(groupId)}`);
    return g;
  }

  /** The epochs whose keys this party holds for a group. */
  epochsOf(groupId: Uint8Array): number[] {
    const g = this.groups.get(toHex(groupId));
    return g ? [...g.keys.keys()].sort((a, b) => a - b) : [];
  }

  /** The current epoch of a group for this party. */
  currentEpoch(groupId: Uint8Array): number {
    return this.group(groupId).epoch;
  }

  /**
   * Step 3 (receive): opens the dealt share, checks the dealing against the chain and the share
   * against the Feldman commitments, and returns this party's membership broadcast.
   * @throws GroupAuthenticationError(DEALING_MISMATCH | INCONSISTENT_SHARE | STALE_EPOCH), DecryptionError
   */
  acceptAllocation(allocation: Uint8Array, chain: GroupChainView): Uint8Array {
    const a = decodeAllocation(allocation);
    const index = a.pids.findIndex((p) => equalBytes(p, this.pid));
    if (index < 0) throw new AgentStateError(`${this.name}: the allocation does not list my PID`);
    if (a.epoch !== chain.epoch)
      throw new GroupAuthenticationError("STALE_EPOCH", `${this.name}: allocation for epoch ${a.epoch}, chain is at ${chain.epoch}`);
    const known = this.groups.get(toHex(a.groupId));
    if (known && known.epoch >= a.epoch)
      throw new GroupAuthenticationError(
        known.epoch === a.epoch ? "REPLAYED" : "STALE_EPOCH",
        `${this.name}: allocation for epoch ${a.epoch} of a group I already hold at epoch ${known.epoch}`,
      );
    if (!a.commitments[0].equals(chain.Q) || !equalBytes(commitmentsHash(a.commitments), chain.commitmentsHash)) {
      throw new GroupAuthenticationError(
        "DEALING_MISMATCH",
        `${this.name}: the dealt commitments do not match Q and the commitments hash on-chain`,
      );
    }
    const roster = a.pids.map((pid, i) => ({ pid, pk: a.pks[i] }));
    const share = decodeScalar(eciesDecrypt(this.sk, a.sealed, SHARE_AAD(a.groupId, a.epoch, this.pid, rosterHash(roster))));
    const xs = partyXs(a.pids);
    if (!mulBase(share).equals(feldmanEval(a.commitments, xs[index]))) {
      throw new GroupAuthenticationError(
        "INCONSISTENT_SHARE",
        `${this.name}: the MSRP dealt me a share inconsistent with its commitments`,
        [toHex(this.pid)],
      );
    }
    const Ys: Point[] = [];
    Ys[index] = mulBase(share);
    this.groups.set(toHex(a.groupId), {
      groupId: a.groupId,
      epoch: a.epoch,
      index,
      pids: a.pids,
      rosters: new Map([...(known?.rosters ?? []), [a.epoch, roster]]),
      sent: 0n,
      seen: new Map(),
      xs,
      commitments: a.commitments,
      Q: chain.Q,
      share,
      Ys,
      authenticated: false,
      keys: new Map(),
      dh: new Map(),
    });
    return membershipMessage(a.groupId, a.epoch, index, this.pid, share);
  }

  /**
   * Steps 3-5 (verify): checks every other party's Y_j against the commitments and its proof of
   * knowledge, then the paper's sum_j lambda_j(0) Y_j = Q, all folded into one random-weighted MSM; on failure,
   * each party is checked alone so that the culprits are named.
   * @param messages - the other parties' membership broadcasts (any order)
   * @throws GroupAuthenticationError naming the parties at fault
   */
  verifyMembership(groupId: Uint8Array, messages: Uint8Array[]): void {
    const g = this.group(groupId);
    if (g.authenticated)
      throw new GroupAuthenticationError("REPLAYED", `${this.name}: membership of epoch ${g.epoch} is already authenticated`);
    const got = new Map<number, ReturnType<typeof decodeMembership>>();
    for (const raw of messages) {
      const m = decodeMembership(raw);
      if (!equalBytes(m.groupId, g.groupId) || m.epoch !== g.epoch)
        throw new GroupAuthenticationError("STALE_EPOCH", `${this.name}: membership message for another group or epoch`);
      if (m.index >= g.pids.length || m.index === g.index)
        throw new MalformedMessageError(`${this.name}: membership message with index ${m.index}`);
      if (got.has(m.index)) throw new GroupAuthenticationError("REPLAYED", `${this.name}: two membership messages from party ${m.index}`);
      got.set(m.index, m);
    }
    const missing = g.pids.map((p, i) => i).filter((i) => i !== g.index && !got.has(i));
    if (missing.length > 0)
      throw new GroupAuthenticationError(
        "BAD_PROOF",
        `${this.name}: no membership message from ${missing.length} part(ies)`,
        missing.map((i) => toHex(g.pids[i])),
      );
    const others = [...got.values()];
    const challenges = others.map((m) => pokChallenge(g.groupId, g.epoch, m.index, g.pids[m.index], m.Y, m.R));
    const zs = others.map((m) => bytesToNumberBE(m.z));
    const lambdas = (g.lambdas ??= lagrangeCoefficients(g.xs, 0n));
    // The three checks, folded into one MSM with independent random weights (rho, sigma, tau):
    //   proofs:   sum_j rho_j (z_j P - R_j - c_j Y_j) = O
    //   Feldman:  sum_j sigma_j (Y_j - sum_k x_j^k A_k) = O
    //   paper:    tau (sum_j lambda_j Y_j + lambda_i f(x_i) P - Q) = O, with Q = A_0
    // A forgery passes with probability about 2^-128; on failure each check is redone per party to
    // name the culprits.
    const w = () => bytesToNumberBE(randomBytes(16)) || 1n;
    const rho = others.map(w);
    const sigma = others.map(w);
    const tau = w();
    let pCoeff = mulMod(mulMod(tau, lambdas[g.index]), g.share);
    const aCoeff = g.commitments.map(() => 0n);
    aCoeff[0] = ORDER - tau;
    const yCoeff: bigint[] = [];
    for (const [j, m] of others.entries()) {
      pCoeff = addMod(pCoeff, mulMod(rho[j], zs[j] % ORDER));
      yCoeff.push(addMod(addMod(sigma[j], mulMod(tau, lambdas[m.index])), ORDER - mulMod(rho[j], challenges[j])));
      let x = 1n;
      for (let k = 0; k < aCoeff.length; k++) {
        aCoeff[k] = addMod(aCoeff[k], ORDER - mulMod(sigma[j], x));
        x = mulMod(x, g.xs[m.index]);
      }
    }
    // z has one encoding, in [1, q): the fold reduces it mod q, so z + q (32 bytes when z < 2^256 - q)
    // would pass it. Any z out of range skips the fold for the per-party check, which names its sender
    // (s24-rtr's note; not reachable by a forger: z < 2^256 - q has probability about 2^-128)
    const canonical = zs.every((z) => z !== 0n && z < ORDER);
    const folded = !canonical
      ? undefined
      : msmPublic(
          [GENERATOR, ...others.map((m) => m.R), ...others.map((m) => m.Y), ...g.commitments],
          [pCoeff, ...rho.map((r) => (ORDER - r) % ORDER), ...yCoeff, ...aCoeff],
        );
    if (!folded || !folded.is0()) {
      const badProof = others.filter(
        (m, j) => !(zs[j] !== 0n && zs[j] < ORDER && mulBase(zs[j]).equals(add(m.R, mul(m.Y, challenges[j])))),
      );
      if (badProof.length > 0)
        throw new GroupAuthenticationError(
          "BAD_PROOF",
          `${this.name}: ${badProof.length} part(ies) could not prove knowledge of their share`,
          badProof.map((m) => toHex(g.pids[m.index])),
        );
      const bad = others.filter((m) => !m.Y.equals(feldmanEval(g.commitments, g.xs[m.index])));
      if (bad.length > 0)
        throw new GroupAuthenticationError(
          "INCONSISTENT_SHARE",
          `${this.name}: ${bad.length} part(ies) broadcast a share inconsistent with the dealing`,
          bad.map((m) => toHex(g.pids[m.index])),
        );
      // Stryker disable next-line StringLiteral: unreachable: with every proof and every Y_j = sum_k x_j^k A_k checked, and f(x_i)*P checked by acceptAllocation, the n Lagrange coefficients of a degree < n polynomial give sum_j lambda_j Y_j = A_0, so the fold cannot fail here (scripts/mutation/survivors.json)
      throw new GroupAuthenticationError("KEY_MISMATCH", `${this.name}: sum of C_j != Q`);
    }
    for (const m of others) g.Ys[m.index] = m.Y;
    g.authenticated = true;
  }

  /**
   * Key agreement step 1: the masked share for every other party.
   * @returns one KeyShare message per other party, keyed by its index
   * @throws AgentStateError before membership authentication, or in an epoch whose key came with an
   *   update or a keystore record (no membership broadcasts to mask with)
   */
  keyShares(groupId: Uint8Array): Map<number, Uint8Array> {
    const g = this.group(groupId);
    if (!g.authenticated) throw new AgentStateError(`${this.name}: key agreement before membership authentication`);
    const out = new Map<number, Uint8Array>();
    for (let j = 0; j < g.pids.length; j++) {
      if (j === g.index) continue;
      const mask = this.mask(g, g.index, j, this.dhWith(g, j));
      const fields = { groupId: g.groupId, epoch: g.epoch, from: g.index, to: j, masked: xor(encodeScalar(g.share), mask) };
      out.set(j, encodeKeyShare({ ...fields, sig: schnorrSign(this.sk, KEYSHARE_DST, keyShareSigned(fields), this.publicKey) }));
    }
    return out;
  }

  private dhWith(g: GroupState, j: number): Point {
    let p = g.dh.get(j);
    if (!p) {
      // A state that came from acceptRekey or fromRecord holds the epoch's key but no Ys: it has no key agreement to run.
      if (!g.Ys[j])
        throw new AgentStateError(
          `${this.name}: no key agreement in epoch ${g.epoch}: I hold no membership broadcast of party ${j} (the key came with an update or a keystore record)`,
        );
      p = mul(g.Ys[j], g.share);
      g.dh.set(j, p);
    }
    return p;
  }

  private mask(g: GroupState, from: number, to: number, dh: Point): Uint8Array {
    return H3(32, dh, g.groupId, encodeScalar(BigInt(g.epoch) + 1n), encodeScalar(BigInt(from) + 1n), encodeScalar(BigInt(to) + 1n));
  }

  /**
   * Key agreement step 2: unmasks every share sent to this party, checks each against Y_i,
   * recovers s' and checks s'*P = Q (the paper's H4(s') = H4(s)); derives the epoch key.
   * @throws GroupAuthenticationError naming the senders of bad shares
   */
  acceptKeyShares(groupId: Uint8Array, messages: Uint8Array[]): Uint8Array {
    const g = this.group(groupId);
    if (!g.authenticated) throw new AgentStateError(`${this.name}: key agreement before membership authentication`);
    if (g.keys.has(g.epoch)) throw new GroupAuthenticationError("REPLAYED", `${this.name}: the key of epoch ${g.epoch} is already agreed`);
    const shares: bigint[] = [];
    shares[g.index] = g.share;
    const bad: string[] = [];
    const seen = new Set<number>();
    const roster = g.rosters.get(g.epoch);
    for (const raw of messages) {
      const m = decodeKeyShare(raw);
      if (!equalBytes(m.groupId, g.groupId) || m.epoch !== g.epoch || m.to !== g.index)
        throw new GroupAuthenticationError("STALE_EPOCH", `${this.name}: key share for another group, epoch or party`);
      if (m.from >= g.pids.length || m.from === g.index) throw new MalformedMessageError(`${this.name}: key share from index ${m.from}`);
      if (seen.has(m.from)) throw new GroupAuthenticationError("REPLAYED", `${this.name}: two key shares from party ${m.from}`);
      seen.add(m.from);
      // Blame is sound: a share is held against its sender only if the sender signed it. An
      // unsigned or altered one is a network fault, refused without naming anybody.
      if (!roster || !schnorrVerify(roster[m.from].pk, KEYSHARE_DST, keyShareSigned(m), m.sig))
        throw new GroupAuthenticationError(
          "FORGED_SENDER",
          `${this.name}: the key share from party ${m.from} is not signed by it (altered in transit); nobody is blamed`,
        );
      const y = bytesToNumberBE(xor(m.masked, this.mask(g, m.from, g.index, this.dhWith(g, m.from))));
      if (y === 0n || y >= ORDER || !mulBase(y).equals(g.Ys[m.from])) bad.push(toHex(g.pids[m.from]));
      else shares[m.from] = y;
    }
    if (bad.length > 0)
      throw new GroupAuthenticationError(
        "INCONSISTENT_SHARE",
        `${this.name}: ${bad.length} key share(s) do not match their senders' Y`,
        bad,
      );
    const missing = g.pids.map((p, i) => i).filter((i) => shares[i] === undefined);
    if (missing.length > 0)
      throw new GroupAuthenticationError(
        "BAD_PROOF",
        `${this.name}: missing key shares`,
        missing.map((i) => toHex(g.pids[i])),
      );
    const l = (g.lambdas ??= lagrangeCoefficients(g.xs, 0n));
    const s = shares.reduce((acc, y, i) => addMod(acc, mulMod(l[i], y)), 0n);
    // Stryker disable next-line StringLiteral: unreachable defence in depth: every y_j matched Y_j, and verifyMembership checked sum_j lambda_j Y_j = Q (a forgery passes its random-weighted fold with probability about 2^-128), so s*P = Q (scripts/mutation/survivors.json)
    if (!mulBase(s).equals(g.Q)) throw new GroupAuthenticationError("KEY_MISMATCH", `${this.name}: the recovered key does not match Q`);
    const k = epochKey(s, g.groupId, g.epoch);
    g.keys.set(g.epoch, k);
    return k;
  }

  /**
   * The key update of a *retired* epoch this party was a party of but never took (it was away
   * through two updates: s18-redg G3), so that it can read that epoch's stored traffic with
   * {@link openArchived}. Checked as {@link acceptRekey} checks the current one, against that
   * epoch's Q as the chain recorded it (`GroupRekeyed`); the party's current epoch, its counters
   * and every other key are unchanged.
   * @param chain - the epoch and its Q from the chain
   * @param roster - that epoch's PIDs and PKs, the user first (bound by the sealed key's associated data)
   * @throws GroupAuthenticationError(STALE_EPOCH: not a retired epoch, or not the chain's; REPLAYED:
   *   its key is held already; KEY_MISMATCH), DecryptionError, AgentStateError; nothing changes on a throw
   */
  acceptRetiredRekey(message: Uint8Array, chain: { epoch: number; Q: Point }, roster: GroupPartyInfo[]): Uint8Array {
    const m = decodeRekey(message);
    const g = this.groups.get(toHex(m.groupId));
    if (!g) throw new AgentStateError(`${this.name}: no group ${toHex(m.groupId)} to take a retired key of`);
    if (m.epoch !== chain.epoch)
      throw new GroupAuthenticationError(
        "STALE_EPOCH",
        `${this.name}: update for epoch ${m.epoch}, the chain's record is of ${chain.epoch}`,
      );
    if (m.epoch >= g.epoch)
      throw new GroupAuthenticationError("STALE_EPOCH", `${this.name}: epoch ${m.epoch} is not retired (I am at ${g.epoch}): acceptRekey`);
    if (g.keys.has(m.epoch)) throw new GroupAuthenticationError("REPLAYED", `${this.name}: I hold the key of epoch ${m.epoch}`);
    if (!roster.some((p) => equalBytes(p.pid, this.pid))) throw new AgentStateError(`${this.name}: not a party of epoch ${m.epoch}`);
    const s = decodeScalar(eciesDecrypt(this.sk, m.sealed, REKEY_AAD(m.groupId, m.epoch, this.pid, rosterHash(roster))));
    if (!mulBase(s).equals(chain.Q))
      throw new GroupAuthenticationError("KEY_MISMATCH", `${this.name}: s*P != Q of epoch ${m.epoch} on-chain`);
    const k = epochKey(s, m.groupId, m.epoch);
    g.keys.set(m.epoch, k);
    g.rosters.set(
      m.epoch,
      roster.map((p) => ({ pid: Uint8Array.from(p.pid), pk: p.pk })),
    );
    return k;
  }

  /**
   * Key update (§IV.B.2.c step 2): opens Enc_PK(s_new) for the next epoch and checks
   * s_new*P = Q_new on-chain. A replayed old update (epoch not newer) is rejected.
   * @param roster - PIDs and PKs of the new epoch, the user first (bound by the sealed key's
   *   associated data: a roster other than the MSRP's does not open); this party must be in it
   * @throws GroupAuthenticationError(STALE_EPOCH | KEY_MISMATCH), DecryptionError
   */
  acceptRekey(message: Uint8Array, chain: GroupChainView, roster: GroupPartyInfo[]): Uint8Array {
    const members = roster.map((p) => p.pid);
    const m = decodeRekey(message);
    const g = this.groups.get(toHex(m.groupId));
    if (m.epoch !== chain.epoch)
      throw new GroupAuthenticationError("STALE_EPOCH", `${this.name}: update for epoch ${m.epoch}, chain is at ${chain.epoch}`);
    if (g && m.epoch <= g.epoch)
      throw new GroupAuthenticationError("STALE_EPOCH", `${this.name}: update for epoch ${m.epoch}, I am at ${g.epoch} (replay)`);
    const s = decodeScalar(eciesDecrypt(this.sk, m.sealed, REKEY_AAD(m.groupId, m.epoch, this.pid, rosterHash(roster))));
    if (!mulBase(s).equals(chain.Q)) throw new GroupAuthenticationError("KEY_MISMATCH", `${this.name}: s_new*P != Q_new on-chain`);
    const index = members.findIndex((p) => equalBytes(p, this.pid));
    if (index < 0) throw new AgentStateError(`${this.name}: not a member of the new epoch`);
    const k = epochKey(s, m.groupId, m.epoch);
    const keys = g?.keys ?? new Map<number, Uint8Array>();
    keys.set(m.epoch, k);
    this.groups.set(toHex(m.groupId), {
      groupId: m.groupId,
      epoch: m.epoch,
      index,
      pids: members,
      rosters: new Map([...(g?.rosters ?? []), [m.epoch, roster.map((p) => ({ pid: Uint8Array.from(p.pid), pk: p.pk }))]]),
      sent: 0n,
      seen: new Map(),
      xs: partyXs(members),
      // Stryker disable next-line ArrayDeclaration: only verifyMembership reads the commitments, after its `authenticated` check, and this state is authenticated
      commitments: [chain.Q],
      Q: chain.Q,
      share: s,
      Ys: [],
      authenticated: true,
      keys,
      dh: new Map(),
    });
    return k;
  }

  /**
   * Encrypts a service message on the group channel under the current epoch's key, with this
   * party's next sequence number, and signs header || ct with its long-term key (non-repudiation,
   * §III.D.2).
   * @returns the Channel message
   */
  seal(groupId: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const g = this.group(groupId);
    const key = g.keys.get(g.epoch);
    if (!key) throw new AgentStateError(`${this.name}: no key for epoch ${g.epoch} yet`);
    const nonce = randomBytes(24);
    const seq = g.sent + 1n;
    const fields = { groupId: g.groupId, epoch: g.epoch, sender: this.pid, seq, nonce };
    const ct = xchacha20poly1305(key, nonce, channelHeader(fields)).encrypt(plaintext);
    const sig = schnorrSign(this.sk, CHANNEL_DST, channelSigned({ ...fields, ct }), this.publicKey);
    g.sent = seq;
    return encodeChannel({ ...fields, ct, sig });
  }

  /**
   * Decrypts live traffic: a channel message of the group's *current* epoch only. A message
   * sealed under a retired epoch key (e.g. by a member evicted at the last rekey, who still holds
   * that key) is refused; reading old traffic is {@link openArchived}.
   * The sender must be in the epoch's roster and have signed the message with its key
   * (`FORGED_SENDER` otherwise), and its sequence number must be above the last one accepted from
   * it in this epoch (`REPLAYED` otherwise: replays and reordered old messages are refused).
   * A message whose sender is this party itself is refused (`REFLECTED`, s24-rtr R2): the network
   * handed back what it sent, which is not traffic it received, whatever the caller skips.
   * @throws GroupAuthenticationError(CHANNEL_REJECTED | FORGED_SENDER | REPLAYED | REFLECTED); nothing changes on a throw
   */
  open(message: Uint8Array): { sender: string; epoch: number; seq: bigint; plaintext: Uint8Array } {
    const m = decodeChannel(message);
    if (equalBytes(m.sender, this.pid))
      throw new GroupAuthenticationError(
        "REFLECTED",
        `${this.name}: the channel message is its own (sender ${toHex(m.sender)}), reflected back: not received traffic`,
      );
    const g = this.groups.get(toHex(m.groupId));
    if (g && m.epoch !== g.epoch)
      throw new GroupAuthenticationError(
        "CHANNEL_REJECTED",
        `${this.name}: live traffic is accepted under the current epoch ${g.epoch} only, not ${m.epoch} (old traffic: openArchived)`,
      );
    const out = this.decrypt(m);
    const last = g!.seen.get(out.sender) ?? 0n;
    if (m.seq <= last)
      throw new GroupAuthenticationError(
        "REPLAYED",
        `${this.name}: sequence number ${m.seq} from ${out.sender} is not above the last accepted, ${last}`,
        [out.sender],
      );
    g!.seen.set(out.sender, m.seq);
    return out;
  }

  /**
   * Reads stored traffic of a *retired* epoch whose key this party still holds. Never use it for
   * live traffic: anyone who held that key (an evicted member) can still seal under it.
   * @throws GroupAuthenticationError(CHANNEL_REJECTED) for the current epoch, without the key, or on any tampering
   */
  openArchived(message: Uint8Array): { sender: string; epoch: number; seq: bigint; plaintext: Uint8Array } {
    const m = decodeChannel(message);
    const g = this.groups.get(toHex(m.groupId));
    if (g && m.epoch >= g.epoch)
      throw new GroupAuthenticationError("CHANNEL_REJECTED", `${this.name}: epoch ${m.epoch} is not retired (live traffic: open)`);
    return this.decrypt(m);
  }

  private decrypt(m: ReturnType<typeof decodeChannel>): { sender: string; epoch: number; seq: bigint; plaintext: Uint8Array } {
    const g = this.groups.get(toHex(m.groupId));
    const key = g?.keys.get(m.epoch);
    if (!key) throw new GroupAuthenticationError("CHANNEL_REJECTED", `${this.name}: no key for epoch ${m.epoch} of this group`);
    const signer = g!.rosters.get(m.epoch)?.find((p) => equalBytes(p.pid, m.sender));
    if (!signer || !schnorrVerify(signer.pk, CHANNEL_DST, channelSigned(m), m.sig))
      throw new GroupAuthenticationError(
        "FORGED_SENDER",
        `${this.name}: the channel message is not signed by ${toHex(m.sender)}${signer ? "" : ", who is not in the roster of epoch " + m.epoch}`,
      );
    try {
      const plaintext = xchacha20poly1305(key, m.nonce, channelHeader(m)).decrypt(m.ct);
      return { sender: toHex(m.sender), epoch: m.epoch, seq: m.seq, plaintext };
    } catch (e) {
      throw new GroupAuthenticationError("CHANNEL_REJECTED", `${this.name}: channel message does not open (${(e as Error).message})`);
    }
  }

  /** JSON record for the keystore: keys per epoch of every group (secret). */
  toRecord(): Record<string, unknown> {
    const groups: Record<string, unknown> = {};
    for (const [gid, g] of this.groups) {
      groups[gid] = {
        epoch: g.epoch,
        index: g.index,
        pids: g.pids.map(toHex),
        Q: toHex(encodePoint(g.Q)),
        share: toHex(encodeScalar(g.share)),
        keys: Object.fromEntries([...g.keys].map(([e, k]) => [e, toHex(k)])),
        rosters: Object.fromEntries([...g.rosters].map(([e, r]) => [e, r.map((p) => [toHex(p.pid), toHex(encodePoint(p.pk))])])),
        sent: g.sent.toString(),
        seen: Object.fromEntries([...g.seen].map(([k, v]) => [k, v.toString()])),
      };
    }
    return { name: this.name, pid: toHex(this.pid), sk: toHex(encodeScalar(this.sk)), groups };
  }

  /** Restores a party (its authenticated groups and epoch keys) from its keystore record. */
  static fromRecord(r: Record<string, unknown>): GroupParty {
    const p = new GroupParty(String(r.name), fromHex(String(r.pid), 32), decodeScalar(fromHex(String(r.sk), 32)));
    for (const [gid, raw] of Object.entries((r.groups ?? {}) as Record<string, Record<string, unknown>>)) {
      const pids = (raw.pids as string[]).map((x) => fromHex(x, 32));
      const Q = decodePoint(fromHex(String(raw.Q), 33));
      p.groups.set(gid, {
        groupId: fromHex(gid, 32),
        epoch: Number(raw.epoch),
        index: Number(raw.index),
        pids,
        xs: partyXs(pids),
        // Stryker disable next-line ArrayDeclaration: only verifyMembership reads the commitments, after its `authenticated` check, and a restored state is authenticated
        commitments: [Q],
        Q,
        share: decodeScalar(fromHex(String(raw.share), 32)),
        Ys: [],
        authenticated: true,
        keys: new Map(Object.entries(raw.keys as Record<string, string>).map(([e, k]) => [Number(e), fromHex(k, 32)])),
        dh: new Map(),
        rosters: new Map(
          Object.entries((raw.rosters ?? {}) as Record<string, [string, string][]>).map(([e, r]) => [
            Number(e),
            r.map(([pid, pk]) => ({ pid: fromHex(pid, 32), pk: decodePoint(fromHex(pk, 33)) })),
          ]),
        ),
        // Stryker disable next-line StringLiteral: BigInt("") is 0n, the same as BigInt("0"), for a record without `sent`
        sent: BigInt(String(raw.sent ?? "0")),
        seen: new Map(Object.entries((raw.seen ?? {}) as Record<string, string>).map(([k, v]) => [k, BigInt(v)])),
      });
    }
    return p;
  }
}
