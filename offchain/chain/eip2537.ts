/**
 * Checks that a network runs the EIP-2537 BLS12-381 precompiles, by asking its PAIRING
 * precompile (0x0f) to evaluate a product that noble computes to be 1, and one that is not.
 * On a pre-Prague chain the call succeeds with empty data, which is reported as "absent".
 */
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { encodePairingInput, G1, G2 } from "../crypto/bls";
import { toHex } from "../crypto/bytes";

/** Minimal provider surface (an ethers Provider fits). */
export type CallProvider = { call(tx: { to: string; data: string }): Promise<string> };

/** Address of the EIP-2537 PAIRING precompile. */
export const PAIRING_PRECOMPILE = "0x000000000000000000000000000000000000000f";

/**
 * Probes the network's pairing precompile against noble.
 * @param provider - a JSON-RPC provider
 * @returns true iff e(aP, bQ) * e(-abP, Q) = 1 is accepted and e(P, Q) * e(P, Q) = 1 is rejected
 */
export async function probeEip2537(provider: CallProvider): Promise<boolean> {
  const a = bls12_381.utils.randomSecretKey();
  const ai = BigInt(toHex(a)) % G1.Fn.ORDER || 1n;
  const good = encodePairingInput([
    { g1: G1.BASE.multiply(ai), g2: G2.BASE },
    { g1: G1.BASE.negate(), g2: G2.BASE.multiply(ai) },
  ]);
  const bad = encodePairingInput([
    { g1: G1.BASE, g2: G2.BASE },
    { g1: G1.BASE, g2: G2.BASE },
  ]);
  try {
    const [r1, r2] = await Promise.all([
      provider.call({ to: PAIRING_PRECOMPILE, data: toHex(good) }),
      provider.call({ to: PAIRING_PRECOMPILE, data: toHex(bad) }),
    ]);
    return BigInt(r1 === "0x" ? 0 : r1) === 1n && r2 !== "0x" && BigInt(r2) === 0n;
  } catch {
    return false;
  }
}
