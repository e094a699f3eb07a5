/**
 * s25-rte: outside red team of the trust evidence and the detector/oracle services (paper 4).
 * Each `it` below is a finding: it FAILS on the code as it stands and passes once the finding is
 * fixed (the secure behaviour is what it asserts). Controls (named "control:") pass now and show
 * the harness can tell the two apart. Run alone:
 *   nice -n 19 npx hardhat test test/trust/s25-rte.findings.test.ts
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { Wallet, type Signer } from "ethers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import { avatarOwner } from "../helpers/avatar-owner";
import * as F from "../../offchain/trust/fixed";
import { TrustLedger } from "../../offchain/trust/ledger";
import { FileContentStore } from "../../offchain/storage/content-store";
import { runDetectors } from "../../offchain/trust/pipeline";
import { DetectorService } from "../../offchain/services/trust/detector-service";
import { TrustManager__factory } from "../../typechain-types";

const tmpDir = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), `s25-rte-${p}-`));

describe("s25-rte findings (outside red team: trust evidence, detector and oracle services)", function () {
  this.timeout(600_000);

  describe("# D1: the detector service decides 'nothing new' by the number of ratings", () => {
    /**
     * ann, ben, cat, dan verified and rating each other 0.9; a squatter's plain `fox` rates ann, cat
     * and dan 0.9 (three benign ratings). The detector service runs. Then alice (fox's owner)
     * reclaims fox: fox's three ratings leave the present era (ledger.ratings drops them), and eve,
     * unverified, bad-mouths ann, cat and dan with three ratings: the count is what it was.
     */
    async function world() {
      const f = await deployTrustFixture();
      const { login, account, attest, fox } = await avatarOwner(f, "s25-rte-d1");
      const names = ["ann", "ben", "cat", "dan", "eve"];
      const signer = (k: number) => f.others[1 + k];
      for (const [k, n] of names.entries()) {
        await f.trust.connect(signer(k)).register(id(n), Kind.Avatar);
        if (n !== "eve") await f.trust.setIdentityVerified(id(n), true);
      }
      const squatter = await account();
      await f.trust.connect(squatter).register(fox, Kind.Avatar);
      const rate = (who: Signer, from: string, to: string, score: number) =>
        new TrustLedger(f.trust.connect(who)).rate(from, to, F.packFactors(Array(6).fill(score)));
      for (const target of ["ann", "cat", "dan"]) {
        for (const k of [1, 2, 3, 0]) if (names[k] !== target) await rate(signer(k), id(names[k]), id(target), 0.9);
        await rate(squatter, fox, id(target), 0.9);
      }
      const wallet = Wallet.createRandom().connect(ethers.provider) as unknown as Wallet;
      await setBalance(wallet.address, 10n ** 20n);
      await (await f.trust.grantRole(await f.trust.DETECTOR_ROLE(), wallet.address)).wait();
      const dir = tmpDir("d1");
      const svc = new DetectorService({
        ledger: new TrustLedger(TrustManager__factory.connect(await f.trust.getAddress(), wallet)),
        store: new FileContentStore(path.join(dir, "ipfs")),
        wallet,
        chainId: (await ethers.provider.getNetwork()).chainId,
        dir: path.join(dir, "service"),
        intervalMs: 0,
        log: () => undefined,
      });
      const first = await svc.detect();
      // alice reclaims fox (her MIT's avatar): the squatter's three ratings are another era's now
      const alice = await account();
      await login(fox);
      const at = await attest(fox, alice);
      await f.trust.connect(alice).registerAttested(fox, Kind.Avatar, at.deadline, at.a);
      for (const target of ["ann", "cat", "dan"]) await rate(signer(4), id("eve"), id(target), 0.05);
      await time.increase(2 * 3600); // past FLAG_RUN_SPACING: a flag run may begin
      return { f, svc, first };
    }

    it("D1 (M): after a reclaim, as many new ratings as left the era are never examined (eve's bad-mouthing escapes every run)", async () => {
      const { f, svc, first } = await world();
      expect((await f.trust.entity(id("eve"))).flags, "setup: the first run did not flag eve").to.equal(0n);
      const run = await svc.detect(); // what /v1/detect and the interval timer call
      // control: the detectors over the same chain find eve (the world has a detection to make)
      const fresh = await runDetectors(new TrustLedger(f.trust.connect(f.detector)), new FileContentStore(tmpDir("d1c")), { flag: false });
      expect(fresh.ratings, "control: the reclaim and eve's ratings leave the count as it was").to.equal(first.ratings);
      expect(
        fresh.detections.map((d) => d.entity),
        "control: a run now detects eve",
      ).to.include(id("eve"));
      // the finding
      expect(run.block, "the chain moved (a reclaim and three new ratings): the detector must run again").to.be.greaterThan(first.block);
      expect((await f.trust.entity(id("eve"))).flags, "eve's bad-mouthing must be flagged").to.not.equal(0n);
    });
  });
});
