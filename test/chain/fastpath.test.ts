/**
 * The fast path (offchain/chain/fastpath.ts) against ethers, byte for byte, on random inputs:
 * calldata, decoded results and events, signed transactions (EIP-1559 and legacy) and their
 * hashes. Then, on the in-process network, the fast path's reads, sends and typed reverts.
 */
import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import {
  AbiCoder,
  Interface,
  ParamType as EthersParamType,
  Transaction,
  Wallet,
  parseEther,
  type FunctionFragment,
  type ParamType,
  type Result,
} from "ethers";
import { FastPathError, abiCodec, abiParams, eventCodec, rlpEncode, signTransaction, parseReceipt } from "../../offchain/chain/fastpath";
import { ContractRevertError, TransactionDroppedError, direct, waitReceipt } from "../../offchain/chain/direct";
import { BackendSigningKey, ChainWallet } from "../../offchain/chain/sender";
import { attach } from "../../offchain/chain/contracts";
import { ResourcePoolRegistry__factory, TrustManager__factory } from "../../typechain-types";
import { entityId } from "../../offchain/trust/ledger";
import { readDeployment } from "../../offchain/chain/deployments";
import { useTaskSandbox, rejects } from "../helpers/tasks";

const SEED = 20_2612;
const RUNS = 60;

/** A random value of an ABI type, in the form ethers takes it. */
function arb(t: ParamType): fc.Arbitrary<unknown> {
  if (t.baseType === "tuple") return fc.tuple(...(t.components ?? []).map(arb));
  if (t.baseType === "array") return fc.array(arb(t.arrayChildren!), { maxLength: 4 });
  const m = /^(u?)int(\d*)$/.exec(t.type);
  if (m) {
    const bits = BigInt(m[2] || 256);
    return m[1] ? fc.bigInt(0n, (1n << bits) - 1n) : fc.bigInt(-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n);
  }
  const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => "0x" + Buffer.from(b).toString("hex"));
  if (t.type === "address") return hex(20).map((a) => hre.ethers.getAddress(a));
  if (t.type === "bool") return fc.boolean();
  const fixed = /^bytes(\d+)$/.exec(t.type);
  if (fixed) return hex(Number(fixed[1]));
  if (t.type === "bytes") return fc.uint8Array({ maxLength: 100 }).map((b) => "0x" + Buffer.from(b).toString("hex"));
  if (t.type === "string") return fc.string({ maxLength: 80, unit: "grapheme" });
  throw new Error(`no arbitrary for ${t.type}`);
}

/** The functions the hot steps call, and a synthetic one with every supported type and nesting. */
const TM = TrustManager__factory.createInterface() as unknown as Interface;
const RPR = ResourcePoolRegistry__factory.createInterface() as unknown as Interface;
const SYNTH = new Interface([
  "function mix(int8 a, int256 b, uint40 c, bytes7 d, string s, (bytes b, uint16 x, (bool y, string z) t) u, address w) returns (int64, string, (bytes, (uint8, string)), bool)",
  "function lists(uint16[] a, string[] b, (bytes32 r, string c)[] t, (uint8 x, bool y)[] s, uint8[][] n) returns ((uint8, string)[], bytes[], int24[])",
]);
const FUNCTIONS: [Interface, string][] = [
  [TM, "rate"],
  [TM, "pairOf"],
  [TM, "entity"],
  [TM, "generationOf"],
  [RPR, "pool"],
  [RPR, "poolPublicKey"],
  [RPR, "filterAt"],
  [RPR, "isTagUsed"],
  [RPR, "joinView"],
  [RPR, "recordJoins"],
  [RPR, "recordJoin"],
  [RPR, "recordOf"],
  [SYNTH, "mix"],
  [SYNTH, "lists"],
];

/** ethers' Result, deeply as plain arrays. */
const plain = (x: unknown): unknown => (Array.isArray(x) ? [...x].map(plain) : x);

