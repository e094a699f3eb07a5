/**
 * s23-rtm F5, the authorities' half: an authority does not approve a registration after the
 * deadline its user signed (`approveChecked` reads `Registration.consentDeadline`), and says so in
 * one line before sending anything; the ledger would refuse it too (Expired). Here the user signs a
 * one-hour consent, authority 0 proposes it and crashes; two hours later the user's retry reaches
 * authority 0, which asks authority 1: 1 refuses and approves nothing.
 * With the check removed from `approveChecked`, 1 sends the approval and the ledger's Expired comes back instead.
 */
import { expect } from "chai";
import hre from "hardhat";
import { Wallet } from "ethers";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deploySystemFixture } from "../fixtures/system";
import { funded, tmp } from "../helpers/rsms-services";
import { devKey, placeDeps } from "../helpers/mssa-services";
import { Keystore } from "../../offchain/storage/keystore";
import { placeId } from "../../offchain/mssa/registration";
import { AuthorityService, authorityRecord, importPlaceKey } from "../../offchain/services/mssa/authority-service";
import { registerRemote, userRecord, type MssaDeployment } from "../../offchain/services/mssa/clients";
import { onFault } from "../../offchain/services/faults";
import { CredentialLedger__factory } from "../../typechain-types";

const ONCE = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("services/mssa: the consent's deadline bounds the approval (s23-rtm F5)", function () {
  this.timeout(240_000);
  const services: AuthorityService[] = [];
  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    for (const s of services) await s.stop();
  });

  it("an honest authority does not approve a registration past its user's deadline", async () => {
    const f = await loadFixture(deploySystemFixture);
    const address = f.deployment.contracts.CredentialLedger.address;
    const au = [1, 2].map((i) => devKey(i).connect(hre.ethers.provider) as unknown as Wallet);
    const place = "PL-deadline-approve";
    const { chainId, placeKey, deps } = await placeDeps(address, place, au, { tag: "deadline" });
    const dep: MssaDeployment = { chainId, ledger: CredentialLedger__factory.connect(address, hre.ethers.provider) };
    for (const i of [0, 1]) {
      if (!deps[i].keystore.exists(authorityRecord(place))) importPlaceKey(deps[i].keystore, place, placeKey);
      const s = new AuthorityService(deps[i]);
      await s.start({ port: 0 });
      services.push(s);
    }
    const user = await funded();
    const ks = new Keystore(tmp("deadline-user"), "");
    const infos = [`mail:${place}@example.org`, `passport:UTO:DEADL1`];
    process.env.METATRUST_FAULT = "authority:after-propose";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    try {
      await expect(registerRemote({ place, user, infos, dep, keystore: ks, retry: ONCE, consentTtl: 3600 })).to.be.rejectedWith(/crash at/);
    } finally {
      delete process.env.METATRUST_FAULT;
      onFault(undefined);
    }
    const rec = ks.load(userRecord(place, user.address)) as { id: string };
    const reg = await dep.ledger.registration(rec.id);
    expect(reg.status).to.equal(1n);
    await time.increaseTo(reg.consentDeadline + 3600n);
    const r = await registerRemote({ place, user, infos, dep, keystore: ks, retry: ONCE }).catch((e: Error) => e);
    expect(r).to.be.instanceOf(Error);
    expect((r as Error).message).to.match(/consent runs out at \d+ \(the deadline the user signed\)/);
    expect(await dep.ledger.approvedBy(rec.id, au[1].address), "no approval").to.equal(false);
    expect((await dep.ledger.access(user.address, placeId(place)))[0]).to.equal(false);
  });
});
