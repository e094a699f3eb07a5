/**
 * Evidence in the wire encoding (offchain/avatars/wire.ts, `encodeEvidence`) for contract tests
 * that need the court to read a case's evidence but not the IdP to trace it. SIMULATED: every
 * field is derived from a seed (keccak256 chain), the BLS points are small multiples of the
 * generators and the ephemeral keys the secp256k1 generator, so that `decodeEvidence` accepts the
 * bytes (the court refuses anything it would refuse, s19-redd F3), but no signature verifies: the
 * IdP would reject such a case (BAD_SIGNATURE), it would not hang. Tests only.
 */
import { getBytes, keccak256, toUtf8Bytes, type Signer } from "ethers";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { attestRegistration } from "../../offchain/trust/ledger";
import type { MITRegistry, TrustManager } from "../../typechain-types";
import { G1, G2 } from "../../offchain/crypto/bls";
import { encodeEvidence } from "../../offchain/avatars/wire";
import type { Evidence, Hello } from "../../offchain/avatars/protocols";
import type { Warrant } from "../../offchain/crypto/cps";

/** The secp256k1 generator, compressed: a valid ephemeral key. */
const SECP_G = getBytes("0x0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");

export type EncodedEvidenceOptions = {
  /** seeds every other field (default "evidence") */
  seed?: string;
  /** the signed message's body length (default 40) */
  body?: number;
  /** handshake flag: 0 none, 1 handshake, 2 handshake and session part (default 1) */
  handshake?: 0 | 1 | 2;
  /** with a platform receipt (default false) */
  receipt?: boolean;
  /**
   * the reporter's avatar, named by the handshake's hello: the interaction's counterparty, whose
   * owner's account alone may claim it in court (default an id seeded like the other fields, which
   * no registry knows: nobody may claim such evidence; see {@link attestCounterparty})
   */
  reporter?: string | Uint8Array;
};

/**
 * Encoded evidence about `avatar` (32 bytes, hex or bytes). The defaults make 1,308 bytes (a
 * transcript signature's evidence with its handshake and a 40-byte body), the size the gas
 * snapshot has sent since session 14.
 */
export function encodedEvidence(avatar: string | Uint8Array, o: EncodedEvidenceOptions = {}): Uint8Array {
  const seed = o.seed ?? "evidence";
  const b32 = (what: string) => getBytes(keccak256(toUtf8Bytes(`${seed}/${what}`)));
  const body = (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 32) out.set(b32(`body-${i}`).subarray(0, Math.min(32, n - i)), i);
    return out;
  };
  const avatarId = typeof avatar === "string" ? getBytes(avatar) : avatar;
  const warrant = (who: string, forAvatar: Uint8Array): Warrant => ({
    irisCommitment: b32(`${who}-iris`),
    proxy: G2.BASE.multiply(3n),
    avatarId: forAvatar,
    scope: 6,
    notBefore: 1_700_000_000,
    notAfter: 1_800_000_000,
  });
  const e: Evidence = {
    avatarId,
    ownerSerial: b32("owner-serial"),
    ownerPk: G2.BASE.multiply(2n),
    driverSerial: b32("driver-serial"),
    warrant: warrant("accused", avatarId),
    o: { h: b32("h"), r: b32("r"), sig: G1.BASE.multiply(5n) },
    message: { type: (o.handshake ?? 1) === 2 ? 4 : 2, time: 1_750_000_000, body: body(o.body ?? 40) },
    proxySig: G1.BASE.multiply(7n),
  };
  if ((o.handshake ?? 1) !== 0) {
    const reporterId =
      o.reporter === undefined ? b32("reporter-avatar") : typeof o.reporter === "string" ? getBytes(o.reporter) : o.reporter;
    const reporter: Hello = {
      avatarId: reporterId,
      ownerSerial: b32("reporter-owner-serial"),
      ownerPk: G2.BASE.multiply(11n),
      driverSerial: b32("reporter-driver-serial"),
      warrant: warrant("reporter", reporterId),
      o: { h: b32("reporter-h"), r: b32("reporter-r"), sig: G1.BASE.multiply(13n) },
      ephemeral: SECP_G,
      nonce: b32("reporter-nonce"),
      platform: b32("platform"),
      peer: avatarId,
    };
    e.handshake = {
      accusedInitiated: true,
      accusedEphemeral: SECP_G,
      accusedNonce: b32("accused-nonce"),
      reporter,
      reporterSig: G1.BASE.multiply(17n),
      session: o.handshake === 2 ? { time: 1_749_999_000, accusedSig: G1.BASE.multiply(19n) } : undefined,
    };
  }
  if (o.receipt) e.receipt = { time: 1_750_000_100, sig: new Uint8Array([...b32("receipt-r"), ...b32("receipt-s")]) };
  return encodeEvidence(e);
}

/**
 * Makes `account` the owner's account of the counterparty avatar `avatar` (what the court asks of
 * whoever claims evidence with a handshake naming it, docs/specs/disputes.md "One interaction, one
 * court case"): an MIT `serial` of its own, `avatar` logged in under it for a year, and attested
 * to `account` in the TrustManager (its owner's first avatar). `registry` runs as an IDP_ROLE
 * holder, `idp` signs the attestation as one.
 */
export async function attestCounterparty(a: {
  registry: MITRegistry;
  trust: TrustManager;
  idp: Signer;
  account: Signer;
  avatar: string;
  serial: string;
}): Promise<void> {
  const notAfter = (await time.latest()) + 365 * 86_400;
  await (await a.registry.issueMIT(a.serial, keccak256(toUtf8Bytes(`${a.serial}/key`)), "params-cid")).wait();
  await (
    await a.registry.recordLogin(
      a.avatar,
      a.serial,
      keccak256(toUtf8Bytes(`${a.avatar}/warrant`)),
      keccak256(toUtf8Bytes(`${a.avatar}/vid`)),
      notAfter,
    )
  ).wait();
  const deadline = BigInt(await time.latest()) + 3600n;
  const att = await attestRegistration(a.idp, a.trust, a.avatar, "avatar", await a.account.getAddress(), deadline);
  await (await a.trust.connect(a.account).registerAttested(a.avatar, 1, deadline, att)).wait();
}

/**
 * The avatar the dispute fixture's claimant's controller (msrp, test/fixtures/disputes.ts) owns, for
 * evidence whose handshake names it (`encodedEvidence(respondent, { reporter: CLAIMANT_AVATAR })`):
 * since session 22 the court opens avatar disputes over evidence with a handshake only, claimed by the
 * account of the owner of the avatar it names. {@link attestClaimantAvatar} sets it up.
 */
export const CLAIMANT_AVATAR = keccak256(toUtf8Bytes("test: the claimant's controller's attested avatar"));

/**
 * {@link attestCounterparty} for the dispute fixture: {@link CLAIMANT_AVATAR} logged in under an MIT
 * of its own and attested to `msrp` (the fixture's IDP_ROLE holder and the claimant's controller).
 */
export async function attestClaimantAvatar(f: { registry: MITRegistry; trust: TrustManager; msrp: Signer }): Promise<void> {
  await attestCounterparty({
    registry: f.registry,
    trust: f.trust,
    idp: f.msrp,
    account: f.msrp,
    avatar: CLAIMANT_AVATAR,
    serial: keccak256(toUtf8Bytes("test: the claimant's controller's MIT")),
  });
}
