/**
 * The agents' keystore: named records of private material (secret scalars, one-time secrets,
 * salts) kept under the data folder so that tasks work across separate invocations.
 *
 * - One JSON file per record, `<dir>/<name>.json`, mode 0600, written atomically (temp file,
 *   fsync, rename): a crash leaves the old file or the new one, never half of one.
 * - With a passphrase (METATRUST_PASSPHRASE) the record is sealed with scrypt(N=2^15, r=8, p=1)
 *   and XChaCha20-Poly1305, the file's name and version bound as associated data; without one it
 *   is stored in the clear with a SHA-256 checksum (development mode, printed as such). A process
 *   derives each scrypt key once (by cost, salt and passphrase) and seals its writes to a folder
 *   with one salt, each record with a fresh random nonce.
 * - Corrupted files, wrong passphrases and missing passphrases are typed errors; keys are never
 *   regenerated silently and an existing record is never overwritten by `create`.
 * - `commit` replaces several records at once with one fsync on the caller's path (issue 20: an
 *   RSMS join changes the MSRP's record and the RN's). A write-ahead journal file
 *   `<dir>/.journal/<time>-<pid>-<seq>.wal` holds the new files and their checksum; it is written
 *   and fsync'd, and that is the commit point. This process reads the new records at once (an
 *   in-memory overlay); in the background each is written to a temporary file, fsync'd and renamed
 *   into place (all off the main thread: fs.promises), and then the journal is deleted. A direct write or removal of such a record, and
 *   the process's exit (the Hardhat CLI exits at once), apply the pending journals synchronously
 *   first. After a crash at any point, the next read or write of the folder (in any process)
 *   replays what a committed journal holds and drops a torn one, which was never committed: all
 *   the records of a commit, or none. A replay writes a record only if the file still holds what
 *   the commit replaced (the journal keeps its checksum): a newer write is never undone. The
 *   background apply and flushJournals follow the same rule (s28-rtk F2): a record's file that
 *   another process wrote after this process's commit point (a writer that holds no lock) keeps
 *   that write; this process's change to the record (a patch and its head together) is not kept,
 *   its overlay of the record is dropped (it reads the disk, and a stamp kept from the commit no
 *   longer matches, so a kept object is rebuilt), and one line on stderr names the file. The two
 *   writers' changes are not merged.
 * - A large record whose commits change a few entries of one field (the MSRP's record: its RNs)
 *   can be kept as a base and patches (`commit`'s `patch` option): a commit then journals the
 *   changed entries (`<name>.p<i>`) and a head (`<name>.head`), not the whole record, and `load`
 *   applies them; every PATCH_MAX patches, or on any other change, the record is written whole.
 * - `commitIntent` journals a commit whose fate is a transaction's (an RSMS join's records and its
 *   recordJoin) as an intent, fsync'd off the main thread while the transaction is sent and mined;
 *   the caller applies it once the receipt and the fsync are in, or drops it. An intent a crash
 *   left blocks the records it names until a resolver asks the chain (offchain/rsms/flows.ts
 *   resolveJoinIntents); `recover` never replays one.
 * - `stamp` gives the texts a record is made of: its file's and, for a patched record, its head's
 *   (the patches' too for a head an older build wrote): a caller that keeps an object built from a
 *   record across commands (the MSRP agent, tasks/rsms.ts) reuses it only while the stamp is the
 *   one its own commit left (`stampAfter`), so a write by any process is seen.
 *
 * Why a patched record's base and head texts stand for the whole record (issue 20: the stamp reads
 * two files, not up to PATCH_MAX + 2). A head lists its patches in order with `sums`, the SHA-256
 * of each patch file's text as its commit serialized it, carried forward from head to head; the
 * head's own checksum (or seal) covers them. The record `load` gives is a function of the base's
 * text, the head's and the texts of the patches the head lists, and every reader of a patch
 * (`load`, `loadStamped`, a commit's comparison with the record as it stands) takes its text only
 * if its SHA-256 is the head's sum, else KeystoreCorruptedError names the file. So two reads under
 * the same base and head texts apply the same patch texts (short of a SHA-256 collision): the same
 * record. And any writer that writes through a Keystore, whether it holds the folder lock or not,
 * changes one of the two texts with every change: a whole write is a new base (a new random `gen`);
 * a patch is written only in the journal that writes a head listing it with its sum, so a patch
 * appended lengthens the list, and a p_i written again under the same list (two writers that took
 * no lock, each preparing p_i over the same head) changes the sum unless the texts are the same
 * (a sealed text never is: a fresh nonce). An older build's writer writes a head without sums, a
 * new text too. A patch or head is never a caller's to write: its name (`<x>.p<i>`, `<x>.head`) is
 * refused by `create`, `update`, `remove`, `commit` and `commitIntent` (s28-rtk F4: through them a
 * patch could be changed or removed under the same base and head). Limits: (1) a patch file changed
 * by a hand (not through a Keystore), base and head untouched, leaves the stamp as it was: a kept
 * object is still reused, and the change is caught at the next read of the patches (another
 * command's load, a commit that writes the record whole), which refuses the record, never merges
 * the file; before, the stamp itself saw it. (2) Two lockless writers whose
 * renames interleave (one's p_i, the other's head) leave a record every load refuses, where before
 * one's entries were merged under the other's head unseen; the folder lock is what keeps writers
 * apart. A lockless writer whose files land before this process renames its own keeps its write
 * (see the replay rule above; one whose files land between this process's last check and its
 * renames does not, unseen), and this process checks only the files its commit writes: a
 * lockless whole write of the base under this process's patch and head (or a lockless patch under
 * this process's whole write) is not seen there; the record then loads as the newer base says,
 * unmerged, and the stamp differs from the kept one. (3) A reader races a writer: a commit renames each patch into place before the head that
 * lists it (journal order, in the background apply, a flush and a replay alike), so a head never
 * lists a patch not yet in place; but a reader that read the base and head before a whole write
 * and a new p0 of the new base, and p0 after them, finds p0 not its head's sum. Before, that read
 * merged the new p0 into the old base silently; now `load` and `loadStamped` read the record again
 * when its base or head changed meanwhile (at most PATCH_READ_TRIES times), and a mismatch under
 * an unchanged base and head is corruption. A head an older build wrote has no sums: its stamp
 * holds the patch texts (as before), and the next patch commit sums the patch files as they stand,
 * each checked by its checksum or seal: the texts that stamp held and the writer's stamp check
 * (holding the folder) compared, rather than writing the record whole, which would put a whole
 * write of the largest record on the first join after an upgrade. An older build reads a head with
 * sums as before (it ignores them).
 */
