/**
 * The keystore write of an RSMS join (issue 20): the MSRP's record and the RN's, written as two
 * atomic updates (each: temporary file, fsync, rename) or as one journaled Keystore.commit (one
 * fsync). Interleaved samples on the same folder, so both see the same disk and load. And a join's
 * keystore work (load the MSRP's record, commit it with the RN's) with the MSRP's record whole or as
 * a base and patches of its RNs (Keystore.commit's `patch`), at 32 and 300 RNs.
 *
 * Run: `npx ts-node bench/keystore.bench.ts` (KS_N samples each, default 40). Writes
 * bench/results/keystore.{md,json}.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { Keystore, PATCH_MAX, settled } from "../offchain/storage/keystore";
import { machine } from "./lib";

const N = Number(process.env.KS_N ?? 40);
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

/** An MSRP-like record with `n` RNs after `i` joins, one RN changed per join (an object of entries: what `patch` splits). */
const msrpRecord = (n: number, i: number) => ({
  policy: { capacity: 1024, lambda: 20 },
  rns: Object.fromEntries(
    Array.from({ length: n }, (_, k) => [
      `rn${k}`,
      // joins of RN k after i joins round-robin: the i-th changes RN (i - 1) mod n alone
      {
        pids: ["0x" + "ab".repeat(32)],
        a: "0x" + "cd".repeat(32),
        sk: "0x" + "ef".repeat(32),
        joins: i > k ? Math.floor((i - 1 - k) / n) + 1 : 0,
      },
    ]),
  ),
});

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
  // a join's keystore work with the MSRP's record whole or as base and patches, at 32 and 300 RNs
  const SIZES = [32, 300];
  const patch = (n: number) => ({ patch: { [`msrp-p${n}`]: "rns" } });
  for (const n of SIZES) {
    ks.commit({ [`msrp-w${n}`]: msrpRecord(n, 0) });
    ks.commit({ [`msrp-p${n}`]: msrpRecord(n, 0) }, patch(n)); // the first patch commit writes the base
  }
  await settled();
  // bytes journaled per commit: fs.writeSync of the journal
  const writeSync = fs.writeSync;
  let bytes = 0;
  fs.writeSync = ((fd: number, buffer: NodeJS.ArrayBufferView, ...rest: unknown[]) => {
    bytes += buffer.byteLength;
    return (writeSync as (...a: unknown[]) => number)(fd, buffer, ...rest);
  }) as typeof fs.writeSync;
  const join: Record<string, { ms: number[]; bytes: number[] }> = {};
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
    // a join's keystore work: load the MSRP's record, commit it with the RN's (whole, then as a patch; ABBA)
    const kinds = SIZES.flatMap((n) => [`w${n}`, `p${n}`]);
    for (const kind of i % 2 ? kinds : [...kinds].reverse()) {
      const n = Number(kind.slice(1));
      const name = `msrp-${kind}`;
      await settled();
      bytes = 0;
      t = performance.now();
      ks.load(name);
      ks.commit({ [name]: msrpRecord(n, i), "rsms-rn-x": rn(i) }, kind.startsWith("p") ? patch(n) : {});
      (join[kind] ??= { ms: [], bytes: [] }).ms.push(performance.now() - t);
      join[kind].bytes.push(bytes);
    }
  }
  fs.writeSync = writeSync;
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
    "## The MSRP's record whole, or as a base and patches of its RNs",
    "",
    "A join's keystore work: load the MSRP's record, then commit it with the RN's record, one RN changed. 'whole'",
    "journals the whole record; 'patches' (Keystore.commit's `patch`, issue 20) journals the changed RN and the head, and",
    `writes the record whole every ${PATCH_MAX + 1}th commit (counted in the p95 and the mean bytes). The same samples, interleaved (ABBA).`,
    "",
    "| RNs | record | p50 (ms) | p95 (ms) | bytes journaled, p50 | bytes journaled, mean |",
    "|---:|---|---:|---:|---:|---:|",
    ...SIZES.flatMap((n) =>
      (["w", "p"] as const).map((k) => {
        const r = join[`${k}${n}`];
        const mean = r.bytes.reduce((a, b) => a + b, 0) / r.bytes.length;
        return `| ${n} | ${k === "w" ? "whole" : "patches"} | ${q(r.ms, 0.5).toFixed(2)} | ${q(r.ms, 0.95).toFixed(2)} | ${q(r.bytes, 0.5).toLocaleString("en-US")} | ${Math.round(mean).toLocaleString("en-US")} |`;
      }),
    ),
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
        join: Object.fromEntries(
          Object.entries(join).map(([k, r]) => [k, { p50: q(r.ms, 0.5), p95: q(r.ms, 0.95), bytesP50: q(r.bytes, 0.5), bytes: r.bytes }]),
        ),
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
