/**
 * s26-fxl L1: the detector service's "has anything changed" key (`TrustLedger.lastInputChange`)
 * read the TrustManager's logs only, but a run also reads the identity seeds
 * (`isIdentityVerified` of every entity at its block), which move with an MIT login (an event of
 * the MITRegistry, not of the TrustManager) and with a login's `notAfter` passing (no event at all:
 * time alone). A seed change alone never started a run, so SybilRank kept the old seeds until some
 * rating came. Now the key names the seed set too (its hash at the key's block), read by the same
 * function the run reads its seeds with. docs/specs/trust.md §8.6 (the detector service's input).
 *   nice -n 19 npx hardhat test test/trust/detector-input-seeds.test.ts
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { Wallet } from "ethers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import { avatarOwner } from "../helpers/avatar-owner";
import * as F from "../../offchain/trust/fixed";
import { TrustLedger } from "../../offchain/trust/ledger";
import { FileContentStore } from "../../offchain/storage/content-store";
import { DetectorService } from "../../offchain/services/trust/detector-service";
import { TrustManager__factory } from "../../typechain-types";

const tmpDir = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), `detector-input-seeds-${p}-`));

/** ann and ben verified by the admin, rating each other; fox attested by its owner, its login lapsed; the detector service on its own account. */
async function world() {
  const f = await deployTrustFixture();
  const { login, account, attest, fox } = await avatarOwner(f, "s26-fxl-l1");
  for (const [k, n] of ["ann", "ben"].entries()) {
    await f.trust.connect(f.others[1 + k]).register(id(n), Kind.Avatar);
    await f.trust.setIdentityVerified(id(n), true);
  }
  await new TrustLedger(f.trust.connect(f.others[1])).rate(id("ann"), id("ben"), F.packFactors(Array(6).fill(0.9)));
  const owner = await account();
  await login(fox);
  const at = await attest(fox, owner);
  await f.trust.connect(owner).registerAttested(fox, Kind.Avatar, at.deadline, at.a);
  await time.increase(86_400 + 60); // the login lapses: fox is not a seed
  await mine();
  const wallet = Wallet.createRandom().connect(ethers.provider) as unknown as Wallet;
  await setBalance(wallet.address, 10n ** 20n);
  await (await f.trust.grantRole(await f.trust.DETECTOR_ROLE(), wallet.address)).wait();
  const dir = tmpDir("svc");
  const store = new FileContentStore(path.join(dir, "ipfs"));
  const svc = new DetectorService({
    ledger: new TrustLedger(TrustManager__factory.connect(await f.trust.getAddress(), wallet)),
    store,
    wallet,
    chainId: (await ethers.provider.getNetwork()).chainId,
    dir: path.join(dir, "service"),
    intervalMs: 0,
    log: () => undefined,
  });
  const seedsOf = async (cid: string) => (await store.getJson<{ seeds: string[] }>(cid)).seeds;
  return { f, fox, login, svc, seedsOf };
}

describe("s26-fxl L1: the detector service runs again when only the identity seeds moved", function () {
  this.timeout(300_000);

  it("control: with nothing moved, the service serves its last run", async () => {
    const { svc } = await world();
    const first = await svc.detect();
    await mine(5);
    const second = await svc.detect();
    expect(second).to.deep.equal(first);
  });

  it("an MIT login (a MITRegistry event only) makes the next call run, and its report names the new seed", async () => {
    const { fox, login, svc, seedsOf } = await world();
    const first = await svc.detect();
    expect(await seedsOf(first.cid), "setup: fox's login has lapsed").to.not.include(fox);
    await login(fox); // MITRegistry.AvatarLoggedIn: no TrustManager event
    const second = await svc.detect();
    expect(second.block, "the seeds moved: the detector must run again").to.be.greaterThan(first.block);
    expect(await seedsOf(second.cid)).to.include(fox);
  });

  it("a login's notAfter passing (no event: time alone) makes the next call run, and its report drops the seed", async () => {
    const { f, fox, login, svc, seedsOf } = await world();
    await login(fox);
    const first = await svc.detect();
    expect(await seedsOf(first.cid), "setup: fox is logged in").to.include(fox);
    await time.increase(86_400 + 60);
    await mine();
    expect(await f.trust.isIdentityVerified(fox), "setup: the login lapsed").to.equal(false);
    const second = await svc.detect();
    expect(second.block, "the seeds moved: the detector must run again").to.be.greaterThan(first.block);
    expect(await seedsOf(second.cid)).to.not.include(fox);
  });
});
