/**
 * h11-red R1c, as a class (h11-fix3): ethers' own `wait()` on a contract transaction listens for a
 * receipt forever when the node drops the transaction (an ethers Contract builds its own response,
 * which ChainWallet's `wait` does not reach). Every transaction sent in offchain/ and tasks/ is
 * therefore awaited with `minedReceipt` (offchain/chain/mined.ts; tasks through tasks/lib/cli.ts),
 * which ends with TransactionDroppedError and frees the nonce (test/chain/mined-red.test.ts,
 * sender-red.test.ts). This test keeps it so: a `.wait(` in those folders is a finding unless it is
 * one of the waits listed here, each of which ends by itself.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";

const ROOT = path.join(__dirname, "..", "..");

/** The `.wait(` calls that end by themselves: file → the exact calls. */
const ALLOWED: Record<string, string[]> = {
  // minedReceipt's slices: ethers' wait bounded by WAIT_SLICE_MS, then the node is asked
  "offchain/chain/mined.ts": ["tx.wait(confirms, WAIT_SLICE_MS)"],
  // ChainTransactionResponse: a wait the caller bounded (a timeout) is ethers' own
  "offchain/chain/sender.ts": ["super.wait(confirms, timeout)"],
  // the fast path's FastTx.wait: offchain/chain/direct.ts waitReceipt (TransactionDroppedError)
  "offchain/rsms/ledger.ts": ['(await this.fast.send("recordJoin", args, joinRecorded(r))).wait()', "await sent.wait()"],
  // the join's prepared recordJoin (RsmsLedger.prepareRecordJoin: the fast path's wait above)
  "offchain/rsms/flows.ts": ["tx = await sent.wait()"],
  "offchain/trust/ledger.ts": ["sent.wait()"],
};

/** Every .ts file under `dir` (relative to the repository). */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(rel));
    else if (e.name.endsWith(".ts")) out.push(rel);
  }
  return out;
}

describe("h11-red R1c (class): no raw ethers wait() in offchain/ and tasks/", function () {
  it("every .wait( call is minedReceipt's, ChainWallet's bounded one, or the fast path's", () => {
    const found: string[] = [];
    for (const file of [...tsFiles("offchain"), ...tsFiles("tasks")]) {
      const lines = fs.readFileSync(path.join(ROOT, file), "utf8").split("\n");
      lines.forEach((line, i) => {
        if (/^\s*(\*|\/\/)/.test(line) || !/\.wait\(/.test(line)) return;
        if ((ALLOWED[file] ?? []).some((call) => line.includes(call))) return;
        found.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(found, "await these with minedReceipt (offchain/chain/mined.ts; tasks: tasks/lib/cli.ts)").to.deep.equal([]);
  });
});
