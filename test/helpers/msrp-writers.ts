/**
 * The MSRP's record under two writers (test/rsms/s28-rtk-rename-race*.test.ts): a data folder whose
 * record is a base with one patch, the RNs another process reads from it, and the code of a second
 * process that adds an RN (through the folder lock, or as a writer that takes none).
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { Keystore, settled } from "../../offchain/storage/keystore";
import { MSRP_PATCH, MSRP_RECORD } from "../../tasks/lib/msrp-record";

export const ROOT = path.resolve(__dirname, "../..");

export type Rec = { msk: string; rns: Record<string, unknown> };
export const agent = (d: Record<string, unknown>) => ({ d: d as Rec, toRecord: () => d });

/** A data folder whose MSRP record is a base with one patch (the shape every join leaves). */
export async function folder(): Promise<{ data: string; ks: Keystore }> {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-s28-rtk-"));
  const ks = new Keystore(path.join(data, "ks"), "");
  ks.commit({ [MSRP_RECORD]: { msk: "0x01", rns: { base: { n: 0 } } } }, MSRP_PATCH);
  ks.commit({ [MSRP_RECORD]: { msk: "0x01", rns: { base: { n: 0 }, first: { n: 1 } } } }, MSRP_PATCH);
  await settled();
  expect(fs.existsSync(path.join(data, "ks", `${MSRP_RECORD}.head.json`)), "a patched record").to.equal(true);
  return { data, ks };
}

/** The RNs of the record on disk as another process reads it (this process's commits settled first). */
export async function rnsOnDisk(data: string): Promise<string[]> {
  await settled();
  const out = spawnSync(
    process.execPath,
    [
      "-r",
      "ts-node/register/transpile-only",
      "-e",
      `const { Keystore } = require("./offchain/storage/keystore"); console.log(JSON.stringify(Object.keys(new Keystore(process.argv[1], "").load("${MSRP_RECORD}").rns).sort()));`,
      path.join(data, "ks"),
    ],
    { cwd: ROOT, encoding: "utf8" },
  );
  if (out.status !== 0) throw new Error(`reader failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split("\n").pop()!);
}

/** The code of a second process that adds the RN `rn` to the record (`locked`: through withMsrpRecord, as rsms:rn:register). */
export function writerCode(locked: boolean): string {
  const body = `const r = await msrpRecord(ks, data, (d) => ({ d, toRecord: () => d })); const m = r.load(locked ? "rsms:rn:register" : undefined); m.d.rns = { ...m.d.rns, [rn]: { n: 2 } }; ${
    locked ? `r.save(m, "rsms:rn:register");` : `ks.commit({ ${JSON.stringify(MSRP_RECORD)}: m.d }, MSRP_PATCH);`
  }`;
  return `const { withMsrpRecord, msrpRecord, MSRP_PATCH } = require("./tasks/lib/msrp-record");
const { Keystore } = require("./offchain/storage/keystore");
const [data, rn] = process.argv.slice(1); const locked = ${locked}; const ks = new Keystore(require("path").join(data, "ks"), "");
(async () => {
  console.log("ready");
  const run = async () => { ${body} };
  if (locked) await withMsrpRecord("rsms:rn:register", data, run, { waitMs: 30000, onWait: () => undefined }); else await run();
  console.log("wrote");
})().catch((e) => { console.error(e.message); process.exit(2); });`;
}
