/**
 * Chameleon proxy signature (CPS) over BLS12-381 — the avatar paper's §IV, reconstructed
 * (docs/specs/cps.md has the equations, the reconstruction argument and the security argument).
 *
 * Groups: signatures and hashes in G1 (48-byte compressed), public keys in G2 (96 bytes);
 * e: G1 x G2 -> GT; g2 the G2 generator; H_D(m) RFC 9380 hash-to-G1 (SHA-256, SSWU) under DST D.
 *
 *   Setup:   BLS12-381, DST_W (warrants), DST_P (proxy messages), DST_POP (key possession)
 *   KeyGen:  x <-$ Z_r*, X = x g2; with a proof of possession pi = x H_POP(X)
 *   CHash(X, m) -> (h, r):  r <-$ {0,1}^256, h = keccak256("CPS-CHASH-V1" || keyId(X) || keccak(m) || r)
 *            with keyId(X) = keccak256 of X's 256-byte EIP-2537 encoding
 *            (the avatar's binding value; r its check parameter: anyone can recompute h)
 *   OSign(x_o, X_o, w) -> (h, r, s_o):  w = the warrant (iris commitment, proxy key, avatar, scope,
 *            validity); (h, r) = CHash(X_o, w); s_o = x_o H_W(h)
 *   OVerify(X_o, w, h, r, s_o):  h = CHash(X_o, w; r) and e(s_o, g2) = e(H_W(h), X_o)
 *   PSign(x_p, h, m) -> s_p = x_p H_P(keccak256(h || m))
 *   PVerify(X_o, X_p, w, h, r, s_o, m, s_p):  h = CHash(X_o, w; r), X_p = w.proxy, m's type a subset
 *            of the warrant's scope and its time within the validity, no identity points, and
 *            e(-(s_o + rho s_p), g2) e(H_W(h), X_o) e(rho H_P(h||m), X_p) = 1 with a 128-bit rho hashed
 *            from every input (one randomized 3-pair product: each signature must be valid on its
 *            own; contracts/avatars/CPSVerifier.sol checks the same product with EIP-2537)
 *
 * The paper's "colliding signature" (VID and PhID valid under one chameleon hash value) is the
 * pair (s_o on PhID's warrant, s_p on VID) bound to the same h. A discrete-log chameleon hash
 * collision would expose the proxy's key after two collisions under one h (key exposure); BLS
 * signatures under a shared h do not.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { AbiCoder, keccak256 as ethersKeccak } from "ethers";
import { bytesToNumberBE, concat, equalBytes, toBytes, toHex } from "./bytes";
import {
  G1,
  G1Point,
  G2,
  G2Point,
  PairingTerm,
  assertBlsScalar,
  decodeG1,
  decodeG2,
  encodeG1Eip2537,
  encodeG2Eip2537,
  g1Mul,
  g2MulBase,
  hashToG1,
  pairingProductIsOne,
  randomBlsScalar,
} from "./bls";
import { InvalidParameterError } from "../errors";

/** Domain-separation tags (RFC 9380 §3.1: one per use). */
export const CPS_DST = {
  warrant: "METATRUST-V1-CPS-WARRANT-BLS12381G1_XMD:SHA-256_SSWU_RO_",
  message: "METATRUST-V1-CPS-MESSAGE-BLS12381G1_XMD:SHA-256_SSWU_RO_",
  pop: "METATRUST-V1-CPS-POP-BLS12381G1_XMD:SHA-256_SSWU_RO_",
} as const;

/** A CPS key pair. */
export type CpsKeyPair = { sk: bigint; pk: G2Point };

/** The warrant the original signer signs (the avatar's physical identity, PhID). */
export type Warrant = {
  /** commitment to the original manipulator's enrolled iris template (the iris never appears) */
  irisCommitment: Uint8Array;
  /** the proxy's public key (the user's own key when the user drives the avatar) */
  proxy: G2Point;
  /** the avatar */
  avatarId: Uint8Array;
  /** the message types the proxy may sign (bit mask: 1 login, 2 challenge, 4 interaction) */
  scope: number;
  /** unix seconds: the proxy may sign from notBefore to notAfter */
  notBefore: number;
  notAfter: number;
};

