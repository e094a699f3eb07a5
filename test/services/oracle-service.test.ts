/**
 * The trust oracle as a service, in-process (the same code as `trust:serve oracle`): reporters post
 * signed observations; a quorum's median is written with `setOracle` from the oracle's own account;
 * retries, strangers, unknown entities and a crash between the write and the reply change nothing twice.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { Wallet, parseEther } from "ethers";
import { useTaskSandbox } from "../helpers/tasks";
import { entityId } from "../../offchain/trust/ledger";
import { readDeployment } from "../../offchain/chain/deployments";
import { OracleService } from "../../offchain/services/trust/oracle-service";
import { observationEnvelope, observeRemote, type OracleEndpoint } from "../../offchain/services/trust/clients";
import { EnvelopeError } from "../../offchain/services/envelope";
import { postEnvelope, ServiceError } from "../../offchain/services/client";
import { onFault } from "../../offchain/services/faults";
import { toBytes } from "../../offchain/crypto/bytes";
import { expectRejects } from "../helpers/errors";
import { relay } from "../helpers/relay";
import { TrustManager__factory, type TrustManager } from "../../typechain-types";

const WAD = 10n ** 18n;

describe("services/trust: the oracle (Eq. 46) as a service, in-process", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-oracle-svc-");
  let svc: OracleService | undefined;
  let tm: TrustManager;
  let wallet: Wallet;
  let dir: string;
  let ep: OracleEndpoint;
  let chainId: bigint;
  const reporters = [0, 1, 2].map(() => Wallet.createRandom());
  const [ann, ben, cat] = ["ann", "ben", "cat"].map(entityId);

  const make = () =>
    new OracleService({
      tm: TrustManager__factory.connect(String(tm.target), wallet),
      wallet,
      chainId,
      dir: path.join(dir, "service"),
      params: { reporters: reporters.map((r) => r.address), quorum: 2, deviation: 0n },
      log: () => undefined,
    });
  const nonce = () => hre.ethers.provider.getTransactionCount(wallet.address);
  const stateFile = () => fs.readFileSync(path.join(dir, "service", "state.json"), "utf8");

  before(async () => {
    for (const [n, account] of Object.entries({ ann: "4", ben: "5", cat: "6" }))
      await hre.run("trust:register", { entity: n, type: "avatar", account });
    const address = readDeployment("hardhat").contracts.TrustManager.address;
    const [admin] = await hre.ethers.getSigners();
    wallet = Wallet.createRandom().connect(hre.ethers.provider) as unknown as Wallet;
    await (await admin.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    tm = TrustManager__factory.connect(address, admin);
    await (await tm.grantRole(await tm.ORACLE_ROLE(), wallet.address)).wait();
    chainId = (await hre.ethers.provider.getNetwork()).chainId;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "svc-oracle-"));
    svc = make();
    ep = { url: (await svc.start({ port: 0 })).url, chainId, trustManager: address, account: wallet.address };
  });
  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    await svc?.stop();
  });

  it("writes a quorum's median from its own account, once; a reporter's retry gets the decision and sends nothing", async () => {
    const first = await observeRemote(ep, reporters[0], { from: ann, to: ben, round: 1, value: (2n * WAD) / 10n, eras: [0, 0] });
    expect(first).to.include({ observed: 1, quorum: 2 });
    expect(first.decision).to.equal(undefined);
    expect((await tm.pairOf(ann, ben)).oracle).to.equal(0n);
    const r = await observeRemote(ep, reporters[1], { from: ann, to: ben, round: 1, value: (4n * WAD) / 10n, eras: [0, 0] });
    expect(r.decision?.value).to.equal(((3n * WAD) / 10n).toString());
    expect(r.decision?.onChain).to.equal(r.decision?.value);
    expect((await tm.pairOf(ann, ben)).oracle).to.equal((3n * WAD) / 10n);
    const logs = await tm.queryFilter(tm.filters.OracleUpdated(ann, ben));
    expect(logs).to.have.length(1);
    expect((await logs[0].getTransaction()).from).to.equal(wallet.address);
    expect(logs[0].transactionHash).to.equal(r.decision?.tx);
    const n = await nonce();
    const again = await observeRemote(ep, reporters[1], { from: ann, to: ben, round: 1, value: (4n * WAD) / 10n, eras: [0, 0] });
    expect(again.decision).to.deep.equal(r.decision);
    expect(await nonce()).to.equal(n);
  });

  it("the same request bytes twice: one effect, the same reply", async () => {
    const req = observationEnvelope(ep, reporters[2], { from: ben, to: ann, round: 1, value: 100n, eras: [0, 0] });
    const a = await postEnvelope(ep.url, "/v1/oracle/observe", req);
    const state = stateFile();
    const b = await postEnvelope(ep.url, "/v1/oracle/observe", req);
    expect(Buffer.from(b).equals(Buffer.from(a))).to.equal(true);
    expect(stateFile()).to.equal(state);
    expect(JSON.parse(state).pairs[`${ben}|${ann}`].open).to.have.keys([reporters[2].address.toLowerCase()]);
  });

  it("refuses a stranger, an unknown entity, a changed or stale observation, a malformed body; nothing changes", async () => {
    const state = stateFile();
    const n = await nonce();
    const cases: [() => Promise<unknown>, RegExp][] = [
      [
        () => observeRemote(ep, Wallet.createRandom(), { from: ann, to: cat, round: 1, value: 0n, eras: [0, 0] }),
        /is not one of the oracle's reporters/,
      ],
      [
        () => observeRemote(ep, reporters[0], { from: ann, to: entityId("nobody"), round: 1, value: 0n, eras: [0, 0] }),
        /to 0x[0-9a-f]{64} is not a registered entity/,
      ],
      [
        () => observeRemote(ep, reporters[1], { from: ann, to: ben, round: 1, value: WAD / 2n, eras: [0, 0] }),
        /already observed round 1 of this pair with another value/,
      ],
      [() => observeRemote(ep, reporters[2], { from: ann, to: ben, round: 1, value: 0n, eras: [0, 0] }), /at or below its decided round 1/],
      [
        () => observeRemote(ep, reporters[2], { from: ann, to: ben, round: 2, value: WAD + 1n, eras: [0, 0] }),
        /value must be in \[-1, 1\]/,
      ],
    ];
    for (const [f, msg] of cases) {
      const e = await f().then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e, String(msg)).to.be.instanceOf(ServiceError);
      expect((e as ServiceError).status, String(msg)).to.equal(422);
      expect((e as Error).message).to.match(msg);
    }
    const bad = observationEnvelope(ep, reporters[0], {
      body: toBytes(JSON.stringify({ from: ann, to: ben, round: 2, value: 1, eras: [0, 0] })),
    });
    const e = await postEnvelope(ep.url, "/v1/oracle/observe", bad).then(
      () => undefined,
      (x: unknown) => x as ServiceError,
    );
    expect(e?.status).to.equal(400);
    expect(e?.message).to.match(/value must be a decimal integer string/);
    expect(stateFile()).to.equal(state);
    expect(await nonce()).to.equal(n);
    // a client expecting another oracle account refuses the reply
    await expectRejects(
      () =>
        observeRemote({ ...ep, account: reporters[0].address }, reporters[0], { from: cat, to: ann, round: 1, value: 0n, eras: [0, 0] }),
      EnvelopeError,
      "PROTOCOL_REJECTED",
      /^verifyEnvelope: signed by 0x[0-9a-fA-F]{40}, not by/,
    );
  });

  it("killed between its transaction and its state: the restart settles the decision without a second write", async () => {
    process.env.METATRUST_FAULT = "oracle:after-chain-write";
    onFault((p) => {
      throw new Error(`injected fault at ${p}`);
    });
    await observeRemote(ep, reporters[0], { from: ann, to: ben, round: 2, value: (8n * WAD) / 10n, eras: [0, 0] });
    const err = await observeRemote(
      ep,
      reporters[2],
      { from: ann, to: ben, round: 2, value: (6n * WAD) / 10n, eras: [0, 0] },
      { attempts: 1, timeoutMs: 30_000, backoffMs: 0 },
    ).then(
      () => undefined,
      (x: unknown) => x as ServiceError,
    );
    expect(err?.status).to.equal(500);
    expect((await tm.pairOf(ann, ben)).oracle).to.equal((7n * WAD) / 10n);
    expect(JSON.parse(stateFile()).pairs[`${ann}|${ben}`].decided.due).to.equal(true);
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    await svc!.stop();
    const n = await nonce();
    svc = make();
    ep = { ...ep, url: (await svc.start({ port: 0 })).url };
    expect(JSON.parse(stateFile()).pairs[`${ann}|${ben}`].decided.due).to.equal(false);
    expect(await nonce()).to.equal(n);
    // the reporter's retry gets the decision, still without a write
    const r = await observeRemote(ep, reporters[2], { from: ann, to: ben, round: 2, value: (6n * WAD) / 10n, eras: [0, 0] });
    expect(r.decision).to.include({ value: ((7n * WAD) / 10n).toString(), onChain: ((7n * WAD) / 10n).toString() });
    expect(await nonce()).to.equal(n);
    expect(await tm.queryFilter(tm.filters.OracleUpdated(ann, ben))).to.have.length(2);
  });

  it("a restart with a decision due and not yet written writes it", async () => {
    // a decision whose write never started (the process died before sending): due in the state file
    const s = JSON.parse(stateFile());
    s.pairs[`${cat}|${ben}`] = { open: {}, decided: { round: 9, value: ((-5n * WAD) / 10n).toString(), by: {}, due: true } };
    await svc!.stop();
    fs.writeFileSync(path.join(dir, "service", "state.json"), JSON.stringify(s));
    const n = await nonce();
    svc = make();
    ep = { ...ep, url: (await svc.start({ port: 0 })).url };
    expect((await tm.pairOf(cat, ben)).oracle).to.equal((-5n * WAD) / 10n);
    expect(await nonce()).to.equal(n + 1);
    expect(svc.agg.pending()).to.deep.equal([]);
  });
  it("h9-fix: a write the chain refuses (the oracle's role revoked) is a 422 naming the contract error, sent once by a client that retries 8 times", async () => {
    const role = await tm.ORACLE_ROLE();
    await (await tm.revokeRole(role, wallet.address)).wait();
    let seen = 0;
    const counter = await relay(ep.url, async () => {
      seen++;
    });
    try {
      await observeRemote(ep, reporters[0], { from: ben, to: cat, round: 1, value: WAD / 10n, eras: [0, 0] });
      const n = await nonce();
      const e = await observeRemote(
        { ...ep, url: counter.url },
        reporters[1],
        { from: ben, to: cat, round: 1, value: WAD / 10n, eras: [0, 0] },
        {
          attempts: 8,
          timeoutMs: 30_000,
          backoffMs: 10,
        },
      ).then(
        () => undefined,
        (x: unknown) => x as ServiceError,
      );
      expect(e).to.be.instanceOf(ServiceError);
      expect(e?.status).to.equal(422);
      expect(e?.reason).to.equal("AccessControlUnauthorizedAccount");
      expect(e?.message).to.match(
        /422 AccessControlUnauthorizedAccount the chain refused: AccessControlUnauthorizedAccount\(0x[0-9a-fA-F]{40}, 0x[0-9a-f]{64}\)$/,
      );
      expect(seen).to.equal(1);
      expect(await nonce()).to.equal(n);
      expect((await tm.pairOf(ben, cat)).oracle).to.equal(0n);
    } finally {
      counter.close();
      await (await tm.grantRole(role, wallet.address)).wait();
    }
  });
});
