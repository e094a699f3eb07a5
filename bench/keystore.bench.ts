/**
 * The keystore write of an RSMS join (issue 20): the MSRP's record and the RN's, written as two
 * atomic updates (each: temporary file, fsync, rename) or as one journaled Keystore.commit (one
 * fsync). Interleaved samples on the same folder, so both see the same disk and load.
 *
 * Run: `npx ts-node bench/keystore.bench.ts` (KS_N samples each, default 40). Writes
 * bench/results/keystore.{md,json}.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { Keystore, settled } from "../offchain/storage/keystore";
import { machine } from "./lib";

const N = Number(process.env.KS_N ?? 40);
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-ksbench-"));
  const ks = new Keystore(dir, "");
  // sizes like the steps bench's: the MSRP's record with 32 RNs and a published filter, one RN's record
  const msrp = (i: number) => ({
    i,
    rns: Array.from({ length: 32 }, (_, k) => ({ k, pk: "0x" + "ab".repeat(33), a: "0x" + "cd".repeat(32) })),
  });
  const rn = (i: number) => ({ i, sk: "0x" + "11".repeat(32), pid: "0x" + "22".repeat(32) });
  ks.create("rsms-msrp", msrp(0));
  ks.create("rsms-rn-x", rn(0));
  const sizes = [ks.file("rsms-msrp"), ks.file("rsms-rn-x")].map((f) => fs.statSync(f).size);
  const loadBefore = os.loadavg()[0];
  const two: number[] = [];
  const one: number[] = [];
  for (let i = 1; i <= N; i++) {
    let t = performance.now();
    ks.update("rsms-msrp", msrp(i));
    ks.update("rsms-rn-x", rn(i));
    two.push(performance.now() - t);
    t = performance.now();
    ks.commit({ "rsms-msrp": msrp(i), "rsms-rn-x": rn(i) });
    one.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 20)); // a step's network wait: the journal settles meanwhile, as in a join
  }
  await settled();
  fs.rmSync(dir, { recursive: true, force: true });
  const when = new Date().toISOString();
  const md = [
    "# The keystore write of an RSMS join",
    "",
    `Measured ${when} on ${machine()}; load average ${loadBefore.toFixed(1)} before, ${os.loadavg()[0].toFixed(1)} after. ${N} samples each, interleaved, 20 ms apart.`,
    `Two records of ${sizes[0].toLocaleString("en-US")} and ${sizes[1].toLocaleString("en-US")} bytes (the MSRP's and an RN's).`,
    "",
    "| write | fsyncs on the step's path | p50 (ms) | p95 (ms) |",
    "|---|---:|---:|---:|",
    `| two atomic updates (temporary file, fsync, rename, each) | 2 | ${q(two, 0.5).toFixed(2)} | ${q(two, 0.95).toFixed(2)} |`,
    `| one Keystore.commit (the journal's fsync; the records written, fsync'd and renamed in the background) | 1 | ${q(one, 0.5).toFixed(2)} | ${q(one, 0.95).toFixed(2)} |`,
    "",
  ].join("\n");
  fs.mkdirSync(path.join(__dirname, "results"), { recursive: true });
  fs.writeFileSync(path.join(__dirname, "results", "keystore.md"), md);
  fs.writeFileSync(
    path.join(__dirname, "results", "keystore.json"),
    JSON.stringify(
      {
        measuredAt: when,
        machine: machine(),
        samples: N,
        sizes,
        twoUpdates: { p50: q(two, 0.5), p95: q(two, 0.95) },
        commit: { p50: q(one, 0.5), p95: q(one, 0.95) },
      },
      null,
      2,
    ) + "\n",
  );
  console.log(md);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
