/**
 * s20-redm F6 (severity L), fixed in s20-fixconsent: `registerRemote` now counts a verifier (and a
 * member of S taking over) iff it is listed on the place and sits in the election, the ledger's test.
 * Before: a pending registration whose verifier lost its *seat* (voted out, or
 * R = 1 by reports) but is still listed on the place is stranded until PENDING_TTL (7 days).
 *
 * Session 11 fixed the case "the verifier left the place" (`registerRemote`: the other members of S
 * take it over, else the user cancels and starts afresh). The client tests only the place's list
 * (`stillListed`); the ledger counts an approval only from an authority that is listed *and sits*
 * (`_checkApprover`, `_tryGrant`). So when the verifier is still listed but no longer sits, the
 * client resumes to it for ever: it answers "not granted" (its own approval is stale at k, the other
 * member's approval alone is short of k), the client never cancels (the verifier is "an authority of
 * the place") and no task cancels; a fresh session is refused on-chain (PendingExists) meanwhile,
 * although the place has k sitting authorities that could register her at once.
 *
 * Attack / trigger: any seat change during a registration (an election that replaces one authority,
 * or two authorities pushing the verifier to R = 1): here the place has authorities 0, 1, 2 (all
 * sitting), k = 2; the user registers with S = {0, 1} (2 had no service yet), 0 proposes and crashes
 * before asking 1; then 0 loses its seat (the detector's 18 reports: R = 1); 2 starts its service.
 *
 * When fixed, this test passes: the client treats "listed but not sitting" like "left the place"
 * (the members of S that sit take it over; short of k, she cancels on-chain and registers afresh
 * with the sitting authorities that answer): her retry is granted.
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
import { AuthorityService, importPlaceKey } from "../../offchain/services/mssa/authority-service";
import { registerRemote, userRecord, type MssaDeployment } from "../../offchain/services/mssa/clients";
import { onFault } from "../../offchain/services/faults";
import { devRoleSigner } from "../../offchain/chain/accounts";
import { AuthorityElection__factory, CredentialLedger__factory } from "../../typechain-types";

const ONCE = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("services/mssa: a pending registration whose verifier lost its seat (s20-redm F6, fixed)", function () {
  this.timeout(240_000);
  const services: AuthorityService[] = [];
  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    for (const s of services) await s.stop();
  });

  it("the user's retry is granted by the sitting authorities, not stranded behind the unseated verifier", async () => {
    const f = await loadFixture(deploySystemFixture);
    const address = f.deployment.contracts.CredentialLedger.address;
    const signers = await hre.ethers.getSigners();
    const operator = CredentialLedger__factory.connect(address, signers[0]);
    const election = AuthorityElection__factory.connect(await operator.election(), signers[devRoleSigner("detector")!]);
    const au = [1, 2, 3].map((i) => devKey(i).connect(hre.ethers.provider) as unknown as Wallet);
    for (const w of au) expect(await election.isAuthority(w.address), "the three sit").to.equal(true);
    const place = "PL-unseated";
    const { chainId, placeKey, deps } = await placeDeps(address, place, au, { tag: "unseat" });
    const dep: MssaDeployment = { chainId, ledger: CredentialLedger__factory.connect(address, hre.ethers.provider) };
    const start = async (i: number) => {
      importPlaceKey(deps[i].keystore, place, placeKey);
      const s = new AuthorityService(deps[i]);
      await s.start({ port: 0 });
      services.push(s);
    };
    await start(0);
    await start(1); // authority 2 has no service yet: S = {0, 1}

    const user = await funded();
    const ks = new Keystore(tmp("unseat-user"), "");
    const infos = [`mail:${place}@example.org`, `passport:UTO:UNSEAT1`];
    process.env.METATRUST_FAULT = "authority:after-propose";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    try {
      await expect(registerRemote({ place, user, infos, dep, keystore: ks, retry: ONCE })).to.be.rejectedWith(
        /crash at authority:after-propose/,
      );
    } finally {
      delete process.env.METATRUST_FAULT;
      onFault(undefined);
    }
    const rec = ks.load(userRecord(place, user.address)) as { id: string; verifier: string; pending: boolean };
    expect([rec.pending, rec.verifier]).to.deep.equal([true, au[0].address]);
    expect((await dep.ledger.registration(rec.id)).status).to.equal(1n);

    // the verifier loses its seat (R = 1), and stays listed on the place
    for (let k = 0; k < 18; k++)
      await (await election.report(au[0].address, k < 5 ? 0 : k < 15 ? 1 : 3, hre.ethers.id(`unseat ${k}`))).wait();
    expect(await election.isAuthority(au[0].address), "unseated").to.equal(false);
    expect((await dep.ledger.place(placeId(place))).authorities).to.include(au[0].address);
    await start(2);

    // two retries: before the fix neither was granted (the client resumed to the unseated verifier)
    let granted = false;
    for (let i = 0; i < 2 && !granted; i++) {
      const r = await registerRemote({ place, user, infos, dep, keystore: ks, retry: ONCE }).catch(() => undefined);
      granted = !!r?.outcome.granted;
    }
    const [access] = await dep.ledger.access(user.address, placeId(place));
    expect(access, "stranded: pending behind an unseated verifier, while authorities 1 and 2 sit").to.equal(true);
  });
});
