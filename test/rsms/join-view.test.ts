/**
 * The join's pre-answer checks from a local view (issue 20, rsms-join.md change 18): a process that
 * ran a join keeps a view of the registry (the pool, its filter roots, the recorded tags from the
 * JoinRecorded logs through a cursor), refreshed after each join, off the next one's path; the next
 * join answers from it with no chain read before its transaction. The attacks are the view's gap:
 * a record made since its last refresh (a replayed join, or another process's join whose records
 * were lost: change 17's window), a filter epoch published since, a pool key it holds stale. Each
 * is refused on chain (the registry's recordJoin: PidExists / TagUsed) or before anything is
 * forwarded (NOT_IN_FILTER, then the chain is read), and the refusal changes nothing anywhere.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { Keystore, settled } from "../../offchain/storage/keystore";
import { initialJoin, joinViewsSettled, serveJoin, syncFilters, viewedJoin } from "../../offchain/rsms/flows";
import { Msrp } from "../../offchain/rsms/msrp";
import { ResourceNode } from "../../offchain/rsms/rn";
import { ResourcePoolManager } from "../../offchain/rsms/rpm";
import { RsmsLedger } from "../../offchain/rsms/ledger";
import { tagOf } from "../../offchain/rsms/params";
import { attach } from "../../offchain/chain/contracts";
import { ResourcePoolRegistry__factory } from "../../typechain-types";
import { readDeployment } from "../../offchain/chain/deployments";
import { countRpc } from "../../scripts/lib/rpc-count";
import { mulBase, randomScalar } from "../../offchain/crypto/group";

describe("rsms: a join answered from the process's local view of the registry; its gap is refused on chain and changes nothing", function () {
  this.timeout(180_000);
  const saved: Record<string, string | undefined> = {};
  const log = console.log;
  let dir: string;
  let ks: Keystore;
  const intentFiles = () =>
    (fs.existsSync(path.join(ks.dir, ".journal")) ? fs.readdirSync(path.join(ks.dir, ".journal")) : []).filter((f) =>
      f.endsWith(".intent"),
    );
  const registryAddress = () => readDeployment("hardhat").contracts.ResourcePoolRegistry.address;
  const reader = () => new RsmsLedger(attach(ResourcePoolRegistry__factory, registryAddress(), hre.ethers.provider));
  const quiet = async <T>(f: () => Promise<T>) => {
    console.log = () => undefined;
    try {
      return await f();
    } finally {
      console.log = log;
    }
  };
  const join = (rn: string) => quiet(() => hre.run("rsms:join", { rn, pool: 1 }));
  const msrpRn = (name: string) => (ks.load("rsms-msrp") as { rns: Record<string, { used: boolean }> }).rns[name];
  /** Every file of the keystore folder (journal included), by name: what "nothing changed" compares. */
  const files = () => {
    const out: Record<string, string> = {};
    const walk = (d: string) => {
      for (const f of fs.readdirSync(d)) {
        const p = path.join(d, f);
        if (fs.statSync(p).isDirectory()) walk(p);
        else out[path.relative(ks.dir, p)] = fs.readFileSync(p, "utf8");
      }
    };
    walk(ks.dir);
    return out;
  };
  const agents = (name: string) => {
    const m = Msrp.fromRecord(ks.load("rsms-msrp") as never);
    return { m, rn: ResourceNode.fromRecord(m.params, ks.load(`rsms-rn-${name}`)) };
  };
  /** The MSRP's account, as the task signs with it. */
  const msrpLedger = async () => {
    const { operatorSigner } = await import("../../tasks/lib/context");
    return new RsmsLedger(attach(ResourcePoolRegistry__factory, registryAddress(), await operatorSigner(hre, "msrp")));
  };

  before(async () => {
    for (const k of ["METATRUST_DATA_DIR", "METATRUST_DEPLOYMENTS_DIR"]) saved[k] = process.env[k];
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-joinview-"));
    process.env.METATRUST_DATA_DIR = path.join(dir, "data");
    process.env.METATRUST_DEPLOYMENTS_DIR = path.join(dir, "deployments");
    await quiet(async () => {
      await hre.run("deploy", { quiet: true });
      await hre.run("rsms:setup", { capacity: 8, lambda: 16, interval: 3600 });
      await hre.run("rsms:rpm:register", { pool: 1 });
      for (const n of ["v1", "v2", "v3", "v4", "v5", "v6"]) await hre.run("rsms:rn:register", { name: n, pool: 1 });
      await hre.run("rsms:filter:publish", { pool: 1 });
    });
    const { localState } = await import("../../tasks/lib/context");
    ks = localState(hre).keystore;
    await join("v1"); // the process's first join here reads the chain; the view is read once it returned
    await joinViewsSettled();
  });
  after(() => {
    console.log = log;
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });

  it("a join recorded inside the view's gap (the RN's own join whose records were lost, as a replay would be) is refused by the registry; the keystore, its journal and the MSRP's record are unchanged; once the view is read again, the join is taken as the retry it is", async () => {
    await settled();
    const { rn } = agents("v2");
    // the chain records v2's join behind the view's back: change 17's window (a join sent, its
    // process killed before its intent was durable), or any other process's record of that tag
    const ledger = reader();
    await (await msrpLedger()).recordJoin({ pid: rn.state.pid, tag: tagOf(rn.state.a), poolId: 1, kind: 1 });
    const count = await ledger.joinCount();
    expect(viewedJoin({ ledger, store: undefined as never }, 1, tagOf(rn.state.a)), "the view has not seen the record").to.not.equal(
      undefined,
    );
    const before = files();
    const c = countRpc(hre.network.provider);
    const r = await c.during(() => join("v2").catch((e: Error) => e));
    expect(r.value).to.be.instanceOf(Error);
    expect(String(r.value)).to.match(/PidExists|TagUsed/);
    // no read before the transaction: the view answered, the registry refused
    expect(r.calls.eth_call ?? 0).to.equal(0);
    await settled();
    await joinViewsSettled();
    expect(intentFiles()).to.deep.equal([]);
    expect(files()).to.deep.equal(before);
    expect(msrpRn("v2")).to.deep.include({ used: false });
    expect(await ledger.joinCount()).to.equal(count);
    // the MSRP agent this process keeps is not one that took the refused step: another RN joins
    // from the view, and v2 is still unused in the MSRP's record
    await join("v3");
    expect(msrpRn("v3")).to.deep.include({ used: true });
    expect(msrpRn("v2")).to.deep.include({ used: false });
    // the view has read the record now: v2's join asks the chain, finds its own record (change 9's
    // retry) and commits both records; nothing more is written on chain
    await joinViewsSettled();
    const again = await join("v2");
    expect(again.tx).to.equal(undefined);
    expect(msrpRn("v2")).to.deep.include({ used: true });
    expect(ks.load("rsms-rn-v2")).to.deep.include({ joined: true, pool: 1 });
    expect(await ledger.joinCount()).to.equal(count + 1);
  });

  it("a replayed join request served from a view read before its record: the registry refuses it, no reply is returned, the RPM's and the MSRP's agents are as before", async () => {
    await settled();
    await joinViewsSettled();
    const { m, rn } = agents("v4");
    const ctx = { ledger: await msrpLedger(), store: (await import("../../tasks/lib/context")).localState(hre).store };
    const rpmRec = ks.load("rsms-rpm-1");
    const stale = viewedJoin(ctx, 1, tagOf(rn.state.a))!; // the view as it stands before the join
    expect(stale).to.not.equal(undefined);
    const pool = (await stale.pool)!;
    const { request } = rn.buildJoinRequest({ poolId: 1, pkRpm: pool.pkRpm, pidRpm: pool.pidRpm });
    // the genuine join of that request, by an MSRP agent of its own (another process)
    const rpm1 = ResourcePoolManager.fromRecord(m.params, rpmRec);
    await serveJoin(ctx, rpm1, m, request);
    // the attacker replays the request's bytes to an RPM and MSRP whose agents have not seen the join,
    // with the view read before it (the gap: its refresh has not run)
    const msrp = Msrp.fromRecord(ks.load("rsms-msrp") as never);
    const rpm = ResourcePoolManager.fromRecord(msrp.params, rpmRec);
    await syncFilters(ctx, rpm);
    const msrpBefore = JSON.stringify(msrp.toRecord());
    const rpmBefore = JSON.stringify(rpm.toRecord());
    const count = await ctx.ledger.joinCount();
    const out = await serveJoin(ctx, rpm, msrp, request, Promise.resolve(pool.epochs), stale).catch((e: Error) => e);
    expect(out).to.be.instanceOf(Error); // no reply: serveJoin returns one only with the record on chain
    expect(String(out)).to.match(/PidExists|TagUsed/);
    expect(JSON.stringify(msrp.toRecord())).to.equal(msrpBefore);
    expect(JSON.stringify(rpm.toRecord())).to.equal(rpmBefore);
    expect(await ctx.ledger.joinCount()).to.equal(count);
  });

  it("a filter epoch published inside the view's gap: the RPM refuses the view's answer before anything is forwarded, and the join reads the chain and runs again (one join recorded)", async () => {
    await settled();
    await joinViewsSettled();
    await quiet(async () => {
      await hre.run("rsms:rn:register", { name: "v7", pool: 1 });
      await hre.run("rsms:filter:publish", { pool: 1 }); // epoch 1: the view holds epoch 0 only
    });
    const count = await reader().joinCount();
    const c = countRpc(hre.network.provider);
    const r = await c.during(() => join("v7"));
    expect(r.value.tx.gasUsed > 0n).to.equal(true);
    expect(r.calls.eth_call).to.equal(1); // the chain's read, after the view's refusal
    expect(r.calls.eth_sendRawTransaction).to.equal(1);
    expect(await reader().joinCount()).to.equal(count + 1);
    expect(msrpRn("v7")).to.deep.include({ used: true });
  });

  it("a pool key the view holds stale (rotated inside the gap): the request sealed to it opens to garbage at the RPM, refused before anything is forwarded; the join reads the chain's key and runs again", async () => {
    await settled();
    await joinViewsSettled();
    const { m, rn } = agents("v5");
    const ctx = { ledger: await msrpLedger(), store: (await import("../../tasks/lib/context")).localState(hre).store };
    const fresh = viewedJoin(ctx, 1, tagOf(rn.state.a))!;
    const pool = (await fresh.pool)!;
    const other = mulBase(randomScalar()); // a key the view might still hold after an RPM re-setup
    const stale = { ...fresh, pool: Promise.resolve({ ...pool, pkRpm: other }) };
    const rpm = ResourcePoolManager.fromRecord(m.params, ks.load("rsms-rpm-1"));
    const count = await ctx.ledger.joinCount();
    const c = countRpc(hre.network.provider);
    const r = await c.during(() => initialJoin(ctx, rn, rpm, m, stale));
    expect(r.value.tx).to.not.equal(undefined);
    expect(await ctx.ledger.joinCount()).to.equal(count + 1);
    expect(rn.state.joined).to.equal(true);
    // against the same join with the view's key as it is: two reads more, the replay check of the
    // tag the RPM opened (not the RN's: serveJoin asks the chain for any other tag) and the chain's
    // pool after the refusal
    const six = agents("v6");
    const rpm6 = ResourcePoolManager.fromRecord(six.m.params, ks.load("rsms-rpm-1"));
    const base = await c.during(() => initialJoin(ctx, six.rn, rpm6, six.m, viewedJoin(ctx, 1, tagOf(six.rn.state.a))!));
    expect(base.value.tx).to.not.equal(undefined);
    expect(r.calls.eth_call).to.equal((base.calls.eth_call ?? 0) + 2);
  });
  it("a chain that went back under the view's cursor (a reorganisation; here evm_revert) is read again from block 0: a record made since, below the old cursor, is seen", async () => {
    await settled();
    await joinViewsSettled();
    const snap = await hre.network.provider.send("evm_snapshot", []);
    await quiet(async () => {
      await hre.run("rsms:rn:register", { name: "v8", pool: 1 });
      await hre.run("rsms:filter:publish", { pool: 1 });
    });
    // blocks past the snapshot, seen by the view (a refresh after a join)
    await join("v8");
    await joinViewsSettled();
    await hre.network.provider.send("evm_revert", [snap]);
    // another RN registers on the chain as it now is, and the chain records its join behind the
    // view's back, in a block below the view's cursor
    await quiet(async () => {
      await hre.run("rsms:rn:register", { name: "v9", pool: 1 });
      await hre.run("rsms:filter:publish", { pool: 1 });
    });
    const { rn } = agents("v9");
    await (await msrpLedger()).recordJoin({ pid: rn.state.pid, tag: tagOf(rn.state.a), poolId: 1, kind: 1 });
    await join("v1").catch(() => undefined); // any join of the process starts a refresh
    await joinViewsSettled();
    const ctx = { ledger: reader(), store: undefined as never };
    expect(viewedJoin(ctx, 1, tagOf(rn.state.a)), "the record below the old cursor is in the view").to.equal(undefined);
    const r = await join("v9"); // the chain decides: v9's own record, a retry
    expect(r.tx).to.equal(undefined);
    expect(msrpRn("v9")).to.deep.include({ used: true });
  });
});
