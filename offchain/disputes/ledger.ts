/**
 * DisputeResolution for the agents and tasks: open (evidence on IPFS), commit with a fresh salt,
 * reveal, appeal, resolve, settle each voter (all its rounds at once), withdraw what the court owes.
 *
 * A lost reply never strands a party, and a retry never has a second effect (h13-red D1, D2): a wait
 * that fails says nothing about the transaction, which may be mined anyway. Local state written
 * before a send (a vote's salt, a dispute's intent) is deleted only when the contract refused the
 * transaction (CALL_EXCEPTION: refused in simulation, so never sent, or mined and reverted), and a
 * retry first asks the chain what the earlier attempt did.
 */
import type { ContractTransactionResponse, Provider, Signer } from "ethers";
import { hexlify, isError, randomBytes } from "ethers";
import type { DisputeResolution } from "../../typechain-types";
import { commitmentOf } from "./tally";
import { minedReceipt } from "../chain/mined";
import { revertDataOf } from "../chain/direct";
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "../crypto/bytes";

/**
 * The evidence digest and cid of an avatar dispute over a trace case filed with the encoded
 * evidence `caseEvidence` (h14-red2 G3): the digest is sha256 of the case's own bytes (the raw
 * CIDv1 the jurors fetch, `evidenceCid`), the cid stays empty on-chain (it is derived from the
 * digest). `openAvatarDispute` recomputes both and refuses bytes that are not the case's.
 */
export function avatarDisputeEvidence(caseEvidence: Uint8Array): { evidence: string; cid: string } {
  return { evidence: toHex(sha256(caseEvidence)), cid: "" };
}

export type TxInfo = { hash: string; gasUsed: bigint; block: number };

async function mined(tx: Promise<ContractTransactionResponse>): Promise<TxInfo> {
  const r = await minedReceipt(tx);
  return { hash: r.hash, gasUsed: r.gasUsed, block: r.blockNumber };
}

/** Dispute natures. */
export const Nature = { service: 0, avatar: 1 } as const;

/** A vote's journaled salt (dispute:commit keeps it in the voter's keystore). */
export type SaltRecord = { choice: number; salt: string };

/**
 * Where a vote's salt is kept between commit and reveal. `keep` runs before the commit is sent;
 * `forget` only when the contract refused it (a vote whose salt is lost can never be revealed, and
 * its voter is charged voterPenalty as a withholder).
 */
export type SaltJournal = {
  /** the record of an earlier attempt at this vote, if any */
  load(): SaltRecord | undefined;
  keep(r: SaltRecord): void;
  forget(): void;
};

/** A journal in memory (the benches and the demo: one process, no retries). */
export function memoryJournal(): SaltJournal {
  let r: SaltRecord | undefined;
  return {
    load: () => r,
    keep: (x) => void (r = x),
    forget: () => void (r = undefined),
  };
}

/** A dispute the claimant asked for, journaled before it is sent (dispute:open keeps it in the keystore). */
export type OpenIntent = {
  claimant: string;
  respondent: string;
  /** the respondent's era the claim was built against (`TrustManager.generationOf`, decimal; s23-rtt R3) */
  respondentGeneration: string;
  nature: number;
  options: number;
  evidence: string;
  cid: string;
  /** a dispute of nature avatar: the MITRegistry trace case it claims (decimal) */
  traceCase?: string;
  /** the block before the first send: its DisputeOpened is looked for from here on */
  fromBlock: number;
  /** the last transaction sent for it and its nonce (a resend takes the same nonce: one of them at most is mined) */
  tx?: string;
  nonce?: number;
  /** the dispute it opened, once known */
  id?: string;
};

/** Where an open intent is kept; `save` runs before each send and when the dispute is known. */
export type OpenJournal = { load(): OpenIntent | undefined; save(i: OpenIntent): void };

/** A retried vote whose salt does not match what the chain holds, or whose choice differs from the journaled one. */
export class CommitConflictError extends Error {
  override name = "CommitConflictError";
}

/** A journaled open whose respondent's era moved before anything was sent (a reclaim): never re-aimed. */
export class StaleEraRequestError extends Error {
  override name = "StaleEraRequestError";
}

/**
 * True iff the contract refused the transaction: in simulation (never sent) or mined and reverted
 * (ethers' CALL_EXCEPTION, or a node's error carrying revert data). A lost reply carries neither.
 */
const refused = (e: unknown) => isError(e, "CALL_EXCEPTION") || revertDataOf(e) !== undefined;

export class DisputeLedger {
  readonly dr: DisputeResolution;
  constructor(dr: DisputeResolution) {
    this.dr = dr;
  }

