import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { FileContentStore, KuboContentStore, cidOf, createContentStore, encodeJson } from "../../offchain/storage/content-store";
import { ContentCorruptedError, ContentNotFoundError, InvalidCidError, IpfsUnreachableError } from "../../offchain/storage/errors";
import { expectRejects } from "../helpers/errors";

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-ipfs-"));
}

describe("storage/content-store", () => {
  describe("# FileContentStore (embedded)", () => {
    it("stores JSON as dag-json and bytes as raw, with CIDv1 sha2-256", async () => {
      const s = new FileContentStore(tmpDir());
      const cid = await s.putJson({ b: 2, a: [1, "x"] });
      expect(cid).to.match(/^bagu/); // base32 CIDv1, dag-json codec
      expect(await s.getJson(cid)).to.deep.equal({ a: [1, "x"], b: 2 });
      const raw = await s.putBytes(Uint8Array.of(1, 2, 3));
      expect(raw).to.match(/^bafk/); // raw codec
      expect(Array.from(await s.get(raw))).to.deep.equal([1, 2, 3]);
      expect(await s.has(raw)).to.equal(true);
    });

    it("computes the CIDs a kubo node computes (known CIDs)", async () => {
      // `echo -n hello | ipfs block put --cid-codec raw` and `ipfs dag put` of {"hello":"world"}
      // (dag-json store codec) give these CIDv1s.
      expect((await cidOf(new TextEncoder().encode("hello"), "raw")).toString()).to.equal(
        "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",
      );
      expect((await cidOf(encodeJson({ hello: "world" }), "dag-json")).toString()).to.equal(
        "baguqeerasords4njcts6vs7qvdjfcvgnume4hqohf65zsfguprqphs3icwea",
      );
    });

    it("is content-addressed: same content, same CID, one file", async () => {
      const dir = tmpDir();
      const s = new FileContentStore(dir);
      const a = await s.putJson({ x: 1 });
      const b = await s.putJson({ x: 1 });
      expect(a).to.equal(b);
      expect(fs.readdirSync(path.join(dir, "blocks"))).to.have.length(1);
      expect(s.pins()).to.deep.equal([a]);
    });

    it("detects a corrupted block on read", async () => {
      const dir = tmpDir();
      const s = new FileContentStore(dir);
      const cid = await s.putJson({ secretless: true });
      fs.writeFileSync(path.join(dir, "blocks", cid), encodeJson({ secretless: false }));
      await expectRejects(() => s.get(cid), ContentCorruptedError, "CONTENT_CORRUPTED", /does not match the CID/);
    });

    it("rejects unknown CIDs, malformed CIDs, unsupported codecs, and pinning what it lacks", async () => {
      const s = new FileContentStore(tmpDir());
      const missing = (await cidOf(Uint8Array.of(9), "raw")).toString();
      await expectRejects(() => s.get(missing), ContentNotFoundError, "CONTENT_NOT_FOUND", new RegExp(missing));
      await expectRejects(() => s.pin(missing), ContentNotFoundError, "CONTENT_NOT_FOUND");
      await expectRejects(() => s.get("not-a-cid"), InvalidCidError, "INVALID_CID", /^parseCid: not a CID/);
      await expectRejects(() => s.get("QmWATWQ7fVPP2EFGu71UkfnqhYXDYH566qy47CnJDgvs8u"), InvalidCidError, "INVALID_CID", /CIDv1/);
      const raw = await s.putBytes(Uint8Array.of(1));
      await expectRejects(() => s.getJson(raw), InvalidCidError, "INVALID_CID", /not a dag-json/);
    });

    it("createContentStore picks the embedded store by default and kubo with IPFS_API_URL", () => {
      expect(createContentStore(tmpDir(), {}).kind).to.equal("embedded");
      expect(createContentStore(tmpDir(), { IPFS_API_URL: "http://127.0.0.1:1" }).kind).to.equal("kubo");
    });
  });

  describe("# KuboContentStore", () => {
    it("reports an unreachable daemon clearly", async () => {
      // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
      const s = new KuboContentStore("http://127.0.0.1:9", 2_000);
      await expectRejects(() => s.putJson({ a: 1 }), IpfsUnreachableError, "IPFS_UNREACHABLE", /127\.0\.0\.1:9 is unreachable/);
    });
  });
});
