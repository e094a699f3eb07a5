/**
 * A lost reply never strands a party, and a retry never has a second effect (guards for h13-red
 * findings D1 and D2, docs/specs/disputes.md "Lost replies and retries"). A court call whose wait
 * fails after the node accepted it (the RPC connection dropping, a node that lost a transaction
 * other nodes mine) may be mined anyway:
 * - D1: `DisputeLedger.commit` keeps the vote's salt (journaled before the send) unless the contract
 *   refused the commit, so the vote can be revealed; a retry sends nothing when the chain holds the
 *   journaled commitment, and resends the same commitment otherwise. Before the fix it deleted the
 *   salt on any error: the vote could never be revealed and `settle` charged voterPenalty.
 * - D2: `DisputeLedger.open` with a journal (dispute:open's keystore record) finds the earlier
 *   attempt's DisputeOpened, or waits for its pending transaction, or resends with its nonce, so a
 *   retry never opens a second dispute or takes a second deposit.
 * The network failure is simulated by a Proxy whose `wait()` throws NETWORK_ERROR after the node
 * accepted the transaction (and, where said, whose reads fail too).
 */
import { expect } from "chai";
import { ethers, network } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { makeError, type ContractTransactionResponse } from "ethers";
import { deployDisputeFixture } from "../fixtures/disputes";
import { id } from "../fixtures/trust";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { CommitConflictError, DisputeLedger, memoryJournal, type OpenIntent, type OpenJournal } from "../../offchain/disputes/ledger";
import { commitmentOf } from "../../offchain/disputes/tally";
import type { DisputeResolution } from "../../typechain-types";

async function fixture() {
  const f = await deployDisputeFixture();
  await f.disputes.openDispute(id("claimant"), id("respondent"), 0, 2, id("evidence"), "bafkrei-evidence", 0, { value: P.deposit });
  return f;
}

const connectionReset = () => makeError("connection reset while waiting for the receipt", "NETWORK_ERROR", { event: "wait" });

/**
 * The court as seen through an RPC connection that breaks after a `method` transaction was sent
 * (once); with `reads`, its `voteIn` reads fail too until `heal()`.
 */
function breaksAfterSend(dr: DisputeResolution, method: "commit" | "openDispute" = "commit", reads = false) {
  let broken = false;
  let down = false;
  const proxy = new Proxy(dr, {
    get(target, prop, receiver) {
      if (prop === "voteIn" && down)
        return async () => {
          throw connectionReset();
        };
      if (prop !== method || broken) return Reflect.get(target, prop, receiver);
      return async (...args: unknown[]) => {
        broken = true;
        down = reads;
        // accepted by the node (and mined here, unless automine is off)
        const tx = await (target[method] as unknown as (...a: unknown[]) => Promise<ContractTransactionResponse>)(...args);
        return Object.assign(tx, {
          wait: async () => {
            throw connectionReset();
          },
        });
      };
    },
  });
  return { dr: proxy, heal: () => void (down = false) };
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: Error) => e,
  );

/** Past the reveal window and the appeal window; resolves and settles `voter`. */
async function settle(f: Awaited<ReturnType<typeof fixture>>, voter: string) {
  await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
  const before = (await f.trust.entity(voter)).reputation;
  await new DisputeLedger(f.disputes).resolveAndSettle(1n);
  return (await f.trust.entity(voter)).reputation - before;
}

