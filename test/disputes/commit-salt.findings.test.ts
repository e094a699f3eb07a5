/**
 * Red team session 13 (h13-red), finding D1 (docs/specs/disputes.md "Known findings (h13-red)"):
 * `DisputeLedger.commit` forgets the salt whenever waiting for the commit fails, also when the
 * commit was sent and is (or will be) mined. The RPC connection dropping while the task waits, a
 * node that loses the transaction from its own pool after it propagated, or the process being
 * told "dropped" by a node that did not see it: the commitment lands on-chain, the salt is gone,
 * the vote can never be revealed, and `settle` charges the voter `voterPenalty` as a withholder.
 * A retry makes it certain: its commit reverts (`AlreadyVoted`), and its `forget` removes its own
 * new record. D2: `DisputeLedger.open` (dispute:open) has no idempotence: retried after the same
 * kind of failure it opens a second dispute and takes a second deposit. Both tests fail while
 * their findings are open.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
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

/** The court as seen through an RPC connection that breaks after a `method` transaction was sent (once). */
function breaksAfterSend(dr: DisputeResolution, method: "commit" | "openDispute" = "commit"): DisputeResolution {
  let broken = false;
  return new Proxy(dr, {
    get(target, prop, receiver) {
      if (prop !== method || broken) return Reflect.get(target, prop, receiver);
      return async (...args: unknown[]) => {
        broken = true;
        // accepted by the node (and mined here)
        const tx = await (target[method] as unknown as (...a: unknown[]) => Promise<ContractTransactionResponse>)(...args);
        return Object.assign(tx, {
          wait: async () => {
            throw makeError("connection reset while waiting for the receipt", "NETWORK_ERROR", { event: "wait" });
          },
        });
      };
    },
  });
}

describe("h13-red findings D1, D2: a court call whose wait fails after it was sent", () => {
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

  it("D2: dispute:open's ledger call retried after such a failure opens no second dispute (no second deposit)", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const claimant = f.signerOf.get(id("claimant"))!;
    const ledger = new DisputeLedger(breaksAfterSend(f.disputes.connect(claimant), "openDispute"));
    const open = () => ledger.open(id("claimant"), id("respondent"), 0, 2, id("evidence"), "bafkrei-evidence", P.deposit);
    const court = await f.disputes.getAddress();
    const balanceBefore = await ethers.provider.getBalance(court); // the fixture funds the court's address (asCourt)
    const first = await open().then(
      () => undefined,
      (e: Error) => e,
    );
    expect(first?.message, "the simulated RPC failure reached the caller").to.match(/connection reset/);
    await open(); // the operator retries the same request
    expect(
      { disputes: await f.disputes.disputeCount(), held: (await ethers.provider.getBalance(court)) - balanceBefore },
      "D2: the retry opened a second dispute against the same respondent and took a second deposit",
    ).to.deep.equal({ disputes: 1n, held: P.deposit });
  });
});
