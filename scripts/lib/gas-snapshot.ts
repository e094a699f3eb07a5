/**
 * The committed gas snapshot, `gas-snapshot.json` (`"Contract.call (variant)": gas`, keys sorted),
 * and the documents that quote it. `test/gas/snapshot.test.ts` re-measures the snapshot and
 * compares; these helpers read and write it, print a readable diff, and keep the quotes in
 * README.md and reports/REPORT.md equal to it:
 * - a generated table between `<!-- gas-snapshot:begin -->` and `<!-- gas-snapshot:end -->`;
 * - inline quotes `<!-- gas:Contract.call (variant) -->12,345<!-- /gas -->`, the number rewritten
 *   from the snapshot's key.
 */
import fs from "fs";
import path from "path";

/** Contract.call (variant) -> gas. */
export type GasSnapshot = Record<string, number>;

export const ROOT = path.resolve(__dirname, "..", "..");
export const SNAPSHOT_FILE = path.join(ROOT, "gas-snapshot.json");
/** The documents that quote the snapshot (REPORT.md only once `npm run report` wrote it; the disputes spec's results). */
export const QUOTING_DOCS = ["README.md", path.join("reports", "REPORT.md"), path.join("docs", "specs", "disputes.md")];
/** The one command that re-measures and rewrites the snapshot and every quote of it. */
export const UPDATE_COMMAND = "npm run gas:snapshot";

const BEGIN = "<!-- gas-snapshot:begin -->";
const END = "<!-- gas-snapshot:end -->";
const INLINE = /<!-- gas:([^>]+?) -->([^<]*)<!-- \/gas -->/g;

/** Keys in code-point order, so the file's diff shows only what moved. */
export function sortSnapshot(s: GasSnapshot): GasSnapshot {
  return Object.fromEntries(Object.entries(s).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Reads gas-snapshot.json.
 * @throws Error naming the file and the update command when it is missing or malformed
 */
export function readSnapshot(file = SNAPSHOT_FILE): GasSnapshot {
  if (!fs.existsSync(file)) throw new Error(`gas snapshot ${path.relative(ROOT, file)} is missing: run \`${UPDATE_COMMAND}\``);
  const s = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
  if (typeof s !== "object" || s === null || Array.isArray(s) || !Object.values(s).every((v) => Number.isSafeInteger(v)))
    throw new Error(`gas snapshot ${path.relative(ROOT, file)} is not a map of call -> integer gas: run \`${UPDATE_COMMAND}\``);
  return s as GasSnapshot;
}

/** Writes gas-snapshot.json, keys sorted, one per line. */
export function writeSnapshot(s: GasSnapshot, file = SNAPSHOT_FILE): void {
  fs.writeFileSync(file, JSON.stringify(sortSnapshot(s), null, 2) + "\n");
}

const n = (x: number) => x.toLocaleString("en-US");

/**
 * What moved between the committed snapshot and a new measurement, one line per call.
 * @returns empty when they are equal
 */
export function diffSnapshots(committed: GasSnapshot, measured: GasSnapshot): string[] {
  const lines: string[] = [];
  for (const k of Object.keys(sortSnapshot({ ...committed, ...measured }))) {
    const [a, b] = [committed[k], measured[k]];
    if (a === b) continue;
    if (a === undefined) lines.push(`  + ${k}: ${n(b)} (new call)`);
    else if (b === undefined) lines.push(`  - ${k}: ${n(a)} (no longer measured)`);
    else {
      const d = b - a;
      lines.push(`  ~ ${k}: ${n(a)} -> ${n(b)} (${d > 0 ? "+" : ""}${n(d)}, ${d > 0 ? "+" : ""}${((100 * d) / a).toFixed(2)}%)`);
    }
  }
  return lines;
}

/** The markdown table of the snapshot, one row per call, grouped by contract. */
export function snapshotTable(s: GasSnapshot): string {
  const rows = Object.entries(sortSnapshot(s)).map(([k, v]) => {
    const dot = k.indexOf(".");
    return `| ${k.slice(0, dot)} | ${k.slice(dot + 1)} | ${n(v)} |`;
  });
  return ["| contract | call | gas |", "|---|---|---:|", ...rows].join("\n");
}

/** An empty table block: `quoteSnapshot` fills it in. */
export const TABLE_MARKERS = `${BEGIN}\n${END}`;

/**
 * A document with its generated table and inline quotes rewritten from the snapshot.
 * @param doc - the document's text
 * @param where - its name, for errors
 * @throws Error on an inline quote of a call the snapshot does not have
 */
export function quoteSnapshot(doc: string, s: GasSnapshot, where: string): string {
  let out = doc.replace(INLINE, (_m, key: string) => {
    if (!(key in s)) throw new Error(`${where} quotes gas of "${key}", which gas-snapshot.json does not measure`);
    return `<!-- gas:${key} -->${n(s[key])}<!-- /gas -->`;
  });
  const b = out.indexOf(BEGIN);
  const e = out.indexOf(END);
  if (b >= 0 && e > b) out = out.slice(0, b) + `${BEGIN}\n${snapshotTable(s)}\n${END}` + out.slice(e + END.length);
  return out;
}

/** Whether a document quotes the snapshot at all (a table or an inline quote). */
export function quotesSnapshot(doc: string): boolean {
  return doc.includes(BEGIN) || new RegExp(INLINE.source).test(doc);
}

/**
 * Rewrites the quotes of every quoting document that exists.
 * @returns the documents changed (relative paths)
 */
export function syncQuotingDocs(s: GasSnapshot, root = ROOT): string[] {
  const changed: string[] = [];
  for (const rel of QUOTING_DOCS) {
    const file = path.join(root, rel);
    if (!fs.existsSync(file)) continue;
    const doc = fs.readFileSync(file, "utf8");
    const next = quoteSnapshot(doc, s, rel);
    if (next !== doc) {
      fs.writeFileSync(file, next);
      changed.push(rel);
    }
  }
  return changed;
}
