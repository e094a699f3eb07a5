/**
 * JSON-RPC batching over HTTP (offchain/chain/transport.ts `batchHttp`, issue 20): requests issued
 * together go out as one HTTP request, each keeps its own answer and error, a lost batch is re-sent
 * request by request with RetryingProvider's rules (a raw transaction that landed is answered with
 * its hash, never sent a second time beyond what a lone request would be), and the answers equal
 * the unbatched ones (a differential test on random reads against a real node's JSON-RPC server).
 * A rating over HTTP costs two round trips with batching (as a bare transaction), four without (pinned).
 */
import { expect } from "chai";
import fc from "fast-check";
import http from "http";
import type { AddressInfo } from "net";
import hre from "hardhat";
import { Wallet, keccak256, parseEther } from "ethers";
import type { EIP1193Provider } from "hardhat/types";
import { HttpProvider } from "hardhat/internal/core/providers/http";
import { BackwardsCompatibilityProviderAdapter } from "hardhat/internal/core/providers/backwards-compatibility";
import { JsonRpcServer } from "hardhat/internal/hardhat-network/jsonrpc/server";
import { HardhatEthersProvider } from "@nomicfoundation/hardhat-ethers/internal/hardhat-ethers-provider";
import { BATCHABLE, MAX_BATCH_ENTRIES, RetryingProvider, batchHttp, httpStatsOf } from "../../offchain/chain/transport";
import { ChainWallet, setFeeTtl } from "../../offchain/chain/sender";
import { attach } from "../../offchain/chain/contracts";
import { readDeployment } from "../../offchain/chain/deployments";
import { TrustLedger, entityId } from "../../offchain/trust/ledger";
import { packFactors } from "../../offchain/trust/fixed";
import { TrustManager__factory } from "../../typechain-types";
import { useTaskSandbox, rejects } from "../helpers/tasks";

type Body = { jsonrpc: "2.0"; id: number; method: string; params: unknown[] };
type Answer = { result?: unknown; error?: { code: number; message: string; data?: unknown } } | "drop";

/**
 * A JSON-RPC server whose answers are scripted per method; it records each HTTP request's body.
 * @param batchLimit - like geth's BatchRequestLimit: a longer batch is answered with one error, for its first entry
 */
