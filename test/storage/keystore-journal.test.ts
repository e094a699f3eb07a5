/**
 * Keystore.commit (issue 20): several records replaced together with one fsync, through a
 * write-ahead journal. A writer process is killed (SIGKILL) at each point of a commit, and the
 * next process that uses the folder sees all of the commit or none of it.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import fs from "fs";
import os from "os";
import path from "path";
import { KeystoreIntentPendingError } from "../../offchain/storage/errors";
import { Keystore, PATCH_MAX, sameStamp, settled } from "../../offchain/storage/keystore";

const ROOT = path.resolve(__dirname, "../..");
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-ksj-"));

/** The records as the files on disk hold them (no recovery: read raw). */
const raw = (dir: string, name: string) => JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), "utf8")).data;
const journals = (dir: string) => (fs.existsSync(path.join(dir, ".journal")) ? fs.readdirSync(path.join(dir, ".journal")) : []);

/** In a child process: commit { a: {v}, b: {v} } to the keystore at `dir`, killed at `crash` (if given). */
function commitInChild(dir: string, v: number, crash?: string, exitAtOnce = false) {
  const code = `
    const { Keystore } = require(${JSON.stringify(path.join(ROOT, "offchain/storage/keystore"))});
    new Keystore(${JSON.stringify(dir)}, undefined).commit({ a: { v: ${v} }, b: { v: ${v}, pad: "x".repeat(5000) } });
    ${exitAtOnce ? "process.exit(0);" : ""}`;
  return spawnSync(process.execPath, ["-r", "ts-node/register", "-e", code], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1", METATRUST_KEYSTORE_CRASH: crash ?? "" },
    encoding: "utf8",
    timeout: 60_000,
  });
}

/** A folder holding a = {v: 1} and b = {v: 1}, written the ordinary way. */
function seeded() {
  const dir = tmp();
  const ks = new Keystore(dir, undefined);
  ks.create("a", { v: 1 });
  ks.create("b", { v: 1, pad: "x".repeat(5000) });
  return dir;
}

