/**
 * Finding (red team h16-red2, R4): the oracle service mixes a reclaimed id's eras, the class of
 * h12-red2 R1 ("a reclaimed id starts afresh", docs/specs/trust.md §6) in a path its fix did not
 * reach. Observations name the pair by its ids only (`{from, to, round, value}`); the aggregator
 * (offchain/trust/oracle.ts) keeps open observations and decided rounds per (from, to) and the
 * service writes `setOracle(from, to, median)`, which the contract applies to the pair of both
 * ids' *current* generations. So observations the reporters made of a squatter's service, still
 * open when the owner reclaims the id, count in a decision written to the owner's fresh pair (and a
 * decision left due by a crash before the reclaim is written after it by `settlePending`). The
 * squatter's conduct moves the owner's effective trust in that rater's eyes (by up to gamma = 0.1),
 * where the contract and the detector pipeline give the owner a clean start.
 *
 * Secure behaviour asserted: a reporter's observation made in the squatter's era does not count
 * toward a decision written to the owner's era (here: the second reporter's observation, after the
 * reclaim, is one of one, below the quorum of two, so nothing is written).
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { Wallet, parseEther } from "ethers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import { avatarOwner } from "../helpers/avatar-owner";
import { OracleService } from "../../offchain/services/trust/oracle-service";
import { observationEnvelope } from "../../offchain/services/trust/clients";
import { TrustManager__factory } from "../../typechain-types";

const WAD = 10n ** 18n;

describe("finding R4 (h16-red2): the oracle service counts a squatter's era toward the owner's pair", function () {
  this.timeout(120_000);

  it("an observation of the squatter's era does not count in a decision written to the owner's fresh pair", async () => {
    const f = await loadFixture(deployTrustFixture);
    const { login, account, attest, fox } = await avatarOwner(f, "h16-red2-r4");
    const [alice, squatter, bystander] = [await account(), await account(), await account()];
    await f.trust.connect(bystander).register(id("bystander"), Kind.Organization);
    await f.trust.connect(squatter).register(fox, Kind.Avatar); // alice's first avatar, squatted

    const [admin] = await ethers.getSigners();
    const wallet = Wallet.createRandom().connect(ethers.provider) as unknown as Wallet;
    await (await admin.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    await (await f.trust.connect(admin).grantRole(await f.trust.ORACLE_ROLE(), wallet.address)).wait();
    const reporters = [0, 1, 2].map(() => Wallet.createRandom());
    const chainId = (await ethers.provider.getNetwork()).chainId;
    const tmAddress = await f.trust.getAddress();
    const svc = new OracleService({
      tm: TrustManager__factory.connect(tmAddress, wallet),
      wallet,
      chainId,
      dir: fs.mkdtempSync(path.join(os.tmpdir(), "h16-red2-r4-")),
      params: { reporters: reporters.map((r) => r.address), quorum: 2, deviation: 0n },
      log: () => undefined,
    });
    const observe = (k: number, value: bigint) =>
      svc.observeRoute(
        observationEnvelope({ chainId, trustManager: tmAddress }, reporters[k], { from: id("bystander"), to: fox, round: 1, value }),
      );

    // reporter 0 observes the squatter's fox serving badly
    await observe(0, -WAD);
    // alice logs fox in and registers it with the IdP's attestation: the reclaim, a new generation
    await login(fox);
    const a = await attest(fox, alice);
    await expect(f.trust.connect(alice).registerAttested(fox, Kind.Avatar, a.deadline, a.a)).to.emit(f.trust, "EntityReclaimed");
    expect((await f.trust.pairOf(id("bystander"), fox)).oracle, "setup: alice's pair starts clean").to.equal(0n);
    // reporter 1 observes alice's fox (round 1 of the pair, as far as the service knows)
    await observe(1, -WAD);
    expect(
      (await f.trust.pairOf(id("bystander"), fox)).oracle,
      "the squatter-era observation counted in a term written to alice's pair",
    ).to.equal(0n);
  });
});
