/**
 * What the node sees: every JSON-RPC request sent to the in-process Hardhat node (through `send`
 * or `request`) while a function runs, for tests that check which ids a flow names to whoever
 * serves the JSON-RPC (h12-red L1, h14-red F4) and how many reads it makes.
 */
import hre from "hardhat";
import { toHex } from "../../offchain/crypto/bytes";

/** One request: its method and its params as lower-case JSON. */
export type RpcCall = { method: string; params: string };

/** Runs `f`, returning what it returns and every request sent to the node meanwhile. */
export async function recordRpc<T>(f: () => Promise<T>): Promise<{ out: T; calls: RpcCall[] }> {
  const provider = hre.network.provider;
  const calls: RpcCall[] = [];
  const send = provider.send.bind(provider);
  const request = provider.request.bind(provider);
  provider.send = async (method: string, params?: unknown[]) => {
    calls.push({ method, params: JSON.stringify(params ?? []).toLowerCase() });
    return send(method, params);
  };
  provider.request = async (a: Parameters<typeof request>[0]) => {
    calls.push({ method: a.method, params: JSON.stringify(a.params ?? []).toLowerCase() });
    return request(a);
  };
  try {
    return { out: await f(), calls };
  } finally {
    provider.send = send;
    provider.request = request;
  }
}

/** How many of `calls` of `method` (default eth_call) name `id` (32 bytes) in their params. */
export function naming(calls: RpcCall[], id: Uint8Array, method = "eth_call"): number {
  const x = toHex(id).slice(2).toLowerCase();
  return calls.filter((c) => c.method === method && c.params.includes(x)).length;
}