  /**
   * Opens a dispute; returns its id. With a journal the call is idempotent (h13-red D2): the intent
   * is saved before the transaction is sent, and a call that finds an intent for the same request
   * sends nothing if the chain shows its DisputeOpened, waits for its transaction if the node still
   * knows it, and otherwise resends with the same nonce (so at most one of the two is mined).
   * `existing` tells which: a dispute the earlier attempt opened, or this call's transaction.
   * A dispute of nature avatar names the trace case its claimant filed (`traceCase`: its id, from
   * `requestTrace`, and the encoded evidence it was filed with): it opens with
   * `openAvatarDispute`, which checks the bytes against the case and claims the case for the
   * court. Its `evidence` and `cid` must be the bytes' ({@link avatarDisputeEvidence}): the jurors
   * judge the case's evidence and nothing else.
   * Any other dispute names the respondent's era it was built against (`respondentGeneration`,
   * `TrustManager.generationOf(respondent)` when the claim was made; 0 for a flag contest): the
   * court refuses it once a reclaim moved the era (`StaleEra`, s23-rtt R3), and a retry resends
   * the journaled era, never a newer one. An avatar dispute names none (its party is the avatar's
   * owner, whatever the era): pass 0.
   * @throws CommitConflictError when the journal holds an intent for another request
   */
  async open(
    claimant: string,
    respondent: string,
    respondentGeneration: bigint,
    nature: number,
    options: number,
    evidence: string,
    cid: string,
    deposit = 0n,
    journal?: OpenJournal,
    traceCase?: { id: bigint; evidence: Uint8Array },
  ): Promise<{ id: bigint; tx?: TxInfo; existing: boolean }> {
    if ((nature === Nature.avatar) !== (traceCase !== undefined))
      throw new Error(
        `open: a dispute of nature avatar, and only one, names a trace case (nature ${nature}, case ${traceCase?.id ?? "none"})`,
      );
    if (traceCase !== undefined) {
      const own = avatarDisputeEvidence(traceCase.evidence);
      if (evidence.toLowerCase() !== own.evidence || cid !== own.cid)
        throw new Error(
          `open: an avatar dispute's evidence is its trace case's (digest ${own.evidence}, cid ""), not ${evidence} ("${cid}")`,
        );
    }
    const request = {
      claimant,
      respondent,
      respondentGeneration: respondentGeneration.toString(),
      nature,
      options,
      evidence,
      cid,
      traceCase: traceCase?.id.toString(),
    };
    const provider = this.dr.runner!.provider as Provider;
    let intent = journal?.load();
    if (intent) {
      // Every field but the era first: a retry of a request that took effect reports its dispute even
      // when the respondent's era moved since (a reclaim mined after the lost reply: s23-review F2).
      for (const [k, v] of Object.entries(request))
        if (k !== "respondentGeneration" && intent[k as keyof typeof request] !== v)
          throw new CommitConflictError(
            `dispute:open: the journaled request differs in ${k} (${String(intent[k as keyof typeof request])})`,
          );
      if (intent.id !== undefined) return { id: BigInt(intent.id), existing: true };
      const found = await this.openedFor(intent);
      if (found !== undefined) {
        journal!.save({ ...intent, id: found.toString() });
        return { id: found, existing: true };
      }
      // still pending (or mined after our look-up): wait for it rather than send again
      if (intent.tx && (await provider.getTransaction(intent.tx))) {
        const r = await minedReceipt(provider.getTransaction(intent.tx).then((t) => t!));
        const found2 = await this.openedFor(intent);
        if (found2 === undefined)
          throw new Error(`dispute:open: transaction ${intent.tx} was mined (block ${r.blockNumber}) without opening the dispute`);
        journal!.save({ ...intent, id: found2.toString() });
        return { id: found2, existing: true };
      }
      // nothing opened: the claim is about the era it journaled, never a newer one (s23-rtt R3)
      if (intent.respondentGeneration !== request.respondentGeneration)
        throw new StaleEraRequestError(
          `dispute:open: the respondent's era moved from ${intent.respondentGeneration} to ${request.respondentGeneration} since this request was journaled (a reclaim): the claim was about the earlier holder and is not sent against the new one; nothing sent`,
        );
    } else if (journal) {
      intent = { ...request, fromBlock: await provider.getBlockNumber() };
      journal.save(intent);
    }
    // The nonce is journaled before the send (a reply lost on the send itself leaves no hash): an
    // earlier transaction the node does not know may still be mined elsewhere, so a resend takes
    // its nonce while the account's mined count has not passed it; at most one of them is mined.
    let nonce: number | undefined;
    if (journal && intent) {
      const from = await (this.dr.runner as Signer).getAddress();
      const reuse = intent.nonce !== undefined && (await provider.getTransactionCount(from, "latest")) <= intent.nonce;
      nonce = reuse ? intent.nonce! : await provider.getTransactionCount(from, "pending");
      journal.save((intent = { ...intent, nonce, tx: undefined }));
    }
    const overrides = { value: deposit, ...(nonce === undefined ? {} : { nonce }) };
    const sent =
      traceCase === undefined
        ? await this.dr.openDispute(claimant, respondent, nature, options, evidence, cid, respondentGeneration, overrides)
        : await this.dr.openAvatarDispute(claimant, respondent, options, traceCase.evidence, traceCase.id, overrides);
    if (journal && intent) journal.save((intent = { ...intent, tx: sent.hash }));
    const r = await minedReceipt(sent);
    const ev = r.logs.map((l) => this.dr.interface.parseLog(l)).find((l) => l?.name === "DisputeOpened");
    const id = ev!.args.id as bigint;
    if (journal && intent) journal.save({ ...intent, id: id.toString() });
    return { id, tx: { hash: r.hash, gasUsed: r.gasUsed, block: r.blockNumber }, existing: false };
  }

