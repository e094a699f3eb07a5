/**
 * offchain/chain/log-cursor.ts: the kept cursor behind the RPM's join log and the MSRP's flag log
 * (s14 final read 2), over a scripted source (no chain): each read starts LOG_OVERLAP blocks below
 * the cursor, a failed read moves nothing, and concurrent callers share one read that starts after
 * they came.
 */
import { expect } from "chai";
import { LOG_OVERLAP, LogCursor } from "../../offchain/chain/log-cursor";

/** A chain of `height` blocks with one log (its block number) per block, whose reads are counted and can be held. */
function scripted(height: number) {
  const s = {
    height,
    reads: [] as [number, number][],
    latestCalls: 0,
    hold: undefined as Promise<void> | undefined,
    fail: false,
    async latest() {
      s.latestCalls++;
      const h = s.height;
      if (s.hold) await s.hold;
      return h;
    },
    async logs(from: number, to: number) {
      if (s.fail) throw new Error("logs: the node is down");
      s.reads.push([from, to]);
      return Array.from({ length: to - from + 1 }, (_, i) => from + i);
    },
  };
  return s;
}

describe("chain/log-cursor: LogCursor", () => {
  it("reads from block 0, then from LOG_OVERLAP blocks below where it stopped, folding every log", async () => {
    const src = scripted(30);
    const seen = new Set<number>();
    const c = new LogCursor(src, (b: number) => seen.add(b));
    await c.sync();
    src.height = 40;
    await c.sync();
    expect(src.reads).to.deep.equal([
      [0, 30],
      [31 - LOG_OVERLAP, 40],
    ]);
    expect(seen.size).to.equal(41);
  });

  it("a failed read moves nothing: the next one reads the same range again", async () => {
    const src = scripted(30);
    const c = new LogCursor(src, () => undefined);
    await c.sync();
    src.height = 50;
    src.fail = true;
    await expect(c.sync()).to.be.rejectedWith(/^logs: the node is down$/);
    src.fail = false;
    await c.sync();
    expect(src.reads).to.deep.equal([
      [0, 30],
      [31 - LOG_OVERLAP, 50],
    ]);
  });

  it("callers that arrive while a read runs share the one next read, which sees the block they came at", async () => {
    const src = scripted(10);
    let seenTo = -1;
    const c = new LogCursor(src, (b: number) => (seenTo = Math.max(seenTo, b)));
    let release!: () => void;
    src.hold = new Promise<void>((r) => (release = r));
    const first = c.sync(); // takes latest = 10, then waits
    await Promise.resolve();
    src.height = 20; // mined after the first read took its latest block
    const waiters = Array.from({ length: 5 }, () => c.sync());
    src.hold = undefined;
    release();
    await Promise.all([first, ...waiters]);
    expect(src.reads, "the first read and one shared read, not one per waiter").to.deep.equal([
      [0, 10],
      [0, 20],
    ]);
    expect(seenTo, "the waiters' read reached the block they came at").to.equal(20);
    await c.sync(); // nothing running: a read of its own
    expect(src.reads.length).to.equal(3);
  });
});
