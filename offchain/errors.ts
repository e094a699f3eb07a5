/**
 * Typed errors shared by every off-chain module.
 *
 * Every error thrown on bad input is a {@link MetatrustError} with a stable `code`, and its message
 * starts with the name of the function that rejected the input (noble-curves style), so that both
 * programs (`err.code`) and people (`err.message`) can tell what was wrong.
 */

/** Stable machine-readable error codes. */
export type ErrorCode =
  | "INVALID_POINT"
  | "INVALID_SCALAR"
  | "INVALID_LENGTH"
  | "INVALID_PARAMETER"
  | "DECRYPTION_FAILED"
  | "CONTENT_NOT_FOUND"
  | "CONTENT_CORRUPTED"
  | "IPFS_UNREACHABLE"
  | "INVALID_CID"
  | "KEYSTORE_NOT_FOUND"
  | "KEYSTORE_EXISTS"
  | "KEYSTORE_CORRUPTED"
  | "KEYSTORE_LOCKED"
  | "KEYSTORE_WRONG_PASSPHRASE"
  | "DEPLOYMENT_NOT_FOUND"
  | "NETWORK_UNSUPPORTED"
  | "MESSAGE_MALFORMED"
  | "PROTOCOL_REJECTED"
  | "AGENT_STATE"
  | "SERVICE_UNREACHABLE"
  | "QUOTA_EXCEEDED";

/** Base class of every error metatrust throws on purpose. */
export class MetatrustError extends Error {
  /** Stable code, for programs. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A byte string that does not decode to a valid group element (wrong length, off-curve, identity). */
export class InvalidPointError extends MetatrustError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("INVALID_POINT", message, options);
  }
}

/** A scalar outside its allowed range (zero, negative, not below the group order...). */
export class InvalidScalarError extends MetatrustError {
  constructor(message: string) {
    super("INVALID_SCALAR", message);
  }
}

/** A byte string of the wrong length. */
export class InvalidLengthError extends MetatrustError {
  constructor(message: string) {
    super("INVALID_LENGTH", message);
  }
}

/** A parameter out of its documented range (Bloom sizes, Shamir thresholds, duplicate x...). */
export class InvalidParameterError extends MetatrustError {
  constructor(message: string) {
    super("INVALID_PARAMETER", message);
  }
}

/** An authenticated ciphertext that does not open: wrong key, tampered bytes or wrong context. */
export class DecryptionError extends MetatrustError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("DECRYPTION_FAILED", message, options);
  }
}
