import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { Journal, StalledIntents, type StalledOutcome } from "../../offchain/services/journal";

// StalledIntents (offchain/services/journal.ts): the intents whose recovery failed at start-up, tried
// again in the background. The services' recovery tests (rsms-recovery-stalled, idp-recovery-stalled)
// cover a stalled intent finished by a retry; these cover the paths they do not reach.
describe("services/journal: StalledIntents", () => {
  let dir: string;
  let journal: Journal;
  let lines: string[];
  let stalled: StalledIntents;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-stalled-"));
    journal = new Journal(dir);
    lines = [];
    stalled = new StalledIntents(journal, (l) => lines.push(l));
  });
  afterEach(() => {
    stalled.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const stall = (id: string, kind = "join") => {
    const i = journal.put(id, kind, { n: 1 });
    stalled.record(id, { kind, at: i.at, error: "node unreachable" });
    return i;
  };

  it("forgets an intent finished meanwhile (gone from the journal) without trying it", async () => {
    stall("a");
    journal.done("a");
    let tried = 0;
    expect(await stalled.finish(async () => (tried++, "finished"))).to.equal(0);
    expect(tried).to.equal(0);
    expect(stalled.has("a")).to.equal(false);
  });

  it("forgets one whose id now names a later request's intent, and leaves that intent in the journal", async () => {
    const first = stall("a");
    await sleep(2);
    const later = journal.put("a", "join", { n: 2 });
    expect(later.at).to.not.equal(first.at);
    let tried = 0;
    expect(await stalled.finish(async () => (tried++, "finished"))).to.equal(0);
    expect(tried).to.equal(0);
    expect(journal.pending().map((i) => i.at)).to.deep.equal([later.at]);
  });

  it("keeps an intent whose try throws, with its new error, in the journal; one finished or dropped leaves it", async () => {
    stall("a");
    stall("b");
    stall("c");
    const outcome: Record<string, StalledOutcome | Error> = {
      a: new Error("still down\nstack"),
      b: "finished",
      c: "dropped",
    };
    const attempt = async (i: { id: string }) => {
      const o = outcome[i.id];
      if (o instanceof Error) throw o;
      return o;
    };
    expect(await stalled.finish(attempt)).to.equal(1);
    expect(stalled.list()).to.deep.equal({ a: { kind: "join", error: "still down" } });
    expect(journal.pending().map((i) => i.id)).to.deep.equal(["a"]);
    expect(lines).to.deep.equal(["recovery: intent b (join) finished", "recovery: intent c (join) dropped"]);
  });

  it("retries in the background until none is left, logs a failed retry and goes on; stop() cancels a pending retry", async () => {
    stall("a");
    let calls = 0;
    stalled.start(async () => {
      calls++;
      if (calls === 1) throw new Error("mutex busy\nstack");
      return calls < 3 ? 1 : 0;
    }, 5);
    await sleep(200);
    expect(calls).to.equal(3);
    expect(lines).to.deep.equal(["recovery: retry failed: mutex busy"]);

    const other = new StalledIntents(journal, () => undefined);
    other.record("a", { kind: "join", at: 0, error: "x" });
    let otherCalls = 0;
    other.start(async () => (otherCalls++, 1), 20);
    other.stop();
    await sleep(80);
    expect(otherCalls).to.equal(0);
  });
});
