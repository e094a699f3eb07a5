/**
 * `--abandon` for a request a client keeps pending (session 13). A client keeps the request it
 * sent (and the keys its reply will be sealed to) until the request is answered or refused for
 * good ({@link settlePending}, offchain/services/client.ts): a 409 may be the service's own
 * half-done state for this very request, so the next run resends the same bytes. A genuine,
 * lasting 409 (an RN name another RN took, a group the MSRP cannot staff) then comes back on every
 * run, and the only way out was deleting a keystore file by hand.
 *
 * {@link abandonPending} drops the pending record only when both the chain and the service say
 * the request did not take effect:
 * 1. the chain first (where the request's effect is visible there: a pool, a group, an MIT): seen
 *    on-chain, it is refused ("it took effect"), nothing dropped;
 * 2. the same request sent once more, through the client's own path: answered, it took effect
 *    (the client completes it as a normal run would, its record written) and nothing is
 *    abandoned; refused with a 4xx other than a rate limit (a 409, a 422, a QUOTA_EXCEEDED), the
 *    service has not served these bytes (a served request is answered from its reply cache); not
 *    reached, a 5xx or a rate limit: nothing can be confirmed, nothing dropped;
 * 3. the chain again (the resend could have raced an effect), then the record is dropped.
 * Every outcome is one line naming the task and the record.
 */
import { MetatrustError } from "../errors";
import type { Keystore } from "../storage/keystore";
import { ServiceError } from "./client";

/** `--abandon` refused: the request took effect, or nothing could be confirmed (nothing dropped). */
export class AbandonRefusedError extends MetatrustError {
  constructor(message: string) {
    super("AGENT_STATE", message);
  }
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0].replace(/ \(the request is kept: .*\)$/, "");

/**
 * Drops a kept request after confirming that it did not take effect (see the module's header).
 * @param o.task - the task and its subject, for the messages ("rsms:rn:register --name edge-1")
 * @param o.keystore - where the pending record is
 * @param o.pending - its name
 * @param o.resend - the client's normal call, which resends the kept bytes (and completes the
 *   request if the service answers)
 * @param o.onChain - the request's effect as the chain shows it (a sentence), if it is there
 * @returns what was done (one line)
 * @throws AbandonRefusedError when there is nothing pending, the request took effect, or the
 *   service could not be asked
 */
export async function abandonPending(o: {
  task: string;
  keystore: Keystore;
  pending: string;
  resend: () => Promise<unknown>;
  onChain?: () => Promise<string | undefined>;
}): Promise<string> {
  const head = `${o.task} --abandon`;
  if (!o.keystore.exists(o.pending)) throw new AbandonRefusedError(`${head}: no pending request in this folder (${o.pending})`);
  const took = async () => {
    const seen = await o.onChain?.();
    if (seen)
      throw new AbandonRefusedError(`${head}: the request took effect (${seen}); ${o.pending} kept: run without --abandon to finish it`);
  };
  await took();
  let refusal: ServiceError | undefined;
  try {
    await o.resend();
  } catch (e) {
    const final = e instanceof ServiceError && e.status >= 400 && e.status < 500 && (e.status !== 429 || e.code === "QUOTA_EXCEEDED");
    if (!final)
      throw new AbandonRefusedError(
        `${head}: could not confirm with the service that the request did not take effect (${firstLine(e)}); ${o.pending} kept`,
      );
    refusal = e;
  }
  if (!refusal) throw new AbandonRefusedError(`${head}: the service answered the kept request: it took effect and is completed now`);
  // a refusal for good already dropped it (settlePending)
  if (!o.keystore.exists(o.pending))
    return `${head}: the service refused the request for good (${firstLine(refusal)}); ${o.pending} dropped`;
  await took();
  o.keystore.remove(o.pending);
  return `${head}: the service refused the kept request (${firstLine(refusal)}) and it is not in effect; ${o.pending} dropped`;
}
