/**
 * The trust detector as a service, in-process (the same code as `trust:serve detector`): with its
 * own account holding DETECTOR_ROLE it flags a bad-mouther found in the chain's ratings, answers
 * `/v1/detect` with a signed reply naming the report, and a second request with no new ratings
 * sends nothing.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { Wallet, parseEther } from "ethers";
import { useTaskSandbox } from "../helpers/tasks";
import { entityId, TrustLedger } from "../../offchain/trust/ledger";
import { readDeployment } from "../../offchain/chain/deployments";
import { FileContentStore } from "../../offchain/storage/content-store";
import { DetectorService } from "../../offchain/services/trust/detector-service";
import { EnvelopeError } from "../../offchain/services/envelope";
import { expectRejects } from "../helpers/errors";
import { detectRemote } from "../../offchain/services/trust/clients";
import { TrustManager__factory } from "../../typechain-types";

describe("services/trust: the detector as a service, in-process", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-detector-svc-");
  let svc: DetectorService | undefined;

  after(async () => svc?.stop());

  it("flags a bad-mouther from its own account; a request with no new ratings sends nothing", async () => {
    for (const [n, account] of Object.entries({ ann: "4", ben: "5", cat: "6", dan: "7", eve: "8" }))
      await hre.run("trust:register", { entity: n, type: "avatar", verified: n !== "eve", account });
    for (const target of ["ann", "cat", "dan"]) {
      for (const rater of ["ben", "cat", "dan", "ann"])
        if (rater !== target) await hre.run("trust:rate", { from: rater, to: target, score: 0.9, unverifiable: true });
      await hre.run("trust:rate", { from: "eve", to: target, score: 0.05, unverifiable: true });
    }
    const address = readDeployment("hardhat").contracts.TrustManager.address;
    const [admin] = await hre.ethers.getSigners();
    const wallet = Wallet.createRandom().connect(hre.ethers.provider) as unknown as Wallet;
    await (await admin.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    const tm = TrustManager__factory.connect(address, admin);
    await (await tm.grantRole(await tm.DETECTOR_ROLE(), wallet.address)).wait();
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "svc-detector-"));
    svc = new DetectorService({
      ledger: new TrustLedger(TrustManager__factory.connect(address, wallet)),
      store: new FileContentStore(path.join(dir, "ipfs")),
      wallet,
      chainId,
      dir: path.join(dir, "service"),
      intervalMs: 0,
      log: () => undefined,
    });
    const url = (await svc.start({ port: 0 })).url;
    const ask = () => detectRemote({ url, chainId, trustManager: address, account: wallet.address });
    const r = await ask();
    expect(r.detections).to.be.greaterThan(0);
    // bad-mouthing is bit 3 of the flags, set by the service's own account
    expect((await tm.entity(entityId("eve"))).flags & (1n << 3n)).to.equal(1n << 3n);
    const logs = await tm.queryFilter(tm.filters.EntityFlagged(entityId("eve")));
    expect(logs).to.have.length(1);
    expect((await logs[0].getTransaction()).from).to.equal(wallet.address);
    const nonce = await hre.ethers.provider.getTransactionCount(wallet.address);
    const again = await ask();
    expect(again.cid).to.equal(r.cid);
    expect(await hre.ethers.provider.getTransactionCount(wallet.address)).to.equal(nonce);
    // a client that expects another detector account refuses the reply (a stand-in service cannot answer for it)
    await expectRejects(
      () => detectRemote({ url, chainId, trustManager: address, account: admin.address }),
      EnvelopeError,
      "PROTOCOL_REJECTED",
      new RegExp(`^verifyEnvelope: signed by ${wallet.address}, not by ${admin.address}$`),
    );
  });
});
