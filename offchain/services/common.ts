/** What the RSMS services share: account signatures, audiences, request ids, hex helpers. */
import { SigningKey, Signature, recoverAddress, hexlify, type BaseWallet } from "ethers";
import { randomBytes } from "@noble/hashes/utils.js";
import { fromHex } from "../crypto/bytes";
import { Scheme, type EnvelopeSigner, type ExpectedSender } from "./envelope";

/** An envelope signer for an account key (ECDSA over the envelope digest, r || s || v). */
export function accountSigner(wallet: BaseWallet): EnvelopeSigner {
  const key: SigningKey = wallet.signingKey;
  return { scheme: Scheme.Ecdsa, sign: (d) => fromHex(key.sign(hexlify(d)).serialized, 65) };
}

/** What a recipient expects of an envelope signed by an account. */
export function fromAccount(address: string): ExpectedSender {
  return {
    scheme: Scheme.Ecdsa,
    address,
    recover: (d, sig) => recoverAddress(hexlify(d), Signature.from(hexlify(sig))),
  };
}

/** A fresh 16-byte id (session or request). */
export const freshId = (): Uint8Array => randomBytes(16);
