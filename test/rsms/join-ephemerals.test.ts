/**
 * A join's ephemerals drawn between joins (issue 20, session 19; flows.restockJoinSoon,
 * offchain/crypto/ephemeral.ts): the RN's u, the RPM's ECIES key to PK_pub and its Schnorr nonce
 * are three uniform scalars, 48 bytes each from the CSPRNG (randomScalar). A join in a process
 * whose join before it restocked draws none of them on its own path; a process's first join, or a
 * join whose stock was spent, draws them at the point of use. Either way the join is
 * recorded: the stocked points are the ones the RPM opens and the MSRP verifies.
 */
import { expect } from "chai";
import hre from "hardhat";
import { joinViewsSettled } from "../../offchain/rsms/flows";
import { settled } from "../../offchain/storage/keystore";
import { useRsmsTaskSandbox } from "../helpers/tasks";

describe("rsms:join: ephemerals drawn between joins, each used once", function () {
  this.timeout(180_000);
  const log = console.log;
  useRsmsTaskSandbox("metatrust-eph-", ["e1", "e2", "e3"]);
  /** Joins `rn` and counts the scalars it draws from the CSPRNG (randomScalar: 48 bytes each) while the step runs. */
  const join = async (rn: string) => {
    const c = globalThis.crypto;
    const own = Object.getOwnPropertyDescriptor(c, "getRandomValues");
    const real = c.getRandomValues.bind(c);
    let scalars = 0;
    Object.defineProperty(c, "getRandomValues", {
      configurable: true,
      value: (a: Uint8Array) => {
        // a uniform scalar (group.ts randomScalar); other draws (a hedged ECDSA signature on the
        // noble backend, noble's blinding, the keystore's salts) are not the join's ephemerals
        if (a && a.byteLength === 48 && /\brandomScalar\b/.test(new Error().stack ?? "")) scalars++;
        return real(a);
      },
    });
    console.log = () => undefined;
    try {
      const res = (await hre.run("rsms:join", { rn, pool: 1 })) as { tx?: { gasUsed: bigint } };
      expect(res.tx, `${rn}'s recordJoin`).to.not.equal(undefined);
      return scalars;
    } finally {
      console.log = log;
      if (own) Object.defineProperty(c, "getRandomValues", own);
      else delete (c as unknown as Record<string, unknown>).getRandomValues;
    }
  };

  it("a join after a restocked one draws none of its three ephemerals on its path; a process's first join draws them", async () => {
    // the first join in this sandbox: its MSRP's PK_pub and its pool's key Z are new objects, so its
    // request's u and its seal's key are drawn here (the plain stock, a Schnorr nonce, may hold one
    // from another sandbox's join in this process)
    expect(await join("e1"), "the first join's draws").to.be.within(2, 3);
    await joinViewsSettled(); // the restock ran, off the step's path
    await settled();
    expect(await join("e2"), "a join after a restock").to.equal(0);
    await joinViewsSettled();
    await settled();
    expect(await join("e3"), "a join after a restock").to.equal(0);
    await joinViewsSettled();
  });
});
