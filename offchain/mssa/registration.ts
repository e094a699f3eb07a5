/**
 * MSSA registration of a user at a place (MSSA paper, Steps 1-9) between a user and the place's
 * authority agents, over the SIMULATED quantum channel, ending in the commitment that the
 * CredentialLedger records once k authorities approve. Keys are one-time: an authority agent draws
 * each key from the CSPRNG for one registration session and refuses to use it twice.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes, randomBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { AbiCoder, getAddress, verifyTypedData, type Signer, type TypedDataDomain, type TypedDataField } from "ethers";
import { MetatrustError } from "../errors";
import { Bits } from "./bits";
import { combineKeys, commitment, encode, encodeCredential, evenLength, requestTag, tagsEqual, verify, type Verdict } from "./credential";
import { DEFAULT_CHANNEL, EavesdroppingDetectedError, transmit, type ChannelOptions, type Transmission } from "./quantum";

/** Why a registration was refused. */
export type RegistrationFailure = "eavesdropping" | "credential-mismatch" | "bad-tag" | "key-reuse" | "unknown-session" | "ledger-refused";

/** A registration step was refused; nothing was recorded. */
export class RegistrationError extends MetatrustError {
  constructor(
    readonly reason: RegistrationFailure,
    message: string,
  ) {
    super("PROTOCOL_REJECTED", message);
  }
}

/** A place id: keccak256 of its name ("PL1"), or a 32-byte hex id as is. */
export function placeId(name: string): string {
  if (/^0x[0-9a-fA-F]{64}$/.test(name)) return name.toLowerCase();
  if (name.length === 0) throw new RangeError("a place needs a name");
  return "0x" + bytesToHex(keccak_256(utf8ToBytes(name)));
}

/** A fresh 32-byte session id or salt. */
export function fresh32(): string {
  return "0x" + bytesToHex(randomBytes(32));
}

/** An authority node's off-chain agent for registrations: it issues one-time keys. */
export class AuthorityAgent {
  /** `at`: when the session was first kept here (ms), for {@link AuthorityAgent.pruneUnused} */
  private readonly sessions = new Map<string, { key: Bits; used: boolean; to?: string[]; at?: number }>();

  constructor(readonly address: string) {}

  /**
   * Step 1: a fresh random key K_r^{AU} of `length` bits for one registration session.
   * @throws RegistrationError("key-reuse") if the session already has a key
   */
  issueKey(session: string, length: number): Bits {
    if (this.sessions.has(session))
      throw new RegistrationError("key-reuse", `authority ${this.address} already issued a key for session ${session}`);
    const key = Bits.random(length);
    this.sessions.set(session, { key, used: false, at: Date.now() });
    return key;
  }

  /**
   * Keeps `key` as the session's key if the session has none here yet (a service that derives its
   * one-time keys keeps one only when the session advances: h9-fix F9).
   * @returns the session's key: the one already kept, else `key`
   */
  adopt(session: string, key: Bits, at = Date.now()): Bits {
    const s = this.sessions.get(session);
    if (s) return s.key;
    this.sessions.set(session, { key, used: false, at });
    return key;
  }

  /** The session's key if it is kept here. */
  keptKey(session: string): Bits | undefined {
    return this.sessions.get(session)?.key;
  }

  /**
   * Forgets the sessions whose key was neither used, burnt nor released, kept before `before`
   * (ms), unless `keep` says otherwise. A spent key is never forgotten: its one-time state stays.
   * @returns the sessions forgotten
   */
  pruneUnused(before: number, keep: (session: string) => boolean = () => false): string[] {
    const gone: string[] = [];
    for (const [id, s] of this.sessions)
      if (!s.used && !(s.to?.length ?? 0) && (s.at ?? 0) < before && !keep(id)) {
        this.sessions.delete(id);
        gone.push(id);
      }
    return gone;
  }

