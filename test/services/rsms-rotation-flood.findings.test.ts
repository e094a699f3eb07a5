/**
 * Red team s17-redB, finding B13: an RN makes the MSRP pay for as many on-chain records as it likes.
 * Every re-authentication is a recordJoin (about 90,000 gas, bench/results/rsms.md) paid from the
 * MSRP's account, and nothing limits how often one RN rotates: the RPM services rate-limit per client
 * address (600 a minute by default), the MSRP sees only the RPMs, and it has a per-user quota for
 * group formations (group-quota.ts) but none for joins or rotations, although it knows which RN each
 * forward is for. One joined RN that bounces between two pools drains the MSRP's account (and fills
 * the chain with records, each a fresh verified PID).
 */
import { expect } from "chai";
import { rsmsServices } from "../helpers/rsms-services";
import { joinRemote, reauthRemote, registerRnRemote } from "../../offchain/services/rsms/clients";

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
});
