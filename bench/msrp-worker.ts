/**
 * Worker of bench/rsms.bench.ts's MSRP throughput: a long-lived verifier thread. It restores the
 * MSRP from its record once, then verifies each batch of forwarded joins it is sent (one message
 * carries many joins: a message per join would cost more than the verification) and answers with
 * how many verified. The MSRP's state stays with the main thread: a worker checks, the main
 * thread commits.
 */
import { parentPort, workerData } from "worker_threads";
import { cryptoReady } from "../offchain/crypto/backend";
import { Msrp, MsrpRecord } from "../offchain/rsms/msrp";

/** A batch to verify. */
export type VerifyBatch = { id: number; forwards: Uint8Array[]; now: number };
/** The answer to a batch. */
export type VerifiedBatch = { id: number; verified: number; refused: number };

async function main(): Promise<void> {
  const { record } = workerData as { record: MsrpRecord };
  const backends = await cryptoReady();
  const msrp = Msrp.fromRecord(record);
  parentPort!.on("message", (b: VerifyBatch) => {
    let verified = 0;
    for (const f of b.forwards)
      try {
        msrp.verifyJoin(f, b.now);
        verified++;
      } catch {
        /* counted as refused */
      }
    parentPort!.postMessage({ id: b.id, verified, refused: b.forwards.length - verified } satisfies VerifiedBatch);
  });
  parentPort!.postMessage({ ready: backends.group });
}

void main();