/** Message types a warrant scope covers. */
export const Scope = { login: 1, challenge: 2, interaction: 4, all: 7 } as const;

/**
 * A message type is within a scope iff it is a non-empty set of defined types and every one of
 * them is granted: (type & scope) === type. An overlap test would let a proxy limited to
 * "challenge" sign "challenge | interaction".
 */
export function typeInScope(type: number, scope: number): boolean {
  return Number.isInteger(type) && type >= 1 && (type & ~Scope.all) === 0 && (type & scope) === type;
}

/** A message under a warrant: its type and time must be within the warrant. */
export type ProxyMessage = { type: number; time: number; body: Uint8Array };

/** An original signature: (h, r, s_o). */
export type OriginalSignature = { h: Uint8Array; r: Uint8Array; sig: G1Point };

/** Sizes in bytes (Table III comparison). */
export const CPS_SIZES = { originalSignature: 32 + 32 + 48, proxySignature: 48, publicKey: 96 } as const;

/**
 * KeyGen: x <-$ Z_r*, X = x g2.
 * @param sk - optional secret (tests)
 */
export function cpsKeyGen(sk: bigint = randomBlsScalar()): CpsKeyPair {
  assertBlsScalar("cpsKeyGen", sk, "secret key");
  return { sk, pk: g2MulBase(sk) };
}

/**
 * Proof of possession of a key: pi = x H_POP(X || context) (stops rogue-key registration). The
 * context names what the proof authorises (an MIT issuance request: its kind, token, request id
 * and audience), so a proof seen in one request cannot be moved into another (s24-rta
 * observation); an empty context is the paper's pi = x H_POP(X). X's encoding has a fixed
 * length (96 bytes), so X || context is unambiguous.
 * @param context - what the proof authorises (default: nothing, the bare key)
 */
export function cpsProvePossession(kp: CpsKeyPair, context: Uint8Array = new Uint8Array()): G1Point {
  return g1Mul(hashToG1(possessionMessage(kp.pk, context), CPS_DST.pop), kp.sk);
}

/**
 * Verifies a proof of possession for a context ({@link cpsProvePossession}).
 * @param context - the context the proof must name (default: nothing)
 */
export function cpsVerifyPossession(pk: G2Point, pi: G1Point, context: Uint8Array = new Uint8Array()): boolean {
  return pairingProductIsOne([
    { g1: pi.negate(), g2: G2.BASE },
    { g1: hashToG1(possessionMessage(pk, context), CPS_DST.pop), g2: pk },
  ]);
}

function possessionMessage(pk: G2Point, context: Uint8Array): Uint8Array {
  const x = pk.toBytes();
  if (context.length === 0) return x;
  const m = new Uint8Array(x.length + context.length);
  m.set(x);
  m.set(context, x.length);
  return m;
}

const keyIds = new WeakMap<G2Point, Uint8Array>();

/** keyId(X) = keccak256(EIP-2537 encoding of X): how keys are named in hashes, on- and off-chain. */
export function keyId(pk: G2Point): Uint8Array {
  // points are immutable: a key's id is computed once per point object
  let id = keyIds.get(pk);
  if (id === undefined) keyIds.set(pk, (id = keccak_256(encodeG2Eip2537(pk))));
  return id.slice();
}

/** A word of abi.encode: a 32-byte value, or an unsigned integer given as a safe JS integer. */
type AbiWord = Uint8Array | number;

