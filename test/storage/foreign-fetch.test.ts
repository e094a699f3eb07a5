/**
 * s26-fxl L2: fetches of a CID someone else chose (`ForeignFetcher`, offchain/storage/content-store.ts)
 * through kubo (the s25 red team's model of peered daemons, test/helpers/fake-kubo.ts): each waits
 * at most its bound (and what is left of the pass's budget), a CID not found is not asked for
 * again before its backoff has passed, a spent budget defers the fetch without asking the daemon,
 * and `due()` grows when a deferred fetch may be tried again. s27-fxl (s26-review L4): a fetch is
 * not started with less than MIN_FETCH_WAIT_MS (or its bound, if smaller) left of the budget: it is
 * deferred, not counted as a miss, and the next pass with a budget fetches it.
 *   nice -n 19 npx hardhat test test/storage/foreign-fetch.test.ts
 */
import { expect } from "chai";
import { fakeKubo } from "../helpers/fake-kubo";
import { ContentNotFoundError } from "../../offchain/storage/errors";
import { FetchDeferredError, ForeignFetcher, MIN_FETCH_WAIT_MS, cidOf, encodeJson } from "../../offchain/storage/content-store";

const absent = async (k: number) => (await cidOf(encodeJson({ nobody: "serves", k }), "dag-json")).toString();

describe("storage: ForeignFetcher (s26-fxl L2)", () => {
  it("control: a block a peer holds is fetched through the daemon, with the fetcher's bound as its timeout", async () => {
    const k = fakeKubo();
    const cid = await k.stores[0].putJson({ a: 1 });
    const f = new ForeignFetcher({ timeoutMs: 300 });
    expect(await f.getJson(k.stores[1], cid)).to.deep.equal({ a: 1 });
    expect(k.gets).to.deep.equal([{ node: 1, cid, timeout: 300 }]);
  });

  it("a CID nobody serves is asked for once, then waits out a doubling backoff (no second wait on the daemon)", async () => {
    const k = fakeKubo();
    let now = 1_000_000;
    const f = new ForeignFetcher({ timeoutMs: 300, retryMs: 1_000, retryMaxMs: 3_000, now: () => now });
    const cid = await absent(1);
    const err = async () =>
      f.get(k.stores[0], cid).then(
        () => undefined,
        (e: Error) => e,
      );
    const first = await err();
    expect(first).to.be.instanceOf(ContentNotFoundError).and.not.be.instanceOf(FetchDeferredError);
    expect(k.gets.map((g) => g.timeout)).to.deep.equal([300]);
    const second = await err(); // within the backoff: not asked
    expect(second).to.be.instanceOf(FetchDeferredError);
    expect((second as FetchDeferredError).why).to.equal("backoff");
    expect((second as Error).message).to.match(/not found 1 time\(s\); asked again after /);
    expect(k.gets).to.have.length(1);
    now += 1_000; // the backoff passed: asked again, then 2 s
    await err();
    expect(k.gets).to.have.length(2);
    expect(f.missOf(cid)).to.deep.equal({ n: 2, retryAt: now + 2_000 });
    now += 1_999;
    await err();
    expect(k.gets).to.have.length(2);
    // the block appears: the next due fetch finds it and forgets the misses
    now += 1;
    k.local[1].set(cid, encodeJson({ nobody: "serves", k: 1 }));
    expect(await f.getJson(k.stores[0], cid)).to.deep.equal({ nobody: "serves", k: 1 });
    expect(f.missOf(cid)).to.equal(undefined);
  });

  it("a pass's budget bounds each wait and, once spent, defers the rest without asking the daemon; due() grows when they may be tried", async () => {
    const k = fakeKubo(2, 5);
    let now = 0;
    const f = new ForeignFetcher({ timeoutMs: 2_000, retryMs: 10_000, now: () => now });
    const budget = { left: 3_500 };
    // a miss costs the time it waited: advance the clock by the wait the daemon was given
    const store = Object.assign(Object.create(k.stores[0]), {
      get: async (cid: string, o?: { timeoutMs?: number }) => {
        now += o?.timeoutMs ?? 0;
        return k.stores[0].get(cid, o);
      },
    });
    const outcome = async (j: number) =>
      f.get(store, await absent(j), budget).then(
        () => "found",
        (e: Error) => (e instanceof FetchDeferredError ? e.why : "missed"),
      );
    expect(await outcome(1)).to.equal("missed");
    expect(await outcome(2)).to.equal("missed");
    expect(await outcome(3)).to.equal("budget");
    expect(
      k.gets.map((g) => g.timeout),
      "the wait is the budget left, not the full bound",
    ).to.deep.equal([2_000, 1_500]);
    expect(budget.left).to.equal(0);
    const before = f.due();
    expect(before).to.equal(0);
    now += 10_000; // the misses' backoffs and the deferred fetch's retry time pass
    expect(f.due()).to.equal(3);
    expect(f.due(), "never decreases, and does not grow without a new retry time").to.equal(3);
  });

  it("s27-fxl: a fetch is not given the budget's remnant: below MIN_FETCH_WAIT_MS it is deferred, not a miss (no backoff), and the next pass fetches it", async () => {
    const k = fakeKubo();
    let now = 0;
    const f = new ForeignFetcher({ timeoutMs: 10_000, retryMs: 60_000, now: () => now });
    // the block exists, but the daemon needs 50 ms to find it: a fetch given less times out
    const cid = await k.stores[1].putJson({ exists: true });
    const store = Object.assign(Object.create(k.stores[0]), {
      get: async (c: string, o?: { timeoutMs?: number }) => {
        const wait = o?.timeoutMs ?? 0;
        if (c === cid && wait >= 50) {
          now += 50;
          return k.stores[0].get(c, o);
        }
        now += c === cid ? wait : Math.min(wait, 9_990); // the daemon gives up on a block nobody serves after 9.99 s
        throw new ContentNotFoundError(c, `not found within ${wait} ms`);
      },
    });
    const budget = { left: 10_000 };
    const first = await f.get(store, await absent(1), budget).catch((e: Error) => e);
    expect(first).to.be.instanceOf(ContentNotFoundError).and.not.be.instanceOf(FetchDeferredError);
    expect(budget.left, "a 9.99 s miss: 10 ms left").to.equal(10);
    const second = await f.get(store, cid, budget).catch((e: Error) => e);
    expect(second).to.be.instanceOf(FetchDeferredError);
    expect((second as FetchDeferredError).why).to.equal("budget");
    expect(f.missOf(cid), "not counted as a miss: no backoff").to.equal(undefined);
    expect(budget.left, "nothing spent").to.equal(10);
    // the next pass, with its own budget, fetches it at once (no backoff to wait out)
    expect(await f.getJson(store, cid, { left: 60_000 })).to.deep.equal({ exists: true });
    // with just the floor left a fetch is tried (the floor is the least a fetch is given)
    expect(await f.getJson(store, cid, { left: MIN_FETCH_WAIT_MS })).to.deep.equal({ exists: true });
  });
});