import { createHash } from "crypto";
import fs from "fs";
import path from "path";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { scrypt } from "@noble/hashes/scrypt.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { fromHex, toBytes, toHex } from "../crypto/bytes";
import { InvalidParameterError } from "../errors";
import { writeFileAtomic } from "./fs-atomic";
import { mark } from "../util/spans";
import {
  KeystoreCorruptedError,
  KeystoreExistsError,
  KeystoreIntentPendingError,
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

/**
 * Marks of a record kept as a base and patches (Keystore.commit's `patch` option): `patched` names
 * the field whose entries patches replace, `gen` identifies this base (random, new at every whole
 * write): a head naming another base is stale and ignored.
 */
type PatchMarks = { gen?: string; patched?: string };
type PlainFile = { version: number; name: string; encrypted: false; checksum: string; data: KeystoreData } & PatchMarks;
type SealedFile = PatchMarks & {
  version: number;
  name: string;
  encrypted: true;
  kdf: { name: "scrypt"; N: number; r: number; p: number; salt: string };
  cipher: "xchacha20poly1305";
  nonce: string;
  ciphertext: string;
};

/**
 * A patched record's head (`<name>.head`): the base it applies to (its `gen`), the field its
 * patches replace entries of, the patches in order and the sum (`sha`: SHA-256, 0x-hex) of each
 * patch file's text as its commit wrote it. A head an older build wrote has no `sums`.
 */
type Head = { base?: unknown; field?: unknown; patches?: unknown; sums?: unknown };

/** A head's sums, if it carries one for each patch it lists (else undefined: an older build's head). */
function headSums(head: Head): string[] | undefined {
  const { patches, sums } = head;
  if (!Array.isArray(patches) || !Array.isArray(sums) || sums.length !== patches.length) return undefined;
  return sums.every((x) => typeof x === "string") ? (sums as string[]) : undefined;
}

/**
 * A patch file whose text is not the one its head's sum is of: another hand wrote it, or it was
 * read while another process's commits replaced the record's files (a base and head read before a
 * whole write and a new patch of it, the patch after). `load` and `loadStamped` read the record
 * again when its base or head changed meanwhile (at most PATCH_READ_TRIES reads); otherwise it is
 * what it says, a corrupted file.
 */
class PatchSumMismatch extends KeystoreCorruptedError {
  constructor(
    file: string,
    headName: string,
    /** The head text whose sum the patch did not match. */
    readonly headText: string,
  ) {
    super(file, `its text is not the one whose sum ${headName} lists`);
  }
}
/** How many times `load` reads a patched record whose base or head changed while its patches were read. */
const PATCH_READ_TRIES = 3;

function checksum(data: KeystoreData): string {
  return sha(JSON.stringify(data));
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

  /**
   * The file of a record a caller writes (`create`, `update`, `remove`, `commit`, `commitIntent`):
   * a patch's or a head's name (`<x>.p<digits>`, `<x>.head`) of a record `<x>` kept as a base and
   * patches is refused (any other record may have such a name: s28-review F2), as a patched record's
   * parts are written only by a commit of `<x>` (its `patch` option) with the head that lists them
   * and their sums. A caller's write of one would change the record while its stamp, its base and
   * head texts, stays the same (s28-rtk F4).
   * @throws InvalidParameterError naming the record
   */
  private writable(name: string): string {
    const file = this.file(name);
    // only the parts of a record kept as a base and patches: a record of its own whose name ends so
    // (a party named "bot.p1": `avatar-party-bot.p1`) is written as any other (s28-review F2)
    if (PART_NAME.test(name) && this.isPatched(name.replace(PART_NAME, "")))
      throw new InvalidParameterError(
        `Keystore: record name "${name}" is a patch or head of record "${name.replace(PART_NAME, "")}": only a commit of that record writes it`,
      );
    return file;
  }

  /** True iff the record exists. */
  exists(name: string): boolean {
    const file = this.file(name);
    this.recover();
    return overlay.has(file) || fs.existsSync(file);
  }

  /** Names of all records. */
  list(): string[] {
    if (!fs.existsSync(this.dir)) return [];
    this.recover();
    const names = new Set(
      fs
        .readdirSync(this.dir)
        .filter((f) => f.endsWith(".json"))
        .map((f) => f.slice(0, -5)),
    );
    for (const file of overlay.keys()) if (path.dirname(file) === this.dir) names.add(path.basename(file, ".json"));
    return [...names].sort();
  }

  /**
   * Creates a record; never overwrites.
   * @throws KeystoreExistsError if it exists; InvalidParameterError for a patch or head name ({@link writable})
   */
  create(name: string, data: KeystoreData): void {
    const file = this.writable(name);
    if (this.exists(name)) throw new KeystoreExistsError(name, file);
    this.write(name, data);
  }

  /**
   * Replaces the content of an existing record (atomically).
   * @throws KeystoreNotFoundError if it does not exist; InvalidParameterError for a patch or head name ({@link writable})
   */
  update(name: string, data: KeystoreData): void {
    const file = this.writable(name);
    if (!this.exists(name)) throw new KeystoreNotFoundError(name, file);
    this.write(name, data);
  }

  /**
   * Deletes a record (e.g. a salt whose transaction failed).
   * @throws KeystoreNotFoundError if it does not exist; InvalidParameterError for a patch or head name ({@link writable})
   */
  remove(name: string): void {
    const file = this.writable(name);
    if (!this.exists(name)) throw new KeystoreNotFoundError(name, file);
    this.guard(name);
    if (overlay.has(file)) flushJournals(); // the commit first, durably: a replay must not bring the record back
    fs.rmSync(file);
  }

  /**
   * Reads a record.
   * @returns its data
   * @throws KeystoreNotFoundError, KeystoreCorruptedError, KeystoreLockedError,
   *   KeystoreWrongPassphraseError
   */
  load<T extends KeystoreData = KeystoreData>(name: string): T {
    for (let tries = 1; ; tries++) {
      const file = this.file(name);
      this.recover();
      this.guard(name);
      const text = this.text(name, file);
      const { data, marks } = this.parse(name, file, text);
      if (marks.patched === undefined) return data as T;
      try {
        return this.merged(name, data, marks, (n) => this.textOf(n)).data as T;
      } catch (e) {
        // a patch read while another process's commits replaced the files: read again (see PatchSumMismatch)
        if (!(e instanceof PatchSumMismatch) || tries >= PATCH_READ_TRIES) throw e;
        if (this.textOf(name) === text && this.textOf(`${name}.head`) === e.headText) throw e;
      }
    }
  }

  /**
   * The texts a record is made of as it stands, by record name: its file's and, for a record kept
   * as a base and patches, its head's, which lists the patches with the sum of each (issue 20: two
   * files read, not up to 18). A head an older build wrote, without sums, brings the texts of the
   * patches it lists too. Two equal stamps ({@link sameStamp}) are the same record, whoever wrote
   * it through a Keystore (the argument is in the file comment): a caller that keeps an object
   * built from a record across commands (tasks/rsms.ts keeps the MSRP agent) reads the stamp and
   * rebuilds the object when it differs, so a change by another process, or by other code of this
   * one, is seen (this process's commits not yet renamed into place included, as `load` sees them).
   * @throws as `load`
   */
  stamp(name: string): RecordStamp {
    const file = this.file(name);
    this.recover();
    this.guard(name);
    const out: RecordStamp = { [name]: this.text(name, file) };
    const headName = `${name}.head`;
    const headText = this.textOf(headName);
    if (headText === undefined) return out;
    out[headName] = headText;
    // read only: the parse of the same head text is kept (a sealed head is not decrypted at every stamp)
    const head = this.sharedParse(headName, this.file(headName), headText).data as Head;
    if (Array.isArray(head.patches) && headSums(head) === undefined)
      for (const p of head.patches) out[String(p)] = this.text(String(p), this.file(String(p)));
    return out;
  }

  /**
   * The stamp {@link stamp} gives after a commit that wrote `texts` (what `commit` returns, or a
   * commitIntent's `texts` once applied) over a record whose stamp was `before`, computed without
   * reading the disk: a caller that keeps the object it committed (tasks/rsms.ts keepMsrp) keeps
   * it with this stamp.
   * @param name - the record
   * @param before - its stamp when the commit was prepared
   * @param texts - the texts the commit wrote (other records' are ignored)
   */
  stampAfter(name: string, before: RecordStamp, texts: RecordStamp): RecordStamp {
    const out: RecordStamp = { ...before };
    for (const [n, t] of Object.entries(texts)) if (n === name || n.startsWith(`${name}.`)) out[n] = t;
    const headName = `${name}.head`;
    if (out[headName] === undefined) return out;
    const head = this.sharedParse(headName, this.file(headName), out[headName]).data as Head;
    if (headSums(head) === undefined) return out; // an older build's head: its patches' texts stay in the stamp
    return { [name]: out[name], [headName]: out[headName] };
  }

  /**
   * A record's data (as `load` gives it) and its stamp, the data built from the very texts the
   * stamp holds (and, for a head with sums, from patch texts with those sums): the two agree
   * whatever another process writes meanwhile.
   * @throws as `load`
   */
  loadStamped<T extends KeystoreData = KeystoreData>(name: string): { data: T; stamp: RecordStamp } {
    for (let tries = 1; ; tries++) {
      const stamp = this.stamp(name);
      const file = this.file(name);
      const { data, marks } = this.parse(name, file, stamp[name]);
      if (marks.patched === undefined) return { data: data as T, stamp };
      const textOf = (n: string) => stamp[n] ?? (n === `${name}.head` ? undefined : this.text(n, this.file(n)));
      try {
        return { data: this.merged(name, data, marks, textOf).data as T, stamp };
      } catch (e) {
        // a patch read while another process's commits replaced the files: read again (see PatchSumMismatch)
        if (!(e instanceof PatchSumMismatch) || tries >= PATCH_READ_TRIES || sameStamp(stamp, this.stamp(name))) throw e;
      }
    }
  }

  /** Whether record `name` exists and is kept as a base and patches (its file carries patch marks). */
  private isPatched(name: string): boolean {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(name) || name.startsWith(".") || !this.exists(name)) return false;
    try {
      return this.readShared(name).marks.patched !== undefined;
    } catch {
      return false; // a record this keystore cannot read (corrupt, sealed under another passphrase) says nothing of `name` (s28-review2 F2)
    }
  }

  /** A record file's text as {@link text} gives it, or undefined if there is none. */
  private textOf(name: string): string | undefined {
    try {
      return this.text(name, this.file(name));
    } catch (e) {
      if (e instanceof KeystoreNotFoundError) return undefined;
      throw e;
    }
  }

  /**
   * A record's own file as `read` gives it, for a caller that only reads it (commit's comparison
   * with the record as it stands): the parse of the same file text is kept and given again
   * (at most PARSED_KEPT files), not parsed anew. Never handed to `load`'s callers, which may
   * change what they get.
   */
  private readShared(name: string): { data: KeystoreData; marks: PatchMarks } {
    const file = this.file(name);
    this.recover();
    this.guard(name);
    return this.sharedParse(name, file, this.text(name, file));
  }

  /** `parse` of a file's text for a caller that only reads it, kept (see {@link readShared}). */
  private sharedParse(name: string, file: string, text: string): { data: KeystoreData; marks: PatchMarks } {
    // kept per passphrase too: a sealed text's parse is given only to a Keystore that could open it
    const key = `${file}\0${this.passphrase ?? ""}`;
    const kept = parsedText.get(key);
    if (kept && kept.text === text) return kept.parsed;
    const parsed = this.parse(name, file, text);
    if (parsedText.size >= PARSED_KEPT) parsedText.delete(parsedText.keys().next().value!);
    parsedText.set(key, { text, parsed });
    return parsed;
  }

  /** A record file's text: this process's committed text not yet in place, else the file's. */
  private text(name: string, file: string): string {
    try {
      return overlay.get(file) ?? fs.readFileSync(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new KeystoreNotFoundError(name, file);
      throw e;
    }
  }

  /** A record file's text, checked and parsed (decrypted when sealed). */
  private parse(name: string, file: string, text: string): { data: KeystoreData; marks: PatchMarks } {
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
      // the same text as a load that checked it, or as this process wrote: the same checksum result
      if (checkedText.get(file) !== text) {
        if (typeof parsed.data !== "object" || parsed.data === null || checksum(parsed.data) !== parsed.checksum) {
          throw new KeystoreCorruptedError(file, "checksum mismatch");
        }
        checkedText.set(file, text);
      }
      return { data: parsed.data, marks: { gen: parsed.gen, patched: parsed.patched } };
    }
    if (parsed.encrypted !== true) throw new KeystoreCorruptedError(file, "missing 'encrypted' flag");
    if (this.passphrase === undefined) throw new KeystoreLockedError(file);
    let key: Uint8Array, nonce: Uint8Array, ct: Uint8Array;
    try {
      const { N, r, p, salt } = parsed.kdf;
      key = deriveKey(this.passphrase, fromHex(salt), { N, r, p });
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
    return { data: JSON.parse(new TextDecoder().decode(plain)) as KeystoreData, marks: { gen: parsed.gen, patched: parsed.patched } };
  }

  /**
   * The patches a patched record's head lists and their sums, as {@link merged} gives them (none
   * when there is no head, or it belongs to another base: a stale head), read from the kept parses.
   * A head an older build wrote has no sums: they are computed here, once, from the patch files as
   * they stand, each checked as `load` checks it (its checksum, or its seal), and the head this
   * commit writes carries them (see the file comment).
   */
  private headPatches(name: string, field: string, marks: PatchMarks): { patches: string[]; sums: string[] } {
    const headName = `${name}.head`;
    if (!this.exists(headName)) return { patches: [], sums: [] };
    const head = this.readShared(headName).data as Head;
    if (head.base !== marks.gen || head.field !== field || !Array.isArray(head.patches)) return { patches: [], sums: [] };
    const patches = head.patches as string[];
    const sums =
      headSums(head) ??
      patches.map((p) => {
        const text = this.text(p, this.file(p));
        this.sharedParse(p, this.file(p), text);
        return sha(text);
      });
    return { patches, sums };
  }

  /**
   * A patched record's data with its patches applied, in order, the patches its head lists (none
   * when there is no head, or when the head belongs to another base: a stale head) and the sum of
   * each patch text applied. Each patch's text is checked against the sum its head lists (a head
   * with sums) before it is parsed.
   * @param textOf - a record file's text (undefined if there is none: for the head)
   * @param parse - its parse (default: `parse`, a new object for `load`'s callers)
   * @throws KeystoreCorruptedError (a PatchSumMismatch) naming a patch file whose text is not the
   *   one its head's sum is of
   */
  private merged(
    name: string,
    data: KeystoreData,
    marks: PatchMarks,
    textOf: (name: string) => string | undefined,
    parse: (name: string, file: string, text: string) => { data: KeystoreData } = (n, f, t) => this.parse(n, f, t),
  ): { data: KeystoreData; patches: string[]; sums: string[] } {
    const field = marks.patched!;
    const headName = `${name}.head`;
    const headText = textOf(headName);
    if (headText === undefined) return { data, patches: [], sums: [] };
    const head = parse(headName, this.file(headName), headText).data as Head;
    if (head.base !== marks.gen || head.field !== field || !Array.isArray(head.patches)) return { data, patches: [], sums: [] };
    const listed = headSums(head);
    const entries = { ...((data[field] as Record<string, unknown> | undefined) ?? {}) };
    const sums: string[] = [];
    for (const [i, p] of (head.patches as string[]).entries()) {
      const file = this.file(p);
      const text = textOf(p);
      if (text === undefined) throw new KeystoreNotFoundError(p, file);
      const sum = sha(text);
      if (listed !== undefined && sum !== listed[i]) throw new PatchSumMismatch(file, headName, headText);
      sums.push(sum);
      Object.assign(entries, (parse(p, file, text).data as { entries: Record<string, unknown> }).entries);
    }
    return { data: { ...data, [field]: entries }, patches: head.patches as string[], sums };
  }

  private write(name: string, data: KeystoreData): void {
    this.recover();
    this.guard(name);
    if (overlay.has(this.file(name))) flushJournals(); // the commit first: this write replaces it
    writeFileAtomic(this.file(name), this.serialize(name, data), 0o600);
  }

  /** The file text of a record (sealed when a passphrase is set). */
  private serialize(name: string, data: KeystoreData, marks?: PatchMarks): string {
    let out: PlainFile | SealedFile;
    if (this.passphrase === undefined) {
      // JSON.stringify of its own output's parse is that output: the checksum of the clean copy is of `json`
      const json = JSON.stringify(data);
      const clean = JSON.parse(json) as KeystoreData;
      out = { version: VERSION, name, encrypted: false, checksum: sha(json), data: clean, ...marks };
    } else {
      // One salt (and so one scrypt) per folder, passphrase and cost in this process; every record
      // still gets a fresh random 24-byte nonce, so no (key, nonce) pair repeats.
      const saltKey = `${this.scryptParams.N}:${this.scryptParams.r}:${this.scryptParams.p}|${this.dir}|${this.passphrase}`;
      let salt = sealingSalts.get(saltKey);
      if (!salt) sealingSalts.set(saltKey, (salt = randomBytes(16)));
      const nonce = randomBytes(24);
      const key = deriveKey(this.passphrase, salt, this.scryptParams);
      const ct = xchacha20poly1305(key, nonce, toBytes(`${name}|${VERSION}`)).encrypt(toBytes(JSON.stringify(data)));
      out = {
        version: VERSION,
        name,
        encrypted: true,
        kdf: { name: "scrypt", ...this.scryptParams, salt: toHex(salt) },
        cipher: "xchacha20poly1305",
        nonce: toHex(nonce),
        ciphertext: toHex(ct),
        ...marks,
      };
    }
    const text = JSON.stringify(out, null, 1) + "\n";
    if (!out.encrypted) checkedText.set(this.file(name), text);
    return text;
  }

  /** The folder of write-ahead journal files (a name no record can have: records cannot start with '.'). */
  get journalDir(): string {
    return path.join(this.dir, ".journal");
  }

  /**
   * Replaces (or creates) several records together, atomically and durably, with one fsync: the
   * new files go to a write-ahead journal first (see the file comment). When it returns, the
   * commit survives a crash; until then, a crash leaves every record as it was.
   *
   * `patch` keeps a large record whose commits change few entries of one field (the MSRP's record:
   * its RNs) as a base and patches, so that a commit writes what changed, not the whole record:
   * when the new data differs from the record as it stands (base and patches) only in entries of
   * that field that it adds or replaces, the commit writes those entries as a patch record
   * (`<name>.p<i>`) and the head (`<name>.head`: the base it applies to and its patches in order),
   * with the other records, in the same journal; `load` applies them. Anything else (another field
   * changed, an entry removed, a record not yet kept this way, PATCH_MAX patches already) writes
   * the record whole, as a new base with a new `gen`, which makes any earlier head stale. So a
   * crash leaves every commit whole or absent, as for any record.
   * @param records - record name -> its new data
   * @param opts.patch - record name -> the field (an object of entries) its commits may patch
   * @returns the text of each record file the commit wrote, by record name (a patched record's
   *   patch and head under their own names): what {@link stamp} gives for them from now on
   * @throws InvalidParameterError if that field of the new data is not an object of entries, or a record is named as a patch or head
   */
  commit(records: Record<string, KeystoreData>, opts: { patch?: Record<string, string> } = {}): RecordStamp {
    for (const name of Object.keys(records)) this.writable(name);
    const entries = this.prepare(records, opts);
    if (entries.length === 0) return {};
    const body = entries.map(({ name, base, text }) => ({ name, base, text }));
    const journal: JournalFile = { version: VERSION, pid: process.pid, records: body, checksum: journalChecksum(body) };
    const jfile = this.journalFile("wal");
    const fd = fs.openSync(jfile, "wx", 0o600);
    try {
      fs.writeSync(fd, Buffer.from(JSON.stringify(journal)));
      fs.fsyncSync(fd); // the commit point
    } finally {
      fs.closeSync(fd);
    }
    crashPoint("journaled");
    for (const e of entries) overlay.set(e.file, e.text);
    applyLater(jfile, entries);
    return textsOf(entries);
  }

  /**
   * A commit whose fate is a transaction's (issue 20: an RSMS join's records, written while its
   * recordJoin is sent and mined). The new records are journaled as an *intent* (`.intent`, the
   * same body as a journal, plus `intent`: the kind and what a resolver needs, the transaction's
   * hash) and fsync'd off the main thread, while the caller sends the transaction and waits for
   * its receipt: `durable` resolves once the intent is on disk. Then, and only then:
   * - `apply()` (the transaction succeeded): the records become this process's commit at once, as
   *   `commit` makes them (the overlay, then the background rename), with no fsync of their own on
   *   the path: the intent is the commit's durable record.
   * - `drop()` (the transaction will never be mined: refused, reverted or dropped): the intent is
   *   deleted and nothing changes.
   * - `leave()` (the outcome is unknown): the intent stays for a resolver that asks the chain
   *   ({@link intents}, {@link resolveIntent}; offchain/rsms/intents.ts for joins).
   * Until an intent is applied or dropped, the records it names cannot be read or written by
   * anyone but its live writer (KeystoreIntentPendingError): their state depends on the chain.
   * A crash at any point leaves either nothing (the intent was not fsync'd: a torn intent is
   * deleted by `recover`) or an intent a resolver decides on; `recover` never replays one itself.
   *
   * `entries` (issue 20, rsms-join.md change 20): for a record kept as a base and patches
   * (`patch`), the caller's word that these entries of its patched field are the only change from
   * the record as it stands (this process's commit not yet in place, else the disk) and that nothing
   * else of it changed. They are journaled as the next patch without the whole record being
   * serialized and compared, which a large record (the MSRP's, every RN) makes the costly part of a
   * join. The record's data may then be given as a function, called only when the record must be
   * written whole (no base kept this way yet, a stale head, PATCH_MAX patches already). With a
   * word that is true, the files written are the same, byte for byte, as `commit` writes from the
   * whole record (test/storage/keystore-entries.test.ts).
   */
  commitIntent(
    records: Record<string, KeystoreData | (() => KeystoreData)>,
    opts: { patch?: Record<string, string>; entries?: Record<string, Record<string, unknown>> },
    intent: { kind: string; data: Record<string, unknown> },
  ): PendingCommit {
    for (const name of Object.keys(records)) this.writable(name);
    const entries = this.prepare(records, opts);
    const body = entries.map(({ name, base, text }) => ({ name, base, text }));
    const file: IntentFile = {
      version: VERSION,
      pid: process.pid,
      records: body,
      checksum: journalChecksum(body),
      intent: { ...intent, checksum: sha(JSON.stringify(intent)) },
    };
    mark("ks.checksums");
    const jfile = this.journalFile("intent");
    const text = JSON.stringify(file);
    ownIntents.add(jfile);
    // Created and written here (a page-cache write of a few KB), fsync'd on libuv's pool: one hop
    // off the main thread, not four (open, write, fsync, close each waited for the main thread,
    // which the joins keep busy: issue 20). The commit point is the fsync, as before; the file is
    // closed after it, off the path.
    let fd: number | undefined;
    const durable = (async () => {
      fd = fs.openSync(jfile, "wx", 0o600);
      fs.writeFileSync(fd, text);
      mark("ks.written");
      const at = fd;
      await new Promise<void>((resolve, reject) => fs.fsync(at, (e) => (e ? reject(e) : resolve()))); // the intent's commit point
    })();
    void durable.catch(() => undefined).then(() => fd !== undefined && fs.close(fd, () => undefined));
    durable.catch(() => undefined);
    let state: "open" | "applied" | "dropped" | "left" = "open";
    return {
      file: jfile,
      durable,
      texts: textsOf(entries),
      apply: () => {
        if (state !== "open") throw new Error(`Keystore.commitIntent: apply after ${state}`);
        state = "applied";
        ownIntents.delete(jfile);
        for (const e of entries) overlay.set(e.file, e.text);
        applyLater(jfile, entries);
      },
      drop: async () => {
        if (state !== "open") throw new Error(`Keystore.commitIntent: drop after ${state}`);
        state = "dropped";
        await durable.catch(() => undefined);
        await fs.promises.rm(jfile, { force: true });
        ownIntents.delete(jfile);
      },
      leave: () => {
        if (state !== "open") return;
        state = "left";
        ownIntents.delete(jfile);
        recoveredNow.clear(); // the next recover blocks its records
      },
    };
  }

  /** A new journal file's path (the folder created, and its entry fsync'd, on first use). */
  private journalFile(ext: "wal" | "intent"): string {
    const jdir = this.journalDir;
    if (!journalDirs.has(jdir) || !fs.existsSync(jdir)) {
      fs.mkdirSync(jdir, { recursive: true, mode: 0o700 });
      fsyncPath(this.dir); // the folder's entry for .journal survives a crash
      journalDirs.add(jdir);
    }
    return path.join(jdir, `${String(Date.now()).padStart(15, "0")}-${process.pid}-${String(journalSeq++).padStart(6, "0")}.${ext}`);
  }

  /** A commit's new files: each record (or its patch and head) serialized, with the checksum of the file it replaces. */
  private prepare(
    records: Record<string, KeystoreData | (() => KeystoreData)>,
    opts: { patch?: Record<string, string>; entries?: Record<string, Record<string, unknown>> },
  ): { name: string; file: string; base: string; text: string }[] {
    this.recover();
    for (const name of Object.keys(records)) this.guard(name);
    mark("ks.recovered");
    const out: Record<string, KeystoreData> = {};
    for (const [name, d] of Object.entries(records)) if (typeof d !== "function") out[name] = d;
    const marks: Record<string, PatchMarks> = {};
    /** Texts serialized already: a patch's, whose sum its head carries. */
    const texts: Record<string, string> = {};
    // the next patch `<name>.p<i>` of these entries, and the head that lists it after `head`'s, each with its text's sum
    const addPatch = (
      name: string,
      field: string,
      base: string,
      head: { patches: string[]; sums: string[] },
      entries: Record<string, unknown>,
    ) => {
      const p = `${name}.p${head.patches.length}`;
      texts[p] = this.serialize(p, { entries });
      out[p] = { entries };
      out[`${name}.head`] = { base, field, patches: [...head.patches, p], sums: [...head.sums, sha(texts[p])] };
    };
    for (const [name, field] of Object.entries(opts.patch ?? {})) {
      if (records[name] === undefined) continue;
      // The caller's word that only these entries changed (commitIntent's `entries`): a patch of
      // them, with no comparison of the whole record, when the record as it stands takes one
      const given = opts.entries?.[name];
      if (given !== undefined) {
        const cur = this.exists(name) ? this.readShared(name) : undefined;
        const head =
          cur && cur.marks.patched === field && cur.marks.gen !== undefined ? this.headPatches(name, field, cur.marks) : undefined;
        if (head !== undefined && head.patches.length < PATCH_MAX) {
          delete out[name];
          if (Object.keys(given).length === 0) continue;
          addPatch(name, field, cur!.marks.gen!, head, given);
          continue;
        }
      }
      const r = records[name];
      const next = (out[name] = typeof r === "function" ? r() : r);
      const entriesOf = (d: KeystoreData) => d[field] as Record<string, unknown>;
      if (typeof next[field] !== "object" || next[field] === null || Array.isArray(next[field]))
        throw new InvalidParameterError(`Keystore.commit: field "${field}" of record "${name}" is not an object of entries`);
      // read only (compared with the new data): parses kept from this process's earlier reads serve
      const cur = this.exists(name) ? this.readShared(name) : undefined;
      let changed: Record<string, unknown> | undefined;
      let head = { patches: [] as string[], sums: [] as string[] };
      if (cur && cur.marks.patched === field && cur.marks.gen !== undefined) {
        // the patch texts as they stand (checked against the head's sums, or summed here for an older build's head)
        const m = this.merged(
          name,
          cur.data,
          cur.marks,
          (n) => this.textOf(n),
          (n, f, t) => this.sharedParse(n, f, t),
        );
        head = m;
        changed = changedEntries(m.data, next, field, entriesOf);
      }
      if (changed !== undefined && head.patches.length < PATCH_MAX) {
        delete out[name];
        if (Object.keys(changed).length === 0) continue; // nothing changed
        addPatch(name, field, cur!.marks.gen!, head, changed);
      } else marks[name] = { gen: toHex(randomBytes(16)).slice(2), patched: field }; // whole: a new base
    }
    mark("ks.compared");
    return Object.entries(out).map(([name, data]) => {
      const file = this.file(name);
      const pending = overlay.get(file);
      const text = texts[name] ?? this.serialize(name, data, marks[name]);
      return { name, file, base: pending !== undefined ? sha(pending) : fileHash(file), text };
    });
  }

  /**
   * Replays the journals a crashed commit left (before every read or write: one directory listing,
   * usually empty, once per turn of the event loop). A journal this process is still settling, or one of another live process (its
   * commit in flight), is left alone, unless it is older than JOURNAL_ABANDONED_MS (the process id
   * was reused).
   */
  recover(): void {
    const jdir = this.journalDir;
    // Listed already in this turn of the event loop (a command's loads and commit call it a dozen
    // times in a row): another process's journal or intent written since would be concurrent with
    // this read whichever listing saw it first, and this process's own changes that a listing must
    // see (an intent left for a resolver) clear the mark.
    if (recoveredNow.has(jdir)) return;
    let names: string[];
    try {
      names = fs.readdirSync(jdir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    journalDirs.add(jdir);
    for (const f of names.sort()) {
      if (f.endsWith(".intent")) {
        this.noteIntent(path.join(jdir, f));
        continue;
      }
      if (!f.endsWith(".wal")) continue;
      const jfile = path.join(jdir, f);
      if (settling.has(jfile)) continue;
      const [at, pid] = f.split("-").map(Number);
      if (pid !== process.pid && processAlive(pid) && Date.now() - at < JOURNAL_ABANDONED_MS) continue;
      let j: JournalFile | undefined;
      try {
        j = JSON.parse(fs.readFileSync(jfile, "utf8")) as JournalFile;
        if (j.version !== VERSION || !Array.isArray(j.records) || journalChecksum(j.records) !== j.checksum) j = undefined;
      } catch {
        j = undefined;
      }
      // A torn journal (the crash came before its fsync returned) was never committed: nothing to replay.
      this.replay(j?.records ?? []);
      fs.rmSync(jfile, { force: true });
    }
    for (const f of blocked.keys()) if (path.dirname(f) === jdir && !names.includes(path.basename(f))) blocked.delete(f);
    if (recoveredNow.size === 0) queueMicrotask(() => recoveredNow.clear());
    recoveredNow.add(jdir);
  }

  /**
   * Writes a committed journal's records: each only if the file still holds what the commit
   * replaced (a newer write is never undone), or fsyncs it if it holds the commit's text already.
   */
  private replay(records: JournalFile["records"]): void {
    for (const r of records) {
      const file = this.file(r.name);
      const now = fileHash(file);
      if (now === r.base) writeFileAtomic(file, r.text, 0o600);
      else if (now === sha(r.text)) fsyncPath(file);
      // else: a newer commit replaced it; keep that
    }
  }

  /**
   * An intent file seen by `recover`: one this process is still deciding, or one of another live
   * process that is not abandoned, is left alone; a torn one (never fsync'd: its step never
   * returned) is deleted; any other blocks the records it names until a resolver decides it.
   */
  private noteIntent(jfile: string): void {
    if (ownIntents.has(jfile) || settling.has(jfile) || blocked.has(jfile)) return;
    const [at, pid] = path.basename(jfile).split("-").map(Number);
    if (pid !== process.pid && processAlive(pid) && Date.now() - at < JOURNAL_ABANDONED_MS) return;
    let j: IntentFile | undefined;
    try {
      j = JSON.parse(fs.readFileSync(jfile, "utf8")) as IntentFile;
      const { checksum, ...intent } = j.intent ?? {};
      if (
        j.version !== VERSION ||
        !Array.isArray(j.records) ||
        journalChecksum(j.records) !== j.checksum ||
        typeof intent.kind !== "string" ||
        sha(JSON.stringify(intent)) !== checksum
      )
        j = undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      j = undefined;
    }
    if (!j) {
      fs.rmSync(jfile, { force: true });
      return;
    }
    const names = new Set<string>();
    for (const r of j.records) names.add(r.name).add(r.name.replace(/\.(head|p\d+)$/, ""));
    blocked.set(jfile, { kind: j.intent.kind, data: j.intent.data, records: j.records, names });
  }

  /** Throws if a transaction intent left unresolved names the record (see commitIntent). */
  private guard(name: string): void {
    if (blocked.size === 0) return;
    for (const [f, b] of blocked)
      if (path.dirname(path.dirname(f)) === this.dir && b.names.has(name)) throw new KeystoreIntentPendingError(name, f, b.kind);
  }

  /**
   * The transaction intents of this folder that wait for a resolver (see commitIntent): left by a
   * crashed process, or by a step of this process whose outcome was unknown.
   */
  intents(): { file: string; kind: string; data: Record<string, unknown>; names: string[] }[] {
    this.recover();
    return [...blocked]
      .filter(([f]) => path.dirname(path.dirname(f)) === this.dir)
      .map(([file, b]) => ({ file, kind: b.kind, data: b.data, names: [...b.names] }));
  }

  /**
   * Decides an intent {@link intents} gave: `apply` (its transaction succeeded: the records are
   * written, durably, by the replay rule) or not (it never will: the intent is deleted).
   */
  resolveIntent(file: string, apply: boolean): void {
    const b = blocked.get(file);
    if (!b || path.dirname(path.dirname(file)) !== this.dir) throw new Error(`Keystore.resolveIntent: no pending intent ${file}`);
    if (apply) this.replay(b.records);
    fs.rmSync(file, { force: true });
    blocked.delete(file);
  }
}

/** One journal file: the new text of each record and the checksum of the file each replaced ("" if none). */
type JournalFile = { version: number; pid: number; records: { name: string; base: string; text: string }[]; checksum: string };
/** An intent file (Keystore.commitIntent): a journal whose commit waits on a transaction. */
type IntentFile = JournalFile & { intent: { kind: string; data: Record<string, unknown>; checksum: string } };

/** What Keystore.commitIntent returns (see there). */
export type PendingCommit = {
  /** The intent's file. */
  file: string;
  /** Resolves once the intent is fsync'd. */
  durable: Promise<void>;
  /** The text of each record file the commit writes once applied, by record name (as `commit` returns). */
  texts: RecordStamp;
  /** The transaction succeeded (and `durable` resolved): the records are committed. */
  apply(): void;
  /** The transaction will never be mined: the intent is deleted, nothing changes. */
  drop(): Promise<void>;
  /** The outcome is unknown: the intent stays for a resolver. */
  leave(): void;
};

/**
 * A record's stamp (Keystore.stamp): record name -> the text of its file. Equal stamps
 * ({@link sameStamp}) are the same record.
 */
export type RecordStamp = Record<string, string>;

/** True iff two stamps name the same files with the same texts. */
export function sameStamp(a: RecordStamp, b: RecordStamp): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (b[k] !== a[k]) return false;
  return true;
}

const textsOf = (entries: { name: string; text: string }[]): RecordStamp => Object.fromEntries(entries.map((e) => [e.name, e.text]));

/**
 * Journal folders `recover` listed in the current turn of the event loop (cleared at the turn's
 * end, and when this process leaves an intent for a resolver): listed once per turn, not before
 * every read.
 */
const recoveredNow = new Set<string>();

/** Intent files this process wrote and has not applied, dropped or left. */
const ownIntents = new Set<string>();
/** Intent files that wait for a resolver: what they hold and the records they block. */
const blocked = new Map<string, { kind: string; data: Record<string, unknown>; records: JournalFile["records"]; names: Set<string> }>();

/** A patch's or a head's record name (`<x>.p<digits>`, `<x>.head`): never a caller's to write (Keystore.writable). */
const PART_NAME = /\.(head|p\d+)$/;

/** How many patches a patched record (Keystore.commit's `patch`) takes before a commit writes it whole again. */
export const PATCH_MAX = 16;

/**
 * The entries of `field` that `next` adds or replaces against `cur`, when that is all that differs
 * (the rest of the record equal, no entry removed); else undefined.
 */
function changedEntries(
  cur: KeystoreData,
  next: KeystoreData,
  field: string,
  entriesOf: (d: KeystoreData) => Record<string, unknown>,
): Record<string, unknown> | undefined {
  // the other fields, in order, and their values (cur's serialized once per parse: sharedJson)
  const keys = (d: KeystoreData) => Object.keys(d).filter((k) => k !== field);
  const ka = keys(cur);
  const kb = keys(next);
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i] || sharedJson(cur[k]) !== JSON.stringify(next[k]))) return undefined;
  const a = entriesOf(cur) ?? {};
  const b = entriesOf(next);
  for (const k of Object.keys(a)) if (!Object.hasOwn(b, k)) return undefined;
  const changed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(b)) if (!Object.hasOwn(a, k) || sharedJson(a[k]) !== JSON.stringify(v)) changed[k] = v;
  return changed;
}