  /** The dispute an intent opened (its claimant's DisputeOpened from the intent's block on, same request), if any. */
  private async openedFor(i: OpenIntent): Promise<bigint | undefined> {
    const logs = await this.dr.queryFilter(this.dr.filters.DisputeOpened(undefined, i.claimant, i.respondent), i.fromBlock);
    for (const l of logs) {
      if (Number(l.args.nature) !== i.nature || Number(l.args.options) !== i.options || l.args.cid !== i.cid) continue;
      const d = await this.dr.dispute(l.args.id);
      if (d.evidence === i.evidence && d.traceCase.toString() === (i.traceCase ?? "0")) return l.args.id as bigint;
    }
    return undefined;
  }

  /**
   * Commits a vote. The salt is journaled before the commit is sent and deleted only when the
   * contract refused the commit; after any other failure (a wait that failed, a dropped
   * transaction) it is kept, since the commitment may be on-chain (h13-red D1). A retry that finds
   * the journaled salt sends nothing if the chain holds its commitment, and otherwise resends the
   * same commitment (same choice, same salt): an earlier transaction mined late and the resend are
   * one vote.
   * @returns the salt, the transaction (none when the chain already held the commitment) and
   *   whether the chain held it before this call
   * @throws CommitConflictError when a journaled vote has another choice, or the chain holds a
   *   commitment the journaled salt does not open
   */
  async commit(
    id: bigint,
    voter: string,
    choice: number,
    journal: SaltJournal = memoryJournal(),
  ): Promise<{ salt: string; tx?: TxInfo; existing: boolean }> {
    const round = (await this.dr.dispute(id)).round;
    const onChain = async () => (await this.dr.voteIn(id, round, voter)).commitment.toLowerCase();
    const mine = (salt: string) => commitmentOf(id, voter, choice, salt).slice(0, 42).toLowerCase();
    const earlier = journal.load();
    let salt: string;
    if (earlier) {
      if (earlier.choice !== choice)
        throw new CommitConflictError(
          `--choice: the journaled vote on #${id} is choice ${earlier.choice} (it may be on-chain); commit it again with --choice ${earlier.choice}`,
        );
      salt = earlier.salt;
      const held = await onChain();
      if (held === mine(salt)) return { salt, existing: true };
      if (held !== "0x" + "00".repeat(20))
        throw new CommitConflictError(`the commitment on #${id} round ${round} is not the journaled vote's: its salt is not here`);
    } else {
      salt = hexlify(randomBytes(32));
      journal.keep({ choice, salt });
    }
    try {
      const tx = await mined(this.dr.commit(id, voter, commitmentOf(id, voter, choice, salt)));
      return { salt, tx, existing: false };
    } catch (e) {
      // the chain may hold it anyway (the reply was lost, or an earlier send was mined first)
      const held = await onChain().catch(() => undefined);
      if (held === mine(salt)) return { salt, existing: true };
      if (!earlier && refused(e) && held !== undefined) journal.forget();
      throw e;
    }
  }

  /**
   * Reveals a vote; idempotent: a vote the chain shows revealed (e.g. by an attempt whose reply was
   * lost) sends nothing and returns no transaction.
   */
  async reveal(id: bigint, voter: string, choice: number, salt: string): Promise<TxInfo | undefined> {
    const round = (await this.dr.dispute(id)).round;
    if ((await this.dr.voteIn(id, round, voter)).revealed) return undefined;
    try {
      return await mined(this.dr.reveal(id, voter, choice, salt));
    } catch (e) {
      if ((await this.dr.voteIn(id, round, voter).catch(() => undefined))?.revealed) return undefined;
      throw e;
    }
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
   * a vote withheld in any round costs voterPenalty (not if its voter is barred now by the
   * flag-run rule: it could not reveal). A dispute already resolved is only settled (no `resolve`).
   */
  async resolveAndSettle(id: bigint): Promise<{ resolve?: TxInfo; settles: TxInfo[] }> {
    // A retry (the earlier resolve mined, its reply lost) settles what is left instead of failing AlreadyResolved.
    const resolve = (await this.dr.dispute(id)).resolved ? undefined : await mined(this.dr.resolve(id));
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
