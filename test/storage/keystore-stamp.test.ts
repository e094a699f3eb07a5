/**
 * Keystore.stamp of a record kept as a base and patches (issue 20): the base's text and the
 * head's, whose sums stand for the patches (two files read, not up to PATCH_MAX + 2), and the
 * check that makes the sums hold: every reader of the patches compares each patch's text with
 * its head's sum (KeystoreCorruptedError naming the file), reading again when it raced a writer.
 */
import { expect } from "chai";
import { createHash } from "crypto";
import fs from "fs";
import os from "os";
import path from "path";
import { KeystoreCorruptedError, KeystoreLockedError, KeystoreWrongPassphraseError } from "../../offchain/storage/errors";
import { Keystore, PATCH_MAX, type RecordStamp, sameStamp, settled } from "../../offchain/storage/keystore";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-kss-"));
const P = { patch: { m: "rns" } };
const rec = (rns: Record<string, unknown>) => ({ x: 1, rns });
const sha = (text: string) => "0x" + createHash("sha256").update(text, "utf8").digest("hex");
const fileText = (dir: string, name: string) => fs.readFileSync(path.join(dir, `${name}.json`), "utf8");
/** A plaintext record file as a Keystore writes it (its checksum right): what an older build, or a hand, writes. */
const plainFile = (name: string, data: Record<string, unknown>) =>
  JSON.stringify({ version: 1, name, encrypted: false, checksum: sha(JSON.stringify(data)), data }, null, 1) + "\n";

/** A folder whose record m is a base and `n` patches (entry e<i> = i), renamed into place. */
async function patched(n: number) {
  const dir = tmp();
  const ks = new Keystore(dir, undefined);
  const rns: Record<string, unknown> = { a: { v: 0 } };
  ks.commit({ m: rec(rns) }, P);
  for (let i = 0; i < n; i++) {
    rns[`e${i}`] = { v: i };
    ks.commit({ m: rec({ ...rns }) }, P);
  }
  await settled();
  return { dir, ks, rns: { ...rns } };
}

/** The record files fs.readFileSync reads while `run` runs (names, in order). */
function readsOf(dir: string, run: () => unknown): string[] {
  const readFileSync = fs.readFileSync;
  const seen: string[] = [];
  fs.readFileSync = ((file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
    if (typeof file === "string" && path.dirname(file) === dir) seen.push(path.basename(file, ".json"));
    return (readFileSync as (...a: unknown[]) => unknown)(file, ...rest);
  }) as typeof fs.readFileSync;
  try {
    run();
  } finally {
    fs.readFileSync = readFileSync;
  }
  return seen;
}

