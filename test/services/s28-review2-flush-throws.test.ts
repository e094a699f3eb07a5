/**
 * s28-review2 F1 (finding, regression since 5e926f70): a command that asks for no lease runs
 * Keystore's flushJournals() in the `finally` of its run and only then `lock.release()`
 * (tasks/lib/record-hold.ts withServiceFolder). flushJournals writes every pending commit of the
 * process, of every folder, and throws on the first file it cannot read or write (EACCES, ENOSPC,
 * EROFS, EIO; a directory here, as the tests run as root). Then:
 * - the lock is never released: the folder stays this process's (another process waits out its
 *   whole wait and is refused; the exit handler releases only leases, so a stale lock is left);
 * - the run's own outcome is replaced by the flush's error: a command that did its work (an MIT
 *   issued, an RN registered) reports a failure about another folder's record.
 * At 5e926f70 the lock was released in that `finally` whatever the background apply did.
 *
 * Fixed (s28): a flush that throws is not the command's failure (its commits are in their journal):
 * the run's result stands, one line says so, and the folder is kept (released, a lease's rule, once
 * the process's commits are written, at the latest at its exit: releasing it over an unwritten
 * commit would let another process load the record without it). Bites: without the catch the run
 * reports the other folder's error; without the lease's retry the folder stays held.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Keystore } from "../../offchain/storage/keystore";
import { LOCK_FILE } from "../../offchain/services/folder-lock";
import { withServiceFolder } from "../../tasks/lib/record-hold";

describe("s28-review2 F1: a flush that throws at a command's end", function () {
  it("the command returns its result; its folder is kept until the pending commit can be written, then released", async () => {
    const a = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-s28-review2-a-"));
    const b = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-s28-review2-b-"));
    try {
      // a commit of this process in another folder (an in-process service's, another command's) ...
      new Keystore(b, "").commit({ rec: { v: 1 } });
      // ... whose record file cannot be written (as a full or read-only disk would refuse it)
      fs.mkdirSync(path.join(b, "rec.json"));
      let result: string | undefined;
      let error: Error | undefined;
      const lines: string[] = [];
      const origError = console.error;
      console.error = (l: string) => void lines.push(String(l));
      try {
        result = await withServiceFolder(
          "idp:issue",
          a,
          (h) => `held by ${h.pid}`,
          async () => "issued",
        );
      } catch (e) {
        error = e as Error;
      } finally {
        console.error = origError;
      }
      expect(error?.message, "the run's outcome").to.equal(undefined);
      expect(result).to.equal("issued");
      expect(
        lines.filter((l) => l.startsWith("idp:issue: this process's commits could not be written")),
        lines.join("\n"),
      ).to.have.length(1);
      expect(fs.existsSync(path.join(a, LOCK_FILE)), "the folder while a commit of the process is unwritten").to.equal(true);
      // the disk can take it again: the lease's retry writes it and releases the folder
      fs.rmdirSync(path.join(b, "rec.json"));
      const { HOLD_LEASE_MS } = await import("../../tasks/lib/record-hold");
      await new Promise((go) => setTimeout(go, HOLD_LEASE_MS + 100));
      expect(fs.existsSync(path.join(a, LOCK_FILE)), "the folder lock once the commit is written").to.equal(false);
      expect(new Keystore(b, "").load("rec")).to.deep.equal({ v: 1 });
      expect(fs.statSync(path.join(b, "rec.json")).isFile(), "the commit written into place").to.equal(true);
    } finally {
      fs.rmSync(a, { recursive: true, force: true });
      fs.rmSync(b, { recursive: true, force: true });
    }
  });
});
