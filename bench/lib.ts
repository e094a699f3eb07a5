/**
 * Benchmark helpers: run tinybench tasks with a progress line each, and write the results as a
 * markdown table and JSON under bench/results/. Medians (p50) of per-call latency are reported,
 * never means, because the machines are shared and noisy.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { Bench } from "tinybench";
import {
  GroupBackend,
  PairingBackend,
  chooseGroupBackend,
  choosePairingBackend,
  nobleGroup,
  noblePairing,
  useBackends,
} from "../offchain/crypto/backend";

/** One benchmarked operation. */
export type BenchCase = {
  /** Row name. */
  name: string;
  /** The operation, run repeatedly. */
  fn: () => unknown;
  /** The paper's figure for the same operation in ms, if it reports one. */
  paperMs?: number;
  /** Where the paper's figure comes from. */
  paperRef?: string;
};

/** One row of results. */
export type BenchRow = { name: string; medianMs: number; samples: number; paperMs?: number; paperRef?: string; speedup?: number };

/**
 * Runs the cases sequentially and prints one line per case as it completes.
 * @param title - printed first
 * @param cases - the operations
 * @param timeMs - time budget per case
 * @returns one row per case
 */
export async function runCases(title: string, cases: BenchCase[], timeMs = 300): Promise<BenchRow[]> {
  console.log(`${title}: ${cases.length} operations`);
  const rows: BenchRow[] = [];
  for (const [i, c] of cases.entries()) {
    const bench = new Bench({ time: timeMs, iterations: 5, warmupTime: 50, warmupIterations: 2 });
    bench.add(c.name, c.fn);
    await bench.run();
    const r = bench.tasks[0].result;
    if (r.state !== "completed")
      throw new Error(`bench ${c.name}: ${r.state}${"error" in r ? `: ${(r as { error: Error }).error.message}` : ""}`);
    const row: BenchRow = {
      name: c.name,
      medianMs: r.latency.p50,
      samples: r.latency.samplesCount,
      paperMs: c.paperMs,
      paperRef: c.paperRef,
    };
    if (c.paperMs) row.speedup = c.paperMs / row.medianMs;
    rows.push(row);
    console.log(
      `  [${String(i + 1).padStart(2)}/${cases.length}] ${c.name.padEnd(44)} ${fmt(row.medianMs).padStart(10)} ms${c.paperMs ? `   paper ${c.paperMs} ms` : ""}`,
    );
  }
  return rows;
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(3) : ms.toFixed(4);
}

/**
 * Machine facts printed with every table, so numbers can be compared across runs: the CPU, and the
 * load average when the table was written (the machines are shared: timings, not gas, depend on it).
 */
export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const [one, five] = os.loadavg();
  return `${cpu}, ${os.cpus().length} cores, Node ${process.version}, ${os.platform()} ${os.arch()}, load average ${one.toFixed(1)} (1 min) / ${five.toFixed(1)} (5 min), shared with other jobs`;
}

/**
 * Writes `bench/results/<name>.md` and `.json`.
 * @param name - file stem
 * @param title - the markdown title
 * @param intro - markdown before the table
 * @param rows - the rows
 * @returns the two paths
 */
export function writeResults(name: string, title: string, intro: string, rows: BenchRow[]): string[] {
  const dir = path.resolve(__dirname, "results");
  fs.mkdirSync(dir, { recursive: true });
  const when = new Date().toISOString();
  const md = [
    `# ${title}`,
    "",
    `Measured ${when} on ${machine()}. Median (p50) latency per call.`,
    "",
    intro,
    "",
    "| operation | median (ms) | samples | paper (ms) | paper / ours |",
    "|---|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.name} | ${fmt(r.medianMs)} | ${r.samples} | ${r.paperMs ?? ""}${r.paperRef ? ` (${r.paperRef})` : ""} | ${r.speedup ? `${r.speedup >= 10 ? r.speedup.toFixed(0) : r.speedup.toFixed(2)}x` : ""} |`,
    ),
    "",
  ].join("\n");
  const mdPath = path.join(dir, `${name}.md`);
  const jsonPath = path.join(dir, `${name}.json`);
  fs.writeFileSync(mdPath, md);
  fs.writeFileSync(jsonPath, JSON.stringify({ measuredAt: when, machine: machine(), rows }, null, 2) + "\n");
  return [mdPath, jsonPath];
}

