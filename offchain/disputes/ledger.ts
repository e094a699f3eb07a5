/**
 * DisputeResolution for the agents and tasks: open (evidence on IPFS), commit with a fresh salt,
 * reveal, resolve and settle in bounded batches.
 */
import type { ContractTransactionResponse } from "ethers";
import { hexlify, randomBytes } from "ethers";
import type { DisputeResolution } from "../../typechain-types";
import { commitmentOf } from "./tally";

export type TxInfo = { hash: string; gasUsed: bigint; block: number };

async function mined(tx: Promise<ContractTransactionResponse>): Promise<TxInfo> {
  const r = await (await tx).wait();
  if (!r) throw new Error("transaction was not mined");
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
    const tx = await this.dr.openDispute(claimant, respondent, nature, options, evidence, cid, { value: deposit });
    const r = await tx.wait();
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

  /** Resolves, then settles every voter in batches of `batch`. */
  async resolveAndSettle(id: bigint, batch = 50): Promise<{ resolve: TxInfo; settles: TxInfo[] }> {
    const resolve = await mined(this.dr.resolve(id));
    const settles: TxInfo[] = [];
    const total = Number((await this.dr.dispute(id)).committed);
    for (let done = Number((await this.dr.dispute(id)).settled); done < total; done = Number((await this.dr.dispute(id)).settled))
      settles.push(await mined(this.dr.settle(id, batch)));
    return { resolve, settles };
  }
}
