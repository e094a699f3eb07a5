/**
 * Red team h16-red2 R7, fixed: a flag set with `trust:flag` names a report anyone can read.
 * Before, the task put keccak256(--evidence text) on chain and stored the text nowhere, so the
 * digest named no block under the CID convention every other flag follows (the pipeline's dag-json
 * report, sha2-256), and a flagged entity, its jurors or an auditor could not read why it was
 * flagged (trust.md §3's role table: "every flag names an IPFS report, so abuse is auditable").
 * Now the task stores a dag-json report in the pipeline's shape (one detection, the operator's
 * text as its reason) and flags with its sha2-256 digest.
 *
 * Session 16's final read, fixed: the task stored the report before the chain could refuse the flag
 * (no role, a stale generation), leaving a report no flag names, and the report named no generation.
 * Now it simulates the flag first, then stores, then sends; the report names the generation.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { useTaskSandbox } from "./helpers/tasks";
import { entityId } from "../offchain/trust/ledger";
import { readDeployment } from "../offchain/chain/deployments";
import { localState } from "../tasks/lib/context";
import { TrustManager__factory } from "../typechain-types";

describe("trust:flag: the flag names its report on IPFS (h16-red2 R7)", function () {
  this.timeout(120_000);
  useTaskSandbox("h16-red2-r7-");

  it("the flag's on-chain digest names a stored block that names the entity", async () => {
    await hre.run("trust:register", { entity: "mallory", type: "avatar", account: "4" });
    const r = await hre.run("trust:flag", {
      entity: "mallory",
      kind: "bad-mouthing",
      evidence: "rated five honest providers 0.05 in one epoch",
    });
    const [admin] = await hre.ethers.getSigners();
    const tm = TrustManager__factory.connect(readDeployment("hardhat").contracts.TrustManager.address, admin);
    const logs = await tm.queryFilter(tm.filters.EntityFlagged(entityId("mallory")));
    expect(logs, "setup: one flag").to.have.length(1);
    const d = Uint8Array.from(Buffer.from(logs[0].args.evidence.slice(2), "hex"));
    const store = localState(hre).store;
    let found: Uint8Array | undefined;
    for (const codec of [0x0129, 0x55]) {
      const cid = CID.createV1(codec, Digest.create(0x12, d)).toString();
      if (await store.has(cid)) found = await store.get(cid);
    }
    const names = found !== undefined && Buffer.from(found).toString("utf8").toLowerCase().includes(entityId("mallory").slice(2));
    expect(names, "the flag's evidence digest names a block on the deployment's IPFS store, naming the entity").to.equal(true);
    // the report is the pipeline's shape: one detection of the kind, the operator's text its reason
    const report = (await store.getJson(r.cid)) as { detections: { entity: string; kind: number; reason: string }[] };
    expect(CID.createV1(0x0129, Digest.create(0x12, d)).toString()).to.equal(r.cid);
    // and it names the era it judges: the generation the flag names (session 16's final read)
    expect(report.detections).to.deep.equal([
      {
        entity: entityId("mallory"),
        kind: 3,
        kindName: "bad-mouthing",
        score: 1,
        reason: "rated five honest providers 0.05 in one epoch",
        generation: Number(await tm.generationOf(entityId("mallory"))),
      },
    ]);
  });

  it("a flag the chain refuses stores no report: the detector's role revoked after the task's own check is caught by the simulation (session 16's final read)", async () => {
    await hre.run("trust:register", { entity: "trent", type: "avatar", account: "6" });
    const [admin] = await hre.ethers.getSigners();
    const tm = TrustManager__factory.connect(readDeployment("hardhat").contracts.TrustManager.address, admin);
    const role = await tm.DETECTOR_ROLE();
    const ipfs = path.join(localState(hre).dir, "ipfs");
    const blocks = () => (fs.existsSync(ipfs) ? fs.readdirSync(ipfs, { recursive: true }).length : 0);
    const before = blocks();
    // the role is revoked just after the task read that its account holds it (a revocation mined meanwhile)
    // (hardhat-ethers sends every call through the network provider's `send`)
    const provider = hre.network.provider as unknown as { send: (method: string, params?: unknown[]) => Promise<unknown> };
    const send = provider.send.bind(provider);
    const hasRole = tm.interface.getFunction("hasRole").selector;
    let detector: string | undefined;
    provider.send = async (method, params) => {
      const r = await send(method, params);
      const call = method === "eth_call" ? (params?.[0] as { to?: string; data?: string }) : undefined;
      if (!detector && call?.data?.startsWith(hasRole) && call.to?.toLowerCase() === String(tm.target).toLowerCase()) {
        const [asked, who] = tm.interface.decodeFunctionData("hasRole", call.data);
        if (asked === role) {
          detector = String(who);
          provider.send = send;
          await (await tm.revokeRole(role, detector)).wait();
        }
      }
      return r;
    };
    let err: Error | undefined;
    try {
      await hre
        .run("trust:flag", { entity: "trent", kind: "sybil", evidence: "forty accounts from one funder" })
        .catch((e: Error) => (err = e));
    } finally {
      provider.send = send;
      if (detector) await (await tm.grantRole(role, detector)).wait();
    }
    expect(detector, "setup: the role was revoked after the task's check").to.be.a("string");
    expect(err?.message).to.match(/^trust:flag: the TrustManager refuses the flag of --entity trent: AccessControlUnauthorizedAccount\(/);
    expect(err?.message.split("\n")).to.have.length(1);
    expect(blocks(), "no report stored for a refused flag").to.equal(before);
    expect((await tm.entity(entityId("trent"))).flags & 0x7fn).to.equal(0n);
  });

  it("an empty --evidence is refused and nothing is flagged", async () => {
    await hre.run("trust:register", { entity: "oscar", type: "avatar", account: "5" });
    let err: Error | undefined;
    await hre.run("trust:flag", { entity: "oscar", kind: "sybil", evidence: "  " }).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/^trust:flag: --evidence is empty/);
    const [admin] = await hre.ethers.getSigners();
    const tm = TrustManager__factory.connect(readDeployment("hardhat").contracts.TrustManager.address, admin);
    expect((await tm.entity(entityId("oscar"))).flags & 0x7fn).to.equal(0n);
  });
});