/**
 * Writes a bench's own tables and figures: `bench/results/<name>.md` as given, and `<name>.json` with the time
 * of measurement and the machine first, then `data`. Gas figures and other bigints are written as numbers.
 * @param name - the file stem
 * @param md - the markdown
 * @param data - what the JSON records besides the time and the machine
 * @returns the two paths
 */
export function saveResults(name: string, md: string, data: Record<string, unknown>, measuredAt = new Date().toISOString()): string[] {
  const dir = path.resolve(__dirname, "results");
  fs.mkdirSync(dir, { recursive: true });
  const mdPath = path.join(dir, `${name}.md`);
  const jsonPath = path.join(dir, `${name}.json`);
  fs.writeFileSync(mdPath, md);
  const json = JSON.stringify({ measuredAt, machine: machine(), ...data }, (_k, v) => (typeof v === "bigint" ? Number(v) : v), 2);
  fs.writeFileSync(jsonPath, json + "\n");
  return [mdPath, jsonPath];
}

/** The backends compared in one run: noble (the reference) and the fast ones. */
export type BenchBackends = {
  noble: { group: GroupBackend; pairing: PairingBackend };
  fast: { group: GroupBackend; pairing: PairingBackend };
};

/**
 * Loads both backend sets. The fast set is whatever loads (libsecp256k1, mcl-wasm); if one falls
 * back to noble, its warning is printed and its rows compare noble with itself.
 * @returns the two sets
 */
export async function benchBackends(): Promise<BenchBackends> {
  return {
    noble: { group: nobleGroup, pairing: noblePairing },
    fast: { group: chooseGroupBackend("native"), pairing: await choosePairingBackend("native") },
  };
}

/**
 * Runs `f` with the given backends pinned, then restores the previous ones.
 * @returns what f returns
 */
export async function onBackends<T>(b: { group: GroupBackend; pairing: PairingBackend }, f: () => T | Promise<T>): Promise<T> {
  const before = useBackends(b);
  try {
    return await f();
  } finally {
    useBackends(before);
  }
}

/** The load line every results file carries (the machine is shared: ratios compare, absolute times do not). */
export function loadNote(before: number): string {
  return `Load average ${before.toFixed(1)} before and ${os.loadavg()[0].toFixed(1)} after on ${os.cpus().length} cores, shared with other engineers' jobs: absolute times scale with the load; the ratios, taken within one run, are what compare.`;
}

/**
 * Runs the same operation in several variants (backends, a raw floor) back to back, `rounds`
 * times, and keeps each variant's smallest median: on a shared machine the load moves between
 * runs, and interleaving keeps the variants of one row under the same load.
 * @param rows - per row, its variants' functions (each row's variants in the same order)
 * @param names - the variants' names
 * @param rounds - how many times each variant runs
 * @param timeMs - time budget per run
 * @param wrap - runs a variant's measurement in its context (pins its backend)
 * @returns per row, per variant, the smallest median (ms)
 */
export async function interleaved(
  rows: { name: string; fns: (() => unknown)[] }[],
  names: string[],
  rounds: number,
  timeMs: number,
  wrap: (variant: number, run: () => Promise<number>) => Promise<number> = (_v, run) => run(),
): Promise<{ name: string; ms: number[] }[]> {
  const out: { name: string; ms: number[] }[] = [];
  for (const r of rows) {
    const ms = names.map(() => Infinity);
    for (let k = 0; k < rounds; k++) {
      for (let v = 0; v < names.length; v++) {
        ms[v] = Math.min(
          ms[v],
          await wrap(v, async () => {
            const bench = new Bench({ time: timeMs, iterations: 5, warmupTime: 20, warmupIterations: 2 });
            bench.add(r.name, r.fns[v]);
            await bench.run();
            const res = bench.tasks[0].result;
            if (res.state !== "completed") throw new Error(`bench ${r.name} (${names[v]}): ${res.state}`);
            return res.latency.p50;
          }),
        );
      }
    }
    console.log(`  ${r.name.padEnd(44)} ${names.map((n, v) => `${n} ${fmt(ms[v])} ms`).join("  ")}`);
    out.push({ name: r.name, ms });
  }
  return out;
}
