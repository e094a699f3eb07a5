/**
 * s17-redA F23: a service's intent journal (`<data>/service-msrp/journal/*.json`, the IdP's, the
 * authorities') is read with a bare JSON.parse per file. One file that is not a JSON intent (cut
 * short by a filesystem that lost its tail after a power cut, an editor, a bad restore) stops the
 * service from starting: `rsms:serve msrp` ends with exit 1 and "Unterminated string in JSON at
 * position 20 (this looks like a bug: run again with --verbose and report the output)", naming no
 * file. Charter: one line that names the entity (the file) and what to do, with the exit code of a
 * damaged local store (4, as a corrupted keystore record), not "a bug".
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { Journal } from "../../offchain/services/journal";
import { exitCodeOf, EXIT } from "../../tasks/lib/cli";

describe("services/journal: an intent file that is not JSON is named, not a bug (s17-redA F23)", function () {
  it("pending() over a truncated intent: one line naming the file, exit 4", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-redA-journal-"));
    const j = new Journal(dir);
    j.put("join-ok", "join", { rn: "edge-1" });
    const torn = path.join(dir, "join-abc.json");
    fs.writeFileSync(torn, '{"id":"join-abc","kind":"jo');
    let e: Error | undefined;
    try {
      j.pending();
    } catch (x) {
      e = x as Error;
    }
    expect(e, "a torn intent was read without a word").to.not.equal(undefined);
    expect(e!.message).to.contain(torn);
    expect(e!.message).to.not.contain("\n");
    expect(exitCodeOf(e)).to.equal(EXIT.unavailable, e!.message);
  });
});
