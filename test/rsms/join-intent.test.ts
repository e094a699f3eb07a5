/**
 * The join's journaled intent (issue 20, rsms-join.md change 17): `rsms:join` writes the MSRP's and
 * the RN's new records as an intent while its recordJoin is sent and mined, and commits them once
 * both the receipt and the intent's fsync are in. A transaction the chain refuses changes nothing;
 * an intent left by a step whose outcome is unknown blocks its records until it is resolved from
 * the chain (flows.resolveJoinIntents): applied iff the registry holds its record. The crashes
 * (SIGKILL at each point, against `hardhat node`) are in test/e2e/join-crash.test.ts.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { Keystore, settled } from "../../offchain/storage/keystore";
import { useRsmsTaskSandbox, joinQuietly } from "../helpers/tasks";
import { KeystoreIntentPendingError } from "../../offchain/storage/errors";
import { JOIN_INTENT, initialJoin, resolveJoinIntents } from "../../offchain/rsms/flows";
import { Msrp } from "../../offchain/rsms/msrp";
import { ResourceNode } from "../../offchain/rsms/rn";
import { ResourcePoolManager } from "../../offchain/rsms/rpm";
import { RsmsLedger } from "../../offchain/rsms/ledger";
import { attach } from "../../offchain/chain/contracts";
import { ResourcePoolRegistry__factory } from "../../typechain-types";
import { readDeployment } from "../../offchain/chain/deployments";

describe("rsms: a join's records journaled with its transaction (Keystore.commitIntent)", function () {
  this.timeout(120_000);
  const log = console.log;
  const sandbox = useRsmsTaskSandbox("metatrust-intent-", ["i1", "i2", "i3", "i4", "i5"]);
  let ks: Keystore;
  const intentFiles = () =>
    (fs.existsSync(path.join(ks.dir, ".journal")) ? fs.readdirSync(path.join(ks.dir, ".journal")) : []).filter((f) =>
      f.endsWith(".intent"),
    );
  const ledger = () =>
    new RsmsLedger(
      attach(ResourcePoolRegistry__factory, readDeployment("hardhat").contracts.ResourcePoolRegistry.address, hre.ethers.provider),
    );

  before(() => (ks = sandbox.keystore()));

  const join = (rn: string) => joinQuietly(rn);
  const msrpRn = (name: string) => (ks.load("rsms-msrp") as { rns: Record<string, { used: boolean; pool: number }> }).rns[name];

  it("a join returns with both records committed through its intent, and the intent is gone once they are in place", async () => {
    const res = await join("i1");
    expect(res.journaled).to.equal(true);
    expect(res.tx.gasUsed > 0n).to.equal(true);
    expect(ks.load("rsms-rn-i1")).to.deep.include({ joined: true, pool: 1 });
    expect(msrpRn("i1")).to.deep.include({ used: true, pool: 1 });
    await settled();
    expect(intentFiles()).to.deep.equal([]);
    // on disk, in place (a new keystore object reads the files)
    expect(new Keystore(ks.dir, undefined).load("rsms-rn-i1")).to.deep.include({ joined: true });
  });

  it("a join whose transaction the chain refuses changes nothing in the keystore and leaves no intent; once it can, the join is recorded once", async () => {
    const d = readDeployment("hardhat");
    const [admin] = await hre.ethers.getSigners();
    const reg = ResourcePoolRegistry__factory.connect(d.contracts.ResourcePoolRegistry.address, admin);
    const role = await reg.MSRP_ROLE();
    const msrpAccount = (await import("../../tasks/lib/context")).operatorAddress(hre, "msrp");
    const before = { rn: fs.readFileSync(ks.file("rsms-rn-i2"), "utf8"), msrp: JSON.stringify(ks.load("rsms-msrp")) };
    const count = await ledger().joinCount();
    await (await reg.revokeRole(role, msrpAccount)).wait();
    let err: unknown;
    try {
      await join("i2");
    } catch (e) {
      err = e;
    } finally {
      await (await reg.grantRole(role, msrpAccount)).wait();
    }
    expect(String(err)).to.match(/AccessControlUnauthorizedAccount/);
    await settled();
    expect(intentFiles()).to.deep.equal([]);
    expect(fs.readFileSync(ks.file("rsms-rn-i2"), "utf8")).to.equal(before.rn);
    expect(JSON.stringify(ks.load("rsms-msrp"))).to.equal(before.msrp);
    expect(await ledger().joinCount()).to.equal(count);
    await join("i2");
    expect(await ledger().joinCount()).to.equal(count + 1);
    expect(msrpRn("i2")).to.deep.include({ used: true });
  });

  it("an intent left unresolved blocks its records; resolved from the chain: applied when the registry holds its record, dropped when its transaction was never sent", async () => {
    const rn3 = fs.readFileSync(ks.file("rsms-rn-i3"), "utf8");
    // an intent whose transaction does not exist (as if the process died before its send reached the node)
    const p = ks.commitIntent(
      { "rsms-rn-i3": { ...ks.load("rsms-rn-i3"), joined: true, pool: 1 } },
      {},
      {
        kind: JOIN_INTENT,
        data: {
          pid: "0x" + "11".repeat(32),
          tag: "0x" + "22".repeat(32),
          poolId: 1,
          kind: 1,
          tx: { hash: "0x" + "33".repeat(32), nonce: 0, from: "0x" + "44".repeat(20) },
        },
      },
    );
    await p.durable;
    // a live step's own intent does not block
    expect(ks.load("rsms-rn-i3")).to.deep.include({ joined: false });
    p.leave();
    expect(() => ks.load("rsms-rn-i3")).to.throw(KeystoreIntentPendingError, /rsms-rn-i3.*rsms:status/);
    expect(() => ks.update("rsms-rn-i3", {})).to.throw(KeystoreIntentPendingError);
    expect(ks.intents().map((i) => i.kind)).to.deep.equal([JOIN_INTENT]);
    const r = await resolveJoinIntents(ks, ledger(), hre.ethers.provider as never);
    expect(r).to.deep.equal({ applied: 0, dropped: 1 });
    expect(fs.readFileSync(ks.file("rsms-rn-i3"), "utf8")).to.equal(rn3);
    expect(ks.intents()).to.deep.equal([]);
    expect(intentFiles()).to.deep.equal([]);

    // an intent whose record is on-chain, left before it was applied: the next rsms task applies it
    const beforeRn = ks.load("rsms-rn-i3");
    const beforeMsrp = ks.load("rsms-msrp");
    const res = await join("i3");
    await settled();
    const joined = { rn: ks.load("rsms-rn-i3"), msrp: ks.load("rsms-msrp") };
    // the records put back as they were before that join (what a crash before its apply leaves) ...
    ks.commit({ "rsms-rn-i3": beforeRn, "rsms-msrp": beforeMsrp });
    await settled();
    // ... and its intent, holding the joined records
    const left = ks.commitIntent(
      { "rsms-rn-i3": joined.rn, "rsms-msrp": joined.msrp },
      {},
      {
        kind: JOIN_INTENT,
        data: {
          pid: "0x" + Buffer.from(res.record.pid).toString("hex"),
          tag: "0x" + Buffer.from(res.record.tag).toString("hex"),
          poolId: 1,
          kind: 1,
          tx: { hash: res.tx.hash, nonce: 0, from: "0x" + "44".repeat(20) },
        },
      },
    );
    await left.durable;
    left.leave();
    expect(() => ks.load("rsms-msrp")).to.throw(KeystoreIntentPendingError);
    console.log = () => undefined;
    try {
      await hre.run("rsms:status");
    } finally {
      console.log = log;
    }
    expect(ks.intents()).to.deep.equal([]);
    expect(intentFiles()).to.deep.equal([]);
    expect(ks.load("rsms-rn-i3")).to.deep.include({ joined: true });
    expect(msrpRn("i3")).to.deep.include({ used: true });
  });

  it("a join on-chain whose records were never journaled (the crash came before the intent's fsync): the RN's next join is a retry that commits the MSRP's side and the RN's", async () => {
    const { localState, operatorSigner } = await import("../../tasks/lib/context");
    const d = readDeployment("hardhat");
    const m = Msrp.fromRecord(ks.load("rsms-msrp") as never);
    const rn = ResourceNode.fromRecord(m.params, ks.load("rsms-rn-i4"));
    const rpm = ResourcePoolManager.fromRecord(m.params, ks.load("rsms-rpm-1"));
    const ctx = {
      ledger: new RsmsLedger(
        attach(ResourcePoolRegistry__factory, d.contracts.ResourcePoolRegistry.address, await operatorSigner(hre, "msrp")),
      ),
      store: localState(hre).store,
    };
    const count = await ledger().joinCount();
    // the process "dies" once the transaction is sent: its intent is never written, its agents are lost
    const lost = () => ({
      file: "",
      durable: Promise.resolve(),
      texts: {},
      apply: () => undefined,
      drop: async () => undefined,
      leave: () => undefined,
    });
    const res = await initialJoin(ctx, rn, rpm, m, undefined, lost);
    expect(res.journaled).to.equal(true);
    expect(await ledger().joinCount()).to.equal(count + 1);
    expect(ks.load("rsms-rn-i4")).to.deep.include({ joined: false });
    expect(msrpRn("i4")).to.deep.include({ used: false });
    const again = await join("i4");
    expect(again.tx).to.equal(undefined); // a retry: nothing sent
    expect(await ledger().joinCount()).to.equal(count + 1);
    expect(ks.load("rsms-rn-i4")).to.deep.include({ joined: true, pool: 1 });
    expect(msrpRn("i4")).to.deep.include({ used: true, pool: 1 });
    // the MSRP's next expected pseudonym for i4 is set, as after any join: it can re-authenticate
    console.log = () => undefined;
    try {
      await hre.run("rsms:rpm:register", { pool: 2 });
      const moved = await hre.run("rsms:reauth", { rn: "i4", toPool: 2 });
      expect(moved.record.kind).to.equal(2);
    } finally {
      console.log = log;
    }
  });
});
