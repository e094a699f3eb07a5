/**
 * The clients of the trust services: asks the detector to run now (`POST /v1/detect`), and sends a
 * reporter's observation to the oracle (`POST /v1/oracle/observe`); each checks that the reply is the
 * service account's answer to this very request.
 */
import { toBytes } from "../../crypto/bytes";
import { postEnvelope, type RetryPolicy, DEFAULT_RETRY } from "../client";
import type { BaseWallet } from "ethers";
import { accountSigner, freshId, fromAccount } from "../common";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope, verifyEnvelope } from "../envelope";
import type { DetectorRun } from "./detector-service";
import type { ObserveReply } from "./oracle-service";

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

/** Where the oracle is and who it must be. */
export type OracleEndpoint = {
  url: string;
  chainId: bigint;
  /** the TrustManager's address (the oracle's audience is bound to it) */
  trustManager: string;
  /** the oracle's account (ORACLE_ROLE): the reply must be signed by it */
  account: string;
};

/** A reporter's observation: the pair, the round, the value (WAD) and the two ids' generations it observed. */
export type Observed = { from: string; to: string; round: number; value: bigint; eras: [number, number] };

/**
 * The request envelope of a reporter's observation (what {@link observeRemote} posts): signed by the
 * reporter's account, addressed to the oracle of this chain's TrustManager, with a fresh request id.
 * @param d - the oracle's chain and TrustManager
 * @param reporter - the reporter's account key
 * @param o - the pair (entity ids), the round, the value (WAD) and the eras observed (the two ids'
 *   generations, `TrustManager.generationOf`, when the reporter observed them), or (tests) any body
 * @returns the envelope's bytes
 */
export function observationEnvelope(
  d: Pick<OracleEndpoint, "chainId" | "trustManager">,
  reporter: BaseWallet,
  o: Observed | { body: Uint8Array },
): Uint8Array {
  return sealEnvelope(
    {
      kind: Kind.Request,
      route: Route.OracleObserve,
      audience: audienceOf(d.chainId, d.trustManager, "oracle"),
      session: freshId(),
      requestId: freshId(),
      issuedAt: Date.now(),
      inReplyTo: new Uint8Array(32),
      body:
        "body" in o ? o.body : toBytes(JSON.stringify({ from: o.from, to: o.to, round: o.round, value: o.value.toString(), eras: o.eras })),
    },
    accountSigner(reporter),
  );
}

/**
 * A reporter's observation of O_ij for one round, signed by the reporter's account.
 * @param d - the service
 * @param reporter - the reporter's account key
 * @param o - the pair (entity ids), the round, the value (WAD, in [-1e18, 1e18]) and the eras observed:
 *   the generations of (from, to) when the reporter observed them; the service refuses (STALE_ERA)
 *   an observation of an era that is not the pair's when it arrives (an id reclaimed since)
 * @param retry - the retry policy (a retry resends the same bytes; the service answers it once)
 * @returns observations of the round so far, and the decision (median, its write) once a quorum observed it
 * @throws ServiceError (refused: UNKNOWN_REPORTER, STALE_ROUND, STALE_ERA, ALREADY_OBSERVED, UNKNOWN_ENTITY, ...), EnvelopeError
 */
export async function observeRemote(
  d: OracleEndpoint,
  reporter: BaseWallet,
  o: Observed,
  retry: RetryPolicy = DEFAULT_RETRY,
): Promise<ObserveReply> {
  const req = observationEnvelope(d, reporter, o);
  const reply = openEnvelope(await postEnvelope(d.url, "/v1/oracle/observe", req, retry));
  verifyEnvelope(reply, {
    kind: Kind.Reply,
    route: Route.OracleObserve,
    audience: audienceOf(d.chainId, d.trustManager, "oracle"),
    sender: fromAccount(d.account),
    request: req,
  });
  return JSON.parse(new TextDecoder().decode(reply.body)) as ObserveReply;
}
