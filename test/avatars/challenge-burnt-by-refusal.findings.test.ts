/**
 * Open finding (red team h16-red R2): a refused login response spends the challenge it names.
 *
 * verifyLogin (and verifyDelegation) call `server.consume(r.challenge, now)` first, before any
 * check of the response; the IdP service's ChallengeStore.spend then marks the challenge used by
 * that request. The challenge and the envelope's session travel in clear (the session is an
 * unsigned envelope field, Scheme.None), so a network attacker who sees alice's challenge reply
 * sends any well-formed response naming it (here: his own signatures, the wrong eye) in her
 * session: it is refused (a rejected input) but the challenge is gone, and alice's genuine
 * response, arriving a moment later, is STALE_CHALLENGE. She has to start over (a new challenge,
 * a new iris capture), and the attacker does it again: no login or delegation goes through for as
 * long as he watches. The class rule "a rejected input changes nothing" is broken.
 *
 * The secure behaviour asserted: after the forged response is refused, alice's genuine response
 * to the same challenge is accepted.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deploySystemFixture } from "../fixtures/system";
import { MITRegistry__factory } from "../../typechain-types";
import { FileContentStore } from "../../offchain/storage/content-store";
import { AvatarParty, AvatarProtocolError, IdentityProvider } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { ChallengeBook, avatarIdOf, buildLoginResponse, issueUserMit, verifyLogin } from "../../offchain/avatars/protocols";
import { keccak256 } from "../../offchain/crypto/hash";

async function avatarsFixture() {
  const sys = await deploySystemFixture();
  const registry = MITRegistry__factory.connect(sys.deployment.contracts.MITRegistry.address, sys.msrp);
  const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-avatars-")));
  return { ...sys, registry, store };
}

describe("avatars: finding h16-red R2, a refused response spends the challenge", () => {
  it("alice's genuine login response is accepted after a forged response naming her challenge was refused", async () => {
    const f = await loadFixture(avatarsFixture);
    const idp = new IdentityProvider();
    const offset = (await time.latest()) + 1_000 - Math.floor(Date.now() / 1000);
    const ctx = { registry: f.registry, idp, store: f.store, now: () => Math.floor(Date.now() / 1000) + offset };
    await time.setNextBlockTimestamp(ctx.now());
    const alice = new AvatarParty("alice");
    const mallory = new AvatarParty("mallory");
    const eyes = { alice: new SimulatedEye(1), mallory: new SimulatedEye(7) };
    await issueUserMit(ctx, alice, "Alice Liddell", eyes.alice);
    await issueUserMit(ctx, mallory, "Mallory", eyes.mallory);
    const server = new ChallengeBook();
    const fox = avatarIdOf(alice.mit!.serial, "fox");
    const vid = keccak256(new TextEncoder().encode("VID:fox"));

    // the server's challenge to alice, seen on the wire
    const challenge = server.issue(ctx.now());
    // mallory's response in alice's name with her challenge: his keys, his eye; refused
    const forged = buildLoginResponse(ctx, mallory, eyes.mallory.capture(), challenge, fox, vid, ctx.now());
    let refused: unknown;
    try {
      await verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, forged);
    } catch (e) {
      refused = e;
    }
    expect(refused, "the forged response").to.be.instanceOf(AvatarProtocolError);

    // alice's genuine response to the same challenge
    const genuine = buildLoginResponse(ctx, alice, eyes.alice.capture(), challenge, fox, vid, ctx.now());
    let err: unknown;
    try {
      await verifyLogin(ctx, server, alice.mit!.serial, alice.keys.pk, genuine);
    } catch (e) {
      err = e;
    }
    expect(err === undefined ? "accepted" : (err as AvatarProtocolError).reason, "alice's genuine login").to.equal("accepted");
  });
});
