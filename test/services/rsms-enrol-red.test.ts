/**
 * Red team (h11-red): the MSRP's RPM enrolment (POST /v1/rpm/enrol, msrp-service.ts `enrolRpm`)
 * when its chain write fails once. Fixed; the test passes when the RPM gets its pool and failed
 * (409, below) before the fix.
 *
 * R4 (MEDIUM-HIGH, a lost pool; no attacker needed, one transient chain failure is enough, and an
 * attacker who can delay or drop the MSRP's createPool transaction (R1b) gets it on demand).
 * `enrolRpm` writes the agent's record (the RPM registered, `registerRpm`) and the intent, then
 * sends createPool. When that write fails (a node hiccup, a dropped transaction, a timeout), the
 * reply is neither sent nor cached, and the RPM's client retries the very same bytes, as it must.
 * The retry runs the handler again: the pool is not on-chain, so `registerRpm` is called a second
 * time and refuses ("an RPM named rpm-2 is already registered", AGENT_STATE, HTTP 409). A 409 is a
 * final answer to the client (`enrolRpm` in clients.ts): it deletes its pending enrolment, the
 * transport key the reply is sealed to. So:
 *   - until the MSRP restarts, the pool cannot be enrolled at all (every retry is a 409);
 *   - after the restart, recovery creates the pool on-chain and caches the reply for bytes the
 *     RPM no longer has: sk_RPM, sealed to a transport key the RPM deleted, is lost, and a fresh
 *     enrolment is refused for good (the pool exists on-chain: INVALID_STATE; pool id burned).
 * The IdP's issuance (idp-service.ts `issue`: "a retry of this request whose chain write failed
 * after its intent: finished from the intent") and the group desk's key update (h10-red) handle
 * exactly this; the RPM enrolment does not.
 * Breaks: "a retry must never have a second effect; a lost reply must never strand a party"
 * (RSMS, RPM registration with the MSRP and the pool's creation on-chain).
 * Fix (done): `enrolRpm` looks, under the mutex, for a pending `createPool` intent of these very
 * request bytes first (as IdP `issue` does) and finishes it from the intent (createPool unless
 * on-chain, its reply cached for good: `finishPool`, shared with recovery). Not done: the client
 * still drops its pending enrolment on any 409.
 */
import { expect } from "chai";
import path from "path";
import { rsmsServices, funded, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { enrolRpm } from "../../offchain/services/rsms/clients";

describe("h11-red R4 (fixed): an RPM enrolment whose createPool failed once", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;

  before(async () => {
    s = await rsmsServices({ pools: [1] });
  });
  after(async () => {
    await s?.stop();
    await s?.msrp.stop();
  });

  it("R4: the RPM's retry of the same enrolment gets its pool and keys (not a 409 that makes it throw its keys away)", async () => {
    const ledger = s.msrpDeps.ledger;
    const real = ledger.createPool.bind(ledger);
    let failures = 0;
    ledger.createPool = (async (...args: Parameters<typeof real>) => {
      if (failures++ === 0) throw new Error("connect ECONNRESET (a transient RPC failure)");
      return real(...args);
    }) as typeof ledger.createPool;
    const wallet = await funded();
    const ks = new Keystore(path.join(tmp("rpm2"), "keystore"), "");
    try {
      const out = await enrolRpm({
        msrpUrl: s.msrpUrl,
        poolId: 2,
        rid: "rpm-2",
        wallet,
        keystore: ks,
        dep: s.dep,
        retry: { attempts: 3, timeoutMs: 30_000, backoffMs: 10 },
      }).then(
        (r) => `pool ${r.poolId}`,
        (e: Error) => e.message.split("\n")[0],
      );
      expect(out).to.equal("pool 2");
      expect((await s.dep.ledger.pool(2))?.rpm).to.equal(wallet.address);
    } finally {
      ledger.createPool = real;
    }
  });
});