describe("storage/keystore: a patched record's stamp is its base and its head (issue 20)", function () {
  this.timeout(60_000);

  it("reads two files for a record with PATCH_MAX patches; loadStamped reads the patches and gives load's data", async () => {
    const { dir, ks, rns } = await patched(PATCH_MAX);
    let stamp: RecordStamp = {};
    expect(readsOf(dir, () => (stamp = ks.stamp("m")))).to.deep.equal(["m", "m.head"]);
    expect(Object.keys(stamp)).to.deep.equal(["m", "m.head"]);
    const loaded = ks.loadStamped("m");
    expect([loaded.data, sameStamp(loaded.stamp, stamp)]).to.deep.equal([rec(rns), true]);
    expect(new Keystore(dir, undefined).load("m")).to.deep.equal(rec(rns));
  });

  it("sealed: the stamp reads two files too, and a Keystore with another passphrase cannot stamp or load the record", async () => {
    const dir = tmp();
    const ks = new Keystore(dir, "pw", { N: 2 ** 10, r: 8, p: 1 });
    ks.commit({ m: rec({ a: { v: 0 } }) }, P);
    ks.commit({ m: rec({ a: { v: 1 } }) }, P);
    await settled();
    expect(readsOf(dir, () => ks.stamp("m"))).to.deep.equal(["m", "m.head"]);
    const wrong = new Keystore(dir, "not-pw", { N: 2 ** 10, r: 8, p: 1 });
    expect(() => wrong.stamp("m")).to.throw(KeystoreWrongPassphraseError, /m\.head\.json/);
    expect(() => wrong.load("m")).to.throw(KeystoreWrongPassphraseError);
    expect(() => new Keystore(dir, undefined).stamp("m")).to.throw(KeystoreLockedError);
  });

  it("a second Keystore on the folder (a writer that took no lock) changes the stamp: a patch appended, or p_i written again under the same list", async () => {
    const { dir, ks, rns } = await patched(1);
    const other = new Keystore(dir, undefined);
    const s0 = ks.stamp("m");
    other.commit({ m: rec({ ...rns, b: { v: 1 } }) }, P);
    await settled();
    expect(sameStamp(ks.stamp("m"), s0), "a patch appended").to.equal(false);
    // two writers prepare p2 over the same record (neither saw the other's): the same head list, other entries
    const s1 = ks.stamp("m");
    const intent = { kind: "test", data: {} };
    const mine = ks.commitIntent({ m: rec({ ...rns, b: { v: 1 }, c: { v: 1 } }) }, P, intent);
    const theirs = other.commitIntent({ m: rec({ ...rns, b: { v: 1 }, c: { v: 2 } }) }, P, intent);
    await Promise.all([mine.durable, theirs.durable]);
    mine.apply();
    await settled();
    const kept = ks.stampAfter("m", s1, mine.texts);
    expect(sameStamp(kept, ks.stamp("m")), "stampAfter is the stamp the commit left").to.equal(true);
    const listed = JSON.parse(fileText(dir, "m.head")).data.patches;
    const mineOnDisk = { p2: fileText(dir, "m.p2"), head: fileText(dir, "m.head") };
    // their apply follows the replay rule (s28-rtk F2): the files no longer hold what their commit
    // replaced, so mine is kept, their overlay dropped, and one line on stderr says so
    const write = process.stderr.write.bind(process.stderr);
    let err = "";
    process.stderr.write = ((chunk: string | Uint8Array) => ((err += String(chunk)), true)) as typeof process.stderr.write;
    try {
      theirs.apply();
      await settled();
    } finally {
      process.stderr.write = write;
    }
    expect(err).to.match(/^Keystore: .*m\.p2\.json was written by another process[^\n]*\n$/);
    expect({ p2: fileText(dir, "m.p2"), head: fileText(dir, "m.head") }).to.deep.equal(mineOnDisk);
    expect(sameStamp(ks.stamp("m"), kept), "their apply wrote nothing").to.equal(true);
    // a writer whose renames race past that check (another process's, each file renamed into place)
    for (const [n, t] of Object.entries(theirs.texts).filter(([n]) => n.startsWith("m."))) {
      fs.writeFileSync(path.join(dir, `${n}.json.tmp`), t);
      fs.renameSync(path.join(dir, `${n}.json.tmp`), path.join(dir, `${n}.json`));
    }
    expect(JSON.parse(fileText(dir, "m.head")).data.patches).to.deep.equal(listed);
    expect(listed).to.deep.equal(["m.p0", "m.p1", "m.p2"]);
    expect(sameStamp(ks.stamp("m"), kept), "their m.p2 under the same list").to.equal(false);
    expect(new Keystore(dir, undefined).load("m")).to.deep.equal(rec({ ...rns, b: { v: 1 }, c: { v: 2 } }));
  });

  for (const how of ["commit", "commitIntent's entries"] as const) {
    it(`an older build's head (no sums): load and stamp as before (every text); the next patch commit (${how}) writes the sums`, async () => {
      const { dir, ks, rns } = await patched(2);
      const head = JSON.parse(fileText(dir, "m.head")).data;
      delete head.sums;
      fs.writeFileSync(path.join(dir, "m.head.json"), plainFile("m.head", head));
      const ks2 = new Keystore(dir, undefined);
      const s0 = ks2.stamp("m");
      expect(Object.keys(s0)).to.deep.equal(["m", "m.head", "m.p0", "m.p1"]);
      expect([ks2.load("m"), ks2.loadStamped("m").data]).to.deep.equal([rec(rns), rec(rns)]);
      const next = rec({ ...rns, c: { v: 1 } });
      let texts: RecordStamp;
      if (how === "commit") texts = ks.commit({ m: next }, P);
      else {
        const pending = ks.commitIntent({ m: () => next }, { ...P, entries: { m: { c: { v: 1 } } } }, { kind: "test", data: {} });
        await pending.durable;
        pending.apply();
        texts = pending.texts;
      }
      await settled();
      expect(JSON.parse(fileText(dir, "m.head")).data).to.deep.equal({
        ...head,
        patches: ["m.p0", "m.p1", "m.p2"],
        sums: ["m.p0", "m.p1", "m.p2"].map((p) => sha(fileText(dir, p))),
      });
      const s1 = ks2.stamp("m");
      expect(Object.keys(s1)).to.deep.equal(["m", "m.head"]);
      expect(sameStamp(s1, ks.stampAfter("m", s0, texts))).to.equal(true);
      expect(new Keystore(dir, undefined).load("m")).to.deep.equal(next);
    });
  }

  it("a patch file whose text is not its head's sum: load, loadStamped and commit throw KeystoreCorruptedError naming it, and write nothing", async () => {
    const { dir, ks, rns } = await patched(2);
    const s0 = ks.stamp("m");
    // valid on its own (its checksum right), not the text its commit wrote
    fs.writeFileSync(path.join(dir, "m.p0.json"), plainFile("m.p0", { entries: { e0: { v: 666 } } }));
    expect(sameStamp(ks.stamp("m"), s0), "the limit: a hand-edited patch is caught at load, not by the stamp").to.equal(true);
    const named = /m\.p0\.json is corrupted \(its text is not the one whose sum m\.head lists\)/;
    const fresh = new Keystore(dir, undefined);
    expect(() => fresh.load("m")).to.throw(KeystoreCorruptedError, named);
    expect(() => fresh.loadStamped("m")).to.throw(KeystoreCorruptedError, named);
    const before = ["m", "m.head", "m.p0", "m.p1"].map((n) => fileText(dir, n));
    expect(() => fresh.commit({ m: rec({ ...rns, z: { v: 1 } }) }, P)).to.throw(KeystoreCorruptedError, named);
    expect(["m", "m.head", "m.p0", "m.p1"].map((n) => fileText(dir, n))).to.deep.equal(before);
    expect(fs.readdirSync(path.join(dir, ".journal"))).to.deep.equal([]);
  });

  for (const how of ["load", "loadStamped"] as const) {
    it(`${how} reads again when a writer replaced the record while it read the patches (a whole write and a new p0)`, async () => {
      const { dir, ks } = await patched(2);
      // what another process's commits leave: the record written whole (an entry removed), then a patch p0 of the new base
      const elsewhere = tmp();
      for (const f of fs.readdirSync(dir)) if (f.endsWith(".json")) fs.copyFileSync(path.join(dir, f), path.join(elsewhere, f));
      const w = new Keystore(elsewhere, undefined);
      w.commit({ m: rec({ a: { v: 0 } }) }, P);
      w.commit({ m: rec({ a: { v: 0 }, n: { v: 1 } }) }, P);
      await settled();
      const after = Object.fromEntries(["m", "m.head", "m.p0"].map((n) => [n, fileText(elsewhere, n)]));
      // the reader has read the base and the head when those commits land, then reads m.p0 (the new one)
      const readFileSync = fs.readFileSync;
      let landed = false;
      fs.readFileSync = ((file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
        if (!landed && file === path.join(dir, "m.p0.json")) {
          landed = true;
          for (const [n, t] of Object.entries(after)) fs.writeFileSync(path.join(dir, `${n}.json`), t);
        }
        return (readFileSync as (...a: unknown[]) => unknown)(file, ...rest);
      }) as typeof fs.readFileSync;
      let data: unknown;
      try {
        data = how === "load" ? ks.load("m") : ks.loadStamped("m").data;
      } finally {
        fs.readFileSync = readFileSync;
      }
      expect([landed, data]).to.deep.equal([true, rec({ a: { v: 0 }, n: { v: 1 } })]);
    });
  }
});
