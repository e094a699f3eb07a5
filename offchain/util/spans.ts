/**
 * Timing marks on a hot path, for profiling (bench/steps.bench.ts with STEPS_SPANS=1): off unless a
 * caller starts them; each mark is then a name and performance.now(). Off, a mark is one test.
 */
let marks: [string, number][] | undefined;

/** Records a mark if marks are on. */
export function mark(name: string): void {
  if (marks) marks.push([name, performance.now()]);
}

/** Turns marks on (and clears them). */
export function startMarks(): void {
  marks = [];
}

/** The marks since the last call (or start), and clears them; [] when off. */
export function takeMarks(): [string, number][] {
  const m = marks ?? [];
  if (marks) marks = [];
  return m;
}
