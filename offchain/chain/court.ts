/**
 * The MITRegistry's court (h15-red3 H1): COURT_ROLE binds to its first holder for good, and the IdP
 * traces a case a dispute claimed once that court's verdict upholds it (`CourtUpheld`). The deploy
 * wiring and the IdP service check that the court is the deployment's DisputeResolution (session
 * 16's final read: nothing read `boundCourt()`, so a registry bound to another court, an older
 * DisputeResolution kept by a resumed deployment, went unnoticed).
 */
import { ZeroAddress, getAddress } from "ethers";
import { MetatrustError } from "../errors";

/** The registry's side: its address and the court it binds. */
export type CourtBinding = { target: unknown; boundCourt(): Promise<string> };

/**
 * The court the registry binds, checked against the deployment's DisputeResolution.
 * @param registry - the MITRegistry (any runner)
 * @param court - the deployment's DisputeResolution address
 * @param who - the caller, for the message ("deploy", "IdpService")
 * @param unboundOk - whether no court yet is acceptable (the deploy wiring, before it grants the role)
 * @returns the bound court (ZeroAddress when none and `unboundOk`)
 * @throws MetatrustError(DEPLOYMENT_NOT_FOUND) naming both contracts when the registry binds another court, or none
 */
export async function checkBoundCourt(registry: CourtBinding, court: string, who: string, unboundOk = false): Promise<string> {
  const bound = getAddress(await registry.boundCourt());
  if (bound === getAddress(court) || (unboundOk && bound === ZeroAddress)) return bound;
  throw new MetatrustError(
    "DEPLOYMENT_NOT_FOUND",
    `${who}: the MITRegistry ${String(registry.target)} binds COURT_ROLE to ${bound === ZeroAddress ? "no court" : bound}, not the deployment's DisputeResolution ${getAddress(court)} (a court binds once: only a new MITRegistry takes another, and \`deploy --fresh\` redeploys every contract, leaving all on-chain state behind)`,
  );
}