  /**
   * Forgets sessions kept since before `before` whose key only went to other authorities (not used
   * or burnt here, not released to `self` for its own check) and that `keep` does not name: a peer
   * authority's release of a session no user completed here is not kept for ever (h15-red2 R10).
   * Its key is derived again should the same peer ask again; that gives the peer nothing new.
   * @returns the sessions forgotten
   */
  pruneReleasedToOthers(before: number, self: string, keep: (session: string) => boolean = () => false): string[] {
    const me = self.toLowerCase();
    const gone: string[] = [];
    for (const [id, s] of this.sessions)
      if (!s.used && (s.to?.length ?? 0) > 0 && !s.to!.includes(me) && (s.at ?? 0) < before && !keep(id)) {
        this.sessions.delete(id);
        gone.push(id);
      }
    return gone;
  }

  /**
   * The key of a session, for the verifying authority (Step 4: it holds copies of the keys sent
   * to the user). A key serves one verification only.
   * @throws RegistrationError("key-reuse") after the key has been used, ("unknown-session") if none
   */
  releaseKey(session: string): Bits {
    const s = this.sessions.get(session);
    if (!s) throw new RegistrationError("unknown-session", `authority ${this.address} has no key for session ${session}`);
    if (s.used) throw new RegistrationError("key-reuse", `the key of session ${session} was already used: keys are one-time pads`);
    s.used = true;
    return s.key;
  }

  /**
   * The key of a session for one of the place's authorities that checks the request itself
   * (across the network every authority checks: h7-audit finding M4, docs/specs/mssa.md §2.6).
   * The key still pads one request only (the user's); it is handed to each checking authority at
   * most once, so one recipient cannot check two requests under it.
   * @param recipient - the authority's account (this agent's own address for its own check)
   * @throws RegistrationError("key-reuse") if the key is burnt or spent, or already went to `recipient`;
   *   ("unknown-session") if the session has no key here
   */
  releaseKeyTo(session: string, recipient: string): Bits {
    const s = this.sessions.get(session);
    if (!s) throw new RegistrationError("unknown-session", `authority ${this.address} has no key for session ${session}`);
    if (s.used) throw new RegistrationError("key-reuse", `the key of session ${session} was already used: keys are one-time pads`);
    const to = recipient.toLowerCase();
    if (s.to?.includes(to))
      throw new RegistrationError("key-reuse", `the key of session ${session} was already released to ${recipient}: once per recipient`);
    (s.to ??= []).push(to);
    return s.key;
  }

  /** The accounts a session's key was released to by {@link AuthorityAgent.releaseKeyTo} (lower case). */
  releasedTo(session: string): readonly string[] {
    return this.sessions.get(session)?.to ?? [];
  }

  /** Whether the session's key has been used. */
  used(session: string): boolean {
    return this.sessions.get(session)?.used ?? false;
  }

  /**
   * Burns the session's key, if one was issued, without releasing it: a key that crossed a channel
   * where an eavesdropper was detected must never serve (the spec's "keys are burnt").
   */
  burn(session: string): void {
    const s = this.sessions.get(session);
    if (s) s.used = true;
  }

  /** Its sessions as a keystore record (the one-time keys are secret: keep it sealed). */
  toRecord(): { address: string; sessions: Record<string, { key: string; used: boolean; to?: string[]; at?: number }> } {
    const sessions: Record<string, { key: string; used: boolean; to?: string[]; at?: number }> = {};
    for (const [id, s] of this.sessions)
      sessions[id] = {
        key: s.key.toString(),
        used: s.used,
        ...(s.to ? { to: [...s.to] } : {}),
        ...(s.at !== undefined ? { at: s.at } : {}),
      };
    return { address: this.address, sessions };
  }