describe("disputes: a lost reply never strands a party (h13-red D1: the commit's salt)", () => {
  it("a commit whose wait fails while the chain holds it keeps the salt: reported committed, the vote reveals and is not penalized", async () => {
    const f = await loadFixture(fixture);
    const voter = f.voters[0];
    const { dr } = breaksAfterSend(f.disputes.connect(f.signerOf.get(voter)!));
    const journal = memoryJournal(); // what dispute:commit keeps (keystore create / remove)
    const r = await new DisputeLedger(dr).commit(1n, voter, 1, journal);
    expect([r.existing, r.tx, journal.load()?.salt]).to.deep.equal([true, undefined, r.salt]);
    await time.increase(Number(P.commitPeriod) + 1);
    expect(await new DisputeLedger(f.disputes.connect(f.signerOf.get(voter)!)).reveal(1n, voter, 1, journal.load()!.salt)).to.not.equal(
      undefined,
    );
    expect((await f.disputes.voteOf(1, voter)).revealed).to.equal(true);
    expect(await settle(f, voter), "a revealed vote nobody voted against moves nothing (no withholder's penalty)").to.equal(0n);
  });

  it("when the chain cannot be read either, the error reaches the caller, the salt stays, and the retry sends nothing", async () => {
    const f = await loadFixture(fixture);
    const voter = f.voters[0];
    const { dr, heal } = breaksAfterSend(f.disputes.connect(f.signerOf.get(voter)!), "commit", true);
    const journal = memoryJournal();
    const ledger = new DisputeLedger(dr);
    const err = await failure(ledger.commit(1n, voter, 1, journal));
    expect(err?.message, "the simulated RPC failure reached the caller").to.match(/connection reset/);
    expect((await f.disputes.voteOf(1, voter)).commitment, "the vote is on-chain").to.not.equal("0x" + "00".repeat(20));
    expect(journal.load(), "the salt of an on-chain commitment was forgotten: the vote could never be revealed").to.not.equal(undefined);
    heal();
    const before = await ethers.provider.getBlockNumber();
    const retry = await ledger.commit(1n, voter, 1, journal);
    expect([retry.existing, retry.salt, await ethers.provider.getBlockNumber()]).to.deep.equal([true, journal.load()!.salt, before]);
    await time.increase(Number(P.commitPeriod) + 1);
    await new DisputeLedger(f.disputes.connect(f.signerOf.get(voter)!)).reveal(1n, voter, 1, retry.salt);
    expect(await settle(f, voter)).to.equal(0n);
  });

  it("a retry with another choice is refused before anything is sent (the journaled vote may be on-chain)", async () => {
    const f = await loadFixture(fixture);
    const voter = f.voters[0];
    const { dr } = breaksAfterSend(f.disputes.connect(f.signerOf.get(voter)!), "commit", true);
    const journal = memoryJournal();
    await failure(new DisputeLedger(dr).commit(1n, voter, 1, journal));
    const kept = journal.load();
    const err = await failure(new DisputeLedger(f.disputes.connect(f.signerOf.get(voter)!)).commit(1n, voter, 0, journal));
    expect([err?.name, err?.message]).to.deep.equal([
      "CommitConflictError",
      "--choice: the journaled vote on #1 is choice 1 (it may be on-chain); commit it again with --choice 1",
    ]);
    expect(journal.load()).to.deep.equal(kept);
  });

  it("a journaled vote the chain does not hold (its first send was lost) is resent with the same salt: one commitment", async () => {
    const f = await loadFixture(fixture);
    const voter = f.voters[0];
    const journal = memoryJournal();
    journal.keep({ choice: 1, salt: ethers.hexlify(ethers.randomBytes(32)) });
    const r = await new DisputeLedger(f.disputes.connect(f.signerOf.get(voter)!)).commit(1n, voter, 1, journal);
    expect(r.existing).to.equal(false);
    expect(r.salt).to.equal(journal.load()!.salt);
    expect((await f.disputes.voteOf(1, voter)).commitment).to.equal(commitmentOf(1n, voter, 1, r.salt).slice(0, 42));
  });

  it("a commit the contract refuses forgets its salt (nothing on-chain to reveal) and changes nothing", async () => {
    const f = await loadFixture(fixture);
    const voter = f.voters[0];
    const journal = memoryJournal();
    // signed by another voter's controller: NotController, refused in simulation
    const err = await failure(new DisputeLedger(f.disputes.connect(f.signerOf.get(f.voters[1])!)).commit(1n, voter, 1, journal));
    expect(err?.message).to.match(/DisputeResolution__NotController/);
    expect(journal.load()).to.equal(undefined);
    expect((await f.disputes.voteOf(1, voter)).commitment).to.equal("0x" + "00".repeat(20));
  });

  it("a reveal whose reply was lost, retried, sends nothing; a resolve whose reply was lost, retried, settles the rest", async () => {
    const f = await loadFixture(fixture);
    const voter = f.voters[0];
    const ledger = new DisputeLedger(f.disputes.connect(f.signerOf.get(voter)!));
    const { salt } = await ledger.commit(1n, voter, 1);
    await time.increase(Number(P.commitPeriod) + 1);
    expect(await ledger.reveal(1n, voter, 1, salt)).to.not.equal(undefined);
    const block = await ethers.provider.getBlockNumber();
    expect(await ledger.reveal(1n, voter, 1, salt), "the second reveal sends nothing").to.equal(undefined);
    expect(await ethers.provider.getBlockNumber()).to.equal(block);
    await time.increase(Number(P.revealPeriod) + Number(P.appealPeriod) + 1);
    await f.disputes.resolve(1); // the earlier attempt's resolve, mined; its reply lost before the settles
    const r = await new DisputeLedger(f.disputes).resolveAndSettle(1n);
    expect([r.resolve, r.settles.length, (await f.disputes.voteOf(1, voter)).settled]).to.deep.equal([undefined, 1, true]);
  });
});

/** dispute:open's keystore record, in memory. */
function openJournal(): OpenJournal & { intent?: OpenIntent } {
  const j: OpenJournal & { intent?: OpenIntent } = { load: () => j.intent, save: (i) => void (j.intent = i) };
  return j;
}

