/**
 * s28-rtk F2 (red team), fixed in the Keystore: a commit's background apply (and flushJournals,
 * which applies it synchronously before a direct write and at exit) follows the replay rule: a
 * record file is written only if it still holds what the commit replaced. Another process that
 * wrote the record after this process's commit point (a writer that holds no lock) keeps its write;
 * this process drops its overlay of the record (it reads the disk, and the stamp its commit left no
 * longer matches: a kept agent is not reused) and prints one line on stderr naming the file. A
 * patch and its head are kept or dropped together. The other process is stood for by a Keystore of
 * a copy of the folder whose files are then copied in (a rename each, as its apply makes them).
 * Bites: with lostTo's check removed (it returns false), the first two cases fail (this process's
 * late rename undoes the other's RN, and its stamp is the disk's).
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Keystore, flushJournals, sameStamp, settled } from "../../offchain/storage/keystore";

const P = { patch: { m: "rns" } };
type Rec = { x: number; rns: Record<string, unknown> };

async function patched(): Promise<Keystore> {
  const ks = new Keystore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-s28-fxk-")), "");
  ks.commit({ m: { x: 1, rns: { a: 0 } } }, P);
  ks.commit({ m: { x: 1, rns: { a: 0, b: 1 } } }, P);
  await settled();
  return ks;
}

/** Another process's commit of `rns` (read from the disk, so without this process's pending commit), landed in `dir` file by file. */
function otherCommits(dir: string, rns: Record<string, unknown>, disk: Record<string, string>): void {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-s28-fxk-other-"));
  for (const [f, t] of Object.entries(disk)) fs.writeFileSync(path.join(copy, f), t);
  const other = new Keystore(copy, "");
  // its files, in its journal's order (a patch before its head), each renamed into place; not
  // settled here, which would apply this process's pending commit first
  const texts = other.commit({ m: { ...other.load<Rec>("m"), rns } }, P);
  for (const [name, t] of Object.entries(texts)) {
    fs.writeFileSync(path.join(dir, `${name}.json.other`), t);
    fs.renameSync(path.join(dir, `${name}.json.other`), path.join(dir, `${name}.json`));
  }
}

const diskFiles = (dir: string): Record<string, string> =>
  Object.fromEntries(
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]),
  );

/** Runs `f` with stderr captured: what was written to it. */
async function stderrOf(f: () => Promise<void>): Promise<string> {
  const write = process.stderr.write.bind(process.stderr);
  let out = "";
  process.stderr.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true)) as typeof process.stderr.write;
  try {
    await f();
  } finally {
    process.stderr.write = write;
  }
  return out;
}

/** The case: this process commits RN `mine`; another commits RN `theirs` before this commit is applied by `apply`. */
async function race(apply: () => Promise<void>) {
  const ks = await patched();
  const disk = diskFiles(ks.dir);
  const err = await stderrOf(async () => {
    const before = ks.stamp("m");
    const texts = ks.commit({ m: { x: 1, rns: { a: 0, b: 1, mine: 2 } } }, P);
    const kept = ks.stampAfter("m", before, texts);
    expect(sameStamp(kept, ks.stamp("m"))).to.equal(true);
    otherCommits(ks.dir, { a: 0, b: 1, theirs: 3 }, disk);
    await apply();
    (ks as unknown as { kept: typeof kept }).kept = kept;
  });
  const kept = (ks as unknown as { kept: Record<string, string> }).kept;
  return { ks, err, kept };
}

