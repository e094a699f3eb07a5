/**
 * One-time enrolment tokens (issue 19, red-team finding F5): who may register with a service.
 *
 * A registration (an RN or a user at the MSRP, a user's or an AI proxy's MIT at the IdP) is made
 * by a newcomer that holds no key the service knows. So the operator of the service issues, out
 * of band, a token for one named identity with an expiry, the pattern of Kubernetes bootstrap
 * tokens (`<id>.<secret>`) and of Vault's wrapping tokens (single use, short-lived):
 *
 *   token   = "mtk1." || id (16 bytes, hex) || "." || secret (32 bytes, hex)
 *   sk_T    = HMAC-SHA256(secret, "METATRUST-V1-ENROL-TOKEN" || service || id) mod n   (non-zero)
 *   PK_T    = sk_T * G                                    (secp256k1, offchain/crypto/group.ts)
 *
 * The service stores only (id, service, kind, identity, PK_T, expiry), never the secret: PK_T is
 * a one-way function of it, so a reader of the service's keystore learns nothing that registers.
 * The client never sends the token either: it signs its registration envelope with sk_T
 * (Schnorr, scheme 1 of offchain/services/envelope.ts) and names the token by its id in the
 * request body. The signature covers the whole envelope: route, audience (this service in this
 * deployment), session, request id, time and body (the identity, the transport key its keys come
 * back sealed to, the sealed real identity). So a relay that changes any byte, or moves the proof
 * to another request or another service, is refused (BAD_SIGNATURE); nothing on the wire lets an
 * eavesdropper register, since the proof holds for these bytes only.
 *
 * Why a signature and not HMAC(secret, request): the service would need the secret, or a key
 * derived from it, to check a MAC, and a copy of its keystore would then let anyone register
 * while the token is unused. With PK_T it verifies without being able to prove.
 *
 * Single use. The service records, for each used token, the hash of the request body it was used
 * by, in its own keystore record (the same atomic write as the registration's state: either both
 * or neither survive a crash). The same body again (a retry, possibly in a fresh envelope) is
 * served again (the service answers it with the same keys); any other body is refused
 * (TOKEN_USED). An unknown, expired or other-identity token is refused and changes nothing.
 *
 * This module is pure except {@link issueEnrolmentToken} and {@link loadEnrolmentToken}, which
 * read and write the service's keystore (the operator's task and the service share them).
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { bytesToNumberBE, concat, fromHex, toBytes, toHex } from "../crypto/bytes";
import { ORDER, decodePoint, encodePoint, mulBase, type Point } from "../crypto/group";
import { MetatrustError } from "../errors";
import type { Keystore } from "../storage/keystore";
import { Scheme, type EnvelopeSigner } from "./envelope";

/** The services that take enrolment tokens. */
export type EnrolService = "msrp" | "idp";
/** What a token enrols: an RN or a user at the MSRP; a user's or a proxy's MIT at the IdP. */
export type EnrolKind = "rn" | "user" | "proxy";
/** Bytes of a token id. */
export const TOKEN_ID_BYTES = 16;
/** The id that names no token (open registration). */
export const NO_TOKEN = new Uint8Array(TOKEN_ID_BYTES);
/** Longest lifetime a token may be issued for (7 days). */
export const MAX_TOKEN_TTL_SEC = 7 * 24 * 3600;

const PREFIX = "mtk1";
const DST = "METATRUST-V1-ENROL-TOKEN";

/** Why a token was refused (each a 4xx: 401 for a missing proof, 403 otherwise). */
export type TokenRejectReason = "TOKEN_REQUIRED" | "TOKEN_UNKNOWN" | "TOKEN_EXPIRED" | "TOKEN_USED" | "TOKEN_WRONG_IDENTITY";

/** A registration refused for its enrolment token; nothing changed. */
export class EnrolmentTokenError extends MetatrustError {
  readonly reason: TokenRejectReason;
  constructor(reason: TokenRejectReason, message: string) {
    super("PROTOCOL_REJECTED", message);
    this.reason = reason;
  }
}

/** What a service keeps of a token it issued (never the secret). */
export type TokenRecord = {
  id: string;
  service: EnrolService;
  kind: EnrolKind;
  identity: string;
  /**
   * An RN's token (service msrp): the real identity the operator enrols, which the registration
   * must open to (s17-redB B6: a revoked device does not come back under a fresh name and a made-up
   * identity). Tokens for users and at the IdP name none.
   */
  rid?: string;
  /** PK_T, 33 bytes hex */
  pk: string;
  issuedAt: number;
  expiresAt: number;
};

/** A token as the holder has it. */
export type ParsedToken = { id: Uint8Array; secret: Uint8Array };

