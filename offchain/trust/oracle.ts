/**
 * The oracle term O_ij of the trust paper's Eq. 46 (T_final = T_opt + γ·O_ij), aggregated from
 * several independent reporters the way a decentralized oracle network does it (the paper uses
 * Chainlink; Chainlink's off-chain reporting takes the median of a quorum of signed observations).
 * Pure state machine: no I/O, no clock. The service (offchain/services/trust/oracle-service.ts)
 * persists its state and writes each decided value on-chain with ORACLE_ROLE.
 *
 * Rules (docs/specs/trust.md §6):
 * - A reporter is one of a fixed set of accounts; each observation names a pair (from, to), a
 *   round (a positive integer the reporters agree on, e.g. the hour since the epoch) and a value in
 *   [-1, 1] as a WAD integer.
 * - A pair's round is decided once `quorum` distinct reporters have observed that very round; its
 *   value is the median of their values (the mean of the two middle values, truncated, for an even
 *   quorum). With at most f faulty reporters and quorum ≥ 2f + 1, the median lies between two
 *   honest values: f liars can neither push it outside the honest range nor decide a round alone.
 * - Rounds only move forward: an observation of a round at or below the pair's decided round is
 *   STALE_ROUND, except a reporter's own observation of the decided round with the same value (a
 *   retry), which gets the decision again. Each reporter holds at most one open observation per
 *   pair (a newer round replaces its older one), so the state is bounded by reporters × pairs.
 * - A reporter that observes a round twice with different values is refused (ALREADY_OBSERVED).
 * - Each observation carries the generations of both ids when it was made (the reporter signs
 *   them, and the service refuses one that is not the ids' generations when it arrives; a
 *   reclaimed id starts a new era, trust.md §6). A pair's state belongs to one
 *   pair of eras: an observation of a newer era drops the pair's open observations and decision
 *   of the older one (they were observations of another controller's service), and one of an older
 *   era is STALE_ERA (h16-red2 R4). The decision names its eras, and the on-chain write names them
 *   (`setOracle(from, to, value, gFrom, gTo)` reverts on another era).
 * - A decided value is written on-chain when it differs from the value the chain holds by at least
 *   `deviation` (0: any difference); the decision records that a write is due, and the write is
 *   confirmed separately ({@link OracleAggregator.written}), so a crash between the two is finished
 *   by the next start.
 */
import { MetatrustError } from "../errors";

/** The largest |O_ij|: 1 as a WAD. */
export const ORACLE_WAD = 10n ** 18n;

/** An observation refused; nothing changed. */
export class OracleError extends MetatrustError {
  /** UNKNOWN_REPORTER, BAD_VALUE, BAD_ROUND, BAD_PAIR, STALE_ROUND, STALE_ERA, ALREADY_OBSERVED */
  readonly reason: string;
  constructor(reason: string, message: string) {
    super("PROTOCOL_REJECTED", message);
    this.reason = reason;
  }
}

/** The generations of (from, to) an observation was made in (`TrustManager.generationOf`). */
export type Eras = [number, number];

/** One reporter's observation; `eras` the ids' generations when it was made ([0, 0] if omitted). */
export type Observation = { reporter: string; from: string; to: string; round: number; value: bigint; eras?: Eras };

/** A pair's decided round. */
export type Decision = {
  round: number;
  value: bigint;
  /** the reporters whose observations decided it, and their values (WAD, decimal) */
  by: Record<string, string>;
  /** whether an on-chain write of `value` is still due */
  due: boolean;
  /** the transaction that wrote it, once written */
  tx?: string;
  /** the generations of (from, to) it was observed in ([0, 0] in a state saved before they were kept) */
  eras?: Eras;
  /** set when its write was dropped because an id was reclaimed before it was written */
  stale?: boolean;
};

/** What an observation led to. */
export type ObserveResult = {
  from: string;
  to: string;
  round: number;
  /** observations of this round so far (the quorum when decided) */
  observed: number;
  quorum: number;
  decision?: Decision;
};

/** Serializable state of every pair. */
export type OracleState = {
  pairs: Record<
    string,
    { eras?: Eras; open: Record<string, { round: number; value: string }>; decided?: Omit<Decision, "value"> & { value: string } }
  >;
};

