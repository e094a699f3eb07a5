/**
 * Kubo daemons, peered, modelled by their RPC semantics (s25-rte's model, shared since s26-fxl):
 * `block/stat` with `offline: true` looks in the local blockstore only (kubo: "block was not found
 * locally (offline)"); `block/get` without `offline` fetches a block a peer has (bitswap), and for a
 * block no node has it searches the network until its `timeout` (here: waits min(timeout,
 * `searchMs`) ms) and fails with kubo's "context deadline exceeded ... timed out". Every `block/get`
 * is logged (`gets`: the CID and the timeout asked for).
 */
import { CID } from "multiformats/cid";
import { KuboContentStore, cidOf } from "../../offchain/storage/content-store";

export type FakeKubo = {
  stores: KuboContentStore[];
  gets: { node: number; cid: string; timeout?: number }[];
  local: Map<string, Uint8Array>[];
};

/**
 * @param nodes - how many peered daemons
 * @param searchMs - how long (ms, at most the timeout asked for) a search for a block nobody has lasts
 */
export function fakeKubo(nodes = 2, searchMs = 20): FakeKubo {
  const local = Array.from({ length: nodes }, () => new Map<string, Uint8Array>());
  const gets: FakeKubo["gets"] = [];
  const client = (me: number) => ({
    block: {
      put: async (bytes: Uint8Array, o: Record<string, unknown>) => {
        const c = await cidOf(bytes, o.format as "dag-json" | "raw");
        local[me].set(c.toString(), bytes);
        return c;
      },
      stat: async (c: CID, o: Record<string, unknown> = {}) => {
        const k = c.toString();
        if (local[me].has(k) || (!o.offline && local.some((m) => m.has(k)))) return { cid: c };
        throw new Error("block was not found locally (offline): ipld: could not find " + k);
      },
      get: async (c: CID, o: Record<string, unknown> = {}) => {
        const k = c.toString();
        gets.push({ node: me, cid: k, timeout: o.timeout as number | undefined });
        const hit = local[me].get(k) ?? (o.offline ? undefined : local.map((m) => m.get(k)).find((x) => x !== undefined));
        if (hit !== undefined) return hit;
        if (o.offline) throw new Error("block was not found locally (offline)");
        await new Promise((r) => setTimeout(r, Math.min(Number(o.timeout ?? Infinity), searchMs)));
        throw new Error("context deadline exceeded: request timed out");
      },
    },
    pin: { add: async (c: CID) => c },
  });
  const stores = local.map((_, me) => {
    const s = new KuboContentStore("http://127.0.0.1:5001");
    (s as unknown as { client: unknown }).client = client(me);
    return s;
  });
  return { stores, gets, local };
}
