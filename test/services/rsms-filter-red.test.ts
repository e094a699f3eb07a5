/**
 * Red team (h11-red) R6, MEDIUM (RNs stranded; no attacker needed: one IPFS or chain failure
 * during a publication, which anyone who can make the MSRP's IPFS node or RPC slow for a moment
 * gets on demand), fixed.
 *
 * `MsrpService.publishDue` (the background tick) takes the pool's pending filter out of the agent
 * (`takeFilter`), journals it, saves the record without it, then publishes (IPFS, then
 * publishFilter on-chain). When the publication failed, the tick logged "retried next tick", but
 * nothing was: the filter was no longer pending, so `filterDue` was false and the RNs it holds
 * stayed out of every published filter. Their joins are refused by the RPM (their one-time secret
 * is in no filter on-chain) until the MSRP restarts and recovery publishes the journaled filter;
 * and if RNs registered meanwhile, the next publication for the pool journaled its filter under
 * the same intent id (`filter-<pool>`), replacing the failed one: those RNs were never published,
 * even after a restart, and their names are taken (a fresh registration is refused): stranded for
 * good. Breaks RSMS's registration-to-join flow (the Bloom filter of registration secrets on-chain,
 * §III.C) and "a lost reply / failed step must never strand a party".
 * Fix (done): each tick first finishes the publications that failed (their intents, by recovery's
 * rule: not published again if the chain already has that root), before it takes a new filter; one
 * that fails again holds back its own pool's next filter (whose intent would replace it).
 * The test fails without the fix (the second tick publishes nothing, the join is refused).
 */
import { expect } from "chai";
import path from "path";
import { rsmsServices, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { joinRemote, registerRnRemote } from "../../offchain/services/rsms/clients";

describe("h11-red R6 (fixed): a filter publication that failed once", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  before(async () => {
    s = await rsmsServices({ pools: [1] });
  });
  after(async () => {
    await s?.stop();
    await s?.msrp.stop();
  });

  it("is published by the next tick, before the pool's next filter; the RNs of both filters join", async () => {
    const ks = (n: string) => new Keystore(path.join(tmp(`h11-${n}`), "keystore"), "");
    const machines = { a: ks("a"), b: ks("b") };
    await registerRnRemote({
      msrpUrl: s.msrpUrl,
      name: "a",
      poolId: 1,
      rid: "rn:a",
      token: s.enrol("a"),
      keystore: machines.a,
      dep: s.dep,
    });
    const ledger = s.msrpDeps.ledger;
    const real = ledger.publishFilter.bind(ledger);
    let failures = 0;
    ledger.publishFilter = (async (...args: Parameters<typeof real>) => {
      if (failures++ < 2) throw new Error("connect ECONNRESET (a transient RPC failure)");
      return real(...args);
    }) as typeof ledger.publishFilter;
    try {
      const first = await s.msrp.publishDue().then(
        (n) => `${n} published`,
        (e: Error) => e.message,
      );
      expect(first).to.match(/ECONNRESET/);
      // an RN registers meanwhile: its filter is the pool's next one
      await registerRnRemote({
        msrpUrl: s.msrpUrl,
        name: "b",
        poolId: 1,
        rid: "rn:b",
        token: s.enrol("b"),
        keystore: machines.b,
        dep: s.dep,
      });
      // the node still fails: a's filter stays journaled, and b's is not taken (it would replace a's intent)
      const second = await s.msrp.publishDue().then(
        (n) => `${n} published`,
        (e: Error) => e.message,
      );
      expect(second).to.match(/ECONNRESET/);
      expect(s.msrp.msrp.filterDue(1, Math.floor(Date.now() / 1000))).to.equal(true);
      // the next tick: the failed filter, then b's
      expect(await s.msrp.publishDue()).to.equal(2);
    } finally {
      ledger.publishFilter = real;
    }
    for (const n of ["a", "b"] as const)
      expect((await joinRemote({ name: n, poolId: 1, keystore: machines[n], dep: s.dep })).rn.state.joined, `RN ${n} joins`).to.equal(true);
  });
});