/** Parameters. */
export type OracleParams = {
  /** the reporters' addresses */
  reporters: readonly string[];
  /** distinct reporters that decide a round (1 ≤ quorum ≤ reporters) */
  quorum: number;
  /** the least change of the on-chain value worth a write (WAD, ≥ 0) */
  deviation: bigint;
};

const BYTES32 = /^0x[0-9a-f]{64}$/;

/** The median of values (mean of the two middle ones, truncated toward zero, for an even count). */
export function median(values: readonly bigint[]): bigint {
  if (values.length === 0) throw new RangeError("median: no values");
  const s = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2n;
}

/** The oracle's aggregation of observations into decided values per pair. */
export class OracleAggregator {
  private readonly reporters: Set<string>;

  /**
   * @param p - reporters, quorum, deviation
   * @param state - a saved state ({@link OracleAggregator.state}); empty by default
   * @throws RangeError on a quorum outside [1, reporters] or a negative deviation
   */
  constructor(
    readonly p: OracleParams,
    private s: OracleState = { pairs: {} },
  ) {
    this.reporters = new Set(p.reporters.map((r) => r.toLowerCase()));
    if (this.reporters.size !== p.reporters.length) throw new RangeError("oracle: a reporter is listed twice");
    if (!Number.isInteger(p.quorum) || p.quorum < 1 || p.quorum > this.reporters.size)
      throw new RangeError(
        `oracle: the quorum must be an integer from 1 to the number of reporters (${this.reporters.size}), got ${p.quorum}`,
      );
    if (p.deviation < 0n || p.deviation > 2n * ORACLE_WAD) throw new RangeError("oracle: the deviation must be in [0, 2] (WAD)");
  }

  /** A copy of the state to persist. */
  state(): OracleState {
    return JSON.parse(JSON.stringify(this.s)) as OracleState;
  }

  private static key(from: string, to: string): string {
    return `${from}|${to}`;
  }

  private decided(from: string, to: string): Decision | undefined {
    const d = this.s.pairs[OracleAggregator.key(from, to)]?.decided;
    return d && { ...d, value: BigInt(d.value) };
  }

