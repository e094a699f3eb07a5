/**
 * s17-redA F16: `trust:agree` is not idempotent. The same command run again (what an operator does
 * when the first run's reply was lost: the RPC connection dropped after the send, the terminal
 * closed, a timeout) proposes a second agreement with the same organization, avatars, thresholds
 * and terms: agreementNonce moves twice, two agreements are on-chain, and each asks for the
 * avatars' consent and credits again. Charter: a retry never has a second effect. (`dispute:open`
 * journals its request before the send and finds its DisputeOpened on a retry, h13-red D2; a
 * deliberate second dispute with the same content takes another --request name. trust:agree has
 * neither.)
 */
import { expect } from "chai";
import hre from "hardhat";
import { deploymentSummary } from "../../offchain/chain/deployments";
import { entityId } from "../../offchain/trust/ledger";
import { useTaskSandbox } from "../helpers/tasks";

describe("trust:agree: the same agreement proposed again is one agreement (s17-redA F16)", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-redA-agree-");

  it("run twice with the same flags: one agreement on-chain", async () => {
    await hre.run("trust:register", { entity: "ann", type: "avatar", verified: true, account: "ann" });
    await hre.run("trust:register", { entity: "guild", type: "organization", verified: true });
    const tm = await hre.ethers.getContractAt("TrustManager", deploymentSummary(hre.network.name).addresses.TrustManager);
    const before = await tm.agreementNonce(entityId("guild"));
    const args = { org: "guild", avatars: "ann", days: 30, termination: "trust below Trust_min for 7 days", penalty: "reputation -0.1" };
    await hre.run("trust:agree", args);
    // the reply was lost: the operator runs the same command again
    await hre.run("trust:agree", args).catch(() => undefined);
    expect(await tm.agreementNonce(entityId("guild"))).to.equal(before + 1n, "the retry proposed a second agreement");
  });
});
