/**
 * A bad-mouthing ring in a court deployment (test/fixtures/disputes.ts): four honest avatars (ann, ben, cat, dan,
 * verified) rate ann, cat and dan at 0.9, and a ring of three (eve, fay, gus) rates them at 0.05. The detectors'
 * first run flags the ring for bad-mouthing. Used by the flag-run tests (s20-redt F3).
 */
import { mine } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployDisputeFixture } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import * as F from "../../offchain/trust/fixed";
import { TrustLedger } from "../../offchain/trust/ledger";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";

export const HONEST = ["ann", "ben", "cat", "dan"];
export const RING = ["eve", "fay", "gus"];
/** the flag kind the ring is detected for */
export const BAD_MOUTHING = 3;

/**
 * @param o.ring - "unverified": the ring is never verified; "suspended": everyone is verified (so the ring is old
 *   enough to vote at any later snapshot: the standing dates from the first verification), then the ring's
 *   verification is suspended before the ratings (a verified identity is a seed of the detectors' reference, and
 *   three lying seeds of seven hide themselves); a test gives it back when it needs the ring to commit
 * @returns the deployment, the names (honest first), each name's signer by index, and `rate(k, to, score)`
 */
export async function ringWorld(o: { ring: "unverified" | "suspended" }) {
  const f = await deployDisputeFixture();
  const names = [...HONEST, ...RING];
  const signer = (k: number) => f.others[1 + k];
  for (const [k, n] of names.entries()) {
    await f.trust.connect(signer(k)).register(id(n), Kind.Avatar);
    if (o.ring === "suspended" || !RING.includes(n)) await f.trust.setIdentityVerified(id(n), true);
  }
  await mine(Number(P.minAge) + 1);
  if (o.ring === "suspended") for (const n of RING) await f.trust.setIdentityVerified(id(n), false);
  const rate = (k: number, to: string, score: number) =>
    new TrustLedger(f.trust.connect(signer(k))).rate(id(names[k]), id(to), F.packFactors(Array(6).fill(score)));
  for (const target of ["ann", "cat", "dan"]) {
    for (const k of [0, 1, 2, 3]) if (names[k] !== target) await rate(k, target, 0.9);
    for (const k of [4, 5, 6]) await rate(k, target, 0.05);
  }
  return { f, names, ring: RING, signer, rate };
}
