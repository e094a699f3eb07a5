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
import { detectRemote, observeRemote } from "../../offchain/services/trust/clients";
import { OracleService } from "../../offchain/services/trust/oracle-service";
import { ReplyCache } from "../../offchain/services/replies";
import { TrustManager__factory } from "../../typechain-types";

/**
 * Sends `send()` (which writes `perSend` reply files at most) for at least `windows` windows, and
 * longer if need be until the stream outlasts the cache's horizon, then reads the files left in
 * `folder` by the time the cache itself wrote them (`at`, its clock). The cache looks at least once a
 * window and drops entries older than two windows, so nothing it wrote more than three windows before
 * its last write is left, and each file left answers a send that returned at or after that horizon.
 * Only the cache's own clock and the sends' count decide (s27-fxl: the bound was wall time against
 * client-side timestamps, and a slow round trip under load made it 71 vs 72). No timer of the
 * service's is involved.
 */
async function streamStaysBounded(send: () => Promise<unknown>, folder: string, windowMs: number, perSend = 1, windows = 8): Promise<void> {
  const start = Date.now();
  const sent: number[] = [];
  // until a send returned more than 4 windows after the first did: the last write is later still,
  // so the first request was written before the horizon (and must be gone)
  while (Date.now() - start < windows * windowMs || sent.length < 2 || sent[sent.length - 2] - sent[0] <= 4 * windowMs) {
    await send();
    sent.push(Date.now());
  }
  const entries = fs
    .readdirSync(folder)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(fs.readFileSync(path.join(folder, f), "utf8")) as { at: number; keep?: boolean });
  expect(
    entries.filter((e) => e.keep),
    "no reply here is kept for good",
  ).to.deep.equal([]);
  const horizon = Math.max(...entries.map((e) => e.at)) - 3 * windowMs;
  const old = entries.filter((e) => e.at < horizon).length;
  expect(
    old,
    `reply files written more than three windows before the last write, of ${entries.length} left after ${sent.length} sends`,
  ).to.equal(0);
  const recent = sent.filter((t) => t >= horizon).length;
  expect(entries.length, `reply files left after ${sent.length} sends, ${recent} of them returned after the horizon`).to.be.lessThanOrEqual(
    perSend * recent,
  );
  expect(recent, "the stream outlasted the horizon").to.be.lessThan(sent.length);
}

