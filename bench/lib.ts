/**
 * Benchmark helpers: run tinybench tasks with a progress line each, and write the results as a
 * markdown table and JSON under bench/results/. Medians (p50) of per-call latency are reported,
 * never means, because the machines are shared and noisy.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { Bench } from "tinybench";

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
