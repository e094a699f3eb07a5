/**
 * Waiting for a contract transaction, with the revert reason when it failed on-chain. A call sent
 * with a static gas limit (offchain/chain/sender.ts) is not simulated first: on a public chain a
 * reverting one is mined with status 0, and its receipt carries no reason. `minedReceipt` then
 * replays the call at the state before its block (one eth_call, only on failure) and throws what
 * the replay throws: the node's error with the revert data, which names the custom error.
 */
import { isError, type ContractTransactionReceipt, type ContractTransactionResponse } from "ethers";

/**
 * The receipt of a sent contract transaction.
 * @throws the replay's error (with the revert data) when the transaction reverted on-chain; the
 *   original CALL_EXCEPTION when the replay does not revert
 */
export async function minedReceipt(sent: Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  const tx = await sent;
  try {
    const r = await tx.wait();
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
