/**
 * Worker of bench/rsms.bench.ts's MSRP throughput: restores the MSRP from its record and verifies
 * its share of the forwarded joins (a sharded verifier: each worker holds the record and checks
 * forwards on its own core), then reports how many it verified and how long it took.
 */
import { parentPort, workerData } from "worker_threads";
import { cryptoReady } from "../offchain/crypto/backend";
import { Msrp, MsrpRecord } from "../offchain/protocols/rsms/msrp";

async function main(): Promise<void> {
  const { record, forwards, now } = workerData as { record: MsrpRecord; forwards: Uint8Array[]; now: number };
  await cryptoReady();
  const msrp = Msrp.fromRecord(record);
  msrp.verifyJoin(forwards[0], now); // warm-up
  parentPort!.postMessage({ ready: true });
  await new Promise((r) => parentPort!.once("message", r));
  const t0 = performance.now();
  for (const f of forwards) msrp.verifyJoin(f, now);
  parentPort!.postMessage({ n: forwards.length, ms: performance.now() - t0 });
}

void main();