  /**
   * Takes one observation. Changes nothing when it throws.
   * @param o - reporter, pair, round, value
   * @returns how many reporters observed the round, and the decision once there is one
   * @throws OracleError
   */
  observe(o: Observation): ObserveResult {
    const reporter = o.reporter.toLowerCase();
    const from = o.from.toLowerCase();
    const to = o.to.toLowerCase();
    if (!this.reporters.has(reporter))
      throw new OracleError("UNKNOWN_REPORTER", `oracle: ${o.reporter} is not one of the oracle's reporters`);
    if (!BYTES32.test(from) || !BYTES32.test(to)) throw new OracleError("BAD_PAIR", "oracle: from and to must be 32-byte entity ids");
    if (from === to) throw new OracleError("BAD_PAIR", "oracle: an entity's term about itself is not observed");
    if (!Number.isSafeInteger(o.round) || o.round < 1)
      throw new OracleError("BAD_ROUND", `oracle: round must be a positive integer, got ${o.round}`);
    if (typeof o.value !== "bigint" || o.value > ORACLE_WAD || o.value < -ORACLE_WAD)
      throw new OracleError("BAD_VALUE", `oracle: value must be in [-1, 1] (WAD), got ${String(o.value)}`);
    const eras: Eras = o.eras ?? [0, 0];
    if (!eras.every((g) => Number.isSafeInteger(g) && g >= 0) || eras.length !== 2)
      throw new OracleError("BAD_PAIR", "oracle: eras must be two generations (non-negative integers)");
    const key = OracleAggregator.key(from, to);
    const held = this.s.pairs[key];
    const heldEras: Eras = held?.eras ?? [0, 0];
    if (eras[0] < heldEras[0] || eras[1] < heldEras[1])
      throw new OracleError(
        "STALE_ERA",
        `oracle: this observation is of generations (${eras.join(", ")}) of the pair, which is at (${heldEras.join(", ")})`,
      );
    // a newer era of either id: the older era's open observations and decision are dropped
    const fresh = !held || eras[0] !== heldEras[0] || eras[1] !== heldEras[1];
    const pair = fresh ? { eras, open: {} as Record<string, { round: number; value: string }> } : { ...held, eras };
    const done = pair.decided;
    if (done && o.round <= done.round) {
      const mine = done.by[reporter];
      if (o.round === done.round && mine !== undefined) {
        if (BigInt(mine) !== o.value)
          throw new OracleError(
            "ALREADY_OBSERVED",
            `oracle: ${o.reporter} already observed round ${o.round} of this pair with another value`,
          );
        return { from, to, round: o.round, observed: Object.keys(done.by).length, quorum: this.p.quorum, decision: this.decided(from, to) };
      }
      throw new OracleError("STALE_ROUND", `oracle: round ${o.round} of this pair is at or below its decided round ${done.round}`);
    }
    const prev = pair.open[reporter];
    if (prev && prev.round === o.round && BigInt(prev.value) !== o.value)
      throw new OracleError("ALREADY_OBSERVED", `oracle: ${o.reporter} already observed round ${o.round} of this pair with another value`);
    if (prev && prev.round > o.round)
      throw new OracleError("STALE_ROUND", `oracle: ${o.reporter} already observed the later round ${prev.round} of this pair`);
    const open = { ...pair.open, [reporter]: { round: o.round, value: o.value.toString() } };
    const same = Object.entries(open).filter(([, v]) => v.round === o.round);
    if (same.length < this.p.quorum) {
      this.s.pairs[key] = { ...pair, open };
      return { from, to, round: o.round, observed: same.length, quorum: this.p.quorum };
    }
    const value = median(same.map(([, v]) => BigInt(v.value)));
    const by = Object.fromEntries(same);
    const rest = Object.fromEntries(Object.entries(open).filter(([, v]) => v.round > o.round));
    const decision: Decision = {
      round: o.round,
      value,
      by: Object.fromEntries(Object.entries(by).map(([r, v]) => [r, v.value])),
      due: true,
      eras,
    };
    this.s.pairs[key] = { eras, open: rest, decided: { ...decision, value: value.toString() } };
    return { from, to, round: o.round, observed: same.length, quorum: this.p.quorum, decision };
  }

  /**
   * Whether a decided value still needs writing, given what the chain holds now.
   * @returns the value to write, or undefined (nothing due, or the chain already within the deviation)
   */
  due(from: string, to: string, onChain: bigint): bigint | undefined {
    const d = this.decided(from.toLowerCase(), to.toLowerCase());
    if (!d?.due) return undefined;
    const diff = d.value > onChain ? d.value - onChain : onChain - d.value;
    if (diff === 0n || diff < this.p.deviation) return undefined;
    return d.value;
  }

  /** Marks a pair's decision as settled: written by `tx`, or (no tx) not worth a write. */
  written(from: string, to: string, tx?: string): void {
    const key = OracleAggregator.key(from.toLowerCase(), to.toLowerCase());
    const d = this.s.pairs[key]?.decided;
    if (!d) return;
    this.s.pairs[key] = { ...this.s.pairs[key], decided: { ...d, due: false, ...(tx ? { tx } : {}) } };
  }

  /**
   * Drops a pair's due write because an id moved to a newer generation before it was written:
   * the decision was observed of another era, and the new era starts with no term.
   */
  dropStale(from: string, to: string): void {
    const key = OracleAggregator.key(from.toLowerCase(), to.toLowerCase());
    const d = this.s.pairs[key]?.decided;
    if (!d) return;
    this.s.pairs[key] = { ...this.s.pairs[key], decided: { ...d, due: false, stale: true } };
  }

  /** Every pair whose decision still waits for its write (after a restart), with the eras it was observed in. */
  pending(): { from: string; to: string; eras: Eras }[] {
    return Object.entries(this.s.pairs)
      .filter(([, v]) => v.decided?.due)
      .map(([k, v]) => {
        const [from, to] = k.split("|");
        return { from, to, eras: v.decided!.eras ?? v.eras ?? [0, 0] };
      });
  }

  /** A pair's decision, if any. */
  decision(from: string, to: string): Decision | undefined {
    return this.decided(from.toLowerCase(), to.toLowerCase());
  }
}