  /**
   * An agent restored from {@link AuthorityAgent.toRecord} (a session kept without a time counts from `now`).
   * @param now - the current time (ms; default the wall clock)
   */
  static fromRecord(
    r: {
      address: string;
      sessions: Record<string, { key: string; used: boolean; to?: string[]; at?: number }>;
    },
    now = Date.now(),
  ): AuthorityAgent {
    const a = new AuthorityAgent(r.address);
    for (const [id, s] of Object.entries(r.sessions))
      a.sessions.set(id, { key: Bits.fromString(s.key), used: s.used, ...(s.to ? { to: [...s.to] } : {}), at: s.at ?? now });
    return a;
  }
}

/**
 * The fold every identity string goes through first: Unicode NFKC (full-width and compatibility
 * forms fold to plain ones), every whitespace and invisible format character (U+200B, U+FEFF, soft
 * hyphen...) removed, then lower case. It finds a document's *type* ("Passport :" is "passport:");
 * it is not the canonical form a nullifier is computed from ({@link canonicalIdentity} is).
 * @param identity - the identity document as typed, e.g. "passport:UTO:X1234567"
 * @returns the folded string
 * @throws RangeError when nothing is left
 */
export function normalizeIdentity(identity: string): string {
  const n = fold(identity).toLowerCase();
  if (n.length === 0) throw new RangeError("normalizeIdentity: empty identity");
  return n;
}

/** NFKC, then every whitespace and format character removed (no case change). */
const fold = (s: string) => s.normalize("NFKC").replace(/[\s\p{Cf}]+/gu, "");

/** The type of a document (what precedes its first ':', folded), or undefined when it has none. */
function typeOf(doc: string): string | undefined {
  const n = fold(doc);
  const i = n.indexOf(":");
  return i > 0 ? n.slice(0, i).toLowerCase() : undefined;
}

/** A refused identity document: one line naming the document type and the part of it at fault. */
const badIdentity = (what: string) => new RegistrationError("credential-mismatch", `identity document ${what}`);

/** The first character of `s` outside printable ASCII, as "U+0425 (character 5 after "passport:")", or undefined. */
function nonAscii(s: string, type: string): string | undefined {
  const i = [...s].findIndex((ch) => !/^[\x21-\x7e]$/.test(ch));
  if (i < 0) return undefined;
  return `U+${[...s][i].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")} (character ${i + 1} after "${type}:")`;
}

/**
 * Issuing-state codes that ISO 3166-1 and ICAO 9303 spell differently: the MRZ's code wins
 * (Germany's passports carry "D", not "DEU"), so both spellings give one identity.
 */
const MRZ_STATE_ALIASES: Readonly<Record<string, string>> = { DEU: "D" };

/**
 * A passport's canonical form (ICAO 9303 MRZ, docs/specs/mssa.md §1.8): "<issuing state>:<document
 * number>", both as the machine-readable zone has them, in its alphabet [A-Z0-9]. Typed as
 * "passport:<state>:<number>". Folded first (NFKC, white space and format characters removed, upper
 * case); then the MRZ filler '<' is dropped from both parts and the separators '-', '.', '/' from
 * the number (none is ever part of an MRZ document number, which is [A-Z0-9<] with '<' as
 * trailing filler). Everything else is refused: any character outside printable ASCII after NFKC (a
 * look-alike letter of another script, "Х" U+0425 for "X", is refused, never mapped), any other
 * punctuation, a '<' inside the number, a state that is not 3 letters or "D" (no MRZ has a
 * two-letter state: h15-red2 R5), a number that is not 1-9 letters and digits.
 * @param value - what follows "passport:"
 * @returns "STATE:NUMBER"
 * @throws RegistrationError(credential-mismatch) naming the part at fault
 */
