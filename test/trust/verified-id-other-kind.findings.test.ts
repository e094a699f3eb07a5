/**
 * Red team h15-red3 finding H2 (open): the rule "an avatar or a resource node whose registry
 * verifies its id is registered by its owner only, with registerAttested; plain register refuses
 * it (AttestationRequired)" (docs/specs/trust.md §3, issue 16, identity squatting) is checked only
 * when the caller asks for kind Avatar or ResourceNode. `register(id, Organization)` (or Authority)
 * of a logged-in avatar's id, or of a joined PID, is accepted from anyone without an attestation:
 * the squatter then holds the verified identity's id as an entity of its own, rates, is rated and
 * opens disputes as that id (every TrustStored and DisputeOpened names the owner's avatar id) until
 * the owner spends an IdP attestation and a transaction to take it back. Fails while the hole is
 * open: the stranger's plain registration of the verified ids goes through.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployTrustFixture, Kind } from "../fixtures/trust";
import { avatarOwner } from "../helpers/avatar-owner";
import { ResourcePoolRegistry__factory } from "../../typechain-types";

/** secp256k1's generator, SEC1 compressed: a valid pool key. */
const G = "0x0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
const h = (s: string) => ethers.keccak256(ethers.toUtf8Bytes(s));

async function fixture() {
  const f = await deployTrustFixture();
  const o = await avatarOwner(f, "verified-id-other-kind");
  await o.login(o.fox); // fox is verified by the MITRegistry: only alice may register it
  const pools = ResourcePoolRegistry__factory.connect(f.deployment.contracts.ResourcePoolRegistry.address, f.msrp);
  await pools.createPool(77, await f.msrp.getAddress(), h("pid-rpm"), G);
  await pools.recordJoin(h("rn-pid"), h("rn-tag"), 77, 1); // a joined PID: only its RN may register it
  return { ...f, ...o, pid: h("rn-pid"), stranger: await o.account() };
}

describe("h15-red3 H2 (findings): a verified identity's id is registered by its owner only, whatever the kind asked", () => {
  it("a stranger's plain register of the ids as the kind it asks for is refused (AttestationRequired)", async () => {
    const f = await loadFixture(fixture);
    // the rule holds for the identity's own kind
    await expect(f.trust.connect(f.stranger).register(f.fox, Kind.Avatar)).to.be.revertedWithCustomError(
      f.trust,
      "TrustManager__AttestationRequired",
    );
    await expect(f.trust.connect(f.stranger).register(f.pid, Kind.ResourceNode)).to.be.revertedWithCustomError(
      f.trust,
      "TrustManager__AttestationRequired",
    );
    // another kind, the same id: each may be refused (the secure behaviour)
    await f.trust
      .connect(f.stranger)
      .register(f.fox, Kind.Organization)
      .catch(() => undefined);
    await f.trust
      .connect(f.stranger)
      .register(f.pid, Kind.Authority)
      .catch(() => undefined);
    const me = await f.stranger.getAddress();
    const held = [(await f.trust.entity(f.fox)).controller, (await f.trust.entity(f.pid)).controller].filter((c) => c === me);
    // the finding: the stranger controls both verified ids (as an organization and an authority)
    expect(held.length, "verified ids squatted under another kind").to.equal(0);
  });
});
