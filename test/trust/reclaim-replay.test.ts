/**
 * Red team h14-red, finding F5 (LOW, closed in session 14): an IdP attestation for `reclaimAvatar`
 * replayed until its deadline, so a former controller took a further avatar back after its owner
 * moved it.
 *
 * The attestation was the EIP-712 `Registration(id, kind, controller, deadline)`, with no nonce or
 * generation, and `reclaimAvatar` refused only the current controller. The owner's account X
 * reclaims her further avatar owl; X's key leaks, so she moves owl to a new account Y with a fresh
 * attestation; whoever holds X's key replayed X's old attestation (its deadline not passed) and owl
 * was X's again: a new generation, Y's era void. With two stale attestations one party could
 * alternate them and spend owl's 255 generations (`GenerationsExhausted`: owl with the last
 * reclaimer for good). Now the IdP signs `AvatarReclaim(id, controller, generation, deadline)` with
 * the id's generation when it attests, checked against `generationOf(id)` (`StaleAttestation`):
 * every reclaim of a registered id moves the generation on, so an attestation serves one reclaim.
 * The replays below are refused and change nothing. Bite: without the generation check in
 * `reclaimAvatar` both replays succeed (checked by removing it).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { Signer } from "ethers";
import { deployTrustFixture, Kind } from "../fixtures/trust";
import { attestReclaim, attestRegistration } from "../../offchain/trust/ledger";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { MITRegistry__factory } from "../../typechain-types";

const label = (s: string) => keccak256(new TextEncoder().encode(`reclaim-replay:${s}`));

async function world() {
  const f = await deployTrustFixture();
  const idp = f.msrp; // the fixture's operator holds IDP_ROLE and signs attestations
  const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, idp);
  const serial = label("alice-serial");
  await mit.issueMIT(toHex(serial), toHex(label("alice-key")), "bafy-params");
  const login = async (avatar: string) =>
    mit.recordLogin(avatar, toHex(serial), toHex(label(`w-${avatar}`)), toHex(label(`v-${avatar}`)), (await time.latest()) + 86_400);
  const account = async () => {
    const w = ethers.Wallet.createRandom().connect(ethers.provider);
    await setBalance(w.address, 10n ** 20n);
    return w as Signer;
  };
  /** the IdP's reclaim attestation for `controller`, naming owl's generation now */
  const attest = async (avatar: string, controller: Signer) => {
    const deadline = BigInt(await time.latest()) + 3600n;
    const generation = await f.trust.generationOf(avatar);
    return { deadline, generation, a: await attestReclaim(idp, f.trust, avatar, await controller.getAddress(), generation, deadline) };
  };
  const [fox, owl] = [toHex(avatarIdOf(serial, "fox")), toHex(avatarIdOf(serial, "owl"))];
  const [alice, x, y] = [await account(), await account(), await account()];
  await login(fox);
  const deadline = BigInt(await time.latest()) + 3600n;
  const fa = await attestRegistration(idp, f.trust, fox, "avatar", await alice.getAddress(), deadline);
  await f.trust.connect(alice).registerAttested(fox, Kind.Avatar, deadline, fa);
  await login(owl);
  return { ...f, owl, x, y, attest, account };
}

describe("reclaimAvatar: an attestation serves one reclaim (h14-red F5)", () => {
  it("alice moves her further avatar from a leaked account X to Y; X's old attestation is refused and changes nothing", async () => {
    const { trust, owl, x, y, attest } = await world();
    const ax = await attest(owl, x);
    await trust.connect(x).reclaimAvatar(owl, ax.generation, ax.deadline, ax.a); // owl is X's (nobody held it: generation 0 stays)
    // X's key leaks: alice moves owl to Y with a fresh attestation
    const ay = await attest(owl, y);
    await trust.connect(y).reclaimAvatar(owl, ay.generation, ay.deadline, ay.a);
    expect((await trust.entity(owl)).controller, "precondition: owl is Y's").to.equal(await y.getAddress());
    const generation = await trust.generationOf(owl);
    expect(generation, "precondition: Y's reclaim moved the generation on").to.equal(ax.generation + 1n);
    const before = await trust.entity(owl);

    // the holder of X's key replays X's attestation, as signed and with the generation now
    await expect(trust.connect(x).reclaimAvatar(owl, ax.generation, ax.deadline, ax.a))
      .to.be.revertedWithCustomError(trust, "TrustManager__StaleAttestation")
      .withArgs(owl, ax.generation, generation);
    await expect(trust.connect(x).reclaimAvatar(owl, generation, ax.deadline, ax.a)).to.be.revertedWithCustomError(
      trust,
      "TrustManager__InvalidAttestation",
    );
    expect(await trust.entity(owl), "X's spent attestation moved owl").to.deep.equal(before);
    expect(await trust.generationOf(owl)).to.equal(generation);
  });

  it("two attestations of one generation: the first used makes the other stale; no pair of them alternates to spend the generations", async () => {
    const { trust, owl, x, y, attest } = await world();
    const ax = await attest(owl, x);
    const ay = await attest(owl, y);
    expect(ay.generation).to.equal(ax.generation);
    await trust.connect(x).reclaimAvatar(owl, ax.generation, ax.deadline, ax.a);
    await trust.connect(y).reclaimAvatar(owl, ay.generation, ay.deadline, ay.a); // owl had no controller before X: generation 0 still
    const g = await trust.generationOf(owl);
    const before = await trust.entity(owl);
    for (const [who, at] of [
      [x, ax],
      [y, ay],
    ] as const) {
      const sent = trust.connect(who).reclaimAvatar(owl, at.generation, at.deadline, at.a);
      if ((await who.getAddress()) === before.controller)
        await expect(sent).to.be.revertedWithCustomError(trust, "TrustManager__EntityExists");
      else await expect(sent).to.be.revertedWithCustomError(trust, "TrustManager__StaleAttestation").withArgs(owl, at.generation, g);
    }
    expect(await trust.entity(owl)).to.deep.equal(before);
    expect(g, "two attestations moved the generation once").to.equal(1n);
  });
});