function canonicalPassport(value: string): string {
  const v = fold(value);
  const odd = nonAscii(v, "passport");
  if (odd !== undefined)
    throw badIdentity(
      `passport: ${odd} is not an ASCII letter or digit (the MRZ's alphabet; a look-alike of another script is refused, not mapped)`,
    );
  const parts = v.toUpperCase().split(":");
  if (parts.length !== 2)
    throw badIdentity(
      `passport: write passport:<issuing state>:<document number> as the MRZ has them, e.g. passport:UTO:X1234567 (${parts.length === 1 ? "no issuing state" : "more than one ':'"})`,
    );
  const state = parts[0].replace(/<+$/, "");
  // ICAO 9303: three letters, or Germany's "D" (h15-red2 R5: an ISO alpha-2 code, "US", "DE",
  // which no MRZ carries, was a second spelling of a passport with its own nullifiers)
  if (!/^[A-Z]{3}$/.test(state) && state !== "D")
    throw badIdentity(
      `passport: the issuing state must be the MRZ's code, 3 letters or Germany's D (e.g. UTO, USA, D; not an ISO two-letter code), got "${state}"`,
    );
  // the filler '<' only pads the end of the field: "X1234567<3" (the number and its check digit) is
  // not "X12345673" (h15-red2 R5)
  const number = parts[1].replace(/<+$/, "").replace(/[-./]/g, "");
  if (number.includes("<"))
    throw badIdentity(`passport: the document number has "<" inside it: write the number without its check digit, e.g. X1234567`);
  const bad = number.match(/[^A-Z0-9]/);
  if (bad) throw badIdentity(`passport: the document number has "${bad[0]}", which is neither a letter, a digit nor a separator - . /`);
  if (!/^[A-Z0-9]{1,9}$/.test(number))
    throw badIdentity(`passport: the document number must be 1 to 9 letters and digits (the MRZ's field), got ${number.length}`);
  return `${MRZ_STATE_ALIASES[state] ?? state}:${number}`;
}

/**
 * The identity document types a place can identify people by, each with its canonical form: the
 * one spelling of one document that its nullifiers are computed from (docs/specs/mssa.md §1.8,
 * "Spellings of one document"). A type not listed here is refused as an identity document.
 */
export const IDENTITY_FORMS: Readonly<Record<string, (value: string) => string>> = { passport: canonicalPassport };

/**
 * The canonical form of an identity document: "type:" and its type's canonical form
 * ({@link IDENTITY_FORMS}), so that one document gives one string, and so one nullifier, however
 * it was typed; a spelling the type's form can neither map nor accept is refused. For a passport:
 * "Passport: uto : x-123 4567" and "passport:UTO:X1234567" are "passport:UTO:X1234567";
 * "passport:UTO:\u04251234567" (a Cyrillic Х) is refused.
 * @param identity - the identity document, e.g. "passport:UTO:X1234567"
 * @returns its canonical form
 * @throws RangeError when empty; RegistrationError(credential-mismatch), one line naming the
 *   document type and the part at fault, for an unknown type or a spelling its form refuses
 */
export function canonicalIdentity(identity: string): string {
  if (fold(identity).length === 0) throw new RangeError("canonicalIdentity: empty identity");
  const type = typeOf(identity);
  const form = type !== undefined && Object.hasOwn(IDENTITY_FORMS, type) ? IDENTITY_FORMS[type] : undefined;
  if (type === undefined || form === undefined)
    throw badIdentity(
      `${type === undefined ? "without a type" : `type "${type}"`}: an identity document is one of ${Object.keys(IDENTITY_FORMS)
        .map((t) => `${t}:`)
        .join(", ")}`,
    );
  return `${type}:${form(fold(identity).slice(fold(identity).indexOf(":") + 1))}`;
}

/**
 * Checks that `type` is an identity document type with a canonical form ({@link IDENTITY_FORMS}).
 * @throws RangeError naming it otherwise
 */
export function checkIdentityType(type: string, what = "identityType"): string {
  const t = normalizeIdentity(type);
  if (!Object.hasOwn(IDENTITY_FORMS, t))
    throw new RangeError(
      `${what}: "${type}" is not an identity document type with a canonical form (known: ${Object.keys(IDENTITY_FORMS).join(", ")})`,
    );
  return t;
}

/** The document type that identifies a person at a place (its nullifier's document), by default. */
export const IDENTITY_TYPE = "passport";

