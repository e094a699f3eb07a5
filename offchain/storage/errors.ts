/** Errors of the storage layer (content store and keystore). */
import { MetatrustError } from "../errors";

/** No block with this CID in the store. */
export class ContentNotFoundError extends MetatrustError {
  constructor(cid: string, detail?: string) {
    super("CONTENT_NOT_FOUND", `ContentStore.get: no block for CID ${cid}${detail ? ` (${detail})` : ""}`);
  }
}

/** A block's bytes do not hash to its CID (disk corruption or tampering). */
export class ContentCorruptedError extends MetatrustError {
  constructor(cid: string, detail: string) {
    super("CONTENT_CORRUPTED", `ContentStore.get: block ${cid} is corrupted: ${detail}`);
  }
}

/** A string that is not a CID, or a CID with a codec/hash this store does not handle. */
export class InvalidCidError extends MetatrustError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("INVALID_CID", message, options);
  }
}

/** The kubo daemon at IPFS_API_URL did not answer. */
export class IpfsUnreachableError extends MetatrustError {
  constructor(url: string, cause: unknown) {
    super(
      "IPFS_UNREACHABLE",
      `KuboContentStore: the IPFS daemon at ${url} is unreachable (${(cause as Error)?.message ?? cause}); start it with \`ipfs daemon\` or unset IPFS_API_URL to use the embedded store`,
      { cause },
    );
  }
}

/** A keystore file that does not exist. */
export class KeystoreNotFoundError extends MetatrustError {
  constructor(name: string, file: string) {
    super("KEYSTORE_NOT_FOUND", `Keystore.load: no keystore "${name}" at ${file}`);
  }
}

/** A keystore that already exists (keys are never silently replaced). */
export class KeystoreExistsError extends MetatrustError {
  constructor(name: string, file: string) {
    super("KEYSTORE_EXISTS", `Keystore.create: keystore "${name}" already exists at ${file}; it is never overwritten`);
  }
}

/** A keystore file that cannot be parsed or fails its integrity check. */
export class KeystoreCorruptedError extends MetatrustError {
  constructor(file: string, detail: string) {
    super(
      "KEYSTORE_CORRUPTED",
      `Keystore: ${file} is corrupted (${detail}); restore it from a backup, keys are never regenerated silently`,
    );
  }
}

/** An encrypted keystore opened without METATRUST_PASSPHRASE. */
export class KeystoreLockedError extends MetatrustError {
  constructor(file: string) {
    super("KEYSTORE_LOCKED", `Keystore: ${file} is encrypted; set METATRUST_PASSPHRASE to open it`);
  }
}

/** An encrypted keystore opened with the wrong passphrase. */
export class KeystoreWrongPassphraseError extends MetatrustError {
  constructor(file: string) {
    super("KEYSTORE_WRONG_PASSPHRASE", `Keystore: wrong passphrase for ${file} (or the sealed data was modified)`);
  }
}

/**
 * A record named in a transaction intent (Keystore.commitIntent) that a crashed or failed step
 * left: whether its commit happens depends on the chain, so the record is not read or written
 * until the intent is resolved (an rsms task resolves it first: offchain/rsms/intents.ts).
 */
export class KeystoreIntentPendingError extends MetatrustError {
  constructor(name: string, intent: string, kind: string) {
    super(
      "AGENT_STATE",
      `Keystore: record "${name}" waits for a ${kind} transaction intent (${intent}) left by an interrupted step; any rsms task resolves it from the chain (e.g. \`npx hardhat rsms:status\`)`,
    );
  }
}