describe("storage/keystore: commit through a write-ahead journal", function () {
  this.timeout(120_000);

  it("replaces every record of a commit, in this process at once, and deletes its journal once the records are fsync'd", async () => {
    const dir = seeded();
    const ks = new Keystore(dir, undefined);
    ks.commit({ a: { v: 2 }, b: { v: 2 }, c: { v: 2 } });
    // before the records are renamed into place, this process already reads the commit
    expect([ks.load("a"), ks.load("b"), ks.load("c")]).to.deep.equal([{ v: 2 }, { v: 2 }, { v: 2 }]);
    expect([ks.exists("c"), ks.list()]).to.deep.equal([true, ["a", "b", "c"]]);
    expect(journals(dir)).to.have.length(1);
    await settled();
    expect([raw(dir, "a").v, raw(dir, "b").v, raw(dir, "c").v]).to.deep.equal([2, 2, 2]);
    for (const n of ["a", "b", "c"]) expect(fs.statSync(ks.file(n)).mode & 0o777).to.equal(0o600);
    await settled();
    expect(journals(dir)).to.deep.equal([]);
    expect(ks.list()).to.deep.equal(["a", "b", "c"]);
  });

  it("sealed records: the journal holds the sealed files only", async () => {
    const dir = tmp();
    const ks = new Keystore(dir, "pw", { N: 2 ** 10, r: 8, p: 1 });
    ks.create("s", { sk: "0xdeadbeefcafe" });
    ks.commit({ s: { sk: "0xfeedfacecafe" } });
    expect(new Keystore(dir, "pw").load("s")).to.deep.equal({ sk: "0xfeedfacecafe" });
    await settled();
    const r = commitInChild(dir, 3, "journaled"); // plaintext records, but the journal file is what matters
    expect(r.signal).to.equal("SIGKILL");
    for (const j of journals(dir)) expect(fs.readFileSync(path.join(dir, ".journal", j), "utf8")).to.not.contain("feedfacecafe");
  });

  it("a direct write or removal after a commit comes after it, also on disk", async () => {
    const dir = seeded();
    const ks = new Keystore(dir, undefined);
    ks.commit({ a: { v: 2 }, b: { v: 2 } });
    ks.update("a", { v: 3 }); // applies the commit first, synchronously
    ks.remove("b");
    await settled();
    expect([raw(dir, "a").v, ks.exists("b"), journals(dir)]).to.deep.equal([3, false, []]);
    ks.commit({ a: { v: 4 } });
    ks.commit({ a: { v: 5 } });
    await settled();
    expect([raw(dir, "a").v, journals(dir)]).to.deep.equal([5, []]);
  });

  it("records are renamed into place off the main thread; a direct write during a rename under way is not undone by it", async () => {
    const dir = seeded();
    const ks = new Keystore(dir, undefined);
    // hold the background rename of a's file until the direct write below is done
    const rename = fs.promises.rename;
    let started!: () => void;
    const isStarted = new Promise<void>((r) => (started = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const renamed: string[] = [];
    fs.promises.rename = async (from, to) => {
      if (String(to) === ks.file("a")) {
        started();
        await gate;
      }
      renamed.push(path.basename(String(to)));
      return rename(from, to);
    };
    try {
      ks.commit({ a: { v: 2 } });
      await isStarted; // the commit's rename of a is under way
      ks.update("a", { v: 3 }); // a direct write: applies the commit first, then writes
      release();
      await settled();
    } finally {
      fs.promises.rename = rename;
    }
    expect(renamed).to.include("a.json"); // the background rename was asynchronous (fs.promises.rename)
    expect([raw(dir, "a").v, ks.load("a"), journals(dir)]).to.deep.equal([3, { v: 3 }, []]);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
  });

  it("a process that exits at once after a commit (as the Hardhat CLI does) applies it on exit", () => {
    const dir = seeded();
    const r = commitInChild(dir, 2, undefined, true);
    expect(r.status, r.stderr).to.equal(0);
    expect([raw(dir, "a").v, raw(dir, "b").v, journals(dir)]).to.deep.equal([2, 2, []]);
  });

  for (const point of ["journaled", "applied-one", "applied"]) {
    it(`a writer killed at "${point}": the next process sees the whole commit`, () => {
      const dir = seeded();
      const r = commitInChild(dir, 2, point);
      expect(r.signal, r.stderr).to.equal("SIGKILL");
      expect(journals(dir)).to.have.length(1); // committed, not settled
      if (point === "journaled") expect([raw(dir, "a").v, raw(dir, "b").v]).to.deep.equal([1, 1]);
      if (point === "applied-one") expect([raw(dir, "a").v, raw(dir, "b").v]).to.deep.equal([2, 1]); // half applied on disk
      const ks = new Keystore(dir, undefined); // first use in this process: replays the journal
      expect([ks.load("a").v, ks.load("b").v]).to.deep.equal([2, 2]);
      expect(journals(dir)).to.deep.equal([]);
    });
  }

  it("without a crash, the writer settles its journal before it exits", () => {
    const dir = seeded();
    const r = commitInChild(dir, 2);
    expect(r.status, r.stderr).to.equal(0);
    expect(journals(dir)).to.deep.equal([]);
    expect([raw(dir, "a").v, raw(dir, "b").v]).to.deep.equal([2, 2]);
  });

  it("a torn journal (killed before its fsync returned) was never committed: dropped, the records unchanged", () => {
    const dir = seeded();
    const r = commitInChild(dir, 2, "journaled");
    expect(r.signal).to.equal("SIGKILL");
    const [j] = journals(dir);
    const file = path.join(dir, ".journal", j);
    // the same crash a little earlier: only part of the journal reached the disk, the records untouched
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").slice(0, 200));
    const ks = new Keystore(dir, undefined);
    expect([ks.load("a").v, ks.load("b").v]).to.deep.equal([1, 1]);
    expect(journals(dir)).to.deep.equal([]);
  });

  it("a replay never undoes a newer write of a record", () => {
    const dir = seeded();
    expect(commitInChild(dir, 2, "journaled").signal).to.equal("SIGKILL");
    // before anyone replays it, record a moves on (e.g. another machine's copy restored by hand)
    const other = tmp();
    new Keystore(other, undefined).create("a", { v: 9 });
    fs.copyFileSync(path.join(other, "a.json"), path.join(dir, "a.json"));
    const ks = new Keystore(dir, undefined);
    expect([ks.load("a").v, ks.load("b").v]).to.deep.equal([9, 2]);
  });
});

describe("storage/keystore: a record kept as a base and patches (commit's `patch`)", function () {
  this.timeout(120_000);
  const P = { patch: { m: "rns" } };
  const rec = (x: number, rns: Record<string, unknown>) => ({ x, rns });
  /** A folder whose record m was committed whole as a patched base: { x: 1, rns: { a: 1, b: 1 } }. */
  async function based() {
    const dir = tmp();
    const ks = new Keystore(dir, undefined);
    ks.commit({ m: rec(1, { a: { v: 1 }, b: { v: 1 } }) }, P);
    await settled();
    return { dir, ks, base: fs.readFileSync(ks.file("m"), "utf8") };
  }

  it("a commit that changes entries of the field writes them as a patch and the head; the base stays; load applies them", async () => {
    const { dir, ks, base } = await based();
    expect(JSON.parse(base).patched).to.equal("rns");
    ks.commit({ m: rec(1, { a: { v: 2 }, b: { v: 1 } }), other: { z: 1 } }, P);
    await settled();
    ks.commit({ m: rec(1, { a: { v: 2 }, b: { v: 1 }, c: { v: 1 } }) }, P);
    await settled();
    expect(fs.readFileSync(ks.file("m"), "utf8")).to.equal(base);
    expect([raw(dir, "m.p0"), raw(dir, "m.p1")]).to.deep.equal([{ entries: { a: { v: 2 } } }, { entries: { c: { v: 1 } } }]);
    // the head lists each patch with the SHA-256 of its file's text (what the stamp relies on)
    const sum = (n: string) =>
      "0x" +
      createHash("sha256")
        .update(fs.readFileSync(path.join(dir, `${n}.json`), "utf8"))
        .digest("hex");
    expect(raw(dir, "m.head")).to.deep.equal({
      base: JSON.parse(base).gen,
      field: "rns",
      patches: ["m.p0", "m.p1"],
      sums: [sum("m.p0"), sum("m.p1")],
    });
    expect(new Keystore(dir, undefined).load("m")).to.deep.equal(rec(1, { a: { v: 2 }, b: { v: 1 }, c: { v: 1 } }));
    // nothing changed: nothing written
    ks.commit({ m: rec(1, { a: { v: 2 }, b: { v: 1 }, c: { v: 1 } }) }, P);
    expect(journals(dir)).to.deep.equal([]);
    expect(raw(dir, "m.head").patches).to.have.length(2);
  });

  it("anything else is written whole, as a new base that makes the head stale: another field, a removed entry, PATCH_MAX patches", async () => {
    for (const next of [rec(2, { a: { v: 1 }, b: { v: 1 } }), rec(1, { a: { v: 1 } })]) {
      const { dir, ks, base } = await based();
      ks.commit({ m: rec(1, { a: { v: 5 }, b: { v: 1 } }) }, P); // a patch first
      ks.commit({ m: next }, P);
      await settled();
      expect(JSON.parse(fs.readFileSync(ks.file("m"), "utf8")).gen).to.not.equal(JSON.parse(base).gen);
      expect([raw(dir, "m"), new Keystore(dir, undefined).load("m")]).to.deep.equal([next, next]);
    }
    const { dir, ks, base } = await based();
    for (let i = 0; i < PATCH_MAX; i++) ks.commit({ m: rec(1, { a: { v: 10 + i }, b: { v: 1 } }) }, P);
    await settled();
    expect([fs.readFileSync(ks.file("m"), "utf8"), raw(dir, "m.head").patches.length]).to.deep.equal([base, PATCH_MAX]);
    ks.commit({ m: rec(1, { a: { v: 99 }, b: { v: 1 } }) }, P);
    await settled();
    expect(raw(dir, "m")).to.deep.equal(rec(1, { a: { v: 99 }, b: { v: 1 } }));
    expect(new Keystore(dir, undefined).load("m")).to.deep.equal(rec(1, { a: { v: 99 }, b: { v: 1 } }));
    // and the next change is a patch of the new base again, reusing m.p0
    ks.commit({ m: rec(1, { a: { v: 100 }, b: { v: 1 } }) }, P);
    await settled();
    expect([raw(dir, "m.p0"), raw(dir, "m.head").patches]).to.deep.equal([{ entries: { a: { v: 100 } } }, ["m.p0"]]);
    expect(new Keystore(dir, undefined).load("m")).to.deep.equal(rec(1, { a: { v: 100 }, b: { v: 1 } }));
  });

  it("a commit compares with the record as it stands now, not as this process last parsed it (a base rewritten since)", async () => {
    const { dir, ks } = await based();
    ks.commit({ m: rec(1, { a: { v: 1 }, b: { v: 1 }, c: { v: 1 } }) }, P); // a patch: compared with the base
    ks.commit({ m: rec(1, { a: { v: 1 } }) }, P); // entries removed: a new base, the head stale
    // the last parse of the first base, with its head, would make this a patch of that base (lost
    // on load, its head being stale); compared with the new base it is a patch of the new one
    ks.commit({ m: rec(1, { a: { v: 1 }, b: { v: 1 }, c: { v: 1 }, d: { v: 1 } }) }, P);
    await settled();
    const want = rec(1, { a: { v: 1 }, b: { v: 1 }, c: { v: 1 }, d: { v: 1 } });
    expect([ks.load("m"), new Keystore(dir, undefined).load("m")]).to.deep.equal([want, want]);
    expect(raw(dir, "m.head").base).to.equal(JSON.parse(fs.readFileSync(ks.file("m"), "utf8")).gen);
  });

  it("a plain update writes the record whole and unmarked: its patches no longer apply", async () => {
    const { dir, ks } = await based();
    ks.commit({ m: rec(1, { a: { v: 2 }, b: { v: 1 } }) }, P);
    ks.update("m", rec(7, { a: { v: 3 } }));
    await settled();
    expect(new Keystore(dir, undefined).load("m")).to.deep.equal(rec(7, { a: { v: 3 } }));
    // a patch commit after it writes whole once (a new marked base), then patches
    ks.commit({ m: rec(7, { a: { v: 4 } }) }, P);
    await settled();
    expect(raw(dir, "m")).to.deep.equal(rec(7, { a: { v: 4 } }));
  });

  it("refuses a field that is not an object of entries, and writes nothing", async () => {
    const { dir, ks, base } = await based();
    expect(() => ks.commit({ m: { x: 1, rns: [1, 2] }, other: { z: 1 } }, P)).to.throw(
      /field "rns" of record "m" is not an object of entries/,
    );
    expect([fs.readFileSync(ks.file("m"), "utf8"), ks.exists("other"), journals(dir)]).to.deep.equal([base, false, []]);
  });

  it("sealed: patches and head are sealed records", async () => {
    const dir = tmp();
    const ks = new Keystore(dir, "pw", { N: 2 ** 10, r: 8, p: 1 });
    ks.commit({ m: rec(1, { a: { sk: "0xdeadbeefcafe" } }) }, P);
    ks.commit({ m: rec(1, { a: { sk: "0xfeedfacecafe" } }) }, P);
    await settled();
    expect(fs.readFileSync(path.join(dir, "m.p0.json"), "utf8")).to.not.contain("feedfacecafe");
    expect(new Keystore(dir, "pw").load("m")).to.deep.equal(rec(1, { a: { sk: "0xfeedfacecafe" } }));
  });

  for (const point of ["journaled", "applied-one"]) {
    it(`a writer killed at "${point}" of a patch commit: the next process sees the patch and the other records of the commit`, async () => {
      const { dir } = await based();
      const code = `
        const { Keystore } = require(${JSON.stringify(path.join(ROOT, "offchain/storage/keystore"))});
        new Keystore(${JSON.stringify(dir)}, undefined).commit({ m: { x: 1, rns: { a: { v: 2 }, b: { v: 1 } } }, z: { v: 1 } }, { patch: { m: "rns" } });`;
      const r = spawnSync(process.execPath, ["-r", "ts-node/register", "-e", code], {
        cwd: ROOT,
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1", METATRUST_KEYSTORE_CRASH: point },
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(r.signal, r.stderr).to.equal("SIGKILL");
      const ks = new Keystore(dir, undefined); // replays the journal
      expect([ks.load("m"), ks.load("z")]).to.deep.equal([rec(1, { a: { v: 2 }, b: { v: 1 } }), { v: 1 }]);
      expect(journals(dir)).to.deep.equal([]);
    });
  }
});

describe("storage/keystore: a record's stamp (what an agent kept across commands is checked against)", function () {
  this.timeout(120_000);
  const P = { patch: { m: "rns" } };
  const rec = (x: number, rns: Record<string, unknown>) => ({ x, rns });

  /** In a child process: a commit of m (with `patch`, as the MSRP's record) to the keystore at `dir`. */
  function commitOther(dir: string, m: unknown, patch = true) {
    const code = `
      const { Keystore } = require(${JSON.stringify(path.join(ROOT, "offchain/storage/keystore"))});
      new Keystore(${JSON.stringify(dir)}, undefined).commit({ m: ${JSON.stringify(m)} }, ${patch ? JSON.stringify(P) : "{}"});`;
    const r = spawnSync(process.execPath, ["-r", "ts-node/register", "-e", code], {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status, r.stderr).to.equal(0);
  }

  it("holds the base and the head (whose sums stand for the patches); loadStamped gives load's data; stampAfter a commit's texts is the stamp from then on", async () => {
    const dir = tmp();
    const ks = new Keystore(dir, undefined);
    const first = ks.commit({ m: rec(1, { a: { v: 1 } }) }, P);
    expect(Object.keys(first)).to.deep.equal(["m"]);
    const s0 = ks.stamp("m");
    expect(Object.keys(s0)).to.deep.equal(["m"]);
    const next = ks.commit({ m: rec(1, { a: { v: 2 }, b: { v: 1 } }), other: { z: 1 } }, P);
    expect(Object.keys(next).sort()).to.deep.equal(["m.head", "m.p0", "other"]);
    const s1 = ks.stamp("m");
    expect(Object.keys(s1).sort()).to.deep.equal(["m", "m.head"]);
    expect(sameStamp(s1, { ...s0, "m.head": next["m.head"] })).to.equal(true);
    expect(sameStamp(s1, ks.stampAfter("m", s0, next))).to.equal(true);
    expect(sameStamp(s1, s0)).to.equal(false);
    const loaded = ks.loadStamped("m");
    expect(loaded.data).to.deep.equal(ks.load("m"));
    expect(loaded.data).to.deep.equal(rec(1, { a: { v: 2 }, b: { v: 1 } }));
    expect(sameStamp(loaded.stamp, s1)).to.equal(true);
    await settled();
    expect(sameStamp(ks.stamp("m"), s1), "the same texts once renamed into place").to.equal(true);
    // a commit that changes nothing writes nothing: the stamp stays
    expect(ks.commit({ m: rec(1, { a: { v: 2 }, b: { v: 1 } }) }, P)).to.deep.equal({});
    expect(sameStamp(ks.stamp("m"), s1)).to.equal(true);
  });

  it("another process's commit changes the stamp: a patch, a whole write with the same data", async () => {
    const dir = tmp();
    const ks = new Keystore(dir, undefined);
    ks.commit({ m: rec(1, { a: { v: 1 }, b: { v: 1 } }) }, P);
    await settled();
    const s0 = ks.stamp("m");
    commitOther(dir, rec(1, { a: { v: 1 }, b: { v: 7 } }));
    const s1 = ks.stamp("m");
    expect(sameStamp(s1, s0)).to.equal(false);
    expect(ks.loadStamped("m").data).to.deep.equal(rec(1, { a: { v: 1 }, b: { v: 7 } }));
    // the record written whole again by a plain commit of the very same data: a new file, a new stamp
    commitOther(dir, rec(1, { a: { v: 1 }, b: { v: 7 } }), false);
    expect(sameStamp(ks.stamp("m"), s1)).to.equal(false);
  });

  it("recover lists the journal folder once per turn of the event loop; an intent left for a resolver blocks its records at once", async () => {
    const dir = tmp();
    const ks = new Keystore(dir, undefined);
    ks.create("m", { v: 1 });
    const pending = ks.commitIntent({ m: { v: 2 } }, {}, { kind: "test", data: {} });
    await pending.durable;
    expect(ks.load("m")).to.deep.equal({ v: 1 }); // this process's own open intent: not blocked (and listed in this turn)
    pending.leave();
    expect(() => ks.load("m")).to.throw(KeystoreIntentPendingError);
    ks.resolveIntent(pending.file, false);
    expect(ks.load("m")).to.deep.equal({ v: 1 });
  });
});