describe("disputes: a retry never has a second effect (h13-red D2: dispute:open)", () => {
  const request = [id("claimant"), id("respondent"), 0n, 0, 2, id("evidence"), "bafkrei-evidence"] as const;

  it("a retry after the wait failed finds the dispute the first attempt opened: no second dispute, no second deposit", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const claimant = f.signerOf.get(id("claimant"))!;
    const { dr } = breaksAfterSend(f.disputes.connect(claimant), "openDispute");
    const ledger = new DisputeLedger(dr);
    const journal = openJournal();
    const court = await f.disputes.getAddress();
    const balanceBefore = await ethers.provider.getBalance(court); // the fixture funds the court's address (asCourt)
    const first = await failure(ledger.open(...request, P.deposit, journal));
    expect(first?.message, "the simulated RPC failure reached the caller").to.match(/connection reset/);
    expect(journal.intent?.tx, "the intent names its transaction").to.match(/^0x[0-9a-f]{64}$/);
    const retry = await ledger.open(...request, P.deposit, journal); // the operator retries the same request
    expect([retry.id, retry.existing, retry.tx]).to.deep.equal([1n, true, undefined]);
    expect(
      { disputes: await f.disputes.disputeCount(), held: (await ethers.provider.getBalance(court)) - balanceBefore },
      "the retry opened a second dispute against the same respondent and took a second deposit",
    ).to.deep.equal({ disputes: 1n, held: P.deposit });
    expect(journal.intent?.id).to.equal("1");
    const again = await ledger.open(...request, P.deposit, journal);
    expect([again.id, again.existing, await f.disputes.disputeCount()]).to.deep.equal([1n, true, 1n]);
  });

  it("a retry whose first reply was lost on the send itself (no hash journaled) finds the dispute by its event", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const claimant = f.signerOf.get(id("claimant"))!;
    const { dr } = breaksAfterSend(f.disputes.connect(claimant), "openDispute");
    const journal = openJournal();
    await failure(new DisputeLedger(dr).open(...request, P.deposit, journal));
    expect(journal.intent?.nonce, "the nonce is journaled before the send").to.be.a("number");
    delete journal.intent!.tx; // as if eth_sendRawTransaction's reply had been lost
    const r = await new DisputeLedger(f.disputes.connect(claimant)).open(...request, P.deposit, journal);
    expect([r.id, r.existing, await f.disputes.disputeCount()]).to.deep.equal([1n, true, 1n]);
  });

  it("a retry while the first transaction is still pending waits for it instead of sending again", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const claimant = f.signerOf.get(id("claimant"))!;
    const { dr } = breaksAfterSend(f.disputes.connect(claimant), "openDispute");
    const journal = openJournal();
    await network.provider.send("evm_setAutomine", [false]);
    try {
      await failure(new DisputeLedger(dr).open(...request, P.deposit, journal));
      expect(await ethers.provider.getTransaction(journal.intent!.tx!), "pending").to.not.equal(null);
      const retry = new DisputeLedger(f.disputes.connect(claimant)).open(...request, P.deposit, journal);
      await new Promise((r) => setTimeout(r, 300));
      await mine(1);
      const r = await retry;
      expect([r.id, r.existing, await f.disputes.disputeCount()]).to.deep.equal([1n, true, 1n]);
    } finally {
      await network.provider.send("evm_setAutomine", [true]);
    }
  });

  it("a retry after the node dropped the first transaction resends it with the same nonce: at most one is mined", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const claimant = f.signerOf.get(id("claimant"))!;
    const { dr } = breaksAfterSend(f.disputes.connect(claimant), "openDispute");
    const journal = openJournal();
    await network.provider.send("evm_setAutomine", [false]);
    try {
      await failure(new DisputeLedger(dr).open(...request, P.deposit, journal));
      const { tx, nonce } = journal.intent!;
      await network.provider.send("hardhat_dropTransaction", [tx]);
      const retry = new DisputeLedger(f.disputes.connect(claimant)).open(...request, P.deposit, journal);
      await new Promise((r) => setTimeout(r, 300));
      await mine(1);
      const r = await retry;
      expect([r.id, r.existing, await f.disputes.disputeCount()]).to.deep.equal([1n, false, 1n]);
      // the same nonce (so the same transaction, rebroadcast): the dropped one and the resend are one
      expect([journal.intent!.nonce, journal.intent!.tx]).to.deep.equal([nonce, tx]);
    } finally {
      await network.provider.send("evm_setAutomine", [true]);
    }
  });

  it("a journaled intent for another request is refused before anything is sent", async () => {
    const f = await loadFixture(deployDisputeFixture);
    const journal = openJournal();
    const ledger = new DisputeLedger(f.disputes.connect(f.signerOf.get(id("claimant"))!));
    await ledger.open(...request, P.deposit, journal);
    const err = await failure(
      ledger.open(id("claimant"), id("respondent"), 0n, 0, 3, id("evidence"), "bafkrei-evidence", P.deposit, journal),
    );
    expect(err).to.be.instanceOf(CommitConflictError);
    expect(err?.message).to.equal("dispute:open: the journaled request differs in options (2)");
    expect(await f.disputes.disputeCount()).to.equal(1n);
  });
});
