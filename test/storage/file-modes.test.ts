/**
 * A service's state is its operator's alone: files written by writeFileAtomic are owner-only unless the
 * caller says the content is public (s24 open list: reply-cache files were 0644). Content-addressed blocks,
 * their pins and the deployment record are public and stay 0644.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { writeFileAtomic } from "../../offchain/storage/fs-atomic";
import { FileContentStore } from "../../offchain/storage/content-store";
import { ReplyCache } from "../../offchain/services/replies";

const mode = (f: string) => fs.statSync(f).mode & 0o777;

describe("storage/file modes", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "modes-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("writeFileAtomic writes owner-only by default, and the mode a caller asks for", () => {
    writeFileAtomic(path.join(dir, "a"), "x");
    writeFileAtomic(path.join(dir, "b"), "x", 0o644);
    expect(mode(path.join(dir, "a"))).to.equal(0o600);
    expect(mode(path.join(dir, "b"))).to.equal(0o644);
  });

  it("a reply cache's entries are owner-only", async () => {
    const c = new ReplyCache(dir);
    await c.once(new Uint8Array(16).fill(1), Date.now(), Uint8Array.from([1, 2]), async () => Uint8Array.from([3]));
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json"));
    expect(files).to.have.length(1);
    expect(mode(path.join(dir, files[0]))).to.equal(0o600);
  });

  it("the content store's blocks and pins stay public (0644)", async () => {
    const s = new FileContentStore(dir);
    await s.putJson({ a: 1 });
    const walk = (d: string): string[] =>
      fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
    const files = walk(dir);
    expect(files.length).to.be.greaterThan(0);
    for (const f of files) expect(mode(f), f).to.equal(0o644);
  });
});
