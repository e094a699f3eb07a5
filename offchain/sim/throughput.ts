/**
 * RSMS Monte Carlo throughput (RSMS paper §VI.C, Figs. 5-7), reconstructed where the text is
 * silent (docs/specs/evaluation.md):
 * - N resource nodes alternate between present and absent: absent -> present at rate lambda_j,
 *   present -> absent at rate lambda_l (exponential times, per minute). With RSMS a node that
 *   (re)appears is usable only after its join authentication.
 * - Service requests arrive as a Poisson process of rate a per minute (the paper writes "per
 *   day", which gives almost no request in its 30-minute period; we read it per minute). A request
 *   needs a group of G idle, usable nodes, or it is lost; with RSMS the group first runs membership
 *   authentication and key agreement.
 * - Service time is discrete uniform in [T_min, T_max] minutes. A member that leaves mid-service
 *   is replaced by an idle usable node (with RSMS: a rekey); with none left, the service fails.
 * - Throughput TP = services completed within the 30-minute period, averaged over replications.
 * RSMS costs come from our measured benchmarks (bench/results), not from the paper's Table II.
 */
import { Prng } from "../util/prng";

/** Simulation settings. */
export type ThroughputOptions = {
  lambdaJ: number;
  lambdaL: number;
  /** requests per minute */
  a: number;
  tMin: number;
  tMax: number;
  /** minutes */
  period?: number;
  nodes?: number;
  groupSize?: number;
  replications?: number;
  seed: number;
};

/** RSMS costs in milliseconds. */
export type RsmsCosts = { joinMs: number; groupMs: number; rekeyMs: number };

/** Result: mean TP and its 95% confidence half-width, plus lost and failed services. */
export type ThroughputResult = { tp: number; ci95: number; lost: number; failed: number };

type Svc = { end: number; members: number[]; alive: boolean };

function once(o: ThroughputOptions, costs: RsmsCosts | undefined, rng: Prng): { tp: number; lost: number; failed: number } {
  const T = o.period ?? 30;
  const N = o.nodes ?? 20;
  const G = o.groupSize ?? 4;
  const exp = (rate: number) => (rate > 0 ? -Math.log(1 - rng.next()) / rate : Infinity);
  const min = (ms: number) => ms / 60_000;
  const present = new Array<boolean>(N);
  const readyAt = new Array<number>(N).fill(0);
  const busy = new Array<Svc | undefined>(N);
  const toggleAt = new Array<number>(N);
  const pStay = o.lambdaJ / (o.lambdaJ + o.lambdaL || 1);
  for (let i = 0; i < N; i++) {
    present[i] = rng.next() < pStay;
    toggleAt[i] = exp(present[i] ? o.lambdaL : o.lambdaJ);
  }
  let nextRequest = exp(o.a);
  const services: Svc[] = [];
  let tp = 0;
  let lost = 0;
  let failed = 0;
  const idle = (t: number) => {
    const out: number[] = [];
    for (let i = 0; i < N; i++) if (present[i] && !busy[i] && readyAt[i] <= t) out.push(i);
    return out;
  };
  for (;;) {
    // next event: a toggle, a request or a completion
    let t = nextRequest;
    let kind: "req" | "toggle" | "done" = "req";
    let who = -1;
    for (let i = 0; i < N; i++) if (toggleAt[i] < t) ((t = toggleAt[i]), (kind = "toggle"), (who = i));
    let svc: Svc | undefined;
    for (const s of services) if (s.alive && s.end < t) ((t = s.end), (kind = "done"), (svc = s));
    if (t > T) break;
    if (kind === "req") {
      nextRequest = t + exp(o.a);
      const free = rng.shuffle(idle(t));
      if (free.length < G) {
        lost++;
        continue;
      }
      const members = free.slice(0, G);
      const start = t + (costs ? min(costs.groupMs) : 0);
      const dur = o.tMin + Math.floor(rng.next() * (o.tMax - o.tMin + 1));
      const s: Svc = { end: start + dur, members, alive: true };
      for (const m of members) busy[m] = s;
      services.push(s);
    } else if (kind === "toggle") {
      const i = who;
      present[i] = !present[i];
      toggleAt[i] = t + exp(present[i] ? o.lambdaL : o.lambdaJ);
      if (present[i]) readyAt[i] = t + (costs ? min(costs.joinMs) : 0);
      else if (busy[i]) {
        const s = busy[i]!;
        busy[i] = undefined;
        const free = idle(t);
        if (free.length) {
          const r = free[Math.floor(rng.next() * free.length)];
          s.members = s.members.map((m) => (m === i ? r : m));
          busy[r] = s;
          if (costs) s.end += min(costs.rekeyMs);
        } else {
          s.alive = false;
          failed++;
          for (const m of s.members) if (busy[m] === s) busy[m] = undefined;
        }
      }
    } else if (svc) {
      svc.alive = false;
      tp++;
      for (const m of svc.members) if (busy[m] === svc) busy[m] = undefined;
    }
  }
  return { tp, lost, failed };
}

/** Mean throughput over the replications, with (costs given) or without RSMS. */
export function simulateThroughput(o: ThroughputOptions, costs?: RsmsCosts): ThroughputResult {
  const rng = new Prng(o.seed);
  const R = o.replications ?? 2000;
  let s = 0;
  let s2 = 0;
  let lost = 0;
  let failed = 0;
  for (let r = 0; r < R; r++) {
    const x = once(o, costs, rng);
    s += x.tp;
    s2 += x.tp * x.tp;
    lost += x.lost;
    failed += x.failed;
  }
  const mean = s / R;
  const sd = Math.sqrt(Math.max(0, s2 / R - mean * mean));
  return { tp: mean, ci95: (1.96 * sd) / Math.sqrt(R), lost: lost / R, failed: failed / R };
}