async function fakeNode(answer: (b: Body, post: number) => Answer, batchLimit?: number) {
  const posts: (Body | Body[])[] = [];
  const server = http.createServer((req, res) => {
    let text = "";
    req.on("data", (d) => (text += d));
    req.on("end", () => {
      const body = JSON.parse(text) as Body | Body[];
      const n = posts.push(body) - 1;
      if (batchLimit !== undefined && Array.isArray(body) && body.length > batchLimit) {
        res.setHeader("content-type", "application/json");
        return res.end(JSON.stringify([{ jsonrpc: "2.0", id: body[0].id, error: { code: -32600, message: "batch too large" } }]));
      }
      const one = (b: Body) => {
        const a = answer(b, n);
        return a === "drop" ? a : { jsonrpc: "2.0", id: b.id, ...a };
      };
      const out = Array.isArray(body) ? body.map(one).reverse() : one(body); // a batch's answers in another order
      if (out === "drop" || (Array.isArray(out) && out.includes("drop"))) return req.socket.destroy(); // the connection lost
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(out));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new RetryingProvider(new HttpProvider(url, "fake") as unknown as EIP1193Provider, 2, 1);
  return { posts, provider, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("chain/transport: JSON-RPC batching over HTTP", function () {
  this.timeout(120_000);

  describe("# batchHttp against a scripted server", () => {
    it("concurrent requests go out as one batch; each gets its own answer, in order of the requests", async () => {
      const f = await fakeNode((b) => ({ result: `${b.method}:${JSON.stringify(b.params)}` }));
      try {
        const r = await Promise.all([
          f.provider.request({ method: "eth_call", params: [{ to: "0x01" }, "latest"] }),
          f.provider.request({ method: "eth_getTransactionReceipt", params: ["0xaa"] }),
          f.provider.request({ method: "eth_blockNumber" }),
        ]);
        expect(r).to.deep.equal(['eth_call:[{"to":"0x01"},"latest"]', 'eth_getTransactionReceipt:["0xaa"]', "eth_blockNumber:[]"]);
        expect(f.posts).to.have.length(1);
        expect((f.posts[0] as Body[]).map((b) => b.method)).to.deep.equal(["eth_call", "eth_getTransactionReceipt", "eth_blockNumber"]);
        // a lone request is a plain JSON-RPC object, as before
        expect(await f.provider.request({ method: "eth_chainId" })).to.equal("eth_chainId:[]");
        expect(Array.isArray(f.posts[1])).to.equal(false);
        expect(httpStatsOf(f.provider)).to.deep.include({ requests: 2, batches: 1, batched: 3 });
      } finally {
        await f.close();
      }
    });

    it("an entry's error rejects that request alone, with the node's message, code and data", async () => {
      const f = await fakeNode((b) =>
        b.method === "eth_call" ? { error: { code: 3, message: "execution reverted", data: "0x12345678" } } : { result: "0x2a" },
      );
      try {
        const [call, block] = await Promise.allSettled([
          f.provider.request({ method: "eth_call", params: [{ to: "0x01" }, "latest"] }),
          f.provider.request({ method: "eth_blockNumber" }),
        ]);
        expect(block).to.deep.equal({ status: "fulfilled", value: "0x2a" });
        const e = (call as PromiseRejectedResult).reason as { message: string; code: number; data: unknown };
        expect([e.message, e.code, e.data]).to.deep.equal(["execution reverted", 3, "0x12345678"]);
        expect(f.posts).to.have.length(1);
      } finally {
        await f.close();
      }
    });

    it("methods Hardhat's HttpProvider treats specially (eth_accounts) and signing methods go out alone", async () => {
      expect(
        ["eth_accounts", "eth_sendTransaction", "eth_sign", "hardhat_reset", "evm_revert"].filter((m) => BATCHABLE.has(m)),
      ).to.deep.equal([]);
      const f = await fakeNode(() => ({ result: [] }));
      try {
        await Promise.all([f.provider.request({ method: "eth_accounts" }), f.provider.request({ method: "eth_blockNumber" })]);
        expect(f.posts.map((p) => Array.isArray(p))).to.deep.equal([false, false]);
      } finally {
        await f.close();
      }
    });

    it("many requests in one turn go out in batches a node accepts (at most MAX_BATCH_ENTRIES each), each with its own answer (h12-red B1)", async () => {
      // geth answers a batch over its limit with one error for the whole batch; some providers' limits are lower than geth's
      const f = await fakeNode((b) => ({ result: `${b.method}:${JSON.stringify(b.params)}` }), MAX_BATCH_ENTRIES);
      try {
        const n = 2 * MAX_BATCH_ENTRIES + 7;
        const r = await Promise.allSettled(
          Array.from({ length: n }, (_, i) =>
            f.provider.request({ method: "eth_call", params: [{ to: `0x${i.toString(16)}` }, "latest"] }),
          ),
        );
        const failed = r.filter((x) => x.status === "rejected").map((x) => String((x as PromiseRejectedResult).reason?.message));
        expect(failed.slice(0, 2), `${failed.length} of ${n} requests failed`).to.deep.equal([]);
        expect(r.map((x) => (x as PromiseFulfilledResult<unknown>).value)).to.deep.equal(
          Array.from({ length: n }, (_, i) => `eth_call:[{"to":"0x${i.toString(16)}"},"latest"]`),
        );
        expect(f.posts.map((p) => (Array.isArray(p) ? p.length : 1))).to.deep.equal([MAX_BATCH_ENTRIES, MAX_BATCH_ENTRIES, 7]);
      } finally {
        await f.close();
      }
    });

    it("batching off sends each request alone (the comparison the steps bench makes)", async () => {
      const f = await fakeNode(() => ({ result: "0x1" }));
      try {
        httpStatsOf(f.provider)!.enabled = false;
        await Promise.all([f.provider.request({ method: "eth_blockNumber" }), f.provider.request({ method: "eth_chainId" })]);
        expect(f.posts).to.have.length(2);
        expect(batchHttp(f.provider)).to.equal(httpStatsOf(f.provider)); // installed once
      } finally {
        await f.close();
      }
    });

    it("a lost batch is re-sent request by request by RetryingProvider: a raw transaction that landed is answered with its hash", async () => {
      const raw = await Wallet.createRandom().signTransaction({
        to: Wallet.createRandom().address,
        value: 1n,
        chainId: 1n,
        nonce: 0,
        gasLimit: 21_000n,
        gasPrice: 1n,
      });
      // the first HTTP request (the batch) reaches the node, which takes the transaction, and the
      // connection drops before the answer; the retry is told the transaction is already known
      const f = await fakeNode((b, post) => {
        if (post === 0) return "drop";
        if (b.method === "eth_sendRawTransaction") return { error: { code: -32000, message: "already known" } };
        return { result: null };
      });
      try {
        const [hash, receipt] = await Promise.all([
          f.provider.request({ method: "eth_sendRawTransaction", params: [raw] }),
          f.provider.request({ method: "eth_getTransactionReceipt", params: [keccak256(raw)] }),
        ]);
        expect(hash).to.equal(keccak256(raw));
        expect(receipt).to.equal(null);
        // the transaction went out twice, as a lone request lost the same way would (once, then its retry)
        const sent = f.posts.flat().filter((b) => b.method === "eth_sendRawTransaction");
        expect(sent).to.have.length(2);
        expect(Array.isArray(f.posts[0])).to.equal(true);
      } finally {
        await f.close();
      }
    });
  });

  describe("# against the in-process network's JSON-RPC server", () => {
    useTaskSandbox("metatrust-batching-");
    let server: JsonRpcServer;
    let raw: EIP1193Provider;
    let ethersProvider: HardhatEthersProvider;

    before(async () => {
      server = new JsonRpcServer({ hostname: "127.0.0.1", port: 0, provider: hre.network.provider });
      await server.listen();
      raw = new RetryingProvider(server.getProvider("batch-test") as unknown as EIP1193Provider);
      ethersProvider = new HardhatEthersProvider(new BackwardsCompatibilityProviderAdapter(raw) as never, "batch-test");
    });
    after(async () => {
      ethersProvider?.destroy();
      await server?.close();
    });

    it("differential: random reads answer the same, result or error (message, code, data), batched and one by one", async () => {
      const d = readDeployment("hardhat");
      const tm = TrustManager__factory.createInterface();
      const stats = httpStatsOf(raw)!;
      const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => "0x" + Buffer.from(b).toString("hex"));
      const read = fc.oneof(
        hex(32).map((id) => ({
          method: "eth_call",
          params: [{ to: d.contracts.TrustManager.address, data: tm.encodeFunctionData("entity", [id]) }, "latest"],
        })),
        fc.tuple(hex(32), hex(32)).map(([a, b]) => ({
          method: "eth_call",
          params: [{ to: d.contracts.TrustManager.address, data: tm.encodeFunctionData("pairOf", [a, b]) }, "latest"],
        })),
        // a rating nobody may send: reverts with a custom error (its revert data compared)
        fc.tuple(hex(32), hex(32), hex(20)).map(([a, b, from]) => ({
          method: "eth_call",
          params: [
            {
              from,
              to: d.contracts.TrustManager.address,
              data: tm.encodeFunctionData("rate", [a, b, 0n, "0x" + "00".repeat(32), "0x" + "00".repeat(32), 0n, 0n]),
            },
            "latest",
          ],
        })),
        hex(20).map((a) => ({ method: "eth_getBalance", params: [a, "latest"] })),
        hex(32).map((h) => ({ method: "eth_getTransactionReceipt", params: [h] })),
        fc.constant({ method: "eth_getCode", params: [d.contracts.TrustManager.address, "latest"] }),
        fc.constant({ method: "eth_call", params: [{ to: d.contracts.TrustManager.address, data: "0xdeadbeef" }, "latest"] }),
      );
      const outcome = async (p: Promise<unknown>) =>
        p.then(
          (result) => ({ result }),
          (e: { message: string; code?: number; data?: unknown }) => ({ error: [e.message, e.code, e.data] }),
        );
      await fc.assert(
        fc.asyncProperty(fc.array(read, { minLength: 2, maxLength: 8 }), async (calls) => {
          stats.enabled = true;
          const before = stats.requests;
          const batched = await Promise.all(calls.map((c) => outcome(raw.request(c))));
          expect(stats.requests - before).to.equal(1);
          stats.enabled = false;
          const alone = await Promise.all(calls.map((c) => outcome(raw.request(c))));
          stats.enabled = true;
          expect(batched).to.deep.equal(alone);
        }),
        { seed: 20_2611, numRuns: 40 },
      );
    });

    it("a rating (TrustLedger.rate on the fast path): three HTTP round trips with batching, six without; the same outcome", async () => {
      const d = readDeployment("hardhat");
      const [funder] = await hre.ethers.getSigners();
      const keys = [Wallet.createRandom(), Wallet.createRandom()];
      for (const k of keys) await (await funder.sendTransaction({ to: k.address, value: parseEther("1") })).wait();
      const [rater, other] = keys.map((k) => new ChainWallet(k.privateKey, ethersProvider));
      setFeeTtl(ethersProvider, 3_600_000); // no fee refresh between the measured ratings
      const ids = ["ba", "bb", "bc", "bd"].map(entityId);
      const tmOf = (w: ChainWallet) => attach(TrustManager__factory, d.contracts.TrustManager.address, w);
      await (await tmOf(rater).register(ids[0], 2)).wait();
      for (const id of ids.slice(1)) await (await tmOf(other).register(id, 2)).wait();
      const ledger = new TrustLedger(tmOf(rater));
      const score = packFactors(Array((await ledger.getModel()).factorCount).fill(0.9));
      await ledger.rate(ids[0], ids[1], score); // first use: the model, the nonce, the fees, the chain id
      const stats = httpStatsOf(raw)!;
      const measured = async (to: string, enabled: boolean) => {
        stats.enabled = enabled;
        const before = stats.requests;
        const r = await ledger.rate(ids[0], to, score);
        stats.enabled = true;
        return { requests: stats.requests - before, stored: r.stored, rating: r.rating };
      };
      const on = await measured(ids[2], true);
      const off = await measured(ids[3], false);
      // the two ids' generations (the eras the rating names: one batch); the transaction; its
      // receipt with the pair after and the pair at the block seen before it (one batch)
      expect(on.requests).to.equal(3);
      // without batching the two reads and the three go out as five HTTP requests
      expect(off.requests).to.equal(6);
      expect([on.stored, on.rating]).to.deep.equal([off.stored, off.rating]);
      setFeeTtl(ethersProvider, undefined);
      expect((await rejects(ledger.rate(ids[0], ids[2], score))).message).to.match(/TrustManager__RatedThisEpoch/);
    });
  });
});
