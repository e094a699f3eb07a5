/**
 * The JSON-RPC calls of the task steps (issue 20), pinned so that they cannot creep back: a
 * rating and an RSMS join, each run through its task in a process that already ran one (the
 * deployment's code checked, the signer's nonce, chain id and fees known, its funding checked).
 * Also: ChainWallet (offchain/chain/sender.ts) numbers its transactions locally and recovers
 * when another sender used its account, and a call sent with a static gas limit that reverts
 * on-chain is reported with its custom error (offchain/chain/mined.ts).
 */
import { expect } from "chai";
import hre from "hardhat";
import { Wallet, parseEther } from "ethers";
import { useTaskSandbox, customError, rejects } from "../helpers/tasks";
import { countRpc, type RpcCalls } from "../../scripts/lib/rpc-count";
import { ChainWallet, FEE_TTL_MS, KNOWN_GAS, gasWithHeadroom, knownGas, setFeeTtl } from "../../offchain/chain/sender";
import { minedReceipt } from "../../offchain/chain/mined";
import { TrustManager__factory } from "../../typechain-types";
import { readDeployment } from "../../offchain/chain/deployments";
import { TrustLedger, entityId } from "../../offchain/trust/ledger";
import { packFactors } from "../../offchain/trust/fixed";
import { attach } from "../../offchain/chain/contracts";
import snapshot from "../../gas-snapshot.json";
import { joinViewsSettled } from "../../offchain/rsms/flows";

