/**
 * `rsms:serve msrp --batch-ms --batch-max` through its real CLI path, in this process: the task
 * (flag parsing, the data folder's keystore and role account, MSRP_ROLE checks) starts the MSRP
 * service with batching; an RPM service and four RNs join through it concurrently; every
 * recordJoins transaction carries at most --batch-max joins, and fewer transactions than joins
 * are sent. The task is stopped as a terminal would stop it (its SIGTERM handler).
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { funded, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { RsmsLedger } from "../../offchain/rsms/ledger";
import { RpmService } from "../../offchain/services/rsms/rpm-service";
import { enrolRpm, joinRemote, registerRnRemote, type Deployment } from "../../offchain/services/rsms/clients";
import { ResourcePoolRegistry__factory } from "../../typechain-types";

describe("tasks: rsms:serve msrp --batch-ms --batch-max (the CLI path, in-process)", function () {
  this.timeout(300_000);
  const saved: Record<string, string | undefined> = {};
  const log = console.log;
  const out: string[] = [];
  let rpm: RpmService | undefined;
  let stop: (() => void) | undefined;
  let serving: Promise<unknown> | undefined;

  before(() => {
    for (const k of ["METATRUST_DATA_DIR", "METATRUST_DEPLOYMENTS_DIR"]) saved[k] = process.env[k];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-serve-batch-"));
    process.env.METATRUST_DATA_DIR = path.join(dir, "data");
    process.env.METATRUST_DEPLOYMENTS_DIR = path.join(dir, "deployments");
  });
  after(async () => {
    console.log = log;
    stop?.();
    await serving?.catch(() => undefined);
    await rpm?.stop();
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });

  it("a --batch-max outside [1, 128] is refused naming the flag, before the service starts", async () => {
    const e = await hre.run("rsms:serve", { role: "msrp", batchMs: 50, batchMax: 129 }).then(
      () => undefined,
      (x: Error) => x,
    );
    expect(e?.message).to.match(/^rsms:serve: --batch-max: 129 is not a whole number in \[1, 128\]$/);
  });

  it("a negative --flag-sync is refused naming the flag, before the service starts", async () => {
    for (const flagSync of [-1, -1000]) {
      const e = await hre.run("rsms:serve", { role: "msrp", flagSync }).then(
        () => undefined,
        (x: Error) => x,
      );
      expect(e?.message).to.equal(`rsms:serve: --flag-sync ${flagSync} is not a whole number of milliseconds (0: off)`);
    }
  });

  it("four concurrent joins through the served MSRP go on-chain in batches of at most --batch-max", async () => {
    await hre.run("deploy", { quiet: true });
    console.log = (...a: unknown[]) => void out.push(a.join(" "));
    // a filter of four: published by the service's tick once the four RNs are in it (not before)
    const { account } = await hre.run("rsms:setup", { capacity: 4, lambda: 16, interval: 3600 });
    await hre.run("rsms:msrp:grant", { to: account });
    const listeners = new Set(process.listeners("SIGTERM"));
    serving = hre.run("rsms:serve", { role: "msrp", admitRpm: "any", tick: 200, batchMs: 3000, batchMax: 2 });
    let url: string | undefined;
    for (let i = 0; i < 200 && !url; i++) {
      url = out.map((l) => /^msrp: listening on (\S+) .*joins batched \(3000 ms, at most 2\)/.exec(l)?.[1]).find(Boolean);
      if (!url) await new Promise((r) => setTimeout(r, 50));
    }
    expect(url, out.join("\n")).to.be.a("string");
    const handler = process.listeners("SIGTERM").find((l) => !listeners.has(l)) as (() => void) | undefined;
    let stopped = false;
    stop = () => {
      if (!handler || stopped) return;
      stopped = true;
      process.removeListener("SIGTERM", handler);
      process.removeListener("SIGINT", handler);
      handler();
    };

    const { deployedAddress } = await import("../../tasks/lib/context");
    const registry = await deployedAddress(hre, "ResourcePoolRegistry");
    const dep: Deployment = {
      chainId: (await hre.ethers.provider.getNetwork()).chainId,
      registry,
      ledger: new RsmsLedger(ResourcePoolRegistry__factory.connect(registry, hre.ethers.provider)),
    };
    const rpmWallet = await funded();
    const rpmDir = tmp("serve-rpm");
    const rpmKs = new Keystore(path.join(rpmDir, "keystore"), "");
    await enrolRpm({ msrpUrl: url!, poolId: 1, rid: "rpm-1", wallet: rpmWallet, keystore: rpmKs, dep });
    rpm = new RpmService({
      keystore: rpmKs,
      dir: path.join(rpmDir, "service"),
      poolId: 1,
      ledger: new RsmsLedger(ResourcePoolRegistry__factory.connect(registry, rpmWallet)),
      store: (await import("../../tasks/lib/context")).localState(hre).store,
      wallet: rpmWallet,
      chainId: dep.chainId,
      registry,
      log: () => undefined,
    });
    await rpm.start({ port: 0 });

    const client = new Keystore(tmp("serve-client"), "");
    const names = ["s1", "s2", "s3", "s4"];
    for (const n of names) {
      const { token } = await hre.run("rsms:enrol-token", { rn: n });
      await registerRnRemote({ msrpUrl: url!, name: n, poolId: 1, rid: `rn:${n}`, token, keystore: client, dep });
    }
    for (let i = 0; i < 200 && !(await dep.ledger.poolEpochs(1)); i++) await new Promise((r) => setTimeout(r, 50)); // the tick publishes
    const from = await hre.ethers.provider.getBlockNumber();
    await Promise.all(names.map((name) => joinRemote({ name, poolId: 1, keystore: client, dep })));
    const reg = dep.ledger.registry;
    const ev = await reg.queryFilter(reg.filters.JoinRecorded(), from + 1);
    const perTx = new Map<string, number>();
    for (const e of ev) perTx.set(e.transactionHash, (perTx.get(e.transactionHash) ?? 0) + 1);
    expect(ev).to.have.length(4);
    expect(Math.max(...perTx.values()), JSON.stringify([...perTx.values()])).to.be.at.most(2);
    expect(perTx.size).to.be.lessThan(4);
    stop();
    expect(await serving).to.deep.equal({ url });
  });
});
