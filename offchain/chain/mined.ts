/**
 * Waiting for a contract transaction, with the revert reason when it failed on-chain. A call sent
 * with a static gas limit (offchain/chain/sender.ts) is not simulated first: on a public chain a
 * reverting one is mined with status 0, and its receipt carries no reason. `minedReceipt` then
 * replays the call at the state before its block (one eth_call, only on failure) and throws what
 * the replay throws: the node's error with the revert data, which names the custom error.
 *
 * A transaction the node drops (evicted from its pool, or replaced) is never mined, and ethers'
 * `wait()` listens for it forever (h11-red R1b): the wait goes in slices of WAIT_SLICE_MS, and
 * after each slice without a receipt the node is asked whether it still knows the transaction.
 * After DROPPED_AFTER_POLLS answers in a row that it does not, the wait ends with
 * TransactionDroppedError and the sender's counted nonce is forgotten (its next transaction takes
 * the unused nonce instead of queueing behind it), as offchain/chain/direct.ts does on the fast path.
 *
 * Every transaction sent off the fast path is awaited here (h11-fix3 R1c): the services, the tasks,
 * the deployment wiring (system.ts, deploy.ts) and the in-process MSSA registration call
 * `minedReceipt`, and ChainWallet's own responses (sender.ts `ChainTransactionResponse`) wait
 * through `waitKnown`, so even ethers' `wait()` on one ends. test/chain/raw-wait.test.ts keeps
 * ethers' raw `wait()` out of offchain/ and tasks/ (an ethers Contract builds its own response,
 * whose `wait()` ChainWallet cannot reach).
 */
import {
  isError,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  type TransactionReceipt,
  type TransactionResponse,
} from "ethers";
import { DROPPED_AFTER_POLLS, TransactionDroppedError } from "./direct";
import { forgetNonceOf } from "./sender";

/** One slice of a wait (ms): after it, the node is asked whether it still knows the transaction. */
export const WAIT_SLICE_MS = 1_000;

/**
 * ethers' wait, in slices; TransactionDroppedError once the node no longer knows the transaction.
 * @param tx - the sent transaction (its own `wait` is called with a timeout: one slice)
 * @param confirms - confirmations to wait for (ethers' meaning; 1 by default)
 * @throws TransactionDroppedError after DROPPED_AFTER_POLLS slices in a row in which the node does
 *   not know the transaction (the sender's counted nonce is forgotten first)
 */
export async function waitKnown<R extends TransactionReceipt>(
  tx: Pick<TransactionResponse, "hash" | "from" | "provider"> & { wait(confirms?: number, timeout?: number): Promise<R | null> },
  confirms = 1,
): Promise<R | null> {
  for (let unknown = 0; ;) {
    try {
      return await tx.wait(confirms, WAIT_SLICE_MS);
    } catch (e) {
      if (!isError(e, "TIMEOUT")) throw e;
    }
    unknown = (await tx.provider.getTransaction(tx.hash)) ? 0 : unknown + 1;
    if (unknown >= DROPPED_AFTER_POLLS) {
      forgetNonceOf(tx.provider, tx.from);
      throw new TransactionDroppedError(tx.hash);
    }
  }
}

/**
 * The receipt of a sent contract transaction.
 * @throws the replay's error (with the revert data) when the transaction reverted on-chain; the
 *   original CALL_EXCEPTION when the replay does not revert
 */
export async function minedReceipt(
  sent: ContractTransactionResponse | Promise<ContractTransactionResponse>,
): Promise<ContractTransactionReceipt>;
export async function minedReceipt(sent: TransactionResponse | Promise<TransactionResponse>): Promise<TransactionReceipt>;
export async function minedReceipt(sent: TransactionResponse | Promise<TransactionResponse>): Promise<TransactionReceipt> {
  const tx = await sent;
  try {
    const r = await waitKnown(tx);
    if (!r) throw new Error("transaction was not mined");
    return r;
  } catch (e) {
    if (!isError(e, "CALL_EXCEPTION") || !e.receipt || e.data) throw e;
    try {
      await tx.provider.call({ to: tx.to, from: tx.from, data: tx.data, value: tx.value, blockTag: e.receipt.blockNumber - 1 });
    } catch (replayed) {
      if (replayed instanceof Error)
        replayed.message = `transaction ${tx.hash} reverted on-chain (block ${e.receipt.blockNumber}): ${replayed.message}`;
      throw replayed;
    }
    throw e;
  }
}