/** The keystore record a token's verifier is kept under. */
export const tokenRecordName = (id: Uint8Array | string) => `enrol-token-${(typeof id === "string" ? id : toHex(id)).replace(/^0x/, "")}`;

/**
 * Parses a token string.
 * @throws EnrolmentTokenError(TOKEN_UNKNOWN) when it is not `mtk1.<32 hex>.<64 hex>`
 */
export function parseEnrolmentToken(token: string): ParsedToken {
  const m = /^mtk1\.([0-9a-f]{32})\.([0-9a-f]{64})$/.exec(String(token).trim());
  if (!m)
    throw new EnrolmentTokenError("TOKEN_UNKNOWN", `parseEnrolmentToken: not an enrolment token (expected ${PREFIX}.<32 hex>.<64 hex>)`);
  return { id: fromHex("0x" + m[1], TOKEN_ID_BYTES), secret: fromHex("0x" + m[2], 32) };
}

/**
 * sk_T of a token for a service (see the header).
 * @param t - the parsed token
 * @param service - the service it is for (a token for the MSRP proves nothing at the IdP)
 */
export function tokenKey(t: ParsedToken, service: EnrolService): bigint {
  for (let ctr = 0; ; ctr++) {
    const k = bytesToNumberBE(hmac(sha256, t.secret, concat(toBytes(`${DST}/${service}/`), t.id, Uint8Array.of(ctr)))) % ORDER;
    if (k !== 0n) return k;
  }
}

/** The envelope signer a registrant uses: Schnorr under sk_T. */
export function tokenSigner(token: string, service: EnrolService): EnvelopeSigner {
  return { scheme: Scheme.Schnorr, sk: tokenKey(parseEnrolmentToken(token), service) };
}

/**
 * Makes a new token and the record the service keeps (pure: the caller stores the record).
 * @param a - service, kind, identity, lifetime (s), now (unix s), secret and id (default: random)
 * @returns the token (to show the operator once) and its record
 */
export function newEnrolmentToken(a: {
  service: EnrolService;
  kind: EnrolKind;
  identity: string;
  /** the RN's real identity: required for an RN at the MSRP, refused otherwise */
  rid?: string;
  ttlSec: number;
  now: number;
  id?: Uint8Array;
  secret?: Uint8Array;
}): { token: string; record: TokenRecord } {
  if (!a.identity || toBytes(a.identity).length > 255)
    throw new EnrolmentTokenError("TOKEN_WRONG_IDENTITY", "newEnrolmentToken: the identity must be 1 to 255 bytes");
  const rnToken = a.service === "msrp" && a.kind === "rn";
  if (rnToken && (!a.rid || toBytes(a.rid).length > 255))
    throw new EnrolmentTokenError(
      "TOKEN_WRONG_IDENTITY",
      `newEnrolmentToken: RN "${a.identity}": its real identity (--rid) must be 1 to 255 bytes`,
    );
  if (!rnToken && a.rid !== undefined)
    throw new EnrolmentTokenError(
      "TOKEN_WRONG_IDENTITY",
      `newEnrolmentToken: only an RN's token at the MSRP names a real identity (--rid)`,
    );
  if (!Number.isInteger(a.ttlSec) || a.ttlSec < 1 || a.ttlSec > MAX_TOKEN_TTL_SEC)
    throw new EnrolmentTokenError(
      "TOKEN_EXPIRED",
      `newEnrolmentToken: the lifetime must be 1 s to ${MAX_TOKEN_TTL_SEC} s, got ${a.ttlSec}`,
    );
  const t: ParsedToken = { id: a.id ?? randomBytes(TOKEN_ID_BYTES), secret: a.secret ?? randomBytes(32) };
  const token = `${PREFIX}.${toHex(t.id).slice(2)}.${toHex(t.secret).slice(2)}`;
  const record: TokenRecord = {
    id: toHex(t.id),
    service: a.service,
    kind: a.kind,
    identity: a.identity,
    ...(rnToken ? { rid: a.rid } : {}),
    pk: toHex(encodePoint(mulBase(tokenKey(t, a.service)))),
    issuedAt: a.now,
    expiresAt: a.now + a.ttlSec,
  };
  return { token, record };
}

/** A token's use: the hash of the request body it was used by, and when. */
export type TokenUse = { body: string; at: number };

/** keccak256 of a registration body, as a used token remembers it. */
export const bodyHash = (body: Uint8Array) => toHex(keccak_256(body));

/**
 * The tokens a service has used (pure state; the service writes {@link EnrolmentBook.toRecord}
 * in the same atomic write as the registration it admits).
 */
export class EnrolmentBook {
  private readonly used: Map<string, TokenUse>;

  constructor(used: Record<string, TokenUse> = {}) {
    this.used = new Map(Object.entries(used));
  }

