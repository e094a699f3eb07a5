/**
 * SIMULATED single-photon channel with decoy photons (MSSA paper, Steps 5-7). Nothing here is
 * quantum hardware: each photon is a classical record (basis, bit) and a measurement follows the
 * textbook rule (the preparation basis gives the bit; the conjugate basis gives a uniform bit).
 * What the simulation computes is the statistics the protocol relies on: an intercept-resend
 * eavesdropper who guesses the basis wrongly half the time disturbs each decoy with probability
 * 1/4, so d decoys detect her with probability 1 - (3/4)^d when any error rejects.
 */
import { randomBytes } from "@noble/hashes/utils.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { MetatrustError } from "../errors";
import { Bits } from "./bits";

/** Z = {|0>, |1>}, X = {|+>, |->}. */
export type Basis = "Z" | "X";
/** A single photon: the basis it was prepared in and the bit it encodes. */
export type Photon = { basis: Basis; bit: 0 | 1 };

/** A source of uniform doubles in [0, 1): the CSPRNG by default, a seeded Prng in tests. */
export type Rng = { next(): number };

/** Uniform doubles from the CSPRNG. */
export const cryptoRng: Rng = {
  next() {
    const b = randomBytes(6);
    return (b[0] * 2 ** 40 + b[1] * 2 ** 32 + b[2] * 2 ** 24 + b[3] * 2 ** 16 + b[4] * 2 ** 8 + b[5]) / 2 ** 48;
  },
};

const coin = (rng: Rng): 0 | 1 => (rng.next() < 0.5 ? 0 : 1);
const basisOf = (rng: Rng): Basis => (rng.next() < 0.5 ? "Z" : "X");

/** Measures a photon in `basis`: the encoded bit in its own basis, a fair coin in the other. */
export function measure(p: Photon, basis: Basis, rng: Rng): 0 | 1 {
  return p.basis === basis ? p.bit : coin(rng);
}

/** Who is on the line. */
export type Eavesdropper = {
  /** the fraction of photons she intercepts, measures in a random basis and resends */
  fraction: number;
};

/** Transmission settings. */
export type ChannelOptions = {
  /** number of decoy photons interleaved (Step 6) */
  decoys: number;
  /** highest decoy error rate accepted (Step 7) */
  threshold: number;
  /** an intercept-resend eavesdropper, if any */
  eve?: Eavesdropper;
  /** probability that the channel itself flips a photon (depolarizing noise); 0 by default */
  noise?: number;
  rng?: Rng;
};

/** Defaults: 64 decoys, reject above 11% errors (the usual BB84 bound). */
export const DEFAULT_CHANNEL: ChannelOptions = { decoys: 64, threshold: 0.11 };

/** What the receiver learns. */
export type Transmission = {
  /** the data bits as measured by the receiver (meaningful only if accepted) */
  received: Bits;
  decoys: number;
  decoyErrors: number;
  errorRate: number;
  /** the decoy error rate is at most the threshold (Step 7, the paper's rule) */
  decoyCheck: boolean;
  /**
   * key confirmation after the decoy check (h15-red2 R9): the sender reveals SHA-256(nonce ‖ data)
   * over the authenticated classical channel and the receiver compares it with the bits it
   * measured; false when they differ (or when the decoy check failed and none was run)
   */
  confirmed: boolean;
  /** the decoy check passed and the key is confirmed: the receiver holds exactly the data */
  accepted: boolean;
  /** data bits that arrived flipped (for reporting; the receiver cannot see this) */
  dataErrors: number;
};

/** The decoy error rate was above the threshold: the block is discarded (Step 7). */
export class EavesdroppingDetectedError extends MetatrustError {
  /** `confirmationFailed`: the decoy check passed but the key confirmation did not (h15-red2 R9) */
  constructor(
    readonly errorRate: number,
    readonly threshold: number,
    readonly confirmationFailed = false,
  ) {
    super(
      "PROTOCOL_REJECTED",
      confirmationFailed
        ? `decoy error rate ${(errorRate * 100).toFixed(1)}% within the threshold ${(threshold * 100).toFixed(1)}%, but the key confirmation failed (the data arrived altered): the block is discarded (simulated channel)`
        : `decoy error rate ${(errorRate * 100).toFixed(1)}% above the threshold ${(threshold * 100).toFixed(1)}%: the block is discarded (simulated channel)`,
    );
  }

