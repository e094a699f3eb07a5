/**
 * The charts of `sim:throughput` (RSMS Figs. 5-7) and of the MSSA benchmark's detection figure,
 * built from their result rows, so the figures can be drawn again from the committed CSV files
 * (`npm run figures`) without running the simulation or the benchmark again.
 */
import type { LineChart } from "../util/plot";

/** One point of a throughput sweep (a row of reports/throughput-<fig>.csv). */
export type ThroughputRow = { x: number; without: number; with: number; ci: number };

/** Titles and x-axis labels of RSMS Figs. 5-7. */
export const THROUGHPUT_FIGURES = {
  fig5: { title: "Fig. 5: throughput against the service time [T_min, T_max]", xLabel: "T_min (minutes; T_max = 2 T_min)" },
  fig6: { title: "Fig. 6: throughput against lambda_j", xLabel: "lambda_j (per minute)" },
  fig7: { title: "Fig. 7: throughput against lambda_l", xLabel: "lambda_l (per minute)" },
} as const;
export type ThroughputFigure = keyof typeof THROUGHPUT_FIGURES;

/**
 * The chart of one throughput sweep, with and without RSMS, each with its 95% interval.
 * @param fig - fig5, fig6 or fig7
 * @param rows - the sweep's points
 * @returns the chart
 */
export function throughputChart(fig: ThroughputFigure, rows: ThroughputRow[]): LineChart {
  return {
    ...THROUGHPUT_FIGURES[fig],
    yLabel: "services completed in 30 min (95% interval shaded)",
    yMin: 0,
    series: [
      { name: "without RSMS", points: rows.map((r) => ({ x: r.x, y: r.without, lo: r.without - r.ci, hi: r.without + r.ci })) },
      { name: "with RSMS", points: rows.map((r) => ({ x: r.x, y: r.with, lo: r.with - r.ci, hi: r.with + r.ci })) },
    ],
  };
}

/** One row of reports/mssa-detection.csv: detection rates over `trials` transmissions with `d` decoys. */
export type DetectionRow = { d: number; trials: number; any: number; theory: number; threshold: number; thresholdTheory: number };

/** A simulated proportion with its 95% normal-approximation interval, clamped to [0, 1]. */
function proportion(x: number, p: number, n: number) {
  const h = 1.96 * Math.sqrt((p * (1 - p)) / n);
  return { x, y: p, lo: Math.max(0, p - h), hi: Math.min(1, p + h) };
}

/**
 * The MSSA detection figure: the simulated intercept-resend detection rates (95% intervals) beside
 * their closed forms, on a log axis of decoy counts (1 to 64, doubling).
 * @param rows - the detection table
 * @returns the chart
 */
export function mssaDetectionChart(rows: DetectionRow[]): LineChart {
  return {
    title: "SIMULATED intercept-resend detection against decoy photons (95% intervals)",
    xLabel: "decoy photons d (log scale)",
    yLabel: "share of transmissions detected",
    yMin: 0,
    yMax: 1,
    xLog: true,
    series: [
      { name: "any decoy error (sim)", points: rows.map((r) => proportion(r.d, r.any, r.trials)) },
      { name: "1 - (3/4)^d", points: rows.map((r) => [r.d, r.theory]) },
      { name: "decoy error rate > 11% (sim)", points: rows.map((r) => proportion(r.d, r.threshold, r.trials)) },
      { name: "binomial, > 11%", points: rows.map((r) => [r.d, r.thresholdTheory]) },
    ],
  };
}
