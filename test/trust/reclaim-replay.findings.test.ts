/**
 * Red team h14-red, finding F5 (open, LOW): an IdP attestation for `reclaimAvatar` is replayable
 * until its deadline, so a former controller takes a further avatar back after its owner moved it.
 *
 * `reclaimAvatar(id, deadline, attestation)` checks the IdP's EIP-712 `Registration(id, kind,
 * controller, deadline)` — no nonce, no generation — and refuses only the current controller. The
 * owner's account X reclaims her further avatar owl; X's key leaks, so she moves owl to a new account
 * Y with a fresh attestation. Whoever holds X's key replays X's old attestation (its deadline not
 * passed) and owl is X's again: a new generation, Y's era void. With two such stale attestations one
 * party can alternate them and spend owl's 255 generations (then `GenerationsExhausted`: owl stays
 * with the last reclaimer for good). Fix: bind the attestation to the id's current generation
 * (`Registration(id, kind, controller, generation, deadline)`, checked against `generationOf(id)`),
 * or mark an attestation digest spent. Fails while the replay succeeds.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { Signer } from "ethers";
import { deployTrustFixture, Kind } from "../fixtures/trust";
import { attestRegistration } from "../../offchain/trust/ledger";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { MITRegistry__factory } from "../../typechain-types";

const label = (s: string) => keccak256(new TextEncoder().encode(`reclaim-replay:${s}`));

describe("findings h14-red F5: a reclaimAvatar attestation replays until its deadline", () => {
  it("alice moves her further avatar from a leaked account X to Y; X's old attestation takes it back", async () => {
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
    const attest = async (avatar: string, controller: Signer) => {
      const deadline = BigInt(await time.latest()) + 3600n;
      return { deadline, a: await attestRegistration(idp, f.trust, avatar, "avatar", await controller.getAddress(), deadline) };
    };
    const [fox, owl] = [toHex(avatarIdOf(serial, "fox")), toHex(avatarIdOf(serial, "owl"))];
    const [alice, x, y] = [await account(), await account(), await account()];
    await login(fox);
    const fa = await attest(fox, alice);
    await f.trust.connect(alice).registerAttested(fox, Kind.Avatar, fa.deadline, fa.a);
    await login(owl);

    const ax = await attest(owl, x);
    await f.trust.connect(x).reclaimAvatar(owl, ax.deadline, ax.a); // owl is X's
    // X's key leaks: alice moves owl to Y with a fresh attestation
    const ay = await attest(owl, y);
    await f.trust.connect(y).reclaimAvatar(owl, ay.deadline, ay.a);
    expect((await f.trust.entity(owl)).controller, "precondition: owl is Y's").to.equal(await y.getAddress());
    const generation = await f.trust.generationOf(owl);

    // the holder of X's key replays X's attestation
    await f.trust
      .connect(x)
      .reclaimAvatar(owl, ax.deadline, ax.a)
      .then(
        () => undefined,
        () => undefined,
      );
    expect(
      (await f.trust.entity(owl)).controller,
      `X's spent attestation took owl back from Y (generation ${generation} -> ${await f.trust.generationOf(owl)})`,
    ).to.equal(await y.getAddress());
  });
});
