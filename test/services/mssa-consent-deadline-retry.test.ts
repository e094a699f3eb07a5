/**
 * s23-review finding 1 (fixed by s23-fxrev2: offchain/mssa/registration.ts pendingExpiry/pendingLive): F5 moved the ledger's expiry of a pending registration to
 * min(proposedAt + PENDING_TTL, consentDeadline + 1) (CredentialLedger._expiry/_live), but the
 * off-chain mirrors still read proposedAt + PENDING_TTL: the user's client
 * (offchain/services/mssa/clients.ts, `live`) and mssa:register's resume (tasks/mssa.ts). A user
 * whose one-hour consent ran out before the approvals (a verifier crash after propose) retries:
 * her client thinks the proposal live, resumes it, the authority refuses ("she consents again"),
 * and the client throws instead of starting afresh, as the chain would allow (the old one is not
 * live there), until PENDING_TTL (7 days) after the proposal: stranded for a week.
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

describe("mssa client: a registration expired by its consent deadline does not strand its user", function () {
  this.timeout(240_000);
  const services: AuthorityService[] = [];
  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    for (const s of services) await s.stop();
  });

  it("after the deadline the user's retry consents afresh (not in a week)", async () => {
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
    // the user retries: her consent ran out, so she consents again (a fresh session): registered
    const r = await registerRemote({ place, user, infos, dep, keystore: ks, retry: ONCE }).catch((e: Error) => e);
    expect(r instanceof Error ? r.message : "registered", "the retry after the deadline").to.equal("registered");
    expect((await dep.ledger.access(user.address, placeId(place)))[0]).to.equal(true);
    // the dead registration got no approval past its deadline (the authority's own refusal of such an
    // approval, asked directly: test/services/mssa-red.test.ts, "an approval asked after the pending TTL")
    expect(await dep.ledger.approvedBy(rec.id, au[1].address), "no approval of the expired registration").to.equal(false);
  });
});
