import { expect } from "chai";
import hre from "hardhat";
import { Wallet, keccak256, parseEther } from "ethers";
import type { EIP1193Provider, RequestArguments } from "hardhat/types";
import { EventEmitter } from "events";
import { RetryingProvider, isDroppedConnection } from "../../offchain/chain/transport";

/** undici's error for a request sent on a socket the server had closed. */
const dropped = () => Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });

/** A provider whose answers are scripted per call: an Error is thrown, anything else returned. */
function scripted(answers: unknown[]) {
  const calls: string[] = [];
  const p = Object.assign(new EventEmitter(), {
    async request(args: RequestArguments) {
      calls.push(args.method);
      const a = answers.shift();
      if (a instanceof Error) throw a;
      return a;
    },
  }) as unknown as EIP1193Provider;
  return { p, calls };
}

describe("chain/transport: a request lost to a dropped connection is sent again when that is safe", () => {
  it("recognises a dropped connection and nothing else", () => {
    expect(isDroppedConnection(dropped())).to.equal(true);
    expect(isDroppedConnection(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }))).to.equal(true);
    expect(isDroppedConnection(new Error("execution reverted"))).to.equal(false);
    // fetch's form (the service client, chain/dropped.ts): a TypeError whose cause is undici's error
    const fetchFailed = (cause: object) => Object.assign(new TypeError("fetch failed"), { cause });
    expect(isDroppedConnection(fetchFailed({ code: "UND_ERR_CLOSED" }))).to.equal(true);
    expect(isDroppedConnection(fetchFailed({ code: "UND_ERR_SOCKET" }))).to.equal(true);
    expect(isDroppedConnection(fetchFailed(new Error("other side closed")))).to.equal(true); // no code
    expect(isDroppedConnection(fetchFailed({ code: "ECONNREFUSED" }))).to.equal(false); // nothing was sent
    expect(isDroppedConnection(fetchFailed({ code: "UND_ERR_HEADERS_TIMEOUT" }))).to.equal(false);
  });

  it("a read is sent again and answered; a node's own error is not retried", async () => {
    const a = scripted([dropped(), "0x2a"]);
    expect(await new RetryingProvider(a.p, 2, 1).request({ method: "eth_blockNumber" })).to.equal("0x2a");
    expect(a.calls).to.deep.equal(["eth_blockNumber", "eth_blockNumber"]);
    const b = scripted([new Error("execution reverted"), "0x"]);
    await expectRejected(new RetryingProvider(b.p, 2, 1).request({ method: "eth_call" }), /execution reverted/);
    expect(b.calls).to.have.length(1);
  });

  it("gives up after the retries", async () => {
    const a = scripted([dropped(), dropped(), dropped(), "0x1"]);
    await expectRejected(new RetryingProvider(a.p, 2, 1).request({ method: "eth_chainId" }), /other side closed/);
    expect(a.calls).to.have.length(3);
  });

  it("eth_sendTransaction is never sent twice (the node assigns the nonce)", async () => {
    const a = scripted([dropped(), "0xhash"]);
    await expectRejected(new RetryingProvider(a.p, 2, 1).request({ method: "eth_sendTransaction", params: [{}] }), /other side closed/);
    expect(a.calls).to.have.length(1);
  });

  it("a raw transaction that did land the first time is answered with its hash on the retry", async () => {
    const raw = await Wallet.createRandom().signTransaction({
      to: Wallet.createRandom().address,
      value: 1n,
      chainId: 1n,
      nonce: 0,
      gasLimit: 21_000n,
      gasPrice: 1n,
    });
    const a = scripted([dropped(), new Error("already known")]);
    expect(await new RetryingProvider(a.p, 2, 1).request({ method: "eth_sendRawTransaction", params: [raw] })).to.equal(keccak256(raw));
    // but a first refusal is the node's answer, not a lost one
    const b = scripted([new Error("nonce too low")]);
    await expectRejected(new RetryingProvider(b.p, 2, 1).request({ method: "eth_sendRawTransaction", params: [raw] }), /nonce too low/);
  });

  // h11-red R2: "nonce too low" on the retry says that *a* transaction used the nonce, not that this
  // one did. Another sender of the account (a second process, a copied keystore, the wallet's own
  // re-read after a failure) may have taken it while the first attempt was lost before reaching the
  // node: answered with this transaction's hash, the caller waited forever for a receipt that can
  // never exist, and the wallet kept counting past a nonce it never used.
  it("a retry refused for its nonce is answered with the hash only if the node has this very transaction", async () => {
    const raw = await Wallet.createRandom().signTransaction({
      to: Wallet.createRandom().address,
      value: 1n,
      chainId: 1n,
      nonce: 0,
      gasLimit: 21_000n,
      gasPrice: 1n,
    });
    // the nonce was used by another transaction: the node does not know this one
    const a = scripted([dropped(), new Error("nonce too low"), null]);
    await expectRejected(new RetryingProvider(a.p, 2, 1).request({ method: "eth_sendRawTransaction", params: [raw] }), /nonce too low/);
    expect(a.calls).to.deep.equal(["eth_sendRawTransaction", "eth_sendRawTransaction", "eth_getTransactionByHash"]);
    // the first attempt did land (and was mined): the node knows it
    const b = scripted([dropped(), new Error("nonce too low"), { hash: keccak256(raw) }]);
    expect(await new RetryingProvider(b.p, 2, 1).request({ method: "eth_sendRawTransaction", params: [raw] })).to.equal(keccak256(raw));
  });

  it("on the in-process network: a lost first attempt whose nonce another sender took is refused, not answered with its hash", async () => {
    const key = Wallet.createRandom();
    const [funder] = await hre.ethers.getSigners();
    await (await funder.sendTransaction({ to: key.address, value: parseEther("1") })).wait();
    const { chainId } = await hre.ethers.provider.getNetwork();
    const fee = { chainId, gasLimit: 21_000n, maxFeePerGas: parseEther("0.000001"), maxPriorityFeePerGas: 1n };
    const mine = await key.signTransaction({ ...fee, to: Wallet.createRandom().address, value: 1n, nonce: 0 });
    const theirs = await key.signTransaction({ ...fee, to: Wallet.createRandom().address, value: 2n, nonce: 0 });
    // the first attempt of `mine` is lost on the way; meanwhile the other sender's transaction is mined
    let lost = false;
    const node = hre.network.provider;
    const flaky = Object.assign(new EventEmitter(), {
      async request(args: RequestArguments) {
        if (args.method === "eth_sendRawTransaction" && !lost) {
          lost = true;
          await node.request({ method: "eth_sendRawTransaction", params: [theirs] });
          throw dropped();
        }
        return node.request(args);
      },
    }) as unknown as EIP1193Provider;
    await expectRejected(new RetryingProvider(flaky, 2, 1).request({ method: "eth_sendRawTransaction", params: [mine] }), /nonce/i);
    expect(await node.request({ method: "eth_getTransactionByHash", params: [keccak256(mine)] })).to.equal(null);
  });
});

async function expectRejected(p: Promise<unknown>, msg: RegExp) {
  try {
    await p;
  } catch (e) {
    expect((e as Error).message).to.match(msg);
    return;
  }
  expect.fail("expected a rejection");
}