describe("JSON-RPC calls per task step (issue 20)", function () {
  this.timeout(120_000);
  useTaskSandbox("metatrust-rpc-calls-");
  const counter = () => countRpc(hre.network.provider);
  // The calls of a step are pinned with the fee data already known. Fee data is reused for
  // FEE_TTL_MS (5 s): on a loaded machine more than that can pass between a first step and the
  // measured one, and the measured one would add the refresh (eth_gasPrice, the latest block,
  // eth_maxPriorityFeePerGas). Here it is reused for the whole file; the refresh is pinned below.
  before(() => setFeeTtl(hre.ethers.provider, 3_600_000));
  after(() => setFeeTtl(hre.ethers.provider, undefined));

  it("a rating (trust:rate, the rater's role key): the transaction, its receipt, the pair before and after, and the rater's controller once per process", async () => {
    for (let i = 0; i < 4; i++) await hre.run("trust:register", { entity: `c${i}`, type: "organization", account: `crater${i}` });
    await hre.run("trust:rate", { from: "c0", to: "c1", score: 0.9, unverifiable: true }); // first use: nonce, fees, model, code
    const r = await counter().during(() => hre.run("trust:rate", { from: "c1", to: "c2", score: 0.8, unverifiable: true }));
    expect(r.value.rating).to.be.closeTo(0.8, 1e-9);
    // eth_call: the rater's controller (read once per process and rater) with the pair before and
    // the two ids' generations, the eras the rating names (together), the pair after with the
    // receipt (together): Algorithm 5 step 3
    expectRated(r, 5);
    expectTrips(r, 3, 3);
    // c1 rates again: its controller is remembered from the rating above, no call for it; the two
    // ids' generations (the eras the rating names, h16-red2 R6) are read before the transaction, in
    // one round trip; the pair before is read after the transaction, at a block seen before it, in
    // one batch with the receipt and the pair after (TrustLedger.rate), asked for two turns after
    // the send, while the node mines it (session 18): three round trips, one more than a bare
    // transaction's (the eras' read, session 17). The counter counts the turns in which requests
    // start: on the in-process network the eras' answer, the send and the receipt's batch can fall in
    // fewer (test/chain/batching.test.ts counts the HTTP requests: three)
    const again = await counter().during(() => hre.run("trust:rate", { from: "c1", to: "c3", score: 0.7, unverifiable: true }));
    expect(again.value.rating).to.be.closeTo(0.7, 1e-9);
    expectRated(again, 4);
    expectTrips(again, 1, 3);
    // c1 rates c0: both ids' generations are remembered from the ratings above (trust:rate's
    // `generations`: a stale one is refused by the chain and read again, tasks.trust-era-memory.test.ts),
    // so nothing is read before the transaction: two round trips, as a bare transaction's
    const third = await counter().during(() => hre.run("trust:rate", { from: "c1", to: "c0", score: 0.6, unverifiable: true }));
    expect(third.value.rating).to.be.closeTo(0.6, 1e-9);
    expectRated(third, 2);
    expectTrips(third, 1, 2);
  });

  it("a rating signed by a remembered controller that no longer controls the rater is sent again by the chain's controller", async () => {
    const snap = await hre.network.provider.send("evm_snapshot", []);
    await hre.run("trust:register", { entity: "k0", type: "organization", account: "kfirst" });
    await hre.run("trust:register", { entity: "k1", type: "organization", account: "kother" });
    await hre.run("trust:rate", { from: "k0", to: "k1", score: 0.9, unverifiable: true }); // remembers kfirst
    // the chain goes back, and k0 is registered again, by another account
    await hre.network.provider.send("evm_revert", [snap]);
    await hre.run("trust:register", { entity: "k0", type: "organization", account: "ksecond" });
    await hre.run("trust:register", { entity: "k1", type: "organization", account: "kother2" }); // (kother's funding went back too)
    const r = await counter().during(() => hre.run("trust:rate", { from: "k0", to: "k1", score: 0.6, unverifiable: true }));
    expect(r.value.rating).to.be.closeTo(0.6, 1e-9);
    // kfirst's transaction is refused (its nonce went back with the chain, then TrustManager__NotController); ksecond's is mined
    expect(r.calls.eth_sendRawTransaction).to.equal(3);
  });

  /** null receipts: the early receipt asked before the transaction was mined (at most one per join) */
  const early = (c: RpcCalls) => {
    const n = c.empty.eth_getTransactionReceipt ?? 0;
    expect(n, "more than one receipt answered null").to.be.at.most(1);
    return n;
  };
  /** the calls, less an early receipt answered null */
  const answered = (c: RpcCalls): Record<string, number> => ({
    ...c.calls,
    eth_getTransactionReceipt: c.calls.eth_getTransactionReceipt - early(c),
  });
  /**
   * Checks a rating's calls: `n` eth_calls, one transaction and one answered receipt, less an early
   * receipt answered null and what it may cost. The pair after, read with that receipt, then either
   * had not moved (read again at the rating's block, and at the one before when the pair before was
   * read at a block seen: TrustLedger.rate; up to two eth_calls more) or was answered after the node
   * mined the rating (nothing more: on a slow machine the receipt and the read can fall either side
   * of the mining). Exact when the early receipt was answered.
   */
  const expectRated = (c: RpcCalls, n: number) => {
    const e = early(c);
    const calls: Record<string, number> = answered(c);
    const { eth_call, ...rest } = calls;
    expect(rest).to.deep.equal({ eth_sendRawTransaction: 1, eth_getTransactionReceipt: 1 });
    expect(eth_call, "eth_call").to.be.within(n, n + 2 * e);
  };
  /**
   * Checks a rating's round trips (as counted by the in-process counter: the turns in which requests
   * start) against [lo, hi]: an early receipt answered null adds the receipt asked again, and the
   * reads again, if any (one or two round trips more).
   */
  const expectTrips = (c: RpcCalls, lo: number, hi: number) => {
    const e = early(c);
    expect(c.roundTrips, "round trips").to.be.within(lo + e, hi + 2 * e);
  };

  it("the counter tells a receipt answered null (a transaction not mined yet) from one answered", async () => {
    const c = await counter().during(() => hre.network.provider.send("eth_getTransactionReceipt", ["0x" + "ab".repeat(32)]));
    expect(c.value).to.equal(null);
    expect([c.calls.eth_getTransactionReceipt, c.empty.eth_getTransactionReceipt]).to.deep.equal([1, 1]);
    expect(() => early({ ...c, empty: { eth_getTransactionReceipt: 2 } })).to.throw("more than one receipt answered null");
  });

  it("an RSMS join with its chain write (rsms:join): the process's first, one read (the pool, the replay check, the filter roots: joinView), the transaction and its receipt; the next ones, from the local view, the transaction and its receipt", async () => {
    await hre.run("rsms:setup", { capacity: 64, lambda: 20, interval: 3600, ttl: 7 * 24 * 3600 });
    await hre.run("rsms:rpm:register", { pool: 1 });
    for (const n of ["j0", "j1", "j2", "j3", "j5"]) await hre.run("rsms:rn:register", { name: n, pool: 1 });
    await hre.run("rsms:filter:publish", { pool: 1 });
    // The process's first join has no local view of the registry: it reads the chain.
    // eth_call: one, the registry's joinView, before the RN's request is built (flows.prefetchJoin):
    // the pool (its record holds PK_RPM, for the RN, and the filter count, for the RPM), the RPM's
    // replay check of the RN's tag, and the filter roots from the first epoch found live (the RPM's
    // keystore record keeps no loaded filter between commands, each command checks it again)
    // The receipt is asked for two turns after the send (offchain/chain/direct.ts, the early
    // receipt); when the network has not mined the transaction by then (a loaded machine), the
    // null answer is asked again at once: that one extra call and round trip is the only leeway.
    const first = await counter().during(() => hre.run("rsms:join", { rn: "j0", pool: 1 }));
    expect(answered(first)).to.deep.equal({ eth_call: 1, eth_sendRawTransaction: 1, eth_getTransactionReceipt: 1 });
    // the read; the transaction; its receipt: as many round trips as a rating
    expect(first.roundTrips - early(first)).to.equal(3);
    // Once it returned, the join started the view's refresh (flows.refreshJoinView: the JoinRecorded
    // logs from a cursor, the pool and its roots), off the next join's path; it is awaited here so
    // that its calls are not counted in the next join's. Pinned: the latest block and (after the
    // first refresh) the cursor's, then the logs and the pool's joinView.
    const warm = countRpc(hre.network.provider);
    warm.reset();
    await joinViewsSettled();
    const refresh1 = warm.snapshot();
    expect(refresh1.calls).to.deep.equal({ eth_getBlockByNumber: 1, eth_getLogs: 1, eth_call: 1 });
    // rsms-join.md change 18: the next join answers from the view (no read before its transaction)
    const r = await counter().during(() => hre.run("rsms:join", { rn: "j1", pool: 1 }));
    expect(r.value.tx.gasUsed > 0n).to.equal(true);
    expect(answered(r)).to.deep.equal({ eth_sendRawTransaction: 1, eth_getTransactionReceipt: 1 });
    // the transaction; its receipt: as many round trips as a bare transaction
    expect(r.roundTrips - early(r)).to.equal(2);
    warm.reset();
    await joinViewsSettled();
    expect(warm.snapshot().calls).to.deep.equal({ eth_getBlockByNumber: 2, eth_getLogs: 1, eth_call: 1 });
    // a filter published since the view was read: the RN is not in the view's roots, the RPM refuses
    // before anything is forwarded, and the join reads the chain (one joinView) and runs again
    await hre.run("rsms:rn:register", { name: "j4", pool: 1 });
    await hre.run("rsms:filter:publish", { pool: 1 });
    const later = await counter().during(() => hre.run("rsms:join", { rn: "j4", pool: 1 }));
    expect(answered(later)).to.deep.equal({ eth_call: 1, eth_sendRawTransaction: 1, eth_getTransactionReceipt: 1 });
    expect(later.roundTrips - early(later)).to.equal(3);
    // and the view, refreshed, holds the new epoch: the next join is from the view again
    await joinViewsSettled();
    const after = await counter().during(() => hre.run("rsms:join", { rn: "j5", pool: 1 }));
    expect(answered(after)).to.deep.equal({ eth_sendRawTransaction: 1, eth_getTransactionReceipt: 1 });
    await joinViewsSettled();
  });

  it("a rating reads the pair before it at a block seen before it; when another rating came between, it reads both again at the rating's block", async () => {
    const d = readDeployment("hardhat");
    const [funder] = await hre.ethers.getSigners();
    const key = Wallet.createRandom();
    await (await funder.sendTransaction({ to: key.address, value: parseEther("1") })).wait();
    const fast = new TrustLedger(
      attach(TrustManager__factory, d.contracts.TrustManager.address, new ChainWallet(key.privateKey, hre.ethers.provider)),
    );
    // the same rater through a plain ethers Wallet (another process): its receipts are not seen by the fast path
    const other = new TrustLedger(
      attach(TrustManager__factory, d.contracts.TrustManager.address, new Wallet(key.privateKey, hre.ethers.provider)),
    );
    const [x, y, z] = ["sx", "sy", "sz"].map(entityId);
    await (
      await attach(TrustManager__factory, d.contracts.TrustManager.address, new Wallet(key.privateKey, hre.ethers.provider)).register(x, 2)
    ).wait();
    for (const id of [y, z]) await (await attach(TrustManager__factory, d.contracts.TrustManager.address, funder).register(id, 2)).wait();
    const m = await fast.getModel();
    const score = (s: number) => packFactors(Array(m.factorCount).fill(s));
    const nextEpoch = async () => {
      await hre.network.provider.send("evm_increaseTime", [Number(m.epochLength) + 1]);
      await hre.network.provider.send("evm_mine", []);
    };
    await fast.rate(x, z, score(0.5)); // a receipt seen: its block is the one the next rating reads the pair before at
    await fast.rate(x, y, score(0.9));
    await nextEpoch();
    // the usual case: the two generations (the eras the rating names) before the transaction, in
    // one round trip; two eth_calls (the pair after, the pair at the block seen) with the receipt
    const usual = await counter().during(() => fast.rate(x, z, score(0.6)));
    expectRated(usual, 4);
    expectTrips(usual, 3, 3);
    // x rates y again elsewhere (the fast path's block seen is now older than that rating)
    await nextEpoch();
    await other.rate(x, y, score(0.2));
    await nextEpoch();
    const r = await counter().during(() => fast.rate(x, y, score(0.7)));
    // (the other process used the account's nonce: the first send is refused, counted again, sent again,
    // and the refused one's early receipt and pair reads, asked for while it was sent, are spent); the
    // pair at the block seen has two ratings fewer than after: read again at the rating's block and the one before
    // (the refused send's receipt is answered null; on a loaded machine the second send's early receipt
    // can be answered null once more: asked again, and the pair read again, up to two eth_calls)
    const e = (r.empty.eth_getTransactionReceipt ?? 0) - 1;
    expect(e, "receipts answered null besides the refused send's").to.be.within(0, 1);
    const { eth_call, ...rest } = r.calls;
    expect(rest).to.deep.equal({ eth_sendRawTransaction: 2, eth_getTransactionCount: 1, eth_getTransactionReceipt: 2 + e });
    expect(eth_call, "eth_call").to.be.within(8, 8 + 2 * e);
    const onChain = await fast.pair(x, y);
    expect([r.value.stored, onChain.ratings]).to.deep.equal([onChain.trust, 3]);
  });

  it("a rating asks for its receipt and the pairs while its transaction is being sent, not once the node has answered it", async () => {
    const d = readDeployment("hardhat");
    const [funder] = await hre.ethers.getSigners();
    const key = Wallet.createRandom();
    await (await funder.sendTransaction({ to: key.address, value: parseEther("1") })).wait();
    // the provider the rating's wallet talks through: each request and answer logged in order; the
    // answer to the transaction held back 30 ms (a node slow to mine it)
    const log: string[] = [];
    let hold = false;
    const base = hre.ethers.provider;
    const logged = new Proxy(base, {
      get(t, k) {
        if (k === "send")
          return async (method: string, params: unknown[]) => {
            log.push(`> ${method}`);
            const r = await t.send(method, params);
            if (method === "eth_sendRawTransaction" && hold) await new Promise((res) => setTimeout(res, 30));
            log.push(`< ${method}`);
            return r;
          };
        const v = Reflect.get(t, k, t) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    const tm = attach(TrustManager__factory, d.contracts.TrustManager.address, new ChainWallet(key.privateKey, logged));
    const fast = new TrustLedger(tm);
    const [x, y, z] = ["ex", "ey", "ez"].map(entityId);
    await (await tm.register(x, 2)).wait();
    for (const id of [y, z]) await (await attach(TrustManager__factory, d.contracts.TrustManager.address, funder).register(id, 2)).wait();
    const score = packFactors(Array((await fast.getModel()).factorCount).fill(0.8));
    await fast.rate(x, z, score); // first use: the nonce, the fees; a receipt seen
    log.length = 0;
    hold = true;
    const r = await fast.rate(x, y, score);
    const before = log.slice(0, log.indexOf("< eth_sendRawTransaction"));
    // before the node's answer to the transaction: the eras (two eth_calls), the transaction, then
    // its receipt with the pair after and the pair at the block seen (TrustLedger.rate, session 18)
    expect(before.filter((e) => e.startsWith(">"))).to.deep.equal([
      "> eth_call",
      "> eth_call",
      "> eth_sendRawTransaction",
      "> eth_getTransactionReceipt",
      "> eth_call",
      "> eth_call",
    ]);
    // the same outcome: what the chain stored, checked against the model
    expect(r.stored).to.equal((await fast.pair(x, y)).trust);
  });

  it("fee data is read again once it is older than its TTL, and then reused", async () => {
    setFeeTtl(hre.ethers.provider, 0); // every fee datum is now stale
    try {
      // (joins from the local view: no read before the transaction, rsms-join.md change 18)
      const r = await counter().during(() => hre.run("rsms:join", { rn: "j2", pool: 1 }));
      // (the receipt is asked for early: on a loaded machine it can be answered null once)
      expect(answered(r)).to.deep.equal({
        eth_gasPrice: 1,
        eth_getBlockByNumber: 1,
        eth_maxPriorityFeePerGas: 1,
        eth_sendRawTransaction: 1,
        eth_getTransactionReceipt: 1,
      });
    } finally {
      setFeeTtl(hre.ethers.provider, 3_600_000);
    }
    await joinViewsSettled();
    const again = await counter().during(() => hre.run("rsms:join", { rn: "j3", pool: 1 }));
    expect(answered(again)).to.deep.equal({ eth_sendRawTransaction: 1, eth_getTransactionReceipt: 1 });
    expect(again.roundTrips - early(again)).to.equal(2);
    await joinViewsSettled();
    expect(() => setFeeTtl(hre.ethers.provider, -1)).to.throw(/setFeeTtl: -1 is not a duration/);
    expect(FEE_TTL_MS).to.equal(5_000);
  });

  it("static gas limits: the largest gas gas-snapshot.json measures for the call, x1.5 plus 10,000", () => {
    const tm = TrustManager__factory.createInterface();
    const rate = Math.max(
      ...Object.entries(snapshot as Record<string, number>)
        .filter(([k]) => k.startsWith("TrustManager.rate ("))
        .map(([, g]) => g),
    );
    expect(
      knownGas(tm.encodeFunctionData("rate", [entityId("a"), entityId("b"), 0n, "0x" + "00".repeat(32), "0x" + "00".repeat(32), 0n, 0n])),
    ).to.equal(gasWithHeadroom(rate));
    expect(knownGas(tm.encodeFunctionData("register", [entityId("a"), 1]))).to.equal(undefined); // estimated
    expect(KNOWN_GAS.size).to.equal(2);
  });

  it("ChainWallet counts its nonce locally, and recovers when another sender used its account", async () => {
    const [funder] = await hre.ethers.getSigners();
    const key = Wallet.createRandom();
    await (await funder.sendTransaction({ to: key.address, value: parseEther("1") })).wait();
    const w = new ChainWallet(key.privateKey, hre.ethers.provider);
    await (await w.sendTransaction({ to: funder.address, value: 1n })).wait();
    const c = await counter().during(async () => (await w.sendTransaction({ to: funder.address, value: 1n, gasLimit: 21_000n })).wait());
    // no eth_getTransactionCount, no eth_chainId (fees: read again only after FEE_TTL_MS)
    expect([c.calls.eth_getTransactionCount, c.calls.eth_chainId, c.calls.eth_sendRawTransaction]).to.deep.equal([undefined, undefined, 1]);
    // the same key through a plain Wallet (another process): the local count is now behind
    await (await new Wallet(key.privateKey, hre.ethers.provider).sendTransaction({ to: funder.address, value: 1n })).wait();
    const again = await counter().during(async () => (await w.sendTransaction({ to: funder.address, value: 1n })).wait());
    expect(again.value!.status).to.equal(1);
    expect(again.calls.eth_sendRawTransaction).to.equal(2); // refused for its nonce, counted again, sent again
    expect(again.calls.eth_getTransactionCount).to.equal(1);
    expect(await hre.ethers.provider.getTransactionCount(key.address)).to.equal(4);
  });

  it("a call with a static gas limit that reverts on-chain (a public chain mines it) is reported with its custom error", async () => {
    const d = readDeployment("hardhat");
    const tm = TrustManager__factory.connect(d.contracts.TrustManager.address, await hre.ethers.provider.getSigner(0));
    const provider = hre.network.provider;
    await provider.send("evm_setAutomine", [false]); // the node takes it without simulating it, as a public chain does
    try {
      const sent = tm.rate(entityId("nobody"), entityId("c1"), 0n, "0x" + "00".repeat(32), "0x" + "00".repeat(32), 0, 0, {
        gasLimit: 200_000n,
      });
      const waiting = rejects(minedReceipt(sent));
      await sent;
      await provider.send("evm_mine", []);
      const e = await waiting;
      expect(e.message).to.match(/^transaction 0x[0-9a-f]{64} reverted on-chain \(block \d+\): /);
      expect(await customError(e)).to.deep.equal({ name: "TrustManager__UnknownEntity", args: [entityId("nobody")] });
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
  });
});