/**
 * JSON.stringify of a value of a record as this process parsed it (readShared's kept parses, which
 * nobody changes: commit only compares with them), kept per object: a join compares the MSRP's
 * record with the one on disk, every RN entry and every other field, and the disk's side is the
 * same objects from one join to the next (issue 20).
 */
const sharedJsonKept = new WeakMap<object, string>();
function sharedJson(v: unknown): string {
  if (typeof v !== "object" || v === null) return JSON.stringify(v);
  let j = sharedJsonKept.get(v);
  if (j === undefined) sharedJsonKept.set(v, (j = JSON.stringify(v)));
  return j;
}

/** A journal whose process still runs is replayed by another process only after this long (ms). */
export const JOURNAL_ABANDONED_MS = 60_000;

/** Journals this process committed and has not settled yet. */
const settling = new Set<string>();
const journalDirs = new Set<string>();
let journalSeq = 0;
/**
 * Keys this process derived, by cost, salt and passphrase: scrypt(N=2^15) takes about 0.1 s, and a
 * command loads and writes several sealed records (an RSMS join: five loads and two writes), each
 * of whose key is derived once per process, not once per use. A wrong passphrase is another entry:
 * it derives its own key, which the AEAD refuses.
 */
const derivedKeys = new Map<string, Uint8Array>();
/** Per folder, passphrase and cost: the salt this process seals records with. */
const sealingSalts = new Map<string, Uint8Array>();

