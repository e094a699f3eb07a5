/**
 * DisputeResolution for the agents and tasks: open (evidence on IPFS), commit with a fresh salt,
 * reveal, appeal, resolve, settle each voter (all its rounds at once), withdraw what the court owes.
 */
import type { ContractTransactionResponse } from "ethers";
import { hexlify, randomBytes } from "ethers";
import type { DisputeResolution } from "../../typechain-types";
import { commitmentOf } from "./tally";
import { minedReceipt } from "../chain/mined";

export type TxInfo = { hash: string; gasUsed: bigint; block: number };

async function mined(tx: Promise<ContractTransactionResponse>): Promise<TxInfo> {
  const r = await minedReceipt(tx);
  return { hash: r.hash, gasUsed: r.gasUsed, block: r.blockNumber };
}

/** Dispute natures. */
export const Nature = { service: 0, avatar: 1 } as const;

export class DisputeLedger {
  readonly dr: DisputeResolution;
  constructor(dr: DisputeResolution) {
    this.dr = dr;
  }

  /** Opens a dispute; returns its id. */
  async open(
    claimant: string,
    respondent: string,
    nature: number,
    options: number,
    evidence: string,
    cid: string,
    deposit = 0n,
  ): Promise<{ id: bigint; tx: TxInfo }> {
    const r = await minedReceipt(this.dr.openDispute(claimant, respondent, nature, options, evidence, cid, { value: deposit }));
    const ev = r!.logs.map((l) => this.dr.interface.parseLog(l)).find((l) => l?.name === "DisputeOpened");
    return { id: ev!.args.id as bigint, tx: { hash: r!.hash, gasUsed: r!.gasUsed, block: r!.blockNumber } };
  }

  /**
   * Commits a vote with a fresh 32-byte salt. `keep` stores the salt before the transaction is
   * sent (a vote whose salt is lost can never be revealed); `forget` undoes it if the transaction fails.
   * @returns the salt and the transaction
   */
  async commit(
    id: bigint,
    voter: string,
    choice: number,
    keep: (salt: string) => void = () => {},
    forget: () => void = () => {},
  ): Promise<{ salt: string; tx: TxInfo }> {
    const salt = hexlify(randomBytes(32));
    keep(salt);
    try {
      const tx = await mined(this.dr.commit(id, voter, commitmentOf(id, voter, choice, salt)));
      return { salt, tx };
    } catch (e) {
      forget();
      throw e;
    }
  }

  reveal(id: bigint, voter: string, choice: number, salt: string): Promise<TxInfo> {
    return mined(this.dr.reveal(id, voter, choice, salt));
  }

  /**
   * Appeals the current round's verdict, paying `fee` (`appealTerms`); the signer must control
   * the losing side.
   */
  appeal(id: bigint, fee: bigint): Promise<TxInfo> {
    return mined(this.dr.appeal(id, { value: fee }));
  }

  /**
   * The entities whose controllers committed a vote in round `round` of dispute `id` (from the
   * VoteCommitted events).
   */
  async committedVoters(id: bigint, round = 0): Promise<string[]> {
    const logs = await this.dr.queryFilter(this.dr.filters.VoteCommitted(id));
    return logs.filter((l) => Number(l.args.round) === round).map((l) => l.args.voter as string);
  }

  /**
   * Resolves, then settles every voter that committed in any round with its own
   * `settle(id, voter)` (one transaction per voter, covering all its rounds; anyone may send
   * them, so each voter can also settle itself). Revealed votes of superseded rounds move nothing;
   * a vote withheld in any round costs voterPenalty (not if its voter is flagged now, outside a
   * flag contest: it could not reveal).
   */
  async resolveAndSettle(id: bigint): Promise<{ resolve: TxInfo; settles: TxInfo[] }> {
    const resolve = await mined(this.dr.resolve(id));
    const last = Number((await this.dr.dispute(id)).round);
    const settles: TxInfo[] = [];
    const seen = new Set<string>();
    for (let round = 0; round <= last; round++) {
      for (const v of await this.committedVoters(id, round)) {
        if (seen.has(v)) continue;
        seen.add(v);
        if ((await this.dr.voteIn(id, round, v)).settled) continue;
        settles.push(await mined(this.dr.settle(id, v)));
      }
    }
    return { resolve, settles };
  }

  /** Withdraws what the court owes the signer (0n and no transaction when nothing is owed). */
  async withdraw(account: string): Promise<{ amount: bigint; tx?: TxInfo }> {
    const amount = await this.dr.owed(account);
    if (amount === 0n) return { amount };
    return { amount, tx: await mined(this.dr.withdraw()) };
  }
}
