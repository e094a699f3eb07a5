/**
 * Finding (red team h16-red2, R7): a flag set with `trust:flag` names no report anyone can read.
 * The task puts keccak256(--evidence text) on chain with the flag and stores the text nowhere:
 * not on IPFS, not in the keystore. The on-chain digest is not the sha2-256 digest of any block,
 * so the CID convention every other flag follows (the pipeline's dag-json report, sha2-256:
 * `EntityFlagged.evidence` -> CIDv1) names nothing, and a flagged entity, its jurors in a flag
 * contest, or an auditor cannot read why it was flagged. docs/specs/trust.md §3's role table says
 * "every flag names an IPFS report, so abuse is auditable"; this path makes the detector's manual
 * flags unauditable, and a free text names no observation in any case.
 *
 * Secure behaviour asserted: the digest a manual flag puts on chain names a block on the
 * deployment's IPFS store (dag-json or raw CIDv1 of the digest) that names the flagged entity.
 */
import { expect } from "chai";
import hre from "hardhat";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { useTaskSandbox } from "./helpers/tasks";
import { entityId } from "../offchain/trust/ledger";
import { readDeployment } from "../offchain/chain/deployments";
import { localState } from "../tasks/lib/context";
import { TrustManager__factory } from "../typechain-types";

describe("finding R7 (h16-red2): trust:flag's evidence is on no IPFS store", function () {
  this.timeout(120_000);
  useTaskSandbox("h16-red2-r7-");

  it("the flag's on-chain digest names a stored block that names the entity", async () => {
    await hre.run("trust:register", { entity: "mallory", type: "avatar", account: "4" });
    await hre.run("trust:flag", { entity: "mallory", kind: "bad-mouthing", evidence: "rated five honest providers 0.05 in one epoch" });
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
  });
});
