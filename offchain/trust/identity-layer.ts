/**
 * The identity layer applied to the detectors' effective trust (issue 15, whitewashing;
 * docs/specs/trust.md §6): what `TrustManager._effectiveTrust` does on-chain, applied to the
 * aggregate beta reputation of `robust.analyze`, so that the adversary suite can measure a
 * whitewasher's damage with it.
 *
 *   trust(j) = (2·p0(j) + Σ w·v) / (2 + Σ w) · (verified(j) ? 1 : u) · (flagged(j) ? f : 1)
 *   p0(j) = b for a verified identity, b·f for an unverified one
 *
 * with the deployed model's b = 0.5 (baseline), u = 0.5 (Eq. 13's identity factor when I = 0) and
 * f = 0.2 (the flag factor). For a verified identity this is robust.ts's beta reputation
 * (1 + Σ w·v) / (2 + Σ w) unchanged. An unverified identity nobody has rated sits at b·u·f = 0.05,
 * what `trustOf` gives a stranger's fresh unverified identity (§6 rule 2), and evidence of good
 * service lifts it towards u times its service, never above u: standing beyond that takes a
 * verified identity, which costs a person (one MIT per person: the IdP refuses a second enrolment
 * of the same eye).
 */
import type { Analysis } from "./robust";

/** Which identities are verified, and the model's factors (defaults: the deployed model's). */
export type IdentityLayer = {
  /** identities whose identity is verified (Eq. 13: I = 1) */
  verified: ReadonlySet<string>;
  /** the baseline trust b, the prior of a verified identity (default 0.5) */
  baseline?: number;
  /** u, the factor of an unverified identity (default 0.5) */
  unverifiedFactor?: number;
  /** f, the factor of a flagged identity, also the stranger discount of an unverified one (default 0.2) */
  flaggedFactor?: number;
};

/**
 * Effective trust of every analysed entity with the identity layer applied.
 * @param support - `Analysis.support` of `robust.analyze` (Σ w·v, Σ w and the flag, per entity)
 * @param layer - the verified identities and the model's factors
 * @returns trust in [0, 1] per entity
 * @throws Error if a factor or the baseline is outside [0, 1]
 */
export function withIdentityLayer(support: Analysis["support"], layer: IdentityLayer): Map<string, number> {
  const b = layer.baseline ?? 0.5;
  const u = layer.unverifiedFactor ?? 0.5;
  const f = layer.flaggedFactor ?? 0.2;
  for (const [name, x] of [
    ["baseline", b],
    ["unverifiedFactor", u],
    ["flaggedFactor", f],
  ] as const)
    if (!(x >= 0 && x <= 1)) throw new Error(`withIdentityLayer: ${name} must be in [0, 1], got ${x}`);
  const out = new Map<string, number>();
  for (const [id, s] of support) {
    const verified = layer.verified.has(id);
    const p0 = verified ? b : b * f;
    const t = ((2 * p0 + s.value) / (2 + s.weight)) * (verified ? 1 : u) * (s.flagged ? f : 1);
    out.set(id, t);
  }
  return out;
}
