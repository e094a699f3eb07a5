/**
 * Red team (h11-red): a group key update (POST /v1/group/add, msrp-groups.ts `update`) whose
 * transaction was mined while the MSRP saw an error. Fixed; the tests pass when the group keeps
 * working, and both failed before the fix (the add: 422 ServiceGroupRegistry__EpochNotNext).
 *
 * R7 (MEDIUM, a group bricked for good; no attacker needed: a rekey transaction that lands while
 * the MSRP's wait fails: a node that drops it from its own pool after a peer took it (now reported
 * as TransactionDroppedError, R1), a receipt poll lost to the network, a timeout; an attacker on the
 * MSRP's RPC path gets it on demand by cutting the connection after the send). `update` computes a
 * fresh rekey (new Q, new messages) on every call: the retry of the same request, finding no
 * reply cached, computes another one, journals it over the first (same intent id), and sends it;
 * the chain refuses it (the group is at that epoch already: 422) and the user's client takes that
 * as final. The agent stays at epoch k, the chain is at k+1 with the first Q, whose messages are in
 * no mailbox: every later add or rekey is refused by the chain (epoch k+1 again), and recovery at
 * the next restart drops the journaled update ("conflicts with the chain") because its Q is the
 * second one. No member ever gets the epoch k+1 key; the group cannot be updated again. The
 * formation (`requestGroup`) has the same shape (a fresh dealing on retry; recovery drops it and
 * the group stays on-chain with RNs allocated and no mailbox).
 * Breaks: "a retry must never have a second effect; a lost reply must never strand a party"
 * (RSMS §IV.B.2.c group key update, forward/backward security for the next updates).
 * Fix (done): as IdP `issue` and (h11-red R4) the RPM enrolment do: under the mutex, a pending
 * `rekeyGroup` (`formGroup`) intent of these very request bytes is finished from the intent (the
 * chain at its epoch with its Q: commit it and answer its reply; at the epoch before: send it)
 * instead of computing a new update (`finishRekeyIntent`, `finishFormIntent`, shared with recovery);
 * a key update another request left that way (its client gave up) is finished before a new one.
 */
import { expect } from "chai";
import { formedGroup } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { addRemote, requestGroupRemote } from "../../offchain/services/rsms/group-clients";

describe("h11-red R7 (fixed): a group update or formation mined while the MSRP saw an error", function () {
  this.timeout(300_000);
  const machines = new Map<string, Keystore>();
  let g: Awaited<ReturnType<typeof formedGroup>>;
  before(async () => {
    g = await formedGroup(machines, ["a", "b", "c", "d", "e", "f"], 2);
  });
  /**
   * Makes `method` of the MSRP's group registry land its first transaction and then fail as a lost
   * receipt poll would (the transaction mined, the MSRP sees an error); returns the undo.
   */
  const loseFirstReceipt = (method: "rekey" | "formGroup"): (() => void) => {
    const groups = g.s.msrpDeps.groups! as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const real = groups[method];
    let landed = 0;
    groups[method] = async (...args: unknown[]) => {
      const r = await real.apply(groups, args);
      if (landed++ === 0) throw new Error("connect ECONNRESET (the receipt poll was lost; the transaction was mined)");
      return r;
    };
    return () => {
      groups[method] = real;
    };
  };
  /** alice adds one RN to the group: "epoch N" or the first line of the error. */
  const add = (attempts: number) =>
    addRemote({
      msrpUrl: g.s.msrpUrl,
      user: "alice",
      groupId: g.gid,
      count: 1,
      keystore: machines.get("alice")!,
      dep: g.s.dep,
      retry: { attempts, timeoutMs: 30_000, backoffMs: 10 },
    }).then(
      (a) => `epoch ${a.epoch}`,
      (e: Error) => e.message.split("\n")[0],
    );
  after(async () => {
    await g?.s.rpm.stop();
    await g?.s.msrp.stop();
  });

  it("R7: the user's retry completes the add, and the group takes further updates", async () => {
    const { s, gid } = g;
    const restore = loseFirstReceipt("rekey");
    try {
      const before = s.msrp.msrp.groupInfo(gid).epoch;
      expect(await add(3)).to.equal(`epoch ${before + 1}`);
      expect(s.msrp.msrp.groupInfo(gid).epoch).to.equal((await s.dep.groups.view(gid)).epoch);
      expect(await add(3)).to.equal(`epoch ${before + 2}`);
    } finally {
      restore();
    }
  });

  it("R7: after an add whose reply never came (mined, the client gave up), the user's next add finishes it (G4: no second add) and the one after goes on", async () => {
    const { s, gid } = g;
    const restore = loseFirstReceipt("rekey");
    try {
      const before = s.msrp.msrp.groupInfo(gid).epoch;
      expect(await add(1)).to.match(/ECONNRESET/); // mined; the client does not retry
      // the next run resends the kept request (s18-redg G4: it used to seal a fresh one for the
      // chain's epoch, a second add): the mined update is finished from the MSRP's intent and
      // answered, not made again; a later run adds anew
      expect(await add(1)).to.equal(`epoch ${before + 1}`);
      expect(s.msrp.msrp.groupInfo(gid).epoch).to.equal((await s.dep.groups.view(gid)).epoch);
      expect(await add(1)).to.equal(`epoch ${before + 2}`);
      expect(s.msrp.msrp.groupInfo(gid).epoch).to.equal((await s.dep.groups.view(gid)).epoch);
      expect(s.msrp.desk!.mailbox(gid)?.epoch).to.equal(before + 2);
    } finally {
      restore();
    }
  });

  it("R7: the user's retry of a group request whose formGroup was mined gets that group (not a second dealing the chain refuses)", async () => {
    const { s } = g;
    const restore = loseFirstReceipt("formGroup");
    try {
      const out = await requestGroupRemote({
        msrpUrl: s.msrpUrl,
        user: "alice",
        size: 2,
        keystore: machines.get("alice")!,
        dep: s.dep,
        retry: { attempts: 3, timeoutMs: 30_000, backoffMs: 10 },
      }).then(
        (r) => r.groupId,
        (e: Error) => e.message.split("\n")[0],
      );
      expect(out).to.be.instanceOf(Uint8Array);
      const gid = out as Uint8Array;
      expect(s.msrp.desk!.mailbox(gid)?.epoch).to.equal(0);
      expect(s.msrp.msrp.groupInfo(gid).epoch).to.equal((await s.dep.groups.view(gid)).epoch);
    } finally {
      restore();
    }
  });
});