/**
 * The one document of `docs` whose type (before its first ':', folded as {@link normalizeIdentity}
 * does) is `type`, in its canonical form ({@link canonicalIdentity}): the document a place's
 * identity nullifier and the election nullifier are computed from, whatever its position. The
 * position used to decide (the last line): the user orders her documents, so [mail, passport] and
 * [passport, mail] were two identities, one more elector each (h12-red N1).
 * @throws RegistrationError(credential-mismatch) when there is none, or more than one, or it is
 *   not in (or mappable to) its type's canonical form; RangeError when `type` has no canonical form
 */
export function identityDocument(docs: readonly string[], type: string = IDENTITY_TYPE): string {
  const want = checkIdentityType(type, "identityDocument");
  const found = docs.filter((d) => typeOf(d) === want);
  if (found.length !== 1)
    throw new RegistrationError(
      "credential-mismatch",
      `the documents carry ${found.length} "${type}:" document(s); a registration needs exactly one (the place's identity document)`,
    );
  return canonicalIdentity(found[0]);
}

/**
 * The place's identity nullifier: HMAC-SHA256(placeKey, abi.encode(place, canonicalIdentity(identity))). The place's
 * authorities share `placeKey` and compute it from the identity document they verified (Step 4),
 * so one person gets one nullifier per place; without the key it reveals nothing, even for a
 * low-entropy identity such as a passport number, and it differs from place to place.
 * @param placeKey - the place authorities' shared secret (at least 16 bytes)
 * @param place - the place id (32-byte hex)
 * @param identity - the verified identity document, e.g. "passport:UTO:X1234567"
 * @returns 32-byte hex
 * @throws RangeError on a short key or an empty identity; RegistrationError when the identity is not in
 *   (or mappable to) its type's canonical form ({@link canonicalIdentity}), before any HMAC
 */
export function identityNullifier(placeKey: Uint8Array, place: string, identity: string): string {
  if (placeKey.length < 16) throw new RangeError("identityNullifier: the place key needs at least 16 bytes");
  if (identity.trim().length === 0) throw new RangeError("identityNullifier: empty identity");
  const msg = hexToBytes(
    AbiCoder.defaultAbiCoder()
      .encode(["bytes32", "string"], [place, canonicalIdentity(identity)])
      .slice(2),
  );
  return "0x" + bytesToHex(hmac(sha256, placeKey, msg));
}

/** The domain prefix of the election nullifier's HMAC input. */
export const ELECTOR_DOMAIN = "metatrust MSSA elector";

/**
 * The election nullifier (h11-red2 M1, docs/specs/mssa.md §1.8):
 * e = HMAC-SHA256(electionKey, "metatrust MSSA elector" || canonicalIdentity(identity)). One key for
 * the deployment, provisioned to the authorities of every place like a place key, so one person has
 * one e in the whole election (her place nullifiers differ from place to place). The authorities
 * compute it from the identity document they checked; the user's elector registration carries it,
 * and the election holds one account per e. Without the key it reveals nothing about a guessable
 * document number; everyone who holds the key can test a guess against the e values on chain.
 * @param electionKey - the deployment's election key (at least 16 bytes)
 * @param identity - the verified identity document, e.g. "passport:UTO:X1234567"
 * @returns 32-byte hex
 * @throws RangeError on a short key or an empty identity; RegistrationError when the identity is not in
 *   (or mappable to) its type's canonical form ({@link canonicalIdentity}), before any HMAC
 */
export function electorNullifier(electionKey: Uint8Array, identity: string): string {
  if (electionKey.length < 16) throw new RangeError("electorNullifier: the election key needs at least 16 bytes");
  if (identity.trim().length === 0) throw new RangeError("electorNullifier: empty identity");
  return "0x" + bytesToHex(hmac(sha256, electionKey, utf8ToBytes(ELECTOR_DOMAIN + canonicalIdentity(identity))));
}