/**
 * keccak256(abi.encode(...)) for a fixed list of types whose dynamic parts (a leading tag string)
 * are constants: AbiCoder encodes the constants once with zero words, and each call writes its
 * words into a copy at their positions (a static parameter i is word i of the head). The same
 * bytes as AbiCoder (test/crypto/cps.test.ts compares them), without its per-call coding.
 * @param types - the ABI types
 * @param constants - a value for each type (the constant ones matter; the others are placeholders)
 * @param words - the indices of the parameters each call fills
 * @returns digest(values): the keccak256 of the encoding with `values` at `words`, or undefined
 *   when a value is not a 32-byte array or a safe non-negative integer that fits its type
 *   (the caller then encodes with AbiCoder, which refuses as before)
 */
function abiDigest(types: string[], constants: unknown[], words: number[]): (values: AbiWord[]) => Uint8Array | undefined {
  const template = Uint8Array.from(Buffer.from(AbiCoder.defaultAbiCoder().encode(types, constants).slice(2), "hex"));
  const bits = words.map((i) => (types[i] === "bytes32" ? 0 : Number(/^uint(\d+)$/.exec(types[i])![1])));
  return (values) => {
    const out = template.slice();
    for (let k = 0; k < words.length; k++) {
      const v = values[k];
      const at = 32 * words[k];
      if (bits[k] === 0) {
        if (!(v instanceof Uint8Array) || v.length !== 32) return undefined;
        out.set(v, at);
      } else {
        if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || (bits[k] < 53 && v >= 2 ** bits[k])) return undefined;
        const view = new DataView(out.buffer, at + 24, 8);
        view.setUint32(0, Math.floor(v / 2 ** 32));
        view.setUint32(4, v >>> 0);
      }
    }
    return keccak_256(out);
  };
}

const B32 = "0x" + "00".repeat(32);
const WARRANT_TYPES = ["string", "bytes32", "bytes32", "bytes32", "uint8", "uint64", "uint64"];
const warrantWords = abiDigest(WARRANT_TYPES, ["CPS-WARRANT-V1", B32, B32, B32, 0, 0, 0], [1, 2, 3, 4, 5, 6]);
const MESSAGE_TYPES = ["bytes32", "uint8", "uint64", "bytes32"];
const messageWords = abiDigest(MESSAGE_TYPES, [B32, 0, 0, B32], [0, 1, 2, 3]);
const BATCH_TYPES = ["string", "bytes32", "bytes32", "bytes32", "bytes32"];
const batchWords = abiDigest(BATCH_TYPES, ["CPS-BATCH-V1", B32, B32, B32, B32], [1, 2, 3, 4]);

/** The 32-byte digest of a warrant (abi-encoded, so the contract computes the same). */
export function warrantDigest(w: Warrant): Uint8Array {
  if (w.irisCommitment.length !== 32 || w.avatarId.length !== 32)
    throw new InvalidParameterError("warrantDigest: iris commitment and avatar id are 32 bytes");
  if (!Number.isInteger(w.scope) || w.scope < 1 || w.scope > 255)
    throw new InvalidParameterError("warrantDigest: scope must be a non-empty 8-bit mask");
  if (!(w.notBefore <= w.notAfter)) throw new InvalidParameterError("warrantDigest: notBefore must not be after notAfter");
  const id = keyId(w.proxy);
  return (
    warrantWords([w.irisCommitment, id, w.avatarId, w.scope, w.notBefore, w.notAfter]) ??
    fromHexStr(
      ethersKeccak(
        AbiCoder.defaultAbiCoder().encode(WARRANT_TYPES, [
          "CPS-WARRANT-V1",
          toHex(w.irisCommitment),
          toHex(id),
          toHex(w.avatarId),
          w.scope,
          w.notBefore,
          w.notAfter,
        ]),
      ),
    )
  );
}

function fromHexStr(h: string): Uint8Array {
  return Uint8Array.from(Buffer.from(h.slice(2), "hex"));
}

/**
 * CHash(X, m) -> (h, r): h = keccak256("CPS-CHASH-V1" || keyId(X) || keccak(m) || r).
 * @param pk - the hash key (the original signer's key)
 * @param m - the message (a warrant digest)
 * @param r - the check parameter (fresh 32 random bytes by default)
 */
