/**
 * The detection pipeline: reads the rating history from the chain, runs the detectors (Sybil
 * first, so that mouthing is judged against non-Sybil raters and on-off against credible ones),
 * stores the report on IPFS and flags each new detection on-chain with the report's digest.
 */
import type { ContentStore } from "../storage/content-store";
import { AttackKind, Detection, detectAll } from "./detectors";
import type { TrustLedger } from "./ledger";
import { cidOf, encodeJson } from "../storage/content-store";

const KIND_NAME: Record<number, string> = { 0: "sybil", 1: "on-off", 2: "good-mouthing", 3: "bad-mouthing" };

/** One detection as reported. */
export type ReportedDetection = Detection & { kindName: string; flagged: boolean };

/**
 * Runs every detector over the chain's ratings.
 * @param o.flag - flag new detections on-chain (needs DETECTOR_ROLE)
 * @returns the detections, the report's CID and counts
 */
export async function runDetectors(ledger: TrustLedger, store: ContentStore, o: { flag: boolean }) {
  const ratings = await ledger.ratings();
  const entities = await ledger.entities();
  const nodes = entities.map((e) => e.id);
  const seeds = new Set<string>();
  for (const e of entities) if (await ledger.tm.isIdentityVerified(e.id)) seeds.add(e.id);
  const all: Detection[] = detectAll(ratings, nodes, seeds);
  const report = {
    generatedAt: new Date().toISOString(),
    ratings: ratings.length,
    detections: all.map((d) => ({ ...d, kindName: KIND_NAME[d.kind] })),
  };
  const cid = await store.putJson(report);
  const digest = (await cidOf(encodeJson(report), "dag-json")).multihash.digest;
  const out: ReportedDetection[] = [];
  for (const d of all) {
    const e = await ledger.tm.entity(d.entity);
    const already = (Number(e.flags) & (1 << d.kind)) !== 0;
    let flagged = already;
    if (o.flag && !already) {
      await ledger.flag(d.entity, d.kind, digest);
      flagged = true;
    }
    out.push({ ...d, kindName: KIND_NAME[d.kind], flagged });
  }
  return { detections: out, cid, ratings: ratings.length, entities: nodes.length };
}

export { AttackKind };
