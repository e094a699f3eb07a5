import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { Keystore } from "../../offchain/storage/keystore";
import {
  KeystoreCorruptedError,
  KeystoreExistsError,
  KeystoreLockedError,
  KeystoreNotFoundError,
  KeystoreWrongPassphraseError,
} from "../../offchain/storage/errors";
import { InvalidParameterError } from "../../offchain/errors";
import { expectThrows } from "../helpers/errors";

const FAST = { N: 2 ** 10, r: 8, p: 1 };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-ks-"));

describe("storage/keystore", () => {
  it("creates, loads and updates a plaintext record with mode 0600 across instances", () => {
    const dir = tmp();
    new Keystore(dir, undefined).create("msrp", { msk: "0x01", n: 3 });
    const ks = new Keystore(dir, undefined);
    expect(ks.load("msrp")).to.deep.equal({ msk: "0x01", n: 3 });
    ks.update("msrp", { msk: "0x01", n: 4 });
    expect(new Keystore(dir, undefined).load("msrp")).to.deep.equal({ msk: "0x01", n: 4 });
    expect(fs.statSync(ks.file("msrp")).mode & 0o777).to.equal(0o600);
    expect(ks.list()).to.deep.equal(["msrp"]);
  });

  it("seals records with a passphrase; the secret is not in the file", () => {
    const dir = tmp();
    const ks = new Keystore(dir, "correct horse", FAST);
    ks.create("rn-1", { sk: "0xdeadbeefcafe" });
    expect(fs.readFileSync(ks.file("rn-1"), "utf8")).to.not.contain("deadbeefcafe");
    expect(new Keystore(dir, "correct horse").load("rn-1")).to.deep.equal({ sk: "0xdeadbeefcafe" });
  });

  it("never overwrites on create and never invents a missing record", () => {
    const ks = new Keystore(tmp(), undefined);
    ks.create("a", { v: 1 });
    expectThrows(() => ks.create("a", { v: 2 }), KeystoreExistsError, "KEYSTORE_EXISTS", /never overwritten/);
    expect(ks.load("a")).to.deep.equal({ v: 1 });
    expectThrows(() => ks.load("b"), KeystoreNotFoundError, "KEYSTORE_NOT_FOUND", /^Keystore.load: no keystore "b"/);
    expectThrows(() => ks.update("b", {}), KeystoreNotFoundError, "KEYSTORE_NOT_FOUND");
    expect(ks.exists("b")).to.equal(false);
  });

  it("sealed records: one key derivation per process and folder, a fresh nonce per record; a wrong passphrase still fails after the right one", () => {
    const dir = tmp();
    const ks = new Keystore(dir, "pw", FAST);
    ks.create("a", { sk: "0x01" });
    ks.create("b", { sk: "0x02" });
    ks.update("a", { sk: "0x03" });
    const files = ["a", "b"].map((n) => JSON.parse(fs.readFileSync(ks.file(n), "utf8")));
    expect(files[0].kdf.salt).to.equal(files[1].kdf.salt); // one salt: one scrypt for every write of this process
    expect(files[0].nonce).to.not.equal(files[1].nonce);
    expect([new Keystore(dir, "pw").load("a"), new Keystore(dir, "pw").load("b")]).to.deep.equal([{ sk: "0x03" }, { sk: "0x02" }]);
    // the key derived for "pw" and this salt is kept: another passphrase derives its own, which the AEAD refuses
    expectThrows(() => new Keystore(dir, "wrong").load("a"), KeystoreWrongPassphraseError, "KEYSTORE_WRONG_PASSPHRASE");
  });

  it("a wrong passphrase, a missing passphrase and a tampered ciphertext are clear errors", () => {
    const dir = tmp();
    const ks = new Keystore(dir, "pw", FAST);
    ks.create("idp", { sk: "0x11" });
    const before = fs.readFileSync(ks.file("idp"), "utf8");
    expectThrows(() => new Keystore(dir, "wrong").load("idp"), KeystoreWrongPassphraseError, "KEYSTORE_WRONG_PASSPHRASE");
    expectThrows(() => new Keystore(dir, undefined).load("idp"), KeystoreLockedError, "KEYSTORE_LOCKED", /METATRUST_PASSPHRASE/);
    const j = JSON.parse(before);
    j.ciphertext = j.ciphertext.slice(0, -2) + (j.ciphertext.endsWith("00") ? "01" : "00");
    fs.writeFileSync(ks.file("idp"), JSON.stringify(j));
    expectThrows(() => ks.load("idp"), KeystoreWrongPassphraseError, "KEYSTORE_WRONG_PASSPHRASE");
  });

  it("a corrupted file is a clear error, not a silent regeneration", () => {
    const ks = new Keystore(tmp(), undefined);
    ks.create("x", { sk: "0x05" });
    const file = ks.file("x");
    const text = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, text.slice(0, text.length / 2));
    expectThrows(() => ks.load("x"), KeystoreCorruptedError, "KEYSTORE_CORRUPTED", /not valid JSON/);
    fs.writeFileSync(file, text.replace("0x05", "0x06"));
    expectThrows(() => ks.load("x"), KeystoreCorruptedError, "KEYSTORE_CORRUPTED", /checksum/);
    expect(fs.readFileSync(file, "utf8")).to.contain("0x06"); // untouched by the failed load
  });

  it("writes atomically: no temporary files are left and a crash mid-write keeps the old record", () => {
    const dir = tmp();
    const ks = new Keystore(dir, undefined);
    ks.create("a", { v: 1 });
    ks.update("a", { v: 2 });
    expect(fs.readdirSync(dir)).to.deep.equal(["a.json"]);
    // A crashed writer leaves only its temporary file behind; the record still reads.
    fs.writeFileSync(path.join(dir, "a.json.123456.tmp"), "{ half");
    expect(ks.load("a")).to.deep.equal({ v: 2 });
    expect(ks.list()).to.deep.equal(["a"]);
  });

  it("rejects record names that could escape the folder", () => {
    const ks = new Keystore(tmp(), undefined);
    expectThrows(() => ks.create("../evil", {}), InvalidParameterError, "INVALID_PARAMETER", /invalid record name/);
    expectThrows(() => ks.load(".hidden"), InvalidParameterError, "INVALID_PARAMETER");
  });
});