function deriveKey(passphrase: string, salt: Uint8Array, c: ScryptParams): Uint8Array {
  const k = `${c.N}:${c.r}:${c.p}:${toHex(salt)}:${passphrase}`;
  let key = derivedKeys.get(k);
  if (!key) {
    key = scrypt(passphrase, salt, { N: c.N, r: c.r, p: c.p, dkLen: 32 });
    if (derivedKeys.size >= 1024) derivedKeys.delete(derivedKeys.keys().next().value!);
    derivedKeys.set(k, key);
  }
  return key;
}

/** Per record file and passphrase: the last text `readShared` parsed, and its parse (at most PARSED_KEPT). */
const parsedText = new Map<string, { text: string; parsed: { data: KeystoreData; marks: PatchMarks } }>();
const PARSED_KEPT = 64;

/** Per record file: the last plaintext file text whose checksum this process checked or computed. */
const checkedText = new Map<string, string>();
/** Record files whose committed text is not renamed into place yet (file -> text): what this process reads. */
const overlay = new Map<string, string>();
/** Record files whose background rename is under way (file -> its temporary file). */
const inflight = new Map<string, string>();
/**
 * Temporary files the background apply has created and not yet renamed or deleted: a process that
 * exits meanwhile (a task, right after its commit) deletes them in flushJournals, which writes the
 * records itself; before, each such exit left an empty `<record>.json.<hex>.tmp` (s17-redA F1).
 */
