/**
 * s28-rtk F4 (red team), fixed: a patch or head of a patched record (`<name>.p<i>`, `<name>.head`)
 * is a record name of its own form, and a write of one through the Keystore API (`update`,
 * `remove`, `create`, `commit`, `commitIntent`) would change the record while its stamp (base and
 * head texts, rsms-join.md change 23) stays the same: a kept agent would be reused over a changed
 * record. The API refuses such a name with a one-line error naming it, and changes nothing; a
 * commit of the record itself (its `patch` option) still writes its patches and head.
 * Bites: with Keystore.writable's check removed, every refusal case fails (the write goes through
 * and the stamp stays while the record changes).
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InvalidParameterError } from "../../offchain/errors";
import { Keystore, sameStamp, settled } from "../../offchain/storage/keystore";

const P = { patch: { m: "rns" } };

async function patched(): Promise<Keystore> {
  const ks = new Keystore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-s28-rtk-stamp-")), "");
  ks.commit({ m: { x: 1, rns: { a: { v: 0 } } } }, P);
  ks.commit({ m: { x: 1, rns: { a: { v: 0 }, b: { v: 1 } } } }, P);
  await settled();
  expect(ks.list()).to.deep.equal(["m", "m.head", "m.p0"]);
  return ks;
}

/** Every file of the folder (journals included) and its text. */
function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const f of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, f.name);
      if (f.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

/** Asserts `write` is refused with a one-line InvalidParameterError naming `name`, and that nothing changed. */
async function refused(name: string, write: (ks: Keystore) => unknown): Promise<void> {
  const ks = await patched();
  const stamp = ks.stamp("m");
  const data = ks.load("m");
  const before = files(ks.dir);
  let err: unknown;
  try {
    write(new Keystore(ks.dir, ""));
  } catch (e) {
    err = e;
  }
  await settled();
  expect(err, `a write of "${name}" went through`).to.be.instanceOf(InvalidParameterError);
  const msg = (err as Error).message;
  expect(msg).to.include(`"${name}"`);
  expect(msg).to.not.include("\n");
  expect(files(ks.dir), "the folder changed").to.deep.equal(before);
  expect(sameStamp(stamp, ks.stamp("m"))).to.equal(true);
  expect(new Keystore(ks.dir, "").load("m")).to.deep.equal(data);
}

describe("s28-rtk F4: a patch or head of a patched record is not written through the Keystore API", function () {
  it("update of a patch record is refused, naming it; the record and its stamp are unchanged", async () => {
    await refused("m.p0", (o) => o.update("m.p0", { entries: { b: { v: 99 } } }));
  });

  it("removal of a patch record is refused", async () => {
    await refused("m.p0", (o) => o.remove("m.p0"));
  });

  it("update and removal of a head are refused", async () => {
    await refused("m.head", (o) => o.update("m.head", { base: "x", field: "rns", patches: [] }));
    await refused("m.head", (o) => o.remove("m.head"));
  });

  it("create of the next patch's name is refused", async () => {
    await refused("m.p1", (o) => o.create("m.p1", { entries: { c: { v: 2 } } }));
  });

  it("commit and commitIntent naming a patch record are refused before anything is journaled", async () => {
    await refused("m.p0", (o) => o.commit({ "m.p0": { entries: { b: { v: 99 } } } }));
    await refused("m.p12", (o) => o.commit({ other: { y: 1 }, "m.p12": { entries: {} } }));
    await refused("m.head", (o) => o.commitIntent({ "m.head": { patches: [] } }, {}, { kind: "t", data: {} }));
  });

  it("a commit of the record itself still writes its next patch and head; other names with dots are records", async () => {
    const ks = await patched();
    const kept = ks.stamp("m");
    ks.commit({ m: { x: 1, rns: { a: { v: 0 }, b: { v: 1 }, c: { v: 2 } } } }, P);
    await settled();
    expect(ks.list()).to.deep.equal(["m", "m.head", "m.p0", "m.p1"]);
    expect(sameStamp(kept, ks.stamp("m"))).to.equal(false);
    expect(new Keystore(ks.dir, "").load("m")).to.deep.equal({ x: 1, rns: { a: { v: 0 }, b: { v: 1 }, c: { v: 2 } } });
    // a name that only looks alike is an ordinary record
    for (const n of ["m.header", "m.p", "m.pa1", "head", "p0", "m.head.x"]) ks.create(n, { n });
    expect(new Keystore(ks.dir, "").load("m.p")).to.deep.equal({ n: "m.p" });
  });
});
