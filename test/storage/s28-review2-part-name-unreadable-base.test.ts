/**
 * s28-review2 F2 (finding): Keystore.writable refuses a part's name (`<x>.p<digits>`, `<x>.head`)
 * only when record `<x>` is kept as a base and patches, and finds that out by reading `<x>`
 * (isPatched: readShared, a parse and, sealed, a decryption). When `<x>` exists but cannot be read
 * (a corrupted file, a seal under another passphrase, a Keystore without one), the write of the
 * unrelated record `<x>.p1` throws that read's error, which names `<x>`'s file, not the record
 * written. Through idp:issue --proxy bot.p1 (s28-review F2's path) that is again the late refusal
 * after the MIT is issued: the party `avatar-party-bot.p1` is not kept while `avatar-party-bot`
 * is unreadable. Only `rsms-msrp` is ever patched; an unreadable `<x>` says nothing of a part.
 *
 * Fixed (s28): isPatched takes a record it cannot read for one that is not patched. Bites: with its
 * read error let through, both cases are refused.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Keystore } from "../../offchain/storage/keystore";

describe("s28-review2 F2: a record named like a part is refused when its 'base' cannot be read", () => {
  it("creates avatar-party-bot.p1 beside an unreadable avatar-party-bot", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-s28-review2-"));
    try {
      const ks = new Keystore(dir, "");
      ks.create("avatar-party-bot", { k: 1 });
      fs.writeFileSync(path.join(dir, "avatar-party-bot.json"), "{ torn");
      expect(() => ks.create("avatar-party-bot.p1", { k: 2 })).not.to.throw();
      expect(ks.load("avatar-party-bot.p1")).to.deep.equal({ k: 2 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("creates avatar-party-bot.p1 beside an avatar-party-bot sealed under another passphrase", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-s28-review2-"));
    try {
      new Keystore(dir, "one", { N: 2 ** 10, r: 8, p: 1 }).create("avatar-party-bot", { k: 1 });
      const ks = new Keystore(dir, "two", { N: 2 ** 10, r: 8, p: 1 });
      expect(() => ks.create("avatar-party-bot.p1", { k: 2 })).not.to.throw();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
