/**
 * The client of the trust detector service: asks it to run now (`POST /v1/detect`) and checks that
 * the reply is the detector account's answer to this very request.
 */
import { toBytes } from "../../crypto/bytes";
import { postEnvelope, type RetryPolicy, DEFAULT_RETRY } from "../client";
import { freshId, fromAccount } from "../common";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope, verifyEnvelope } from "../envelope";
import type { DetectorRun } from "./detector-service";

/** Where the detector is and who it must be. */
export type DetectorEndpoint = {
  url: string;
  chainId: bigint;
  /** the TrustManager's address (the detector's audience is bound to it) */
  trustManager: string;
  /** the detector's account (DETECTOR_ROLE): the reply must be signed by it */
  account: string;
};

/**
 * Runs the detectors now, on the service.
 * @param d - the service
 * @param retry - the retry policy (a retry resends the same bytes; the reply cache answers it once)
 * @returns the run: ratings read, the report's CID, detections and flags
 * @throws ServiceError, EnvelopeError (a reply not signed by `d.account`, or not to this request)
 */
export async function detectRemote(d: DetectorEndpoint, retry: RetryPolicy = DEFAULT_RETRY): Promise<DetectorRun> {
  const audience = audienceOf(d.chainId, d.trustManager, "detector");
  const req = sealEnvelope(
    {
      kind: Kind.Request,
      route: Route.Detect,
      audience,
      session: freshId(),
      requestId: freshId(),
      issuedAt: Date.now(),
      inReplyTo: new Uint8Array(32),
      body: toBytes(""),
    },
    { scheme: Scheme.None },
  );
  const reply = openEnvelope(await postEnvelope(d.url, "/v1/detect", req, retry));
  verifyEnvelope(reply, { kind: Kind.Reply, route: Route.Detect, audience, sender: fromAccount(d.account), request: req });
  return JSON.parse(new TextDecoder().decode(reply.body)) as DetectorRun;
}