  /** The record (token id -> use). */
  toRecord(): Record<string, TokenUse> {
    return Object.fromEntries(this.used);
  }

  /** Whether a token was used. */
  usedBy(id: Uint8Array): TokenUse | undefined {
    return this.used.get(toHex(id));
  }

  /**
   * Admits a registration under a token (nothing is written: {@link EnrolmentBook.consume} after
   * the registration succeeded).
   * @param rec - the token's record (undefined: unknown)
   * @param id - the token id the request names
   * @param want - the service, kind and identity the request registers
   * @param body - the request body
   * @param now - unix seconds
   * @returns PK_T, to check the envelope's signature with
   * @throws EnrolmentTokenError(TOKEN_UNKNOWN | TOKEN_WRONG_IDENTITY | TOKEN_USED | TOKEN_EXPIRED)
   */
  admit(
    rec: TokenRecord | undefined,
    id: Uint8Array,
    want: { service: EnrolService; kind: EnrolKind; identity: string },
    body: Uint8Array,
    now: number,
  ): Point {
    const name = toHex(id);
    if (!rec || rec.id !== name || rec.service !== want.service)
      throw new EnrolmentTokenError("TOKEN_UNKNOWN", `admit: token ${name} was not issued by this ${want.service}`);
    // names neither identity (s24-rts F3): at the IdP the request's is a real identity, opened
    // from its sealed box, and the token's is the one the operator enrolled; the holder knows both
    if (rec.kind !== want.kind)
      throw new EnrolmentTokenError("TOKEN_WRONG_IDENTITY", `admit: token ${name} enrols a ${rec.kind}, not a ${want.kind}`);
    if (rec.identity !== want.identity)
      throw new EnrolmentTokenError("TOKEN_WRONG_IDENTITY", `admit: token ${name} enrols another ${want.kind} than this request names`);
    const use = this.used.get(name);
    // the same request again (a retry): admitted however late, so that it gets the same answer
    if (use && use.body !== bodyHash(body)) throw new EnrolmentTokenError("TOKEN_USED", `admit: token ${name} was used by another request`);
    if (!use && now > rec.expiresAt)
      throw new EnrolmentTokenError("TOKEN_EXPIRED", `admit: token ${name} expired at ${new Date(rec.expiresAt * 1000).toISOString()}`);
    return decodePoint(fromHex(rec.pk, 33));
  }

  /** Marks a token used by a request body (idempotent for the same body). */
  consume(id: Uint8Array, body: Uint8Array, now: number): void {
    const name = toHex(id);
    const prior = this.used.get(name);
    if (prior && prior.body !== bodyHash(body))
      throw new EnrolmentTokenError("TOKEN_USED", `consume: token ${name} was used by another request`);
    if (!prior) this.used.set(name, { body: bodyHash(body), at: now });
  }
}

/**
 * The operator's step: issues a token into the service's own keystore (its verifier only).
 * @returns the token, shown once, and its record
 */
export function issueEnrolmentToken(
  ks: Keystore,
  a: { service: EnrolService; kind: EnrolKind; identity: string; rid?: string; ttlSec: number; now?: number },
): { token: string; record: TokenRecord } {
  const out = newEnrolmentToken({ ...a, now: a.now ?? Math.floor(Date.now() / 1000) });
  ks.create(tokenRecordName(out.record.id), out.record);
  return out;
}

/** A token's record from the service's keystore, if it was issued there. */
export function loadEnrolmentToken(ks: Keystore, id: Uint8Array): TokenRecord | undefined {
  if (id.every((x) => x === 0)) return undefined;
  const name = tokenRecordName(id);
  return ks.exists(name) ? ks.load<TokenRecord>(name) : undefined;
}

/** Parses a `--ttl` such as 90s, 30m, 1h, 7d (or plain seconds). */
export function parseTtl(s: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(String(s).trim());
  if (!m) throw new EnrolmentTokenError("TOKEN_EXPIRED", `--ttl: "${s}" is not a duration such as 90s, 30m, 1h or 7d`);
  const n = Number(m[1]) * ({ "": 1, s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[m[2]];
  if (n < 1 || n > MAX_TOKEN_TTL_SEC) throw new EnrolmentTokenError("TOKEN_EXPIRED", `--ttl: ${s} is outside 1s..7d`);
  return n;
}

/** Splits a registration body that starts with a token id: the id and the rest. */
export function splitTokenId(fn: string, b: Uint8Array): { tokenId: Uint8Array; rest: Uint8Array } {
  if (!(b instanceof Uint8Array) || b.length < TOKEN_ID_BYTES) throw new EnrolmentTokenError("TOKEN_REQUIRED", `${fn}: no token id`);
  return { tokenId: b.slice(0, TOKEN_ID_BYTES), rest: b.slice(TOKEN_ID_BYTES) };
}