  /** The refusal of a transmission that was not accepted. */
  static of(t: Transmission, threshold: number): EavesdroppingDetectedError {
    return new EavesdroppingDetectedError(t.errorRate, threshold, t.decoyCheck && !t.confirmed);
  }
}

/**
 * Steps 5-7 (simulated): the sender prepares one photon per bit in a random basis, interleaves
 * `decoys` random photons at random positions, sends; after reception it reveals the positions
 * and bases, and the receiver measures and counts decoy errors.
 */
export function transmit(data: Bits, opts: ChannelOptions = DEFAULT_CHANNEL): Transmission {
  const rng = opts.rng ?? cryptoRng;
  const { decoys, threshold } = opts;
  if (!Number.isInteger(decoys) || decoys < 1) throw new RangeError("at least one decoy photon is needed");
  if (!(threshold >= 0 && threshold < 1)) throw new RangeError("the threshold is a rate in [0, 1)");
  const fraction = opts.eve?.fraction ?? 0;
  const noise = opts.noise ?? 0;
  if (!(fraction >= 0 && fraction <= 1) || !(noise >= 0 && noise <= 1)) throw new RangeError("rates are in [0, 1]");
  // Step 5: Ph_alice, one photon per bit in a random basis. Step 6: Dp_alice and the interleaving.
  const bits = data.toArray();
  const total = bits.length + decoys;
  const isDecoy = new Array<boolean>(total).fill(false);
  // A uniformly random set of decoy positions (partial Fisher-Yates).
  const idx = Array.from({ length: total }, (_, i) => i);
  for (let i = 0; i < decoys; i++) {
    const j = i + Math.floor(rng.next() * (total - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
    isDecoy[idx[i]] = true;
  }
  const sent: Photon[] = [];
  let d = 0;
  for (let i = 0; i < total; i++) {
    if (isDecoy[i]) sent.push({ basis: basisOf(rng), bit: coin(rng) });
    else sent.push({ basis: basisOf(rng), bit: bits[d++] });
  }
  // The line: Eve intercepts and resends what she measured, in the basis she guessed.
  const arrived = sent.map((p) => {
    let q = p;
    if (fraction > 0 && rng.next() < fraction) {
      const b = basisOf(rng);
      q = { basis: b, bit: measure(q, b, rng) };
    }
    if (noise > 0 && rng.next() < noise) q = { basis: q.basis, bit: (1 - q.bit) as 0 | 1 };
    return q;
  });
  // Step 7: the positions and bases are revealed; the receiver measures in the sender's bases.
  let decoyErrors = 0;
  let dataErrors = 0;
  const received: number[] = [];
  for (let i = 0; i < total; i++) {
    const m = measure(arrived[i], sent[i].basis, rng);
    if (isDecoy[i]) decoyErrors += m !== sent[i].bit ? 1 : 0;
    else {
      received.push(m);
      dataErrors += m !== sent[i].bit ? 1 : 0;
    }
  }
  const errorRate = decoyErrors / decoys;
  const decoyCheck = errorRate <= threshold;
  const got = Bits.fromArray(received);
  // Key confirmation (h15-red2 R9): the 11% threshold is BB84's bound for a protocol followed by
  // error correction and privacy amplification, neither of which is simulated; the bits are used
  // raw as a one-time pad, so an accepted key must be exact. The sender reveals a hash of the data
  // under a fresh nonce; any difference (a partial eavesdropper, noise) discards the block.
  let confirmed = false;
  if (decoyCheck) {
    const nonce = randomBytes(16);
    const digest = (b: Bits) => sha256(Uint8Array.from([...nonce, ...b.bytes]));
    const [x, y] = [digest(data), digest(got)];
    confirmed = x.every((v, i) => v === y[i]);
  }
  return { received: got, decoys, decoyErrors, errorRate, decoyCheck, confirmed, accepted: decoyCheck && confirmed, dataErrors };
}

/** The theory: P(at least one of d decoys is disturbed by a full intercept-resend) = 1 - (3/4)^d. */
export function detectionProbability(d: number): number {
  return 1 - 0.75 ** d;
}

/** P(Bin(d, 1/4) / d > threshold): rejection under the threshold rule with a full intercept-resend. */
export function thresholdDetectionProbability(d: number, threshold: number): number {
  let p = 0;
  let c = 1; // C(d, k)
  for (let k = 0; k <= d; k++) {
    if (k > 0) c = (c * (d - k + 1)) / k;
    if (k / d > threshold) p += c * 0.25 ** k * 0.75 ** (d - k);
  }
  return p;
}
