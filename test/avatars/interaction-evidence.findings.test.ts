/**
 * Residual of h11-red2 V1 (open, found while fixing V1 in session 11): evidence of type
 * "interaction" is not bound to a handshake.
 *
 * After the V1 fix, a transcript signature (type challenge) is evidence only with the reporter's
 * own signature on the same transcript, and a login signature is no evidence. A message of type
 * interaction is still judged alone: any body the accused's driver signed, whoever holds it. An
 * avatar that signs an interaction message outside any session (to a stranger, or in public) can be
 * traced on it by anyone, without an authenticated interaction with the reporter (the paper's
 * §V-B1 has the verifier of an authenticated interaction report). Nothing in this repository signs
 * interaction messages yet (only tests do: test/services/idp-red.test.ts, which dates evidence by
 * platform receipts with such messages). Fix: bind interaction evidence to a session: body =
 * transcript t || payload, and the evidence carries the handshake (both sides' signatures on t, as
 * Handshake does for transcript evidence, plus the accused's), so judgeTrace checks the prefix and
 * both signatures on t; then idp-red's receipts tests must sign inside a session.
 * This test fails while the finding is open.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { MITRegistry } from "../../typechain-types";
import { FileContentStore } from "../../offchain/storage/content-store";
import { AvatarParty, AvatarProtocolError, IdentityProvider } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { avatarIdOf, AvatarContext, ChallengeBook, Evidence, issueUserMit, login, trace } from "../../offchain/avatars/protocols";
import { Scope, cpsPSign } from "../../offchain/crypto/cps";
import { toBytes } from "../../offchain/crypto/bytes";

async function deployFixture() {
  const [idpAccount, ...others] = await ethers.getSigners();
  const registry = (await (await ethers.getContractFactory("MITRegistry")).deploy(idpAccount.address)) as unknown as MITRegistry;
  const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-interaction-")));
  return { registry, store, others };
}

describe("h11-red2 V1 residual: interaction evidence without a handshake (findings)", () => {
  it("a message bob signed outside any session, filed by a stranger, traces bob", async () => {
    const f = await loadFixture(deployFixture);
    const idp = new IdentityProvider();
    const offset = (await time.latest()) + 1_000 - Math.floor(Date.now() / 1000);
    const ctx: AvatarContext = { registry: f.registry, idp, store: f.store, now: () => Math.floor(Date.now() / 1000) + offset };
    await time.setNextBlockTimestamp(ctx.now());
    const eye = new SimulatedEye(301);
    const bob = new AvatarParty("bob");
    await issueUserMit(ctx, bob, "Bob Builder", eye);
    const c = (await login(ctx, new ChallengeBook(), bob, eye, { avatarId: avatarIdOf(bob.mit!.serial, "bob"), appearance: "whale" }))
      .credential;
    const message = { type: Scope.interaction, time: ctx.now(), body: toBytes("hello, world (a public post)") };
    const e: Evidence = {
      avatarId: c.avatarId,
      ownerSerial: bob.mit!.serial,
      ownerPk: bob.keys.pk,
      driverSerial: bob.mit!.serial,
      warrant: c.warrant,
      o: c.o,
      message,
      proxySig: cpsPSign(bob.keys, c.warrant, c.o, message),
    };
    const outcome = await trace(ctx, f.registry.connect(f.others[7]), e).then(
      (r) => r.realId,
      (err: unknown) => {
        expect(err).to.be.instanceOf(AvatarProtocolError);
        return undefined;
      },
    );
    expect(outcome, "a signature given outside any session traced bob").to.equal(undefined);
  });
});
