/**
 * Keystore.commitIntent's `entries` (issue 20, rsms-join.md change 20): a join's caller says which
 * entries of the MSRP's patched record changed, and the keystore journals them as the next patch
 * without serializing and comparing the whole record. With a true word, the files it writes are the
 * same, byte for byte, as those `commit` writes from the whole record; where the record must be
 * written whole (no base yet, PATCH_MAX patches), the whole record is asked for and written.
 * And the keystore's SHA-256 (Node's native hash) is noble's on every text.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { sha256 } from "@noble/hashes/sha2.js";
import { toBytes, toHex } from "../../offchain/crypto/bytes";
import { Keystore, PATCH_MAX, settled } from "../../offchain/storage/keystore";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-kse-"));
const PATCH = { patch: { m: "rns" } };
type Rec = { top: number; rns: Record<string, { v: number; s: string }> };
/** Every file of a keystore folder (not its journal), by name: its text. */
const files = (dir: string) =>
  Object.fromEntries(
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .sort()
      .map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]),
  );

describe("Keystore.commitIntent with the changed entries named (issue 20)", () => {
  it("writes the same files, byte for byte, as a commit of the whole record; asks for the whole record only when it must write it whole", async () => {
    // two copies of one folder: A commits whole records, B names the changed entries
    const a = tmp();
    const rec: Rec = { top: 1, rns: {} };
    for (let i = 0; i < 40; i++) rec.rns[`n${i}`] = { v: 0, s: "é\u{1F600}".repeat(i % 3) };
    new Keystore(a, undefined).commit({ m: structuredClone(rec), r0: { x: 0 } }, PATCH);
    await settled();
    const b = tmp();
    fs.cpSync(a, b, { recursive: true });
    const A = new Keystore(a, undefined);
    const B = new Keystore(b, undefined);
    let wholeAsked = 0;
    for (let k = 0; k < PATCH_MAX + 3; k++) {
      const name = `n${(7 * k) % 40}`;
      rec.rns[name] = { v: k + 1, s: `step ${k}` };
      const whole = structuredClone(rec);
      const pa = A.commitIntent({ m: whole, r0: { x: k } }, PATCH, { kind: "test", data: { k } });
      const pb = B.commitIntent(
        {
          m: () => {
            wholeAsked++;
            return structuredClone(rec);
          },
          r0: { x: k },
        },
        { ...PATCH, entries: { m: { [name]: structuredClone(rec.rns[name]) } } },
        { kind: "test", data: { k } },
      );
      await Promise.all([pa.durable, pb.durable]);
      pa.apply();
      pb.apply();
      await settled();
      expect(B.load("m"), `after join ${k}`).to.deep.equal(rec);
      if (k < PATCH_MAX) {
        // patches on one base: the same texts (the base's gen was copied)
        expect(wholeAsked, `join ${k}: a patch, the whole record never asked for`).to.equal(0);
        expect(files(b), `join ${k}`).to.deep.equal(files(a));
      } else if (k === PATCH_MAX) {
        // PATCH_MAX patches: written whole (a new base, with a gen of its own in each folder)
        expect(wholeAsked).to.equal(1);
        expect(A.load("m")).to.deep.equal(rec);
        fs.rmSync(b, { recursive: true });
        fs.cpSync(a, b, { recursive: true });
      } else expect(files(b), `join ${k}`).to.deep.equal(files(a));
    }
  });

  it("writes the record whole, asking for it, when it is not kept as a base and patches yet; no entries changed writes no patch", async () => {
    const dir = tmp();
    const ks = new Keystore(dir, undefined);
    ks.create("m", { top: 1, rns: { n0: { v: 0 } } }); // a plain record, not a patched base
    let asked = 0;
    const next = { top: 1, rns: { n0: { v: 1 } } };
    const p = ks.commitIntent(
      {
        m: () => {
          asked++;
          return next;
        },
      },
      { ...PATCH, entries: { m: { n0: { v: 1 } } } },
      { kind: "test", data: {} },
    );
    await p.durable;
    p.apply();
    await settled();
    expect(asked).to.equal(1);
    expect(ks.load("m")).to.deep.equal(next);
    expect(fs.existsSync(path.join(dir, "m.head.json"))).to.equal(false);
    // a base now: nothing named, nothing of it written
    const q = ks.commitIntent({ m: () => next, r: { x: 1 } }, { ...PATCH, entries: { m: {} } }, { kind: "test", data: {} });
    await q.durable;
    expect(Object.keys(q.texts)).to.deep.equal(["r"]);
    q.apply();
    await settled();
  });

  it("hashes with Node's SHA-256 exactly as noble's sha256 of the text's UTF-8 bytes (non-ASCII and lone surrogates included)", async () => {
    // the keystore's record checksum, read back by load: a mismatch with noble's would be a corrupt record
    const dir = tmp();
    const ks = new Keystore(dir, undefined);
    const texts = ["", "a", "é", "\u{1F600}", "\ud800", "x\udfffy", "\u0000\u007f\u0080\u07ff\u0800\uffff"];
    for (let i = 0; i < 200; i++) {
      let s = "";
      for (let j = 0; j < i % 37; j++) s += String.fromCharCode(Math.floor(Math.random() * 0x10000));
      texts.push(s);
    }
    for (const [i, s] of texts.entries()) {
      ks.create(`t${i}`, { s });
      const file = JSON.parse(fs.readFileSync(path.join(dir, `t${i}.json`), "utf8")) as { checksum: string; data: unknown };
      expect(file.checksum, JSON.stringify(s)).to.equal(toHex(sha256(toBytes(JSON.stringify(file.data)))));
    }
  });
});