const openTemps = new Set<string>();
/** The background application of this process's commits, one after the other. */
let applying: Promise<void> = Promise.resolve();

/**
 * SHA-256 of a text's UTF-8 bytes, 0x-hex: on Node's native SHA-256, the same bytes as noble's
 * sha256 of toBytes(text) (test/storage/keystore-entries.test.ts compares them; a lone surrogate is
 * U+FFFD in both encoders), several times faster on the KB-sized texts a join journals (issue 20).
 */
function sha(text: string): string {
  return "0x" + createHash("sha256").update(text, "utf8").digest("hex");
}
const journalChecksum = (records: JournalFile["records"]) => sha(JSON.stringify(records));

function fileHash(file: string): string {
  try {
    return sha(fs.readFileSync(file, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw e;
  }
}

async function fileHashAsync(file: string): Promise<string> {
  try {
    return sha(await fs.promises.readFile(file, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw e;
  }
}

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * In the background, one commit after the other: each record of the commit that no later write
 * replaced is written to a temporary file, fsync'd and renamed into place; then the journal is
 * deleted. A failure leaves the journal (replayed by flushJournals or the next process). The replay
 * rule holds here too (s28-rtk F2): a record is written only if its file still holds what the
 * commit replaced (see {@link lostTo}); else another process wrote it after this commit point (a
 * writer that holds no lock), and that write is kept: this commit's files of the record are not
 * written, this process's overlay of them is dropped (it reads the disk, and a stamp kept from
 * this commit no longer matches), and one line on stderr says so. The files are checked before
 * their temporary files are written and again right before the renames; a write that lands
 * between that last read and the renames is still undone (the file comment's limit (2)).
 */
function applyLater(jfile: string, entries: { name: string; file: string; base: string; text: string }[]): void {
  settling.add(jfile);
  const p = applying
    .then(async () => {
      if (!settling.has(jfile)) return; // flushed synchronously meanwhile
      /** The replay rule for one record's files (see lostTo); undefined if flushJournals took the commit over meanwhile. */
      const lostNow = async (mine: typeof entries): Promise<boolean | undefined> => {
        const now = new Map<string, string>();
        for (const e of mine) now.set(e.file, await fileHashAsync(e.file));
        return settling.has(jfile) ? lostTo(jfile, mine, now) : undefined;
      };
      let i = 0;
      for (const record of new Set(entries.map((e) => recordOf(e.name)))) {
        // a record's files (a patch and its head) are kept together or dropped together
        const mine = entries.filter((e) => recordOf(e.name) === record);
        const first = await lostNow(mine);
        if (first === undefined) return; // flushJournals decides it, by the same rule
        if (first) continue;
        const tmps: [(typeof entries)[number], string][] = [];
        for (const e of mine) {
          if (overlay.get(e.file) !== e.text) {
            supersede(e); // a later commit of this process replaced it
            continue;
          }
          const tmp = `${e.file}.${toHex(randomBytes(6)).slice(2)}.tmp`;
          openTemps.add(tmp);
          const h = await fs.promises.open(tmp, "wx", 0o600);
          try {
            await h.writeFile(e.text);
            await h.chmod(0o600);
            await h.sync();
          } finally {
            await h.close();
          }
          tmps.push([e, tmp]);
        }
        // checked again right before the renames: a write that landed while the temporary files
        // were fsync'd is kept too (what is left is the gap between this read and the renames)
        const again = tmps.length === 0 ? false : await lostNow(mine);
        for (const [e, tmp] of tmps) {
          const { file, text } = e;
          if (again === false && overlay.get(file) === text && settling.has(jfile)) {
            // Renamed off the main thread. Until the rename is done the record stays in the overlay,
            // so a direct write or removal of it first runs flushJournals, which cancels this rename
            // (deletes `tmp`: a rename not yet done fails, one done already put the committed text
            // in place) before it writes: an older text never lands over a newer one.
            inflight.set(file, tmp);
            try {
              await fs.promises.rename(tmp, file);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err; // else: cancelled by flushJournals
            } finally {
              if (inflight.get(file) === tmp) inflight.delete(file);
              openTemps.delete(tmp);
            }
            if (overlay.get(file) === text && settling.has(jfile)) overlay.delete(file);
            superseded.delete(file);
          } else {
            await fs.promises.rm(tmp, { force: true });
            openTemps.delete(tmp);
            if (again === false && settling.has(jfile)) supersede(e); // else: another's write kept, or flushJournals decides
          }
          if (i++ === 0) crashPoint("applied-one");
        }
        if (again === undefined) return;
      }
      crashPoint("applied");
      if (settling.has(jfile)) await fs.promises.rm(jfile, { force: true });
      settling.delete(jfile);
      forgetLost(jfile);
    })
    .catch(() => undefined);
  applying = p;
}

/** The record a file of a commit belongs to: a patch's or head's record, else the record itself. */
const recordOf = (name: string): string => name.replace(PART_NAME, "");

/**
 * Per record file: the checksums it may hold when this process applies its next commit of it, other
 * than that commit's base: a commit whose file a later commit of this process replaced before it
 * was applied (so never written) leaves the file as that commit found it, which the later commit's
 * base does not name.
 */
const superseded = new Map<string, Set<string>>();

/**
 * Decides one record's files of a commit this process applies (the background apply, flushJournals)
 * by the replay rule: true, after dropping this process's overlay of those files and printing one
 * line on stderr, if one of them holds neither what the commit replaced nor the commit's text (nor
 * what an earlier commit of this process, never written, found): another process wrote it after
 * this commit point, and its write is kept. False (the files may be written) otherwise.
 * @param jfile - the commit's journal (a record decided lost stays lost: flushJournals after the
 *   background apply decided it prints nothing again)
 * @param mine - the commit's files of one record (its patch and head together)
 * @param now - each file's checksum as it stands ("" if none)
 */
function lostTo(jfile: string, mine: { name: string; file: string; base: string; text: string }[], now: Map<string, string>): boolean {
  const key = `${jfile}\0${recordOf(mine[0].name)}`;
  if (lostRecords.has(key)) return true;
  const other = mine.find((e) => {
    const h = now.get(e.file)!;
    return h !== e.base && h !== sha(e.text) && !superseded.get(e.file)?.has(h);
  });
  if (other === undefined) return false;
  lostRecords.add(key);
  for (const e of mine) {
    superseded.delete(e.file);
    if (overlay.get(e.file) === e.text) overlay.delete(e.file);
  }
  process.stderr.write(
    `Keystore: ${other.file} was written by another process after this process's commit of it; that write is kept, this process's change to record "${recordOf(mine[0].name)}" is not\n`,
  );
  return true;
}
/** A commit's file not written because a later commit of this process replaced it: the file holds what this one found (see {@link superseded}). */
function supersede(e: { file: string; base: string }): void {
  superseded.set(e.file, (superseded.get(e.file) ?? new Set<string>()).add(e.base));
}

/** Records of a journal of this process that {@link lostTo} decided another process's (`<journal>\0<record>`), until the journal is settled. */
const lostRecords = new Set<string>();
const forgetLost = (jfile: string): void => {
  for (const k of lostRecords) if (k.startsWith(`${jfile}\0`)) lostRecords.delete(k);
};

/**
 * Applies, synchronously and durably, every journal this process committed and has not applied
 * yet (before a direct write or removal of one of its records, and when the process exits).
 */
export function flushJournals(): void {
  recoveredNow.clear();
  // a background rename not done yet is cancelled (its temporary file deleted); the records are written here
  for (const [file, tmp] of inflight) {
    fs.rmSync(tmp, { force: true });
    inflight.delete(file);
  }
  // and a temporary file still being written (its rename, when it comes, finds none: cancelled)
  for (const tmp of openTemps) fs.rmSync(tmp, { force: true });
  openTemps.clear();
  for (const jfile of [...settling].sort()) {
    settling.delete(jfile);
    let j: JournalFile;
    try {
      j = JSON.parse(fs.readFileSync(jfile, "utf8")) as JournalFile;
    } catch {
      continue; // left for the next process's recovery
    }
    try {
      flushOne(jfile, j);
    } catch (e) {
      settling.add(jfile); // still pending (pendingApplies): a folder lock is not released over it
      throw e;
    }
  }
}

/** flushJournals' work for one journal of this process: its records written by the replay rule, then the journal deleted. */
function flushOne(jfile: string, j: JournalFile): void {
  const dir = path.dirname(path.dirname(jfile));
  const records = j.records.map((r) => ({ ...r, file: path.join(dir, `${r.name}.json`) }));
  const lost = new Set<string>();
  for (const record of new Set(records.map((r) => recordOf(r.name)))) {
    // the replay rule, as the background apply follows it: another process's write since this commit point is kept
    const mine = records.filter((r) => recordOf(r.name) === record);
    if (lostTo(jfile, mine, new Map(mine.map((r) => [r.file, fileHash(r.file)])))) lost.add(record);
  }
  for (const r of records) {
    if (lost.has(recordOf(r.name))) continue; // another process's write is kept
    if (overlay.get(r.file) !== r.text) {
      supersede(r); // a later commit of this process replaced it
      continue;
    }
    writeFileAtomic(r.file, r.text, 0o600);
    overlay.delete(r.file);
    superseded.delete(r.file);
  }
  fs.rmSync(jfile, { force: true });
  forgetLost(jfile);
}
process.on("exit", () => {
  try {
    flushJournals();
  } catch {
    /* the journals stay: the next process replays them */
  }
});

/**
 * Resolves once every commit this process made so far is applied (its records in place) or its
 * background apply failed (its journal kept: {@link pendingApplies}), not waiting for commits made
 * after the call (as {@link settled} does): what a folder lock's release waits for
 * (offchain/services/folder-lock.ts), so that a process that keeps committing elsewhere still
 * releases it (s28-review F3).
 */
export function appliedSoFar(): Promise<void> {
  return applying.then(
    () => undefined,
    () => undefined,
  );
}

/**
 * Whether a journal this process committed is not applied yet: one still under way, or one whose
 * background apply failed (kept for flushJournals, the exit, or the next process once this one is
 * gone). A folder lock is not released over one (s28-review2 F3): another process would load the
 * record without it (it leaves a live process's young journal alone).
 */
export function pendingApplies(): boolean {
  return settling.size > 0;
}

/** Waits until every journal this process committed is settled (its records fsync'd, the journal deleted). */
export async function settled(): Promise<void> {
  for (let p = applying; ; p = applying) {
    await p;
    if (p === applying) return;
  }
}

/**
 * Crash injection for the crash tests (test/storage/keystore-journal.test.ts): with
 * METATRUST_KEYSTORE_CRASH=<point> the process kills itself (SIGKILL) at that point of a commit.
 */
function crashPoint(point: "journaled" | "applied-one" | "applied"): void {
  if (process.env.METATRUST_KEYSTORE_CRASH === point) process.kill(process.pid, "SIGKILL");
}