/** The label whose HMAC under the election key is the deployment record's check value. */
export const ELECTION_KEY_CHECK_LABEL = "metatrust election key check";

/**
 * The election key's check value, HMAC-SHA256(electionKey, "metatrust election key check"):
 * `deploy` records it in deployments/<network>.json (`electionKeyCheck`) when it deploys the
 * election, and every task that loads the key refuses one whose check value differs (s21-review1
 * finding 3: the genesis authorities' e and the places' e must come from one key). It tells a
 * wrong key from the right one and reveals nothing else about the key; its input cannot be an
 * elector's (that one starts with ELECTOR_DOMAIN).
 * @param electionKey - the key (at least 16 bytes)
 * @returns 32-byte hex
 */
export function electionKeyCheck(electionKey: Uint8Array): string {
  if (electionKey.length < 16) throw new RangeError("electionKeyCheck: the election key needs at least 16 bytes");
  return "0x" + bytesToHex(hmac(sha256, electionKey, utf8ToBytes(ELECTION_KEY_CHECK_LABEL)));
}

/** The request Alice sends to the verifying authority (Step 4). */
export type RegistrationRequest = {
  session: string;
  place: string;
  user: string;
  /** Eq. 14, carried by the photon sequence of Steps 5-7 */
  En: Bits;
  /** Eq. 15 */
  U12: Bits;
  /** binds (session, place, user, En, U12) to K_r */
  tag: Uint8Array;
};

/** The context bytes the request tag covers. */
export function requestContext(session: string, place: string, user: string): Uint8Array {
  return hexToBytes(
    AbiCoder.defaultAbiCoder()
      .encode(["bytes32", "bytes32", "address"], [session, place, getAddress(user)])
      .slice(2),
  );
}

/** The user's side of Steps 1-4: from the received keys to the request. */
export function buildRequest(session: string, place: string, user: string, infos: readonly string[], receivedKeys: readonly Bits[]) {
  const cr = evenLength(encodeCredential(infos));
  const kr = combineKeys(receivedKeys, cr.length);
  const enc = encode(cr, kr);
  const tag = requestTag(kr, requestContext(session, place, user), enc.En, enc.U12);
  return { request: { session, place, user: getAddress(user), En: enc.En, U12: enc.U12, tag } as RegistrationRequest, encoded: enc };
}

/** The verifying authority's side of Steps 8-9. */
export function checkRequest(
  req: RegistrationRequest,
  expectedInfos: readonly string[],
  keys: readonly Bits[],
): Verdict & { tagOk: boolean } {
  const cr = evenLength(encodeCredential(expectedInfos));
  const kr = combineKeys(keys, cr.length);
  const z = encode(cr, kr);
  const verdict = verify({ En: req.En, U12: req.U12 }, { En: z.En, U12: z.U12 });
  const tagOk = tagsEqual(req.tag, requestTag(kr, requestContext(req.session, req.place, req.user), req.En, req.U12));
  return { ...verdict, tagOk };
}

/** Everything one registration needs. */
export type RegistrationInput = {
  place: string;
  user: string;
  /** what the user presents (INFO_0 .. INFO_n) */
  infos: readonly string[];
  /** what the verifying authority checked out of band (documents); the same as infos if honest */
  expectedInfos?: readonly string[];
  /** the place's authorities sending keys; the first one verifies */
  authorities: readonly AuthorityAgent[];
  /** the photon channel of Steps 5-7 (and of the key delivery in Step 1) */
  channel?: ChannelOptions;
  /** the channel the keys travel on, if different */
  keyChannel?: ChannelOptions;
  /** substitutes a key the user received (a test hook for "a credential built with a wrong key") */
  tamperKeys?: (keys: Bits[]) => Bits[];
  /** rewrites the request on the wire (a test hook for a man in the middle) */
  tamperRequest?: (req: RegistrationRequest) => RegistrationRequest;
  /** the place authorities' nullifier key; with it the outcome carries the identity nullifier */
  placeKey?: Uint8Array;
  /**
   * the identity document the nullifiers are computed from (in its canonical form); default: the
   * one "passport:" field of the expected documents. Needed with a place key or an election key;
   * refused (unknown type, a spelling its canonical form refuses) before any key is issued
   */
  identity?: string;
  /**
   * the deployment's election key; with it the outcome carries the election nullifier of the
   * identity, for the one registration the user chose to make her an elector
   */
  electionKey?: Uint8Array;
};

