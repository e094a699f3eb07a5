/**
 * Red team session 13 (h13-red), finding D1 (docs/specs/disputes.md "Known findings (h13-red)"):
 * `DisputeLedger.commit` forgets the salt whenever waiting for the commit fails, also when the
 * commit was sent and is (or will be) mined. The RPC connection dropping while the task waits, a
 * node that loses the transaction from its own pool after it propagated, or the process being
 * told "dropped" by a node that did not see it: the commitment lands on-chain, the salt is gone,
 * the vote can never be revealed, and `settle` charges the voter `voterPenalty` as a withholder.
 * A retry makes it certain: its commit reverts (`AlreadyVoted`), and its `forget` removes its own
 * new record. This test fails while the finding is open.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { makeError, type ContractTransactionResponse } from "ethers";
import { deployDisputeFixture } from "../fixtures/disputes";
import { id } from "../fixtures/trust";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { DisputeLedger } from "../../offchain/disputes/ledger";
import type { DisputeResolution } from "../../typechain-types";

async function fixture() {
  const f = await deployDisputeFixture();
  await f.disputes.openDispute(id("claimant"), id("respondent"), 0, 2, id("evidence"), "bafkrei-evidence", { value: P.deposit });
  return f;
}

/** The court as seen through an RPC connection that breaks after a transaction was sent. */
function breaksAfterSend(dr: DisputeResolution): DisputeResolution {
  return new Proxy(dr, {
    get(target, prop, receiver) {
      if (prop !== "commit") return Reflect.get(target, prop, receiver);
      return async (...args: Parameters<DisputeResolution["commit"]>) => {
        const tx: ContractTransactionResponse = await target.commit(...args); // accepted by the node (and mined here)
        return Object.assign(tx, {
          wait: async () => {
            throw makeError("connection reset while waiting for the receipt", "NETWORK_ERROR", { event: "wait" });
          },
        });
      };
    },
  });
}

describe("h13-red finding D1: a commit whose wait fails loses its salt", () => {
  it("the salt of a commitment that is on-chain is kept, so the vote can still be revealed", async () => {
    const f = await loadFixture(fixture);
    const voter = f.voters[0];
    const dr = breaksAfterSend(f.disputes.connect(f.signerOf.get(voter)!));
    const keystore = new Map<string, string>(); // what dispute:commit keeps (keystore create / remove)
    const err = await new DisputeLedger(dr)
      .commit(
        1n,
        voter,
        1,
        (salt) => keystore.set("salt", salt),
        () => keystore.delete("salt"),
      )
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(err?.message, "the simulated RPC failure reached the caller").to.match(/connection reset/);
    // the vote is committed on-chain ...
    expect((await f.disputes.voteOf(1, voter)).commitment).to.not.equal("0x" + "00".repeat(20));
    // ... and its salt must still be there for the reveal (the voter is charged voterPenalty otherwise)
    if (!keystore.has("salt")) {
      // the damage, as it stands: no reveal is possible, and settlement charges the voter
      await time.increase(Number(P.commitPeriod) + Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
      await f.disputes.resolve(1);
      const before = (await f.trust.entity(voter)).reputation;
      await f.disputes.settle(1, voter);
      expect((await f.trust.entity(voter)).reputation).to.equal(before - P.voterPenalty);
    }
    expect(keystore.has("salt"), "D1: the salt of an on-chain commitment was forgotten: the vote can never be revealed").to.equal(true);
  });
});
