import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { KeystoreExistsError } from "../offchain/storage/errors";
import { settled } from "../offchain/storage/keystore";
import { RsmsRejectedError } from "../offchain/rsms/errors";
import { rejects } from "./helpers/tasks";

describe("tasks: rsms:* (in-process network, one process)", function () {
  this.timeout(120_000);
  const saved: Record<string, string | undefined> = {};
  const log = console.log;
  let out: string[] = [];

  before(() => {
    for (const k of ["METATRUST_DATA_DIR", "METATRUST_DEPLOYMENTS_DIR"]) saved[k] = process.env[k];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-tasks-"));
    process.env.METATRUST_DATA_DIR = path.join(dir, "data");
    process.env.METATRUST_DEPLOYMENTS_DIR = path.join(dir, "deployments");
  });
  after(() => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });
  beforeEach(() => {
    out = [];
    console.log = (...a: unknown[]) => out.push(a.join(" "));
  });
  afterEach(() => {
    console.log = log;
  });

  it("setup, pools, RNs, filters, join, re-authentication, trace and status", async () => {
    await hre.run("deploy", { quiet: true });
    await hre.run("rsms:setup", { capacity: 4, lambda: 16, interval: 3600 });
    let err: unknown;
    try {
      await hre.run("rsms:setup", { capacity: 4, lambda: 16, interval: 3600 });
    } catch (e) {
      err = e;
    }
    expect(err, "a second setup must not overwrite msk").to.be.instanceOf(KeystoreExistsError);
    // pool 0 is reserved: refused as bad input before any key is drawn or anything sent
    const { UsageError } = await import("../tasks/lib/cli");
    err = undefined;
    try {
      await hre.run("rsms:rpm:register", { pool: 0 });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(UsageError);
    expect((err as Error).message).to.match(/^rsms:rpm:register: --pool must be a positive integer \(pool 0 is reserved\), got 0$/);
    await hre.run("rsms:rpm:register", { pool: 1 });
    await hre.run("rsms:rpm:register", { pool: 2 });
    for (const n of ["n1", "n2", "n3"]) await hre.run("rsms:rn:register", { name: n, pool: 1 });
    expect(out.join("\n")).to.match(/wait for the next filter/);
    const reg = await hre.run("rsms:rn:register", { name: "n4", pool: 1 }); // 4th RN fills the filter: auto-published
    expect(reg.published.epoch).to.equal(0);
    const join = await hre.run("rsms:join", { rn: "n1", pool: 1 });
    expect(join.record.kind).to.equal(1);
    const moved = await hre.run("rsms:reauth", { rn: "n1", toPool: 2 });
    expect(moved.record.poolId).to.equal(2);
    const t = await hre.run("rsms:trace", { pid: "0x" + Buffer.from(moved.record.pid).toString("hex") });
    expect(t).to.deep.include({ kind: "rn", name: "n1", rid: "rn:n1", k: 1 });
    const s = await hre.run("rsms:status");
    expect(s.rns.find((r: { name: string }) => r.name === "n1")).to.deep.include({ pool: 2, k: 1, joined: true });
    expect(out.join("\n")).to.match(/join records on-chain: 2/);
    err = undefined;
    try {
      await hre.run("rsms:join", { rn: "n1", pool: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(RsmsRejectedError);
  });

  it("rsms:rn:renew, rsms:rn:flag (by an old PID) and rsms:rn:clear", async () => {
    await hre.run("rsms:rn:register", { name: "n5", pool: 1 });
    // a secret still waiting for its filter is not renewed (s17-redB B4): published first
    await hre.run("rsms:filter:publish", { pool: 1 });
    const renewed = await hre.run("rsms:rn:renew", { rn: "n5" });
    expect(renewed.published).to.equal(undefined);
    expect(out.join("\n")).to.match(/n5: secret renewed; it waits for pool 1's next filter/);
    await hre.run("rsms:filter:publish", { pool: 1 });
    const joined = await hre.run("rsms:join", { rn: "n5", pool: 1 });
    const pid0 = "0x" + Buffer.from(joined.record.pid).toString("hex");
    await hre.run("rsms:reauth", { rn: "n5", toPool: 2 });
    const f = await hre.run("rsms:rn:flag", { pid: pid0 });
    expect(f).to.deep.equal({ name: "n5", suspicious: ["n5"] });
    let err: unknown;
    try {
      await hre.run("rsms:reauth", { rn: "n5", toPool: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(RsmsRejectedError);
    expect((err as RsmsRejectedError).reason).to.equal("SUSPICIOUS");
    expect((await hre.run("rsms:rn:clear", { rn: "n5" })).suspicious).to.deep.equal([]);
    expect((await hre.run("rsms:reauth", { rn: "n5", toPool: 1 })).record.poolId).to.equal(1);
  });

  it("group:request, group:send, group:rekey (evict + add), group:status", async () => {
    for (const n of ["n2", "n3", "n4"]) await hre.run("rsms:join", { rn: n, pool: 1 });
    await hre.run("rsms:user:register", { name: "bob" });
    const g = await hre.run("group:request", { user: "bob", size: 2 });
    expect(g.members).to.have.length(2);
    const sent = await hre.run("group:send", { group: g.groupId, from: "bob", msg: "hello group" });
    for (const m of g.members) expect(sent.results[m]).to.equal('read "hello group"');
    const s = await hre.run("rsms:status");
    const evictedName = g.members[0];
    const evictPid = s.rns.find((r: { name: string }) => r.name === evictedName).pid;
    const spare = ["n1", "n2", "n3", "n4"].find((n) => !g.members.includes(n))!;
    const r = await hre.run("group:rekey", { group: g.groupId, evict: evictPid, add: spare });
    expect(r.epoch).to.equal(1);
    expect(r.members).to.include(spare).and.not.include(evictedName);
    const after = await hre.run("group:send", { group: g.groupId, from: "bob", msg: "epoch one" });
    expect(after.results[spare]).to.equal('read "epoch one"');
    expect(after.results[evictedName]).to.match(/cannot read \(CHANNEL_REJECTED\)/);
    const st = await hre.run("group:status", { group: g.groupId });
    expect(st.epoch).to.equal(1);
  });

  it("an entity a flag names that does not exist is bad input (exit 2), and nothing changes", async () => {
    const { UsageError, exitCodeOf, EXIT } = await import("../tasks/lib/cli");
    const msrpFile = path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore", "rsms-msrp.json");
    // the MSRP's record: its base, its head and patches (Keystore.commit's `patch`)
    const msrpFiles = () =>
      fs
        .readdirSync(path.dirname(msrpFile))
        .filter((f) => f.startsWith("rsms-msrp"))
        .sort()
        .map((f) => fs.readFileSync(path.join(path.dirname(msrpFile), f), "utf8"));
    await settled();
    const before = msrpFiles();
    const pid = "0x" + "11".repeat(32);
    const group = "0x" + "22".repeat(32);
    for (const [task, args, line] of [
      [
        "rsms:rn:register",
        { name: "n9", pool: 7 },
        "rsms:rn:register: --pool 7 is not a pool of this MSRP (pools: 1, 2); `rsms:rpm:register --pool 7` creates it",
      ],
      [
        "rsms:filter:publish",
        { pool: 7 },
        "rsms:filter:publish: --pool 7 is not a pool of this MSRP (pools: 1, 2); `rsms:rpm:register --pool 7` creates it",
      ],
      ["rsms:trace", { pid }, `rsms:trace: --pid ${pid}: ${pid} is not a pseudonym this MSRP issued`],
      ["rsms:rn:flag", { pid }, `rsms:rn:flag: --pid ${pid}: ${pid} is not an RN pseudonym this MSRP issued`],
      ["rsms:rn:clear", { rn: "nobody" }, "rsms:rn:clear: --rn nobody is not an RN this MSRP registered"],
      ["group:request", { user: "nobody", size: 2 }, "group:request: --user nobody: unknown user nobody"],
      ["group:status", { group }, `group:status: --group ${group}: unknown group ${group}`],
      ["group:send", { group, from: "bob", msg: "x" }, `group:send: --group ${group}: unknown group ${group}`],
    ] as const) {
      const e = await rejects(hre.run(task, args));
      expect(e.message, task).to.equal(line);
      expect(e, task).to.be.instanceOf(UsageError);
      expect(exitCodeOf(e), task).to.equal(EXIT.input);
    }
    await settled();
    expect(msrpFiles()).to.deep.equal(before);
    expect(fs.existsSync(path.join(path.dirname(msrpFile), "rsms-rn-n9.json"))).to.equal(false);
  });

  it("rsms:join before its filter is published says what to run first; the wrong pool is named by --pool", async () => {
    const { RefusedError, UsageError, exitCodeOf, EXIT } = await import("../tasks/lib/cli");
    await hre.run("rsms:rn:register", { name: "n6", pool: 1 });
    const early = await rejects(hre.run("rsms:join", { rn: "n6", pool: 1 }));
    expect(early.message).to.equal(
      "rsms:join: n6's one-time secret is in pool 1's next filter, which is not published yet: run `npx hardhat rsms:filter:publish --pool 1` first",
    );
    expect(early).to.be.instanceOf(RefusedError);
    expect(exitCodeOf(early)).to.equal(EXIT.refused);
    const wrong = await rejects(hre.run("rsms:join", { rn: "n6", pool: 2 }));
    expect(wrong.message).to.equal("rsms:join: --pool 2: n6 registered for pool 1; it joins there first");
    expect(wrong).to.be.instanceOf(UsageError);
    await hre.run("rsms:filter:publish", { pool: 1 });
    expect((await hre.run("rsms:join", { rn: "n6", pool: 1 })).record.kind).to.equal(1);
    const none = await rejects(hre.run("rsms:filter:publish", { pool: 1 }));
    expect(none.message).to.equal(
      "rsms:filter:publish: pool 1 has no registered RN waiting for a filter (`rsms:rn:register --pool 1` adds one)",
    );
  });
});