/** A successful registration: what goes on-chain and what the user keeps. */
export type RegistrationOutcome = {
  session: string;
  request: RegistrationRequest;
  verdict: Verdict & { tagOk: boolean };
  keyTransmissions: Transmission[];
  transmission: Transmission;
  /** the on-chain commitment and its salt (the salt stays with the user and the authorities) */
  commitment: string;
  salt: string;
  credentialBits: number;
  /** the identity nullifier (when a place key was given), computed from the checked documents */
  nullifier?: string;
  /** the election nullifier (when an election key was given), computed from the checked documents */
  electorNullifier?: string;
};

/**
 * Steps 1-9 end to end (off-chain). Throws RegistrationError with the reason on refusal.
 */
export function register(input: RegistrationInput): RegistrationOutcome {
  const session = fresh32();
  const place = placeId(input.place);
  const user = getAddress(input.user);
  const channel = input.channel ?? DEFAULT_CHANNEL;
  const keyChannel = input.keyChannel ?? { ...DEFAULT_CHANNEL, rng: channel.rng };
  if (input.authorities.length === 0) throw new RangeError("a place needs at least one authority");
  const length = evenLength(encodeCredential(input.infos)).length;
  // the identity document in its canonical form (docs/specs/mssa.md §1.8), by its type, never a
  // position (h12-red N1): refused before any authority issues a key or anything is recorded
  const checked = input.expectedInfos ?? input.infos;
  const identity =
    input.placeKey || input.electionKey
      ? input.identity !== undefined
        ? canonicalIdentity(input.identity)
        : identityDocument(checked)
      : undefined;
  // Step 1: every authority sends a fresh key over the (simulated) quantum channel.
  const keyTransmissions: Transmission[] = [];
  let received = input.authorities.map((a) => {
    const t = transmit(a.issueKey(session, length), keyChannel);
    keyTransmissions.push(t);
    if (!t.accepted) {
      // the eavesdropper saw this key, and the session is dead: burn every key issued for it
      for (const b of input.authorities) b.burn(session);
      throw new RegistrationError("eavesdropping", EavesdroppingDetectedError.of(t, keyChannel.threshold).message);
    }
    return t.received;
  });
  if (input.tamperKeys) received = input.tamperKeys(received);
  // Steps 2-4 (user).
  let { request } = buildRequest(session, place, user, input.infos, received);
  // Steps 5-7: En travels as photons with decoys; the verifier checks the decoy error rate.
  const transmission = transmit(request.En, channel);
  if (!transmission.accepted) {
    for (const a of input.authorities) a.releaseKey(session); // the keys are burnt with the block
    throw new RegistrationError("eavesdropping", EavesdroppingDetectedError.of(transmission, channel.threshold).message);
  }
  request = { ...request, En: transmission.received };
  if (input.tamperRequest) request = input.tamperRequest(request);
  // Steps 8-9 (verifying authority, with copies of every key of the session).
  const keys = input.authorities.map((a) => a.releaseKey(session));
  const verdict = checkRequest(request, input.expectedInfos ?? input.infos, keys);
  if (!verdict.accepted)
    throw new RegistrationError(
      "credential-mismatch",
      `S1 or S2 is not zero (weight ${verdict.S1.weight()} + ${verdict.S2.weight()}): the credential does not match`,
    );
  if (!verdict.tagOk)
    throw new RegistrationError("bad-tag", "the request tag does not verify: the request was altered or built without K_r");
  const salt = fresh32();
  const nullifier = input.placeKey ? identityNullifier(input.placeKey, place, identity!) : undefined;
  const elector = input.electionKey ? electorNullifier(input.electionKey, identity!) : undefined;
  return {
    session,
    request,
    verdict,
    keyTransmissions,
    transmission,
    commitment: commitment(place, request.user, request.U12, salt),
    salt,
    credentialBits: length,
    nullifier,
    electorNullifier: elector,
  };
}

