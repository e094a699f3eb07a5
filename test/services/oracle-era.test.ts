/**
 * Red team h16-red2 R4, fixed: the oracle service no longer mixes a reclaimed id's eras (the class
 * of h12-red2 R1, "a reclaimed id starts afresh", docs/specs/trust.md §6). Observations named the
 * pair by its ids only and `setOracle(from, to, value)` wrote the pair of the ids' *current*
 * generations, so observations of a squatter's service, open when the owner reclaimed the id,
 * counted in a decision written to the owner's fresh pair, and a decision left due by a crash
 * before the reclaim was written after it by `settlePending`. Now the service reads both
 * generations at each observation, the aggregator keeps one era per pair (a newer era drops the
 * older one's observations and decision), and `setOracle(from, to, value, gFrom, gTo)` reverts
 * `StaleEra` on another era, which the service takes as the decision's end. Session 17 closed the
 * residual (an observation in flight across the reclaim): the reporter signs the generations it
 * observed (`eras` in the observation's body), and the service refuses (STALE_ERA) one whose eras
 * are not the pair's when it arrives, before it counts.
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
import { OracleAggregator, OracleError } from "../../offchain/trust/oracle";
import { observationEnvelope } from "../../offchain/services/trust/clients";
import { TrustManager__factory } from "../../typechain-types";

const WAD = 10n ** 18n;

describe("oracle service: one era per pair (h16-red2 R4)", function () {
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
    const observe = async (k: number, value: bigint) =>
      svc.observeRoute(
        observationEnvelope({ chainId, trustManager: tmAddress }, reporters[k], {
          from: id("bystander"),
          to: fox,
          round: 1,
          value,
          eras: [Number(await f.trust.generationOf(id("bystander"))), Number(await f.trust.generationOf(fox))],
        }),
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

  it("a decision left due by a crash before the reclaim is dropped, not written to the owner's pair; the contract refuses another era", async () => {
    const f = await loadFixture(deployTrustFixture);
    const { login, account, attest, fox } = await avatarOwner(f, "h16-fixe2-r4");
    const [alice, squatter, bystander] = [await account(), await account(), await account()];
    await f.trust.connect(bystander).register(id("bystander"), Kind.Organization);
    await f.trust.connect(squatter).register(fox, Kind.Avatar);
    const [admin] = await ethers.getSigners();
    const wallet = Wallet.createRandom().connect(ethers.provider) as unknown as Wallet;
    await (await admin.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    await (await f.trust.connect(admin).grantRole(await f.trust.ORACLE_ROLE(), wallet.address)).wait();
    const reporters = [0, 1].map(() => Wallet.createRandom());
    const params = { reporters: reporters.map((r) => r.address), quorum: 2, deviation: 0n };
    // the service decided -1 of the squatter's era and died before its write (the state it saved)
    const agg = new OracleAggregator(params);
    for (const r of reporters) agg.observe({ reporter: r.address, from: id("bystander"), to: fox, round: 1, value: -WAD, eras: [0, 0] });
    expect(agg.pending()).to.have.length(1);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "h16-fixe2-r4-"));
    fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify(agg.state()));
    await login(fox);
    const a = await attest(fox, alice);
    await (await f.trust.connect(alice).registerAttested(fox, Kind.Avatar, a.deadline, a.a)).wait();
    const tm = TrustManager__factory.connect(await f.trust.getAddress(), wallet);
    // the contract: a term of generation 0 of fox is refused now fox is at 1, nothing written
    await expect(tm.setOracle(id("bystander"), fox, -WAD, 0, 0))
      .to.be.revertedWithCustomError(tm, "TrustManager__StaleEra")
      .withArgs(fox, 0, 1);
    const svc = new OracleService({ tm, wallet, chainId: (await ethers.provider.getNetwork()).chainId, dir, params, log: () => undefined });
    expect(await svc.settlePending()).to.equal(1);
    expect((await f.trust.pairOf(id("bystander"), fox)).oracle, "the squatter-era decision written to alice's pair").to.equal(0n);
    expect(svc.agg.pending(), "the stale decision is settled: not retried at the next start").to.deep.equal([]);
    expect(svc.agg.decision(id("bystander"), fox)?.stale).to.equal(true);
  });
  it("an observation of the squatter's era delivered after the reclaim is refused (STALE_ERA) and changes nothing", async () => {
    const f = await loadFixture(deployTrustFixture);
    const { login, account, attest, fox } = await avatarOwner(f, "s17-era-oracle");
    const [alice, squatter, bystander] = [await account(), await account(), await account()];
    await f.trust.connect(bystander).register(id("bystander"), Kind.Organization);
    await f.trust.connect(squatter).register(fox, Kind.Avatar);
    const [admin] = await ethers.getSigners();
    const wallet = Wallet.createRandom().connect(ethers.provider) as unknown as Wallet;
    await (await admin.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    await (await f.trust.connect(admin).grantRole(await f.trust.ORACLE_ROLE(), wallet.address)).wait();
    const reporters = [0, 1].map(() => Wallet.createRandom());
    const chainId = (await ethers.provider.getNetwork()).chainId;
    const tmAddress = await f.trust.getAddress();
    const svc = new OracleService({
      tm: TrustManager__factory.connect(tmAddress, wallet),
      wallet,
      chainId,
      dir: fs.mkdtempSync(path.join(os.tmpdir(), "s17-era-oracle-")),
      params: { reporters: reporters.map((r) => r.address), quorum: 2, deviation: 0n },
      log: () => undefined,
    });
    const envelope = (k: number, eras: [number, number]) =>
      observationEnvelope({ chainId, trustManager: tmAddress }, reporters[k], {
        from: id("bystander"),
        to: fox,
        round: 1,
        value: -WAD,
        eras,
      });
    // reporter 0 observes the squatter's fox (generation 0) and its post is delivered at once; reporter
    // 1's observation of the same era is signed now and delivered after alice's reclaim
    await svc.observeRoute(envelope(0, [0, 0]));
    const late = envelope(1, [0, 0]);
    await login(fox);
    const a = await attest(fox, alice);
    await (await f.trust.connect(alice).registerAttested(fox, Kind.Avatar, a.deadline, a.a)).wait();
    const state = JSON.stringify(svc.agg.state());
    const refused = await svc.observeRoute(late).then(
      () => undefined,
      (e: unknown) => e as OracleError,
    );
    expect(refused, "the late observation was taken").to.be.instanceOf(OracleError);
    expect(refused!.reason).to.equal("STALE_ERA");
    expect(refused!.message).to.match(/generations \(0, 0\) of \(from, to\), which are at \(0, 1\) now/);
    // nothing counted: the service's state is as before, nothing is due, alice's pair is clean
    expect(JSON.stringify(svc.agg.state())).to.equal(state);
    expect(svc.agg.pending()).to.deep.equal([]);
    expect((await f.trust.pairOf(id("bystander"), fox)).oracle).to.equal(0n);
    // an observation of alice's era (generation 1) counts
    await svc.observeRoute(envelope(1, [0, 1]));
    expect(svc.agg.decision(id("bystander"), fox)).to.equal(undefined);
  });
});
