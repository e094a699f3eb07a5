import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { Wallet, parseEther } from "ethers";
import { useTaskSandbox } from "../helpers/tasks";
import { TrustLedger, entityId } from "../../offchain/trust/ledger";
import { readDeployment } from "../../offchain/chain/deployments";
import { FileContentStore } from "../../offchain/storage/content-store";
import { DetectorService } from "../../offchain/services/trust/detector-service";
import { detectRemote } from "../../offchain/services/trust/clients";
import { TrustManager__factory } from "../../typechain-types";

/**
 * F3 (M): while a flag run is deferred (FLAG_RUN_SPACING, 1 hour after the last run began), the
 * detector does not record its run as the last (detector-service.ts: "the next call runs again"),
 * so EVERY anonymous `/v1/detect` runs the whole pipeline again: it reads every rating and entity
 * from the chain, runs the detectors under the service's mutex, and stores (and pins) a new report
 * on IPFS (its `generatedAt` differs, so a new CID each time). An unauthenticated client thus grows
 * the IPFS store by one report per request for up to an hour after each flag run, and holds the
 * detector's mutex. Fixed (detector-service.ts): a deferred run is served as it is until new ratings
 * come or its flag run may begin; and /v1/detect has a quota of its own per address.
 */
describe("detector service: an anonymous /v1/detect buys no run while the chain has not moved (s23-rth F3)", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-rth-f3-");

  it("during a deferred flag run, five anonymous requests with no new rating pin nothing; a new rating runs again", async () => {
    for (const [n, account] of Object.entries({ ann: "4", ben: "5", cat: "6", dan: "7", eve: "8", fay: "9" }))
      await hre.run("trust:register", { entity: n, type: "avatar", verified: n !== "eve" && n !== "fay", account });
    const rateAll = async (badMouther: string, honest = true) => {
      for (const target of ["ann", "cat", "dan"]) {
        for (const rater of honest ? ["ben", "cat", "dan", "ann"] : [])
          if (rater !== target) await hre.run("trust:rate", { from: rater, to: target, score: 0.9, unverifiable: true });
        await hre.run("trust:rate", { from: badMouther, to: target, score: 0.05, unverifiable: true });
      }
    };
    await rateAll("eve");
    const address = readDeployment("hardhat").contracts.TrustManager.address;
    const [admin] = await hre.ethers.getSigners();
    const wallet = Wallet.createRandom().connect(hre.ethers.provider) as unknown as Wallet;
    await (await admin.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    const tm = TrustManager__factory.connect(address, admin);
    await (await tm.grantRole(await tm.DETECTOR_ROLE(), wallet.address)).wait();
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rth-f3-"));
    const ipfs = path.join(dir, "ipfs");
    const svc = new DetectorService({
      ledger: new TrustLedger(TrustManager__factory.connect(address, wallet)),
      store: new FileContentStore(ipfs),
      wallet,
      chainId,
      dir: path.join(dir, "service"),
      intervalMs: 0,
      log: () => undefined,
    });
    try {
      const url = (await svc.start({ port: 0 })).url;
      const ask = () => detectRemote({ url, chainId, trustManager: address, account: wallet.address });
      const first = await ask(); // flags eve: a flag run begins
      expect(first.flagged).to.be.greaterThan(0);
      await rateAll("fay", false); // a new bad-mouther: its flag must wait for the next flag run (1 hour)
      await ask(); // the deferred run
      expect((await tm.entity(entityId("fay"))).flags & (1n << 3n), "fay's flag waits for the next flag run").to.equal(0n);
      const blocks = () => fs.readdirSync(path.join(ipfs, "blocks")).length;
      const before = blocks();
      for (let i = 0; i < 5; i++) await ask(); // anonymous, nothing new on-chain
      expect(blocks() - before, "reports pinned by 5 anonymous requests that changed nothing").to.equal(0);
      // the chain moved (a new rating): the next request runs again
      await hre.run("trust:rate", { from: "cat", to: "ben", score: 0.8, unverifiable: true });
      await ask();
      expect(blocks() - before, "a new rating: a new run and report").to.be.greaterThan(0);
    } finally {
      await svc.stop();
    }
  });
});

describe("detector service: /v1/detect has a quota of its own per address (s23-rth F3)", function () {
  this.timeout(120_000);
  useTaskSandbox("metatrust-fx-f3q-");

  it("above detectPerMinute the address gets 429; the service's general limit is far above", async () => {
    const address = readDeployment("hardhat").contracts.TrustManager.address;
    const wallet = Wallet.createRandom().connect(hre.ethers.provider) as unknown as Wallet;
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fx-f3q-"));
    const svc = new DetectorService({
      ledger: new TrustLedger(TrustManager__factory.connect(address, wallet)),
      store: new FileContentStore(path.join(dir, "ipfs")),
      wallet,
      chainId,
      dir: path.join(dir, "service"),
      intervalMs: 0,
      detectPerMinute: 3,
      log: () => undefined,
    });
    try {
      const url = (await svc.start({ port: 0 })).url;
      const post = () =>
        fetch(url + "/v1/detect", { method: "POST", headers: { "content-type": "application/octet-stream" }, body: Buffer.from("x") }).then(
          (r) => r.status,
        );
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push(await post());
      // malformed bodies (400) count too: the quota is on requests, before any work
      expect(statuses).to.deep.equal([400, 400, 400, 429, 429]);
    } finally {
      await svc.stop();
    }
  });
});