export function cpsCHash(pk: G2Point, m: Uint8Array, r: Uint8Array = randomBytes(32)): { h: Uint8Array; r: Uint8Array } {
  if (r.length !== 32) throw new InvalidParameterError("cpsCHash: the check parameter is 32 bytes");
  return { h: keccak_256(concat(toBytes("CPS-CHASH-V1"), keyId(pk), keccak_256(m), r)), r };
}

/** H_W(h): the warrant's point. */
export function warrantPoint(h: Uint8Array): G1Point {
  return hashToG1(h, CPS_DST.warrant);
}

/** The 32-byte digest of a proxy message under h: keccak256(h || type || time || keccak(body)). */
export function messageDigest(h: Uint8Array, m: ProxyMessage): Uint8Array {
  const body = keccak_256(m.body);
  return (
    messageWords([h, m.type, m.time, body]) ??
    fromHexStr(ethersKeccak(AbiCoder.defaultAbiCoder().encode(MESSAGE_TYPES, [toHex(h), m.type, m.time, toHex(body)])))
  );
}

/** H_P(h || m): the proxy message's point. */
export function messagePoint(h: Uint8Array, m: ProxyMessage): G1Point {
  return hashToG1(messageDigest(h, m), CPS_DST.message);
}

/**
 * OSign: the original signer signs the warrant.
 * @returns (h, r, s_o)
 */
export function cpsOSign(original: CpsKeyPair, w: Warrant): OriginalSignature {
  const { h, r } = cpsCHash(original.pk, warrantDigest(w));
  return { h, r, sig: g1Mul(warrantPoint(h), original.sk) };
}

/** OVerify: h is the warrant's chameleon hash under X_o, and s_o is X_o's signature on H_W(h). */
export function cpsOVerify(originalPk: G2Point, w: Warrant, o: OriginalSignature): boolean {
  if (!equalBytes(cpsCHash(originalPk, warrantDigest(w), o.r).h, o.h)) return false;
  return pairingProductIsOne([
    { g1: o.sig.negate(), g2: G2.BASE },
    { g1: warrantPoint(o.h), g2: originalPk },
  ]);
}

/**
 * PSign: the proxy signs a message under the warrant's hash h.
 * @throws InvalidParameterError if the message is outside the warrant's scope or validity
 */
export function cpsPSign(proxy: CpsKeyPair, w: Warrant, o: OriginalSignature, m: ProxyMessage): G1Point {
  if (!proxy.pk.equals(w.proxy)) throw new InvalidParameterError("cpsPSign: this key is not the warrant's proxy");
  assertInWarrant("cpsPSign", w, m);
  return g1Mul(messagePoint(o.h, m), proxy.sk);
}

function assertInWarrant(fn: string, w: Warrant, m: ProxyMessage): void {
  if (!typeInScope(m.type, w.scope))
    throw new InvalidParameterError(`${fn}: message type ${m.type} is outside the warrant's scope ${w.scope}`);
  if (m.time < w.notBefore || m.time > w.notAfter)
    throw new InvalidParameterError(`${fn}: time ${m.time} is outside the warrant's validity [${w.notBefore}, ${w.notAfter}]`);
}

/**
 * The batch weight rho: 128 bits of keccak256(abi.encode("CPS-BATCH-V1", h, d, keccak(s_o), keccak(s_p)))
 * (EIP-2537 encodings), or-ed with 1 so it is never 0. Every input is fixed before rho is known
 * (Fiat-Shamir), so a pair of invalid signatures whose errors cancel for one rho fails for the rho
 * they hash to, except with probability about 2^-128. The contract derives the same rho.
 */
export function batchWeight(h: Uint8Array, m: ProxyMessage, originalSig: G1Point, proxySig: G1Point): bigint {
  return batchWeightOf(h, messageDigest(h, m), originalSig, proxySig);
}

