/**
 * s20-redm F3, the authorities' half (s20-fixconsent): an authority neither approves nor proposes a
 * registration proposed more than CONSENT_TTL_MS (7 days, the ledger's PENDING_TTL) after it verified
 * the session: a consent withheld by one authority and proposed late does not collect an honest
 * authority's approval. Here authority 1's record says it verified the session 8 days before the
 * proposal (its `chainAt` moved back, as if the consent had been held that long); the user's retry
 * reaches authority 0 (which proposed), which asks 1: 1 refuses in one line and approves nothing.
 * With the bound removed from `approveChecked`, 1 approves and the registration is granted.
 */
import { expect } from "chai";
import hre from "hardhat";
import { Wallet } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
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

describe("services/mssa: a consent proposed long after its session was verified (s20-redm F3)", function () {
  this.timeout(240_000);
  const services: AuthorityService[] = [];
  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    for (const s of services) await s.stop();
  });

  it("an honest authority does not approve it, and prunes such sessions", async () => {
    const f = await loadFixture(deploySystemFixture);
    const address = f.deployment.contracts.CredentialLedger.address;
    const au = [1, 2].map((i) => devKey(i).connect(hre.ethers.provider) as unknown as Wallet);
    const place = "PL-stale-consent";
    const { chainId, placeKey, deps } = await placeDeps(address, place, au, { tag: "stale" });
    const dep: MssaDeployment = { chainId, ledger: CredentialLedger__factory.connect(address, hre.ethers.provider) };
    const mine: AuthorityService[] = [];
    const start = async (i: number) => {
      if (!deps[i].keystore.exists(authorityRecord(place))) importPlaceKey(deps[i].keystore, place, placeKey);
      const s = new AuthorityService(deps[i]);
      await s.start({ port: 0 });
      services.push(s);
      mine[i] = s;
    };
    await start(0);
    await start(1);
    const user = await funded();
    const ks = new Keystore(tmp("stale-user"), "");
    const infos = [`mail:${place}@example.org`, `passport:UTO:STALE1`];
    process.env.METATRUST_FAULT = "authority:after-propose";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    try {
      await expect(registerRemote({ place, user, infos, dep, keystore: ks, retry: ONCE })).to.be.rejectedWith(/crash at/);
    } finally {
      delete process.env.METATRUST_FAULT;
      onFault(undefined);
    }
    const rec = ks.load(userRecord(place, user.address)) as { id: string };
    expect((await dep.ledger.registration(rec.id)).status).to.equal(1n);
    // authority 1 verified the session 8 days before the proposal (as if the consent had been withheld)
    await mine[1].stop();
    type V = { id: string; chainAt?: number; at?: number };
    const a1 = deps[1].keystore.load(authorityRecord(place)) as { verified: Record<string, V> };
    const sid = Object.keys(a1.verified).find((s) => a1.verified[s].id === rec.id)!;
    expect(a1.verified[sid].chainAt, "verification time recorded").to.be.a("number");
    a1.verified[sid].chainAt! -= 8 * 86_400;
    deps[1].keystore.update(authorityRecord(place), a1);
    await start(1);
    const r = await registerRemote({ place, user, infos, dep, keystore: ks, retry: ONCE }).catch((e: Error) => e);
    expect(r).to.be.instanceOf(Error);
    expect((r as Error).message).to.match(/was proposed more than 7 days after session/);
    expect(await dep.ledger.approvedBy(rec.id, au[1].address), "no approval").to.equal(false);
    expect((await dep.ledger.access(user.address, placeId(place)))[0]).to.equal(false);
    // and a session verified more than twice that long ago (wall clock) is forgotten at the next start
    await mine[1].stop();
    const a2 = deps[1].keystore.load(authorityRecord(place)) as { verified: Record<string, V> };
    a2.verified[sid].at = Date.now() - 15 * 86_400_000;
    deps[1].keystore.update(authorityRecord(place), a2);
    await start(1);
    await mine[1].stop();
    const a3 = deps[1].keystore.load(authorityRecord(place)) as { verified: Record<string, V> };
    expect(a3.verified[sid], "pruned").to.equal(undefined);
  });
});
