/**
 * Resume checkpoints for long simulations (`sim:whitewash`: one seed at 50,000 nodes outlives a work
 * session). Not `sim:attacks`' `--checkpoint` (rounds between detection checkpoints in the time to detect).
 *
 * A checkpoint is a folder `<root>/<name>-<hash>`, where the hash is over everything that determines
 * the results (the key: flags, the detectors' version, the commit and the state of the working tree,
 * Node's version), with `key.json` (the key in full) and one file per finished unit of work, each
 * written atomically (writeFileAtomic: a process killed mid-write leaves the old file or none, never a
 * half). A run looks its key's folder up and loads the units it finds; a folder of the same name with
 * another key (other code or other flags) is never loaded: `others` names it and what differs, in one line.
 *
 * Numbers survive exactly: JSON writes a finite double's shortest round-trip form; NaN, ±Infinity and
 * -0 (which JSON would write as null and 0) are written as tagged strings and read back as themselves.
 */
import fs from "fs";
import path from "path";
import { createHash } from "crypto";
import { writeFileAtomic } from "../storage/fs-atomic";

/** What determines a checkpoint's results. */
export type CheckpointKey = Record<string, string | number | boolean>;

const TAG = "\u0000num:";

/** JSON with NaN, ±Infinity and -0 kept (as tagged strings). */
export function encodeExact(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    typeof x === "number" && (!Number.isFinite(x) || Object.is(x, -0)) ? `${TAG}${Object.is(x, -0) ? "-0" : String(x)}` : x,
  );
}

/** Reads what `encodeExact` wrote. */
export function decodeExact<T>(s: string): T {
  return JSON.parse(s, (_k, x) => (typeof x === "string" && x.startsWith(TAG) ? Number(x.slice(TAG.length)) : x)) as T;
}

/** A Map as [keys, values] (insertion order kept), and back. */
export const mapToPair = <V>(m: ReadonlyMap<string, V>): [string[], V[]] => [[...m.keys()], [...m.values()]];
export const pairToMap = <V>([ks, vs]: [string[], V[]]): Map<string, V> => new Map(ks.map((k, i) => [k, vs[i]]));

const canonical = (key: CheckpointKey) => JSON.stringify(Object.fromEntries(Object.entries(key).sort(([a], [b]) => (a < b ? -1 : 1))));

export class SimCheckpoint {
  /** this key's folder */
  readonly dir: string;

  /**
   * @param root - the folder checkpoints live in (created on the first save)
   * @param name - the simulation's name (letters, digits, - and _), e.g. "sim-whitewash"
   * @param key - everything that determines the results
   */
  constructor(
    readonly root: string,
    readonly name: string,
    readonly key: CheckpointKey,
  ) {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`checkpoint: name "${name}": letters, digits, - and _ only`);
    this.dir = path.join(root, `${name}-${createHash("sha256").update(canonical(key)).digest("hex").slice(0, 16)}`);
  }

  private file(unit: string) {
    if (!/^[A-Za-z0-9_.-]+$/.test(unit) || unit === "key") throw new Error(`checkpoint: unit "${unit}": letters, digits, . - and _ only`);
    return path.join(this.dir, `${unit}.json`);
  }

  /** Whether this key's folder holds its key (a folder with another key.json is refused: it is not ours). */
  private ours(): boolean {
    const k = path.join(this.dir, "key.json");
    if (!fs.existsSync(k)) return false;
    if (fs.readFileSync(k, "utf8") !== canonical(this.key))
      throw new Error(`checkpoint: ${this.dir}/key.json is not this run's key (a hash collision or an edited file)`);
    return true;
  }

  /** The units saved so far (sorted). */
  units(): string[] {
    if (!this.ours()) return [];
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith(".json") && f !== "key.json" && !f.endsWith(".tmp"))
      .map((f) => f.slice(0, -5))
      .sort();
  }

  /** A saved unit, or undefined. */
  load<T>(unit: string): T | undefined {
    const f = this.file(unit);
    return this.ours() && fs.existsSync(f) ? decodeExact<T>(fs.readFileSync(f, "utf8")) : undefined;
  }

  /** Saves a unit atomically (its folder and key.json first). */
  save(unit: string, value: unknown): void {
    const f = this.file(unit);
    if (!fs.existsSync(path.join(this.dir, "key.json"))) writeFileAtomic(path.join(this.dir, "key.json"), canonical(this.key));
    writeFileAtomic(f, encodeExact(value));
  }

  /** Deletes units (no error if absent). */
  drop(units: string[]): void {
    for (const u of units) fs.rmSync(this.file(u), { force: true });
  }

  /** Deletes the folder if it holds no unit any more (stray .tmp files of a killed write go with it). */
  removeIfEmpty(): void {
    if (fs.existsSync(this.dir) && this.units().length === 0) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Deletes the folder and every unit in it. */
  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * The other checkpoints of this name under root (other code or other flags: never loaded): each
   * folder, and why in one line (its units, and the key's fields that differ with their values).
   */
  others(): { dir: string; why: string }[] {
    if (!fs.existsSync(this.root)) return [];
    const lines: { dir: string; why: string }[] = [];
    for (const d of fs.readdirSync(this.root).sort()) {
      const dir = path.join(this.root, d);
      if (dir === this.dir || !d.startsWith(`${this.name}-`) || !fs.existsSync(path.join(dir, "key.json"))) continue;
      let theirs: CheckpointKey;
      try {
        theirs = JSON.parse(fs.readFileSync(path.join(dir, "key.json"), "utf8"));
      } catch {
        lines.push({ dir, why: "unreadable key.json" });
        continue;
      }
      const fields = [...new Set([...Object.keys(theirs), ...Object.keys(this.key)])].sort();
      const diff = fields
        .filter((f) => theirs[f] !== this.key[f])
        .map((f) => `${f} ${JSON.stringify(theirs[f] ?? null)} (this run: ${JSON.stringify(this.key[f] ?? null)})`);
      const n = fs.readdirSync(dir).filter((f) => f.endsWith(".json") && f !== "key.json").length;
      lines.push({ dir, why: `${n} units; ${diff.join("; ")}` });
    }
    return lines;
  }
}