/** batchWeight with the message digest d = messageDigest(h, m) already computed. */
function batchWeightOf(h: Uint8Array, d: Uint8Array, originalSig: G1Point, proxySig: G1Point): bigint {
  const so = keccak_256(encodeG1Eip2537(originalSig));
  const sp = keccak_256(encodeG1Eip2537(proxySig));
  const digest =
    batchWords([h, d, so, sp]) ??
    fromHexStr(ethersKeccak(AbiCoder.defaultAbiCoder().encode(BATCH_TYPES, ["CPS-BATCH-V1", toHex(h), toHex(d), toHex(so), toHex(sp)])));
  return (bytesToNumberBE(digest) >> 128n) | 1n;
}

/** The three pairing terms of PVerify (what the contract checks), with the batch weight rho. */
export function cpsVerificationTerms(
  originalPk: G2Point,
  w: Warrant,
  o: OriginalSignature,
  m: ProxyMessage,
  proxySig: G1Point,
): PairingTerm[] {
  // the message digest enters both rho and H_P: computed once
  const d = messageDigest(o.h, m);
  const rho = batchWeightOf(o.h, d, o.sig, proxySig);
  return [
    { g1: o.sig.add(g1Mul(proxySig, rho)).negate(), g2: G2.BASE },
    { g1: warrantPoint(o.h), g2: originalPk },
    { g1: g1Mul(hashToG1(d, CPS_DST.message), rho), g2: w.proxy },
  ];
}

/**
 * PVerify: the warrant's hash, the message's scope (a subset test) and validity, no identity
 * points, and one randomized 3-pair product
 * e(-(s_o + rho s_p), g2) e(H_W(h), X_o) e(rho H_P(h||m), X_p) = 1, which holds only if s_o and
 * s_p are each valid: (s_o + T, s_p - T) is refused.
 * @returns true iff valid; false for any failure (never throws)
 */
export function cpsPVerify(originalPk: G2Point, w: Warrant, o: OriginalSignature, m: ProxyMessage, proxySig: G1Point): boolean {
  try {
    if (!equalBytes(cpsCHash(originalPk, warrantDigest(w), o.r).h, o.h)) return false;
    if (!typeInScope(m.type, w.scope) || m.time < w.notBefore || m.time > w.notAfter) return false;
    if (proxySig.is0() || o.sig.is0() || originalPk.is0() || w.proxy.is0()) return false;
    return pairingProductIsOne(cpsVerificationTerms(originalPk, w, o, m, proxySig));
  } catch {
    // malformed fields (a warrant that cannot be digested, a point noble refuses): not a signature
    return false;
  }
}

/**
 * The arguments of CPSVerifier.verify / verifyNow for a proxy signature (EIP-2537 encodings):
 * (X_o, warrant, message, r, s_o, s_p).
 */
export function cpsVerifierArgs(originalPk: G2Point, w: Warrant, o: OriginalSignature, m: ProxyMessage, proxySig: G1Point) {
  return [
    toHex(encodeG2Eip2537(originalPk)),
    {
      irisCommitment: toHex(w.irisCommitment),
      proxyPk: toHex(encodeG2Eip2537(w.proxy)),
      avatarId: toHex(w.avatarId),
      scope: w.scope,
      notBefore: w.notBefore,
      notAfter: w.notAfter,
    },
    { msgType: m.type, time: m.time, bodyHash: toHex(keccak_256(m.body)) },
    toHex(o.r),
    toHex(encodeG1Eip2537(o.sig)),
    toHex(encodeG1Eip2537(proxySig)),
  ] as const;
}

/** Serializes a G1 signature (48 bytes). */
export const encodeSig = (s: G1Point) => s.toBytes();
/** Parses a G1 signature with subgroup and non-identity checks. */
export const decodeSig = (b: Uint8Array) => decodeG1(b);
/** Serializes a G2 key (96 bytes). */
export const encodePk = (p: G2Point) => p.toBytes();
/** Parses a G2 key with subgroup and non-identity checks. */
export const decodePk = (b: Uint8Array) => decodeG2(b);

export { G1 };
