/**
 * s17-redA F16, fixed (s17-fixA2): trust:agree journals its proposal before the send (keystore
 * `trust-agree-<request>`: the terms' createdAt, the block before the first send, the send's
 * account nonce) and a retry finds the AgreementFormed of the same terms instead of proposing again;
 * `--request` names a deliberate second agreement with the same content.
 *
 * The finding: `trust:agree` was not idempotent. The same command run again (what an operator does
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
import { TrustLedger, entityId, type AgreementIntent } from "../../offchain/trust/ledger";
import { FileContentStore } from "../../offchain/storage/content-store";
import fs from "fs";
import os from "os";
import path from "path";
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

  it("a new --request name is a deliberate second agreement; that name retried is still one", async () => {
    const tm = await hre.ethers.getContractAt("TrustManager", deploymentSummary(hre.network.name).addresses.TrustManager);
    const before = await tm.agreementNonce(entityId("guild"));
    const args = { org: "guild", avatars: "ann", days: 30, termination: "trust below Trust_min for 7 days", penalty: "reputation -0.1" };
    const r = await hre.run("trust:agree", { ...args, request: "renewal-1" });
    expect(r.existing).to.equal(false);
    const again = await hre.run("trust:agree", { ...args, request: "renewal-1" });
    expect([again.existing, again.id]).to.deep.equal([true, r.id]);
    expect(await tm.agreementNonce(entityId("guild"))).to.equal(before + 1n);
    await expect(hre.run("trust:agree", { ...args, request: "no spaces" })).to.be.rejectedWith(/--request must be/);
  });

  it("the reply lost inside the call (mined, then the wait throws): the ledger finds the agreement; a retry sends nothing", async () => {
    const tm = await hre.ethers.getContractAt("TrustManager", deploymentSummary(hre.network.name).addresses.TrustManager);
    const org = entityId("guild");
    const before = await tm.agreementNonce(org);
    // the transaction is sent and mined; the client sees a dropped connection instead of its response
    const lossy = new Proxy(tm, {
      get(t, k, r) {
        if (k !== "proposeAgreement") return Reflect.get(t, k, r);
        return async (...a: unknown[]) => {
          const tx = await (t.proposeAgreement as unknown as (...x: unknown[]) => Promise<{ wait(): Promise<unknown> }>)(...a);
          await tx.wait();
          throw Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
        };
      },
    });
    let kept: AgreementIntent | undefined;
    const journal = { load: () => kept, save: (i: AgreementIntent) => void (kept = i) };
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-fixA2-agree-")));
    const consent = async (controller: string) =>
      (await import("../../tasks/lib/context")).accountSigner(hre, controller, { flag: "controller" });
    const terms = { durationDays: 7, termination: ["lost reply"], penalties: ["none"] };
    const first = await new TrustLedger(lossy).proposeAgreement(store, org, [entityId("ann")], [5n * 10n ** 17n], terms, consent, journal);
    expect(first.existing, "the lost reply's agreement is found, not reported as a failure").to.equal(true);
    expect(await tm.agreementNonce(org)).to.equal(before + 1n);
    const retry = await new TrustLedger(tm).proposeAgreement(store, org, [entityId("ann")], [5n * 10n ** 17n], terms, consent, journal);
    expect([retry.existing, retry.id, retry.tx]).to.deep.equal([true, first.id, undefined]);
    expect(await tm.agreementNonce(org), "the retry proposed a second agreement").to.equal(before + 1n);
  });
});
