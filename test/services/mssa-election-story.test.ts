/**
 * The MSSA part of the services story (issue 19; scripts/lib/mssa-election.ts, which
 * `npm run demo -- --services` runs against the real processes): residents register at PL1 across
 * the two authority services, which enrols them as electors; one round then nominates, votes and
 * elects, each member with its own key. In-process here, against the Hardhat network.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { HDNodeWallet, Mnemonic, Wallet, hexlify, randomBytes } from "ethers";
import { deploySystemFixture } from "../fixtures/system";
import { Keystore } from "../../offchain/storage/keystore";
import { placeId } from "../../offchain/mssa/registration";
import { AuthorityService, importElectionKey, importPlaceKey } from "../../offchain/services/mssa/authority-service";
import { registerRemote, type MssaDeployment } from "../../offchain/services/mssa/clients";
import { registerResidents, runElection } from "../../scripts/lib/mssa-election";
import { AuthorityElection__factory, CredentialLedger__factory } from "../../typechain-types";

const tmp = (n: string) => fs.mkdtempSync(path.join(os.tmpdir(), `svc-${n}-`));
const devKey = (i: number) =>
  HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase("test test test test test test test test test test test junk"), `m/44'/60'/0'/0/${i}`);

describe("services/mssa: residents register across the authority services, then elect (the services story)", function () {
  this.timeout(240_000);
  const services: AuthorityService[] = [];
  after(async () => {
    for (const s of services) await s?.stop();
  });

  it("registrations over HTTP fill the electorate; a round nominates, votes and seats the top m", async () => {
    const f = await deploySystemFixture();
    const address = f.deployment.contracts.CredentialLedger.address;
    const el = AuthorityElection__factory.connect(f.deployment.contracts.AuthorityElection.address, hre.ethers.provider);
    const au = [1, 2].map((i) => devKey(i).connect(hre.ethers.provider) as unknown as Wallet);
    await (await CredentialLedger__factory.connect(address, f.msrp).setPlace(placeId("PL1"), [au[0].address, au[1].address], 2)).wait();
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const dep: MssaDeployment = { chainId, ledger: CredentialLedger__factory.connect(address, hre.ethers.provider) };
    const placeKey = hexlify(randomBytes(32));
    const electionKey = hexlify(randomBytes(32));
    const deps = au.map((w) => {
      const dir = tmp("au");
      const keystore = new Keystore(path.join(dir, "keystore"), "");
      importPlaceKey(keystore, "PL1", placeKey);
      importElectionKey(keystore, electionKey);
      return {
        keystore,
        dir: path.join(dir, "service"),
        place: "PL1",
        ledger: CredentialLedger__factory.connect(address, w),
        wallet: w,
        chainId,
        peers: new Map<string, string>(),
        log: () => undefined,
      };
    });
    const urls: string[] = [];
    for (const i of [0, 1]) {
      services[i] = new AuthorityService(deps[i]);
      urls[i] = (await services[i].start({ port: 0 })).url;
    }
    deps[0].peers.set(au[1].address.toLowerCase(), urls[1]);
    deps[1].peers.set(au[0].address.toLowerCase(), urls[0]);

    const residents = [12, 13, 14, 15, 16, 17, 18].map((i) => devKey(i).connect(hre.ethers.provider) as unknown as Wallet);
    const genesis = [...(await el.authorities())];
    // a member registered earlier (the demo's carol): the electorate is nearer 2m + 1 than the voters need
    const carol = devKey(11).connect(hre.ethers.provider) as unknown as Wallet;
    const keystore = new Keystore(tmp("carol"), "");
    await registerRemote({
      urls,
      place: "PL1",
      user: carol,
      infos: ["mail:carol@example.org", "passport:UTO:C0000001"],
      dep,
      keystore,
      elector: true,
    });
    const before = Number(await el.memberCount());
    const { registered, members } = await registerResidents({ urls, place: "PL1", dep, election: el, residents, dir: tmp("residents") });
    const seats = Number((await el.params()).seats);
    expect(members).to.be.at.least(2 * seats + 1);
    expect(registered).to.be.at.least(seats + 1); // enough voters and nominees for runElection
    expect(members - before).to.equal(registered);
    for (const r of residents.slice(0, registered)) expect((await dep.ledger.access(r.address, placeId("PL1")))[0]).to.equal(true);

    const voters = residents.slice(0, registered);
    let t = 0;
    const out = await runElection({
      election: el,
      voters,
      advance: async (s) => {
        t += s;
        await hre.network.provider.send("evm_increaseTime", [s]);
        await hre.network.provider.send("evm_mine", []);
      },
    });
    expect(t).to.be.greaterThan(0);
    expect(out.candidates).to.have.length(Math.min(2 * seats, seats + 1));
    expect(out.seated).to.have.length(seats);
    for (const s of out.seated) expect(out.candidates).to.include(s);
    expect(out.seated).to.not.deep.equal(genesis);
    expect(await el.sittingRound()).to.equal(out.round);
    expect(out.scores.reduce((x, y) => x + y, 0n)).to.be.greaterThan(0n);
  });
});
