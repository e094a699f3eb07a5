/**
 * A verified identity's id is registered by its owner only, whatever kind the caller asks for
 * (red team h15-red3 H2, fixed): "an avatar or a resource node whose registry verifies its id is
 * registered by its owner only, with registerAttested; plain register refuses it
 * (AttestationRequired)" (docs/specs/trust.md §3, issue 16, identity squatting). Before the fix
 * `register` asked the registries only for kinds Avatar and ResourceNode, so anyone registered a
 * logged-in avatar's id or a joined PID as an Organization or an Authority without an attestation
 * and rated, was rated and opened disputes as that id. Now every kind is refused, and the refusal
 * changes nothing.
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

describe("TrustManager.register: a verified identity's id is registered by its owner only, whatever the kind asked", () => {
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
    // another kind, the same id: refused too, naming the registry that verifies it
    for (const kind of [Kind.Organization, Kind.Authority, Kind.ResourceNode])
      await expect(f.trust.connect(f.stranger).register(f.fox, kind))
        .to.be.revertedWithCustomError(f.trust, "TrustManager__AttestationRequired")
        .withArgs(f.fox, Kind.Avatar);
    for (const kind of [Kind.Organization, Kind.Authority, Kind.Avatar])
      await expect(f.trust.connect(f.stranger).register(f.pid, kind))
        .to.be.revertedWithCustomError(f.trust, "TrustManager__AttestationRequired")
        .withArgs(f.pid, Kind.ResourceNode);
    // nothing changed: neither id is registered
    expect((await f.trust.entity(f.fox)).kind).to.equal(0n);
    expect((await f.trust.entity(f.pid)).kind).to.equal(0n);
    // an id no registry verifies is still registered by anyone, as any kind
    await expect(f.trust.connect(f.stranger).register(h("an organization"), Kind.Organization)).to.emit(f.trust, "EntityRegistered");
  });
});