describe("reply caches prune themselves: the cache, on write, with no timer (s23-rth F2/F4)", () => {
  it("50 windows of distinct requests on a fake clock: at most three windows' entries on disk, kept ones stay", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fx-cache-"));
    let now = 1_000_000;
    const windowMs = 1000;
    const c = new ReplyCache(dir, windowMs, () => now);
    const files = () => fs.readdirSync(dir).filter((f) => f.endsWith(".json")).length;
    const id = (n: number) => {
      const b = new Uint8Array(16);
      new DataView(b.buffer).setUint32(0, n);
      return b;
    };
    await c.once(id(0), now, Uint8Array.of(0), async () => Uint8Array.of(0), true); // kept for good
    for (let i = 1; i <= 500; i++) {
      now += 100; // ten a window
      await c.once(id(i), now, Uint8Array.of(1, i & 255), async () => Uint8Array.of(i & 255));
      expect(files(), `after ${i} requests`).to.be.lessThanOrEqual(1 + 31);
    }
    expect(fs.existsSync(path.join(dir, `${"00".repeat(16)}.json`)), "the kept entry").to.equal(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
/**
 * F2 (M): the detector service prunes its reply cache only from its watch timer, which does not run
 * with `trust:serve detector --interval 0` ("only on request"). `/v1/detect` is unsigned ("anyone
 * may ask"), and every request with a fresh id leaves a reply file that is never deleted: any client
 * that reaches the service grows its folder without bound (the rate limit slows it, 60 a minute per
 * address, and does not bound it; the IdP capped its challenge folder for this very reason).
 * F4 (L): the oracle never pruned its reply cache at all, nor did the MSSA authority; the MSRP only in
 * its --tick timer. Fixed in the cache itself (replies.ts): every write prunes, at most once per
 * window (or every 256 writes), entries older than two windows; every service's folder (IdP, MSRP,
 * RPM, MSSA authority, oracle, detector: all write through ReplyCache.store) is thus bounded by
 * three windows' traffic, whatever timer runs. Shown on the cache and on the two services that had
 * no timer at all in the red team's setups (the detector with --interval 0, the oracle).
 */
describe("reply caches prune themselves: the detector with --interval 0 (s23-rth F2)", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-rth-f2-");

  it("a stream of anonymous /v1/detect requests with fresh ids: the folder holds at most three windows' replies", async () => {
    await hre.run("trust:register", { entity: "ann", type: "avatar", account: "4" });
    const address = readDeployment("hardhat").contracts.TrustManager.address;
    const [admin] = await hre.ethers.getSigners();
    const wallet = Wallet.createRandom().connect(hre.ethers.provider) as unknown as Wallet;
    await (await admin.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    const tm = TrustManager__factory.connect(address, admin);
    await (await tm.grantRole(await tm.DETECTOR_ROLE(), wallet.address)).wait();
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rth-f2-"));
    const windowMs = 200;
    const svc = new DetectorService({
      ledger: new TrustLedger(TrustManager__factory.connect(address, wallet)),
      store: new FileContentStore(path.join(dir, "ipfs")),
      wallet,
      chainId,
      dir: path.join(dir, "service"),
      intervalMs: 0,
      windowMs,
      detectPerMinute: 100_000,
      log: () => undefined,
    });
    try {
      const url = (await svc.start({ port: 0 })).url;
      // an anonymous client (no account: the envelope is unsigned), a stream of requests with fresh ids
      await streamStaysBounded(
        () => detectRemote({ url, chainId, trustManager: address, account: wallet.address }),
        path.join(dir, "service", "replies"),
        windowMs,
      );
    } finally {
      await svc.stop();
    }
  });
});

describe("reply caches prune themselves: the oracle (s23-rth F4)", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-rth-f4-");

  it("a stream of reporters' observations: the folder holds at most three windows' replies", async () => {
    for (const [n, account] of Object.entries({ ann: "4", ben: "5" }))
      await hre.run("trust:register", { entity: n, type: "avatar", account });
    const address = readDeployment("hardhat").contracts.TrustManager.address;
    const [admin] = await hre.ethers.getSigners();
    const wallet = Wallet.createRandom().connect(hre.ethers.provider) as unknown as Wallet;
    await (await admin.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    const tm = TrustManager__factory.connect(address, admin);
    await (await tm.grantRole(await tm.ORACLE_ROLE(), wallet.address)).wait();
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rth-f4-"));
    const reporters = [0, 1, 2].map(() => Wallet.createRandom());
    const windowMs = 300;
    const svc = new OracleService({
      tm: TrustManager__factory.connect(address, wallet),
      wallet,
      chainId,
      dir: path.join(dir, "service"),
      params: { reporters: reporters.map((r) => r.address), quorum: 3, deviation: 0n },
      windowMs,
      log: () => undefined,
    });
    try {
      const ep = { url: (await svc.start({ port: 0 })).url, chainId, trustManager: address, account: wallet.address };
      const [ann, ben] = ["ann", "ben"].map(entityId);
      // open observations only (quorum 3, two reporters): nothing is written on-chain
      let round = 0;
      await streamStaysBounded(
        async () => {
          round++;
          for (const r of reporters.slice(0, 2)) await observeRemote(ep, r, { from: ann, to: ben, round, value: 1n, eras: [0, 0] });
        },
        path.join(dir, "service", "replies"),
        windowMs,
        2,
      );
    } finally {
      await svc.stop();
    }
  });
});
