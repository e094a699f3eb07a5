/**
 * A group's service traffic on the MSRP (`/v1/group/send`, `/v1/group/read`): per epoch, its
 * roster and its Channel messages in order, and each sender's last sequence number. Append-only
 * (session 13; h11-red's "channel log cost"): the file `groups/<gid>.channel.log` holds one JSON
 * line per event, written with one `write` and an `fsync` before the send is answered:
 *
 * - `{"e":<epoch>,"roster":[[pid,pk],…]}` the first time an epoch gets traffic;
 * - `{"e":<epoch>,"m":<message hex>,"from":<sender PID hex>,"seq":"<n>"}` per message.
 *
 * A send costs O(1) (it used to re-read and rewrite the epoch's whole JSON log, up to
 * MAX_CHANNEL_LOG messages, under the MSRP's mutex). A group's log is read from disk once, at its
 * first use after a start, and kept in memory; a message already in the log is found by a map, not
 * a scan. A crash in the middle of an append leaves a last line without its newline, which was
 * never acknowledged: it is cut off when the log is read. The JSON file of earlier versions
 * (`<gid>.channel.json`) is converted at the first read.
 */
import fs from "fs";
import path from "path";
import { toHex } from "../../crypto/bytes";
import { writeFileAtomic } from "../../storage/fs-atomic";

/** One epoch's traffic. */
export type EpochLog = {
  roster: [string, string][];
  messages: string[];
  /** the sender PID (hex) -> its last sequence number (decimal) */
  last: Record<string, string>;
  /** message hex -> its index */
  index: Map<string, number>;
};

type Line = { e: number; roster?: [string, string][]; m?: string; from?: string; seq?: string };

/** The MSRP's channel logs, one append-only file per group. */
export class ChannelLog {
  private readonly groups = new Map<string, Map<number, EpochLog>>();

  /** @param dir - the group desk's folder */
  constructor(private readonly dir: string) {}

  private file(gid: Uint8Array): string {
    return path.join(this.dir, `${toHex(gid).slice(2)}.channel.log`);
  }

  /**
   * Every epoch's traffic of a group (read from disk at the first call after a start).
   * @throws Error for a line that is not the last and does not parse (a corrupted log)
   */
  epochs(gid: Uint8Array): Map<number, EpochLog> {
    const key = toHex(gid);
    let g = this.groups.get(key);
    if (g) return g;
    g = new Map();
    const file = this.file(gid);
    this.convertLegacy(gid, file);
    let text = "";
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    const end = text.lastIndexOf("\n") + 1;
    // a torn last line (a crash during its append, never acknowledged): cut off
    if (end < text.length) fs.truncateSync(file, Buffer.byteLength(text.slice(0, end)));
    for (const [i, raw] of text.slice(0, end).split("\n").entries()) {
      if (!raw) continue;
      let l: Line;
      try {
        l = JSON.parse(raw) as Line;
      } catch {
        throw new Error(`ChannelLog: ${file} line ${i + 1} is corrupted`);
      }
      apply(g, l);
    }
    this.groups.set(key, g);
    return g;
  }

  /** One epoch's traffic, if it has any. */
  epoch(gid: Uint8Array, epoch: number): EpochLog | undefined {
    return this.epochs(gid).get(epoch);
  }

  /**
   * Appends a message to an epoch's log (its roster first, the first time), durably.
   * @returns its index in the epoch
   */
  append(gid: Uint8Array, epoch: number, roster: [string, string][], message: string, from: string, seq: bigint): number {
    const g = this.epochs(gid);
    const lines: Line[] = [];
    if (!g.has(epoch)) lines.push({ e: epoch, roster });
    lines.push({ e: epoch, m: message, from, seq: seq.toString() });
    const fd = fs.openSync(this.file(gid), "a", 0o600);
    try {
      fs.writeSync(fd, lines.map((l) => JSON.stringify(l) + "\n").join(""));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    for (const l of lines) apply(g, l);
    return g.get(epoch)!.messages.length - 1;
  }

  /** `<gid>.channel.json` (earlier versions: the whole log rewritten per send) -> the append-only log. */
  private convertLegacy(gid: Uint8Array, file: string): void {
    const legacy = path.join(this.dir, `${toHex(gid).slice(2)}.channel.json`);
    if (!fs.existsSync(legacy)) return;
    if (!fs.existsSync(file)) {
      const old = JSON.parse(fs.readFileSync(legacy, "utf8")) as Record<
        string,
        { roster: [string, string][]; messages: string[]; last: Record<string, string> }
      >;
      const out: string[] = [];
      for (const [e, l] of Object.entries(old)) {
        out.push(JSON.stringify({ e: Number(e), roster: l.roster }));
        // the old log kept each sender's last number only: every message carries it (the
        // sequence check compares with the last one)
        const lastOf = new Map(Object.entries(l.last));
        for (const m of l.messages) out.push(JSON.stringify({ e: Number(e), m, from: "", seq: "0" }));
        for (const [from, seq] of lastOf) out.push(JSON.stringify({ e: Number(e), from, seq }));
      }
      writeFileAtomic(file, out.map((x) => x + "\n").join(""), 0o600);
    }
    fs.rmSync(legacy);
  }
}

function apply(g: Map<number, EpochLog>, l: Line): void {
  let e = g.get(l.e);
  if (!e) {
    e = { roster: l.roster ?? [], messages: [], last: {}, index: new Map() };
    g.set(l.e, e);
  }
  if (l.roster) e.roster = l.roster;
  if (l.m !== undefined) {
    if (!e.index.has(l.m)) e.index.set(l.m, e.messages.length);
    e.messages.push(l.m);
  }
  if (l.from && l.seq !== undefined) e.last[l.from] = l.seq;
}
