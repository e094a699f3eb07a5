/**
 * The agents' keystore: named records of private material (secret scalars, one-time secrets,
 * salts) kept under the data folder so that tasks work across separate invocations.
 *
 * - One JSON file per record, `<dir>/<name>.json`, mode 0600, written atomically (temp file,
 *   fsync, rename): a crash leaves the old file or the new one, never half of one.
 * - With a passphrase (METATRUST_PASSPHRASE) the record is sealed with scrypt(N=2^15, r=8, p=1)
 *   and XChaCha20-Poly1305, the file's name and version bound as associated data; without one it
 *   is stored in the clear with a SHA-256 checksum (development mode, printed as such).
 * - Corrupted files, wrong passphrases and missing passphrases are typed errors; keys are never
 *   regenerated silently and an existing record is never overwritten by `create`.
 */
import fs from "fs";
import path from "path";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { scrypt } from "@noble/hashes/scrypt.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { fromHex, toBytes, toHex } from "../crypto/bytes";
import { InvalidParameterError } from "../errors";
import { writeFileAtomic } from "./fs-atomic";
import {
  KeystoreCorruptedError,
  KeystoreExistsError,
  KeystoreLockedError,
  KeystoreNotFoundError,
  KeystoreWrongPassphraseError,
} from "./errors";

/** What a keystore record holds: JSON values (secrets as hex strings). */
export type KeystoreData = Record<string, unknown>;

const VERSION = 1;
/** Default scrypt cost (about 0.1 s here); stored in each file so it can change later. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
/** scrypt cost parameters. */
export type ScryptParams = { N: number; r: number; p: number };

type PlainFile = { version: number; name: string; encrypted: false; checksum: string; data: KeystoreData };
type SealedFile = {
  version: number;
  name: string;
  encrypted: true;
  kdf: { name: "scrypt"; N: number; r: number; p: number; salt: string };
  cipher: "xchacha20poly1305";
  nonce: string;
  ciphertext: string;
};

function checksum(data: KeystoreData): string {
  return toHex(sha256(toBytes(JSON.stringify(data))));
}

/** A folder of keystore records. */
export class Keystore {
  readonly dir: string;
  private readonly passphrase?: string;
  private readonly scryptParams: ScryptParams;

  /**
   * @param dir - the folder (created with mode 0700 on first write)
   * @param passphrase - seals new records when given (default: METATRUST_PASSPHRASE)
   * @param scryptParams - KDF cost for new records
   */
  constructor(dir: string, passphrase: string | undefined = process.env.METATRUST_PASSPHRASE, scryptParams: ScryptParams = DEFAULT_SCRYPT) {
    this.dir = dir;
    this.passphrase = passphrase === "" ? undefined : passphrase;
    this.scryptParams = { ...scryptParams };
  }

  /** True when new records are sealed with a passphrase. */
  get encrypted(): boolean {
    return this.passphrase !== undefined;
  }

  /**
   * The file of a record.
   * @param name - record name: letters, digits, '.', '_' and '-'
   */
  file(name: string): string {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(name) || name.startsWith(".")) {
      throw new InvalidParameterError(`Keystore: invalid record name "${name}" (use letters, digits, '.', '_', '-')`);
    }
    return path.join(this.dir, `${name}.json`);
  }

  /** True iff the record exists. */
  exists(name: string): boolean {
    return fs.existsSync(this.file(name));
  }

  /** Names of all records. */
  list(): string[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -5))
      .sort();
  }

  /**
   * Creates a record; never overwrites.
   * @throws KeystoreExistsError if it exists
   */
  create(name: string, data: KeystoreData): void {
    const file = this.file(name);
    if (fs.existsSync(file)) throw new KeystoreExistsError(name, file);
    this.write(name, data);
  }

  /**
   * Replaces the content of an existing record (atomically).
   * @throws KeystoreNotFoundError if it does not exist
   */
  update(name: string, data: KeystoreData): void {
    const file = this.file(name);
    if (!fs.existsSync(file)) throw new KeystoreNotFoundError(name, file);
    this.write(name, data);
  }

  /**
   * Deletes a record (e.g. a salt whose transaction failed).
   * @throws KeystoreNotFoundError if it does not exist
   */
  remove(name: string): void {
    const file = this.file(name);
    if (!fs.existsSync(file)) throw new KeystoreNotFoundError(name, file);
    fs.rmSync(file);
  }

  /**
   * Reads a record.
   * @returns its data
   * @throws KeystoreNotFoundError, KeystoreCorruptedError, KeystoreLockedError,
   *   KeystoreWrongPassphraseError
   */
  load<T extends KeystoreData = KeystoreData>(name: string): T {
    const file = this.file(name);
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new KeystoreNotFoundError(name, file);
      throw e;
    }
    let parsed: PlainFile | SealedFile;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new KeystoreCorruptedError(file, "not valid JSON");
    }
    if (typeof parsed !== "object" || parsed === null || parsed.version !== VERSION || parsed.name !== name) {
      throw new KeystoreCorruptedError(file, "unknown version or mismatched name");
    }
    if (parsed.encrypted === false) {
      if (typeof parsed.data !== "object" || parsed.data === null || checksum(parsed.data) !== parsed.checksum) {
        throw new KeystoreCorruptedError(file, "checksum mismatch");
      }
      return parsed.data as T;
    }
    if (parsed.encrypted !== true) throw new KeystoreCorruptedError(file, "missing 'encrypted' flag");
    if (this.passphrase === undefined) throw new KeystoreLockedError(file);
    let key: Uint8Array, nonce: Uint8Array, ct: Uint8Array;
    try {
      const { N, r, p, salt } = parsed.kdf;
      key = scrypt(this.passphrase, fromHex(salt), { N, r, p, dkLen: 32 });
      nonce = fromHex(parsed.nonce, 24);
      ct = fromHex(parsed.ciphertext);
    } catch (e) {
      throw new KeystoreCorruptedError(file, `bad KDF or cipher fields (${(e as Error).message})`);
    }
    let plain: Uint8Array;
    try {
      plain = xchacha20poly1305(key, nonce, toBytes(`${name}|${VERSION}`)).decrypt(ct);
    } catch {
      // The AEAD cannot tell a wrong passphrase from a modified ciphertext.
      throw new KeystoreWrongPassphraseError(file);
    }
    return JSON.parse(new TextDecoder().decode(plain)) as T;
  }

  private write(name: string, data: KeystoreData): void {
    const file = this.file(name);
    let out: PlainFile | SealedFile;
    if (this.passphrase === undefined) {
      const clean = JSON.parse(JSON.stringify(data)) as KeystoreData;
      out = { version: VERSION, name, encrypted: false, checksum: checksum(clean), data: clean };
    } else {
      const salt = randomBytes(16);
      const nonce = randomBytes(24);
      const key = scrypt(this.passphrase, salt, { ...this.scryptParams, dkLen: 32 });
      const ct = xchacha20poly1305(key, nonce, toBytes(`${name}|${VERSION}`)).encrypt(toBytes(JSON.stringify(data)));
      out = {
        version: VERSION,
        name,
        encrypted: true,
        kdf: { name: "scrypt", ...this.scryptParams, salt: toHex(salt) },
        cipher: "xchacha20poly1305",
        nonce: toHex(nonce),
        ciphertext: toHex(ct),
      };
    }
    writeFileAtomic(file, JSON.stringify(out, null, 1) + "\n", 0o600);
  }
}