describe("s28-rtk F2: a commit's apply never writes over another process's later write of the record", function () {
  for (const [how, apply] of [
    ["the background apply", () => settled()],
    ["flushJournals (a direct write, the exit)", async () => flushJournals()],
  ] as const) {
    it(`${how}: the other's write is kept, one line on stderr names the file, this process reads the disk and its stamp differs from the kept one`, async () => {
      const { ks, err, kept } = await race(apply);
      await settled();
      const fresh = new Keystore(ks.dir, "");
      expect(fresh.load<Rec>("m").rns).to.deep.equal({ a: 0, b: 1, theirs: 3 });
      expect(ks.load<Rec>("m").rns, "this process reads the disk").to.deep.equal({ a: 0, b: 1, theirs: 3 });
      const lines = err.split("\n").filter((l) => l !== "");
      expect(lines, err).to.have.length(1);
      expect(lines[0]).to.include(path.join(ks.dir, "m.p1.json")).and.include("another process").and.include('record "m"');
      expect(sameStamp(kept, fresh.stamp("m")), "the kept agent would be reused").to.equal(false);
      expect(sameStamp(kept, ks.stamp("m"))).to.equal(false);
      expect(sameStamp(fresh.stamp("m"), ks.stamp("m"))).to.equal(true);
      expect(fs.readdirSync(ks.journalDir), "the journal settled").to.deep.equal([]);
      // the record goes on: this process's next commit patches the other's record
      ks.commit({ m: { x: 1, rns: { ...ks.load<Rec>("m").rns, mine: 2 } } }, P);
      await settled();
      expect(new Keystore(ks.dir, "").load<Rec>("m").rns).to.deep.equal({ a: 0, b: 1, theirs: 3, mine: 2 });
    });
  }

  it("another process's write that lands while the temporary files are written (after the first check) is kept too", async () => {
    const ks = await patched();
    const disk = diskFiles(ks.dir);
    const open = fs.promises.open;
    let landed = false;
    const err = await stderrOf(async () => {
      ks.commit({ m: { x: 1, rns: { a: 0, b: 1, mine: 2 } } }, P);
      // the other's commit lands when this process's apply opens its first temporary file
      fs.promises.open = (async (...args: Parameters<typeof open>) => {
        if (!landed && String(args[0]).includes(`${path.sep}m.p1.json.`)) {
          landed = true;
          otherCommits(ks.dir, { a: 0, b: 1, theirs: 3 }, disk);
        }
        return open(...args);
      }) as typeof open;
      try {
        await settled();
      } finally {
        fs.promises.open = open;
      }
    });
    expect(landed).to.equal(true);
    expect(
      err.split("\n").filter((l) => l !== ""),
      err,
    ).to.have.length(1);
    expect(new Keystore(ks.dir, "").load<Rec>("m").rns).to.deep.equal({ a: 0, b: 1, theirs: 3 });
    expect(ks.load<Rec>("m").rns).to.deep.equal({ a: 0, b: 1, theirs: 3 });
    expect(fs.readdirSync(ks.dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
  });

  it("a head a later commit of this process replaced before the apply is no conflict: both commits land, nothing printed", async () => {
    const ks = await patched();
    const err = await stderrOf(async () => {
      ks.commit({ m: { x: 1, rns: { a: 0, b: 1, c: 2 } } }, P);
      ks.commit({ m: { x: 1, rns: { a: 0, b: 1, c: 2, d: 3 } } }, P);
      ks.commit({ m: { x: 2, rns: { a: 0, b: 1, c: 2, d: 3 } } }, P); // whole: a new base
      ks.commit({ m: { x: 2, rns: { a: 0, b: 1, c: 2, d: 3, e: 4 } } }, P);
      await settled();
    });
    expect(err).to.equal("");
    expect(new Keystore(ks.dir, "").load<Rec>("m")).to.deep.equal({ x: 2, rns: { a: 0, b: 1, c: 2, d: 3, e: 4 } });
    expect(sameStamp(new Keystore(ks.dir, "").stamp("m"), ks.stamp("m"))).to.equal(true);
  });

  it("commits of this process landing while an earlier one is being applied are no conflict (one record whole, one patched)", async () => {
    const ks = await patched();
    let rns: Record<string, unknown> = { a: 0, b: 1 };
    const err = await stderrOf(async () => {
      for (let i = 0; i < 40; i++) {
        rns = { ...rns, [`n${i}`]: i };
        ks.commit({ m: { x: 1, rns }, w: { i } }, P);
        // a commit at each step of the background apply of the one before (its reads, temp file, rename)
        for (let k = 0; k < i % 6; k++) await new Promise((go) => setImmediate(go));
      }
      await settled();
    });
    expect(err).to.equal("");
    const fresh = new Keystore(ks.dir, "");
    expect(fresh.load<Rec>("m").rns).to.deep.equal(rns);
    expect(fresh.load("w")).to.deep.equal({ i: 39 });
  });

  it("another record of the same commit is decided on its own (the replay rule is per record)", async () => {
    const ks = await patched();
    ks.commit({ r: { v: 0 } });
    await settled();
    const disk = diskFiles(ks.dir);
    const err = await stderrOf(async () => {
      ks.commit({ m: { x: 1, rns: { a: 0, b: 1, mine: 2 } }, r: { v: 1 } }, P);
      otherCommits(ks.dir, { a: 0, b: 1, theirs: 3 }, disk);
      await settled();
    });
    expect(err.split("\n").filter((l) => l !== "")).to.have.length(1);
    const fresh = new Keystore(ks.dir, "");
    expect(fresh.load<Rec>("m").rns).to.deep.equal({ a: 0, b: 1, theirs: 3 });
    expect(fresh.load("r")).to.deep.equal({ v: 1 });
  });
});
