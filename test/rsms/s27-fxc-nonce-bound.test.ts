/**
 * s27-fxc (F3 of s27-rtc, its bound): a journaled join resends recordJoin after a send the node refuses
 * for its nonce (flows.ts sendJournaled), at most NONCE_RETRIES times. A node that refuses every send
 * (here the in-process network patched to answer "nonce too low") ends the join after 1 + NONCE_RETRIES
 * sends with the node's error, every intent dropped, nothing recorded, nothing in the keystore changed.
 * The resend itself: test/rsms/s27-rtc-nonce.test.ts.
 */
import { expect } from "chai";
import hre from "hardhat";
import { settled } from "../../offchain/storage/keystore";
import { joinViewsSettled } from "../../offchain/rsms/flows";
import { NONCE_RETRIES } from "../../offchain/chain/sender";
import { RsmsLedger } from "../../offchain/rsms/ledger";
import { attach } from "../../offchain/chain/contracts";
import { ResourcePoolRegistry__factory } from "../../typechain-types";
import { readDeployment } from "../../offchain/chain/deployments";
import { useRsmsTaskSandbox, joinQuietly } from "../helpers/tasks";

describe("s27-fxc: a journaled join whose every send the node refuses for its nonce", function () {
  this.timeout(180_000);
  const sandbox = useRsmsTaskSandbox("metatrust-s27fxc-nonce-", ["b1", "b2"]);
  const join = (rn: string) => joinQuietly(rn);
  const reader = () =>
    new RsmsLedger(
      attach(ResourcePoolRegistry__factory, readDeployment("hardhat").contracts.ResourcePoolRegistry.address, hre.ethers.provider),
    );

  it("gives up after 1 + NONCE_RETRIES sends: the node's error, no intent left, nothing recorded or committed", async () => {
    await join("b1");
    await settled();
    await joinViewsSettled();
    const before = JSON.stringify(sandbox.keystore().load("rsms-msrp"));
    const count = await reader().joinCount();
    const p = hre.network.provider as unknown as {
      request: (a: { method: string; params?: unknown[] }) => Promise<unknown>;
      send?: (m: string, params?: unknown[]) => Promise<unknown>;
    };
    const [request, send] = [p.request, p.send];
    let sends = 0;
    const refuse = () => {
      sends++;
      throw Object.assign(new Error("Nonce too low. Expected nonce to be 9 but got 3."), { code: -32000 });
    };
    p.request = async (a) => (a.method === "eth_sendRawTransaction" ? refuse() : request.call(p, a));
    if (send) p.send = async (m, params) => (m === "eth_sendRawTransaction" ? refuse() : send.call(p, m, params));
    let out: unknown;
    try {
      out = await join("b2").catch((e: Error) => e);
    } finally {
      p.request = request;
      if (send) p.send = send;
    }
    await settled();
    expect(String(out)).to.match(/Nonce too low/);
    expect(sends).to.equal(1 + NONCE_RETRIES);
    expect(sandbox.keystore().intents(), "every refused send's intent is dropped").to.deep.equal([]);
    expect(await reader().joinCount()).to.equal(count);
    expect(JSON.stringify(sandbox.keystore().load("rsms-msrp"))).to.equal(before);
    expect(sandbox.keystore().load("rsms-rn-b2")).to.deep.include({ joined: false });
    // and the next join, the node taking it again, goes through
    await join("b2");
    await settled();
    expect(await reader().joinCount()).to.equal(count + 1);
  });
});