/** EIP-712 type of the access proof: what it is for (the place), its freshness (the nonce) and its audience (the verifier). */
export const ACCESS_TYPES: Record<string, TypedDataField[]> = {
  Access: [
    { name: "place", type: "bytes32" },
    { name: "nonce", type: "bytes32" },
    { name: "verifier", type: "address" },
  ],
};

/** The typed data an access proof signs. */
export interface AccessChallenge {
  domain: TypedDataDomain;
  types: Record<string, TypedDataField[]>;
  message: { place: string; nonce: string; verifier: string };
}

/**
 * The challenge a registered user signs to prove access (docs/specs/mssa.md §2.7, `mssa:verify`):
 * EIP-712 typed data `Access(place, nonce, verifier)` under the domain ("metatrust MSSA access", "1",
 * chain id, the ledger). The verifier names its audience (s20-redm F4): a proof made for one verifier
 * does not verify at another, so a verifier that hands the user another verifier's nonce cannot relay
 * her proof there. The domain (purpose, chain, ledger) keeps it apart from every other signed message,
 * and a wallet shows it as typed data, not as a plain message a phishing page could collect.
 * @param place - the place id (bytes32)
 * @param nonce - the verifier's fresh nonce (bytes32)
 * @param verifier - the verifying party's account
 */
export function accessChallenge(place: string, nonce: string, chainId: bigint, ledger: string, verifier: string): AccessChallenge {
  return {
    domain: { name: "metatrust MSSA access", version: "1", chainId, verifyingContract: getAddress(ledger) },
    types: ACCESS_TYPES,
    message: { place, nonce, verifier: getAddress(verifier) },
  };
}

/** Signs an access challenge for `verifier` with the user's key. */
export async function proveAccess(
  user: Signer,
  place: string,
  nonce: string,
  chainId: bigint,
  ledger: string,
  verifier: string,
): Promise<string> {
  const c = accessChallenge(place, nonce, chainId, ledger, verifier);
  return user.signTypedData(c.domain, c.types, c.message);
}

/**
 * The signer of an access proof made for `self`. A verifier passes its own account as `self`, never
 * an account the prover or a client names: a proof made for any other verifier then recovers another
 * address, not the registered user.
 */
export function accessSigner(signature: string, place: string, nonce: string, chainId: bigint, ledger: string, self: string): string {
  const c = accessChallenge(place, nonce, chainId, ledger, self);
  return verifyTypedData(c.domain, c.types, c.message, signature);
}

/**
 * The first second at which a pending registration can no longer be approved, by the ledger's rule
 * (CredentialLedger._expiry, s23-rtm F5): `pendingTtl` (PENDING_TTL) after its proposal, or the
 * second after the deadline its user signed, whichever comes first. Every off-chain copy of "is the
 * proposal still live" reads this, so none resumes a proposal the chain has let die.
 */
export function pendingExpiry(reg: { proposedAt: bigint; consentDeadline: bigint }, pendingTtl: bigint): bigint {
  const ttl = reg.proposedAt + pendingTtl;
  const signed = reg.consentDeadline + 1n;
  return signed < ttl ? signed : ttl;
}

/** Whether registration `reg` is pending and still approvable at chain time `now` (CredentialLedger._live, pending case). */
export function pendingLive(
  reg: { status: bigint; proposedAt: bigint; consentDeadline: bigint },
  now: bigint,
  pendingTtl: bigint,
): boolean {
  return reg.status === 1n && now < pendingExpiry(reg, pendingTtl);
}
