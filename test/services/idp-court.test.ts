/**
 * Session 16's final read, fixed: nothing read `MITRegistry.boundCourt()`. The IdP traces a case an
 * avatar dispute claimed once the court's verdict upholds it, so it must serve the registry whose
 * court is the deployment's DisputeResolution; the service now checks that at start and refuses
 * otherwise, in one line naming both contracts, before it recovers, serves or announces anything.
 * (The deploy wiring's check: test/chain/deploy.test.ts.)
 */
import { expect } from "chai";
import { getAddress } from "ethers";
import { idpSystem } from "../helpers/idp-services";
import { IdpService } from "../../offchain/services/avatars/idp-service";

describe("services/avatars: the IdP serves only a registry bound to the deployment's court", function () {
  this.timeout(120_000);

  it("a court other than the registry's is refused at start, one line naming both; nothing announced; the deployment's court starts", async () => {
    const s = await idpSystem("idp-court");
    const court = s.f.deployment.contracts.DisputeResolution.address;
    const other = s.f.deployment.contracts.TrustManager.address; // any other contract
    const announced = await s.dep.registry.idpEndpoint();
    const wrong = new IdpService({ ...s.deps, court: other });
    let err: Error | undefined;
    await wrong.start({ port: 0 }).catch((e: Error) => (err = e));
    await wrong.stop();
    expect(err?.message).to.equal(
      `IdpService: the MITRegistry ${String(s.deps.registry.target)} binds COURT_ROLE to ${getAddress(court)}, not the deployment's DisputeResolution ${getAddress(other)} (a court binds once: only a new MITRegistry takes another, and \`deploy --fresh\` redeploys every contract, leaving all on-chain state behind)`,
    );
    expect(await s.dep.registry.idpEndpoint()).to.deep.equal(announced);
    const right = new IdpService(s.deps);
    try {
      await right.start({ port: 0 });
      expect((await s.dep.registry.idpEndpoint()).endpoint).to.not.equal("");
    } finally {
      await right.stop();
    }
  });
});