describe("fast path: ABI, transactions and receipts against ethers", function () {
  this.timeout(120_000);

  describe("# abiCodec", () => {
    for (const [iface, name] of FUNCTIONS) {
      const f = iface.getFunction(name) as FunctionFragment;
      it(`${name}: calldata and decoded results equal ethers'`, () => {
        const c = abiCodec(f);
        expect(c.selector).to.equal(f.selector);
        fc.assert(
          fc.property(fc.tuple(...f.inputs.map(arb)), fc.tuple(...f.outputs.map(arb)), (args, outs) => {
            expect(c.encode(args)).to.equal(iface.encodeFunctionData(f, args));
            const data = iface.encodeFunctionResult(f, outs);
            expect(c.decode(data)).to.deep.equal(plain(iface.decodeFunctionResult(f, data).toArray(true)));
          }),
          { seed: SEED, numRuns: RUNS },
        );
      });
    }

    it("abiParams: abi.encode and its decoding equal ethers' AbiCoder (the rating digest's encoding)", () => {
      const types = ["bytes32", "bytes32", "uint64", "uint256"];
      const c = abiParams(types);
      fc.assert(
        fc.property(fc.tuple(...types.map((t) => arb(EthersParamType.from(t)))), (values) => {
          const theirs = AbiCoder.defaultAbiCoder().encode(types, values);
          expect(c.encode(values)).to.equal(theirs);
          expect(c.decode(theirs)).to.deep.equal(values);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });

    it("refuses an out-of-range or malformed argument with a one-line error naming the parameter", () => {
      const rate = abiCodec(TM.getFunction("rate")!);
      const id = entityId("a");
      expect(() => rate.encode([id, id, -1n, id, id, 0n, 0n])).to.throw(FastPathError, /^rate\[factors\]: -1 is out of range for uint256$/);
      expect(() => rate.encode([id, "0x12", 0n, id, id, 0n, 0n])).to.throw(
        FastPathError,
        /^rate\[to\] \(bytes32\): expected 32 bytes, got 1$/,
      );
      expect(() => rate.encode([id, id, 0n, id])).to.throw(FastPathError, /^rate: expected 7 values, got 4$/);
      const join = abiCodec(RPR.getFunction("recordJoin")!);
      expect(() => join.encode([id, id, 2 ** 32, 1])).to.throw(FastPathError, /out of range for uint32/);
    });

    it("refuses malformed return data instead of reading past it", () => {
      const filterAt = abiCodec(RPR.getFunction("filterAt")!);
      const good = RPR.encodeFunctionResult("filterAt", [["0x" + "11".repeat(32), 64, 20, 5, "bafy"]]);
      expect(() => filterAt.decode(good.slice(0, good.length - 64))).to.throw(FastPathError);
      expect(() => abiCodec(RPR.getFunction("isTagUsed")!).decode("0x" + "00".repeat(31) + "02")).to.throw(FastPathError, /not a bool/);
      expect(() => abiCodec(TM.getFunction("pairOf")!).decode("0x")).to.throw(FastPathError, /ends before/);
    });

    it("refuses, when compiled, a type it does not support (fixed-size arrays)", () => {
      const fixed = new Interface(["function f(uint8[3] a)", "function g() returns (string[2][] b)"]);
      expect(() => abiCodec(fixed.getFunction("f")!)).to.throw(
        FastPathError,
        /^f\[a\]: type uint8\[3\] is not supported by the fast path$/,
      );
      expect(() => abiCodec(fixed.getFunction("g")!)).to.throw(FastPathError, /not supported by the fast path/);
    });

    it("refuses an array whose length the return data cannot hold, before reading it", () => {
      const joinView = abiCodec(RPR.getFunction("joinView")!);
      const pool = [hre.ethers.ZeroAddress, 0, 0, "0x" + "00".repeat(32), "0x" + "00".repeat(32)];
      const good = RPR.encodeFunctionResult("joinView", [pool, false, [["0x" + "11".repeat(32), 64, 20, 5, "bafy"]]]);
      expect(joinView.decode(good)[2]).to.have.length(1);
      // the array's length word (after the 5-word pool, the bool and the array's offset): 2^64
      const at = 2 + 7 * 64;
      const huge = good.slice(0, at) + (1n << 64n).toString(16).padStart(64, "0") + good.slice(at + 64);
      expect(() => joinView.decode(huge)).to.throw(
        FastPathError,
        /^joinView result\[filters\]: array of 18446744073709551616 runs past the data$/,
      );
    });
  });

  describe("# eventCodec", () => {
    it("TrustStored: topic and decoded log equal ethers'", () => {
      const e = TM.getEvent("TrustStored")!;
      const c = eventCodec(e);
      expect(c.topic).to.equal(e.topicHash);
      fc.assert(
        fc.property(fc.tuple(...e.inputs.map(arb)), (values) => {
          const log = TM.encodeEventLog(e, values);
          expect(c.decode(log.topics, log.data)).to.deep.equal(plain(TM.decodeEventLog(e, log.data, log.topics).toArray(true)));
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });
  });

  describe("# signTransaction", () => {
    const fields = fc.record({
      chainId: fc.bigInt(1n, (1n << 64n) - 1n),
      nonce: fc.integer({ min: 0, max: 2 ** 40 }),
      gasLimit: fc.bigInt(21_000n, 30_000_000n),
      to: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => hre.ethers.getAddress("0x" + Buffer.from(b).toString("hex"))),
      value: fc.bigInt(0n, (1n << 96n) - 1n),
      data: fc.uint8Array({ maxLength: 300 }).map((b) => "0x" + Buffer.from(b).toString("hex")),
      tip: fc.bigInt(0n, 10n ** 11n),
      extra: fc.bigInt(0n, 10n ** 12n),
    });
    const key = Wallet.createRandom();
    const signer = new BackendSigningKey(key.privateKey);

    it("EIP-1559 (type 2): the raw transaction and its hash equal ethers'", async () => {
      await fc.assert(
        fc.asyncProperty(fields, async (f) => {
          const tx = { chainId: f.chainId, nonce: f.nonce, gasLimit: f.gasLimit, to: f.to, value: f.value, data: f.data };
          const fees = { maxPriorityFeePerGas: f.tip, maxFeePerGas: f.tip + f.extra };
          const ours = signTransaction({ ...tx, ...fees }, (d) => signer.signDigest(d));
          const theirs = await key.signTransaction({ ...tx, ...fees, type: 2 });
          expect(ours.raw).to.equal(theirs);
          expect(ours.hash).to.equal(Transaction.from(theirs).hash);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });

    it("legacy with EIP-155: the raw transaction and its hash equal ethers'", async () => {
      await fc.assert(
        fc.asyncProperty(fields, async (f) => {
          const tx = { chainId: f.chainId, nonce: f.nonce, gasLimit: f.gasLimit, to: f.to, value: f.value, data: f.data };
          const ours = signTransaction({ ...tx, gasPrice: f.extra }, (d) => signer.signDigest(d));
          const theirs = await key.signTransaction({ ...tx, gasPrice: f.extra, type: 0 });
          expect(ours.raw).to.equal(theirs);
          expect(ours.hash).to.equal(Transaction.from(theirs).hash);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });

    it("RLP: long strings and lists use the long forms", () => {
      expect(Buffer.from(rlpEncode(new Uint8Array(56))).toString("hex")).to.equal("b838" + "00".repeat(56));
      expect(Buffer.from(rlpEncode(Uint8Array.of(0x7f))).toString("hex")).to.equal("7f");
      expect(Buffer.from(rlpEncode([])).toString("hex")).to.equal("c0");
      expect(Buffer.from(rlpEncode([new Uint8Array(60)])).toString("hex")).to.equal("f83e" + "b83c" + "00".repeat(60));
    });

    it("refuses a malformed field", () => {
      const base = { chainId: 1n, nonce: 0, gasLimit: 21_000n, value: 0n, data: "0x", gasPrice: 1n };
      expect(() => signTransaction({ ...base, to: "0x1234" }, (d) => signer.signDigest(d))).to.throw(
        FastPathError,
        /to: expected 20 bytes/,
      );
      expect(() => signTransaction({ ...base, to: key.address, nonce: -1 }, (d) => signer.signDigest(d))).to.throw(FastPathError, /nonce/);
    });
  });

  describe("# on the in-process network", () => {
    useTaskSandbox("metatrust-fastpath-");

    it("reads, a send and its receipt equal the ethers path's; a refused send is a one-line ContractRevertError", async () => {
      await hre.run("trust:register", { entity: "fa", type: "organization", account: "fast-a" });
      await hre.run("trust:register", { entity: "fb", type: "organization", account: "fast-b" });
      const d = readDeployment("hardhat");
      const key = Wallet.createRandom();
      const [funder] = await hre.ethers.getSigners();
      await (await funder.sendTransaction({ to: key.address, value: parseEther("1") })).wait();
      const wallet = new ChainWallet(key.privateKey, hre.ethers.provider);
      const tm = attach(TrustManager__factory, d.contracts.TrustManager.address, wallet);
      const fast = direct(tm as never, "TrustManager")!;
      expect(fast.wallet).to.equal(wallet);
      const [a, b] = [entityId("fa"), entityId("fb")];
      expect(await fast.call("entity", [a])).to.deep.equal([plain(((await tm.entity(a)) as unknown as Result).toArray(true))]);
      expect(await fast.call("pairOf", [a, b])).to.deep.equal([plain(((await tm.pairOf(a, b)) as unknown as Result).toArray(true))]);
      // the wallet controls neither: refused by the node (it simulates first), typed, with the revert data
      const e = await rejects(
        fast.send("rate", [a, b, 0n, "0x" + "00".repeat(32), "0x" + "00".repeat(32), 0n, 0n], { event: "TrustStored" }),
      );
      expect(e).to.be.instanceOf(ContractRevertError);
      expect(e.message).to.match(/^TrustManager\.rate: reverted with TrustManager__NotController\(/);
      expect(e.message).to.not.include("\n");
      expect((e as ContractRevertError).revert.name).to.equal("TrustManager__NotController");
      // a mined send: the receipt as ethers reads it
      const reg = await fast.send("register", [entityId("fc"), 2], { event: "EntityRegistered" });
      const r = await reg.wait();
      const theirs = (await hre.ethers.provider.getTransactionReceipt(reg.hash))!;
      expect([r.hash, r.status, r.blockNumber, r.gasUsed, r.to]).to.deep.equal([
        theirs.hash,
        theirs.status,
        theirs.blockNumber,
        theirs.gasUsed,
        theirs.to!.toLowerCase(),
      ]);
      expect(r.logs.map((l) => l.topics[0])).to.deep.equal(theirs.logs.map((l) => l.topics[0]));
      expect(() => parseReceipt({ status: "0x1" })).to.throw(FastPathError, /no logs/);
    });

    it("a send that reverts on-chain (a public chain mines it) is replayed for its typed custom error", async () => {
      const key = Wallet.createRandom();
      const [funder] = await hre.ethers.getSigners();
      await (await funder.sendTransaction({ to: key.address, value: parseEther("1") })).wait();
      const wallet = new ChainWallet(key.privateKey, hre.ethers.provider);
      const fast = direct(
        attach(TrustManager__factory, readDeployment("hardhat").contracts.TrustManager.address, wallet) as never,
        "TrustManager",
      )!;
      const provider = hre.network.provider;
      await provider.send("evm_setAutomine", [false]); // the node takes it without simulating it (rate has a static gas limit)
      try {
        const sent = await fast.send(
          "rate",
          [entityId("nobody"), entityId("fa"), 0n, "0x" + "00".repeat(32), "0x" + "00".repeat(32), 0n, 0n],
          { event: "TrustStored" },
        );
        const waiting = rejects(sent.wait());
        await provider.send("evm_mine", []);
        const e = await waiting;
        expect(e).to.be.instanceOf(ContractRevertError);
        expect(e.message).to.match(
          /^transaction 0x[0-9a-f]{64} reverted on-chain \(block \d+\): TrustManager\.rate: reverted with TrustManager__UnknownEntity\(/,
        );
        expect((await hre.ethers.provider.getTransactionReceipt(sent.hash))!.status).to.equal(0);
      } finally {
        await provider.send("evm_setAutomine", [true]);
      }
    });

    it("a receipt the node answers for another transaction is refused, not read as this one's (h11-red R3)", async () => {
      const mined = await (
        await (await hre.ethers.getSigners())[0].sendTransaction({ to: Wallet.createRandom().address, value: 1n })
      ).wait();
      const theirs = await hre.ethers.provider.send("eth_getTransactionReceipt", [mined!.hash]);
      const asked = "0x" + "ab".repeat(32);
      const node = { send: async () => theirs };
      const e = await rejects(waitReceipt(node, asked));
      expect(e).to.be.instanceOf(FastPathError);
      expect(e.message).to.equal(`waitReceipt: the node answered the receipt of ${mined!.hash.toLowerCase()} for transaction ${asked}`);
      expect((await waitReceipt(hre.ethers.provider as never, mined!.hash)).hash).to.equal(mined!.hash.toLowerCase());
    });

    // h11-red R1: a transaction the node drops (evicted from its pool, replaced) is never mined.
    // The wait polled for its receipt forever (the MSRP's mutex, a rater's step: stranded for
    // good), and the wallet, which counts nonces locally and reads the node's count again only
    // after a failed send, numbered every later transaction past the unused nonce: the node queued
    // them all behind the gap, none was ever mined, and no send failed to tell.
    it("a dropped transaction ends its wait with TransactionDroppedError, and the wallet's next transaction takes its nonce (h11-red R1)", async () => {
      const key = Wallet.createRandom();
      const [funder] = await hre.ethers.getSigners();
      await (await funder.sendTransaction({ to: key.address, value: parseEther("1") })).wait();
      const wallet = new ChainWallet(key.privateKey, hre.ethers.provider);
      const fast = direct(
        attach(TrustManager__factory, readDeployment("hardhat").contracts.TrustManager.address, wallet) as never,
        "TrustManager",
      )!;
      const provider = hre.network.provider;
      await provider.send("evm_setAutomine", [false]);
      try {
        const dropped = await fast.send("register", [entityId("dropped-1"), 2], { event: "EntityRegistered" });
        await provider.send("hardhat_dropTransaction", [dropped.hash]);
        const waiting = rejects(dropped.wait());
        await provider.send("evm_mine", []);
        const e = await waiting;
        expect(e).to.be.instanceOf(TransactionDroppedError);
        expect(e.message).to.equal(
          `waitReceipt: the node no longer knows transaction ${dropped.hash} (dropped or replaced): it will not be mined`,
        );
        const next = await fast.send("register", [entityId("dropped-2"), 2], { event: "EntityRegistered" });
        await provider.send("evm_mine", []);
        expect((await next.wait()).status).to.equal(1);
        expect(await hre.ethers.provider.getTransactionCount(key.address)).to.equal(1);
      } finally {
        await provider.send("evm_setAutomine", [true]);
      }
    });

    it("a contract whose runner takes no raw JSON-RPC has no fast path", () => {
      const tm = attach(TrustManager__factory, readDeployment("hardhat").contracts.TrustManager.address, null);
      expect(direct(tm as never)).to.equal(undefined);
    });
  });
});
