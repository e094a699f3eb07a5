/**
 * Red team s17-redB, finding B13 (fixed; what follows describes the code before the fix): an RN makes the MSRP pay for as many on-chain records as it likes.
 * Every re-authentication is a recordJoin (about 90,000 gas, bench/results/rsms.md) paid from the
 * MSRP's account, and nothing limits how often one RN rotates: the RPM services rate-limit per client
 * address (600 a minute by default), the MSRP sees only the RPMs, and it has a per-user quota for
 * group formations (group-quota.ts) but none for joins or rotations, although it knows which RN each
 * forward is for. One joined RN that bounces between two pools drains the MSRP's account (and fills
 * the chain with records, each a fresh verified PID).
 *
 * Now the MSRP records at most `rotationBudget.perRn` rotations of one RN per window (default 12 per
 * hour, `rsms:serve msrp --rotation-budget`, `--rotation-window`); one more is refused
 * ROTATION_BUDGET before anything is recorded. The window and the record's count are tested in
 * test/rsms/rotation-budget.test.ts.
 */
import { expect } from "chai";
import { rsmsServices } from "../helpers/rsms-services";
import { joinRemote, reauthRemote, registerRnRemote, loadRemoteRn } from "../../offchain/services/rsms/clients";
import { DEFAULT_ROTATION_BUDGET } from "../../offchain/rsms/msrp";

/**
 * The budget counts per window of the wall clock (window k is [k·windowSec, (k+1)·windowSec)): a case
 * that spanned a window's edge would see the count start again. Each case starts at least two minutes
 * before the next edge (waiting for it to pass when closer), which no case here comes near taking.
 */
async function awayFromWindowEdge(): Promise<void> {
  const w = DEFAULT_ROTATION_BUDGET.windowSec * 1000;
  const left = w - (Date.now() % w);
  if (left < 120_000) await new Promise((r) => setTimeout(r, left + 1000));
}

describe("services/rsms red team s17-redB B13: one RN rotating in a loop", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  before(async () => {
    s = await rsmsServices({ pools: [1, 2], msrpRetry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 } });
    await registerRnRemote({
      msrpUrl: s.msrpUrl,
      name: "spin",
      poolId: 1,
      rid: "rn:spin",
      token: s.enrol("spin"),
      keystore: s.client,
      dep: s.dep,
    });
    expect(await s.msrp.publishDue()).to.equal(1);
    await joinRemote({ name: "spin", poolId: 1, keystore: s.client, dep: s.dep });
  });
  after(async () => {
    await s?.stop();
  });

  it("the MSRP refuses an RN's rotations beyond a per-RN budget: 20 rotations in a few seconds do not all go on-chain", async () => {
    await awayFromWindowEdge();
    const before = await s.dep.ledger.joinCount();
    const gas0 = await s.msrpWallet.provider!.getBalance(s.msrpWallet.address);
    let refused = 0;
    for (let i = 0; i < 20; i++) {
      const ok = await reauthRemote({
        name: "spin",
        poolId: i % 2 === 0 ? 2 : 1,
        keystore: s.client,
        dep: s.dep,
        retry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
      }).then(
        () => true,
        () => false,
      );
      if (!ok) refused++;
      if (refused > 0) break;
    }
    const written = Number((await s.dep.ledger.joinCount()) - before);
    const spent = gas0 - (await s.msrpWallet.provider!.getBalance(s.msrpWallet.address));
    expect(refused, `${written} rotations of one RN recorded at the MSRP's expense (${spent} wei), none refused`).to.be.greaterThan(0);
  });

  it("exactly the default budget (12 per hour) is recorded; the refusal is ROTATION_BUDGET and leaves the RN where it was", async () => {
    const n = await registerRnRemote({
      msrpUrl: s.msrpUrl,
      name: "spin2",
      poolId: 1,
      rid: "rn:spin2",
      token: s.enrol("spin2"),
      keystore: s.client,
      dep: s.dep,
    });
    void n;
    await s.msrp.publishDue();
    await joinRemote({ name: "spin2", poolId: 1, keystore: s.client, dep: s.dep });
    await awayFromWindowEdge();
    const before = await s.dep.ledger.joinCount();
    const step = (i: number) =>
      reauthRemote({
        name: "spin2",
        poolId: i % 2 === 0 ? 2 : 1,
        keystore: s.client,
        dep: s.dep,
        retry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
      });
    for (let i = 0; i < DEFAULT_ROTATION_BUDGET.perRn; i++) await step(i);
    expect(Number((await s.dep.ledger.joinCount()) - before)).to.equal(DEFAULT_ROTATION_BUDGET.perRn);
    const at = loadRemoteRn(s.client, "spin2")!.state;
    const e = await step(DEFAULT_ROTATION_BUDGET.perRn).then(
      () => undefined,
      (x: Error) => x,
    );
    expect(e?.message).to.match(/ROTATION_BUDGET/);
    expect(Number((await s.dep.ledger.joinCount()) - before)).to.equal(DEFAULT_ROTATION_BUDGET.perRn);
    expect(loadRemoteRn(s.client, "spin2")!.state.k, "the RN keeps its pseudonym").to.equal(at.k);
  });
});
