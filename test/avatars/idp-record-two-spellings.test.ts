/**
 * s22-review F2 (tasks/lib/idp-record.ts; fixed in session 22: the queue keys on the folder's canonical path): the in-process queue is keyed by the folder's
 * spelling (`path.join(dataDir, "service-idp")`), and `staleOwn` lets a command take over a task
 * lock of its own pid. Two commands of one process naming one data folder by two spellings (relative
 * and absolute) are not queued, and the second takes the first's live lock over as "left by an
 * earlier run of this process": both hold the IdP's folder at once.
 * Secure behaviour asserted: the second runs only after the first has finished.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { withIdpRecord } from "../../tasks/lib/idp-record";

describe("avatars/idp-record: one IdP folder under two spellings in one process (s22-review F2)", function () {
  it("the second command waits for the first", async () => {
    const abs = fs.mkdtempSync(path.join(os.tmpdir(), "s22-review-idp-"));
    const rel = path.relative(process.cwd(), abs);
    let inside = 0;
    let most = 0;
    const hold = async () => {
      inside++;
      most = Math.max(most, inside);
      await new Promise((go) => setTimeout(go, 300));
      inside--;
    };
    const notices: string[] = [];
    await Promise.all([
      withIdpRecord("idp:issue", abs, hold, { onWait: (l) => notices.push(l) }),
      new Promise((go) => setTimeout(go, 50)).then(() => withIdpRecord("idp:issue", rel, hold, { onWait: (l) => notices.push(l) })),
    ]);
    console.log(`      most commands inside at once: ${most}; notices: ${notices.length}`);
    expect(most, "two commands held the IdP folder at once").to.equal(1);
  });
});
