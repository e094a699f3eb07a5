/**
 * A small step runner for the demo: prints each step with its time and gas as it completes,
 * collects a summary table, and records failures so the exit code can reflect them.
 */
export type StepResult = { section: string; name: string; ok: boolean; ms: number; gas?: bigint; detail: string };

export class Steps {
  readonly results: StepResult[] = [];
  private section = "";

  /** Starts a titled section. */
  begin(title: string): void {
    this.section = title;
    console.log(`\n${title}`);
  }

  /**
   * Runs one step. The function returns a one-line detail and optionally the gas it spent.
   * A failing step is printed and recorded; later steps still run unless `critical`.
   */
  async run(name: string, f: () => Promise<{ detail: string; gas?: bigint } | string>, critical = false): Promise<boolean> {
    const t0 = performance.now();
    try {
      const r = await f();
      const { detail, gas } = typeof r === "string" ? { detail: r, gas: undefined } : r;
      const ms = performance.now() - t0;
      this.results.push({ section: this.section, name, ok: true, ms, gas, detail });
      console.log(
        `   ok   ${name.padEnd(46)} ${ms.toFixed(0).padStart(6)} ms ${gas !== undefined ? `${gas.toLocaleString("en-US").padStart(9)} gas` : "".padStart(13)}  ${detail}`,
      );
      return true;
    } catch (e) {
      const ms = performance.now() - t0;
      const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      this.results.push({ section: this.section, name, ok: false, ms, detail: msg });
      console.log(`   FAIL ${name.padEnd(46)} ${ms.toFixed(0).padStart(6)} ms  ${msg}`);
      if (critical) throw e;
      return false;
    }
  }

  /** Records a step that was timed elsewhere. */
  record(name: string, ok: boolean, ms: number, detail: string): void {
    this.results.push({ section: this.section, name, ok, ms, detail });
    console.log(`   ${ok ? "ok  " : "FAIL"} ${name.padEnd(46)} ${ms.toFixed(1).padStart(6)} ms ${"".padStart(13)}  ${detail}`);
  }

  /** Prints the per-section summary table. */
  summary(): void {
    console.log("\nsummary");
    console.log(`   ${"section".padEnd(44)} ${"steps".padStart(5)} ${"failed".padStart(6)} ${"time ms".padStart(9)} ${"gas".padStart(12)}`);
    const sections = [...new Set(this.results.map((r) => r.section))];
    for (const s of sections) {
      const rs = this.results.filter((r) => r.section === s);
      const gas = rs.reduce((g, r) => g + (r.gas ?? 0n), 0n);
      console.log(
        `   ${(s.length > 44 ? s.slice(0, 43) + "…" : s).padEnd(44)} ${String(rs.length).padStart(5)} ${String(rs.filter((r) => !r.ok).length).padStart(6)} ${rs
          .reduce((t, r) => t + r.ms, 0)
          .toFixed(0)
          .padStart(9)} ${gas.toLocaleString("en-US").padStart(12)}`,
      );
    }
    const failed = this.results.filter((r) => !r.ok).length;
    console.log(`\n   ${this.results.length - failed} passed, ${failed} failed`);
  }

  /** Number of failed steps. */
  get failed(): number {
    return this.results.filter((r) => !r.ok).length;
  }
}
