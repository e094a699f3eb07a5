/**
 * Keystore.stamp of the MSRP's record kept as a base and PATCH_MAX (16) patches, 300 RNs (issue 20:
 * a join reads the stamp to reuse the agent it kept): the time of one stamp() and the files it
 * reads. Plain and sealed folders; the files renamed into place (no overlay).
 *
 * Run: `nice -n 19 npx ts-node --transpile-only bench/stamp.bench.ts` (STAMP_N samples, default 4000).
 */
import fs from "fs";
import os from "os";
import path from "path";
import { Keystore, PATCH_MAX, settled } from "../offchain/storage/keystore";

const N = Number(process.env.STAMP_N ?? 4000);
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

const rec = (n: number, i: number) => ({
  policy: { capacity: 1024 },
  rns: Object.fromEntries(Array.from({ length: n }, (_, k) => [`rn${k}`, { a: "0x" + "cd".repeat(32), joins: k < i ? 1 : 0 }])),
});

async function main() {
  for (const pass of ["", "bench-passphrase"]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-stampbench-"));
    const ks = new Keystore(dir, pass, { N: 2 ** 10, r: 8, p: 1 });
    const P = { patch: { m: "rns" } };
    for (let i = 0; i <= PATCH_MAX; i++) ks.commit({ m: rec(300, i) }, P);
    await settled();
    const readFileSync = fs.readFileSync;
    let reads = 0;
    fs.readFileSync = ((...a: Parameters<typeof readFileSync>) => (reads++, readFileSync(...a))) as typeof readFileSync;
    ks.stamp("m");
    const perStamp = reads;
    fs.readFileSync = readFileSync;
    for (let i = 0; i < 200; i++) ks.stamp("m");
    const ms: number[] = [];
    for (let i = 0; i < N; i++) {
      const t = performance.now();
      ks.stamp("m");
      ms.push(performance.now() - t);
    }
    console.log(
      `${pass ? "sealed" : "plain "}: ${PATCH_MAX} patches, stamp() reads ${perStamp} files; p50 ${(q(ms, 0.5) * 1000).toFixed(1)} us, p90 ${(q(ms, 0.9) * 1000).toFixed(1)} us (${N} samples)`,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
