import { expect } from "chai";
import fs from "fs";
import path from "path";
import { JsonRpcProvider } from "ethers";
import { startNode, RunningNode } from "../helpers/node";
import type { Deployment } from "../../offchain/chain/deployments";

describe("e2e: hardhat node over JSON-RPC", function () {
  this.timeout(180_000);
  let node: RunningNode;

  before(async () => {
    node = await startNode();
  });
  after(async () => {
    await node?.stop();
  });

  it("deploy --network localhost records the deployment, and the chain agrees", async () => {
    const r = await node.run(["deploy"]);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    expect(r.stdout).to.match(/EIP-2537 available/);
    const file = path.join(node.env.METATRUST_DEPLOYMENTS_DIR!, "localhost.json");
    const d = JSON.parse(fs.readFileSync(file, "utf8")) as Deployment;
    expect(d.network).to.equal("localhost");
    expect(d.chainId).to.equal(31337);
    const provider = new JsonRpcProvider(node.url);
    for (const c of Object.values(d.contracts)) expect(await provider.getCode(c.address)).to.not.equal("0x");
    provider.destroy();
  });

  it("the demo runs against the node and exits 0", async () => {
    const r = await node.run(["run", "scripts/demo.ts"]);
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    expect(r.stdout).to.match(/checks\s+\d+ passed, 0 failed/);
    expect(r.stdout).to.match(/network\s+localhost/);
  });
});
