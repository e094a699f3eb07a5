/**
 * s20-fixconsent (s20-redm F6): `mssa:register --cancel` lets the user cancel her pending
 * registration at a place herself (e.g. one stranded behind a verifier that lost its seat), which
 * also withdraws the consents she signed there before (s20-redm F3). Refused in one line, changing
 * nothing, when nothing is pending.
 */
import { expect } from "chai";
import hre from "hardhat";
import { rejects, useTaskSandbox } from "./helpers/tasks";

describe("s20-fixconsent: mssa:register --cancel", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-s20-register-cancel-");

  it("cancels the user's pending registration as the user and bumps her consent nonce; refused when nothing is pending", async () => {
    const { CredentialLedger__factory } = await import("../typechain-types");
    const { deployedAddress } = await import("../tasks/lib/context");
    const { placeId } = await import("../offchain/mssa/registration");
    const { consentToRegistration } = await import("../offchain/mssa/ledger");
    const signers = await hre.ethers.getSigners();
    const ledger = CredentialLedger__factory.connect(await deployedAddress(hre, "CredentialLedger"), signers[0]);
    const place = "PL-s20-cancel";
    const user = signers[5];
    const nothing = await rejects(hre.run("mssa:register", { user: user.address, place, cancel: true }));
    expect(nothing.message.split("\n")[0]).to.equal(
      `mssa:register: --cancel: --user ${user.address} has no pending registration at ${place}`,
    );
    await (await ledger.setPlace(placeId(place), [signers[1].address, signers[2].address], 2)).wait();
    const commitment = hre.ethers.id("s20 cancel commitment");
    const nullifier = hre.ethers.id("s20 cancel nullifier");
    const c = await consentToRegistration(ledger, user, placeId(place), commitment, nullifier, commitment);
    await (
      await ledger
        .connect(signers[1])
        .propose(placeId(place), user.address, commitment, nullifier, hre.ethers.ZeroHash, commitment, c.deadline, c.signature)
    ).wait();
    const id = await ledger.registrationId(placeId(place), user.address, commitment);
    expect((await ledger.registration(id)).status).to.equal(1n);
    const bad = await rejects(hre.run("mssa:register", { user: user.address, place, cancel: true, elector: true }));
    expect(bad.message.split("\n")[0]).to.equal("mssa:register: --cancel registers nothing: drop --elector");
    expect((await ledger.registration(id)).status, "a usage error cancels nothing").to.equal(1n);
    const r = (await hre.run("mssa:register", { user: user.address, place, cancel: true })) as { id: string };
    expect(r.id).to.equal(id);
    expect((await ledger.registration(id)).status, "cancelled").to.equal(4n);
    expect(await ledger.consentNonce(user.address, placeId(place)), "her earlier consents withdrawn").to.equal(1n);
    const again = await rejects(hre.run("mssa:register", { user: user.address, place, cancel: true }));
    expect(again.message.split("\n")[0]).to.match(/has no pending registration at PL-s20-cancel$/);
  });
});
