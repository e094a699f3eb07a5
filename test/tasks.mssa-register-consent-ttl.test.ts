/**
 * s21-cdl (s20-redm F3's residual): the user's consent signs a deadline, `--consent-ttl` seconds
 * from the chain's latest block (default 7 days, the ledger's CONSENT_TTL). A value out of
 * 1..604,800 is a usage error naming the flag, before anything is read or written; a consent that
 * expired before its proposal is refused in one line naming the flag and the user, and nothing is
 * recorded: not on-chain (no proposal, her consent nonce unchanged), not in the keystore (the
 * record kept for a resume goes with the refused proposal).
 */
import { expect } from "chai";
import hre from "hardhat";
import { rejects, useTaskSandbox } from "./helpers/tasks";

describe("s21-cdl: mssa:register --consent-ttl", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-s21-consent-ttl-");

  it("refuses a --consent-ttl out of 1..7 days in one line naming the flag, and with --cancel", async () => {
    const signers = await hre.ethers.getSigners();
    const user = signers[6].address;
    const place = "PL-s21-ttl-flag";
    const { CredentialLedger__factory } = await import("../typechain-types");
    const { deployedAddress } = await import("../tasks/lib/context");
    const { placeId } = await import("../offchain/mssa/registration");
    const ledger = CredentialLedger__factory.connect(await deployedAddress(hre, "CredentialLedger"), signers[0]);
    for (const ttl of [0, -5, 604_801]) {
      const e = await rejects(hre.run("mssa:register", { user, place, consentTtl: ttl }));
      expect(e.message.split("\n")).to.have.length(1);
      expect(e.message).to.equal(`mssa:register: --consent-ttl must be 1 to 604,800 seconds (7 days), got ${ttl}`);
    }
    expect((await ledger.place(placeId(place))).threshold, "a usage error created the place").to.equal(0n);
    const c = await rejects(hre.run("mssa:register", { user, place, cancel: true, consentTtl: 60 }));
    expect(c.message).to.equal("mssa:register: --cancel registers nothing: drop --consent-ttl");
  });

  it("a consent that expired before its proposal: one line naming --consent-ttl and --user, nothing on-chain or in the keystore; then it registers", async () => {
    const signers = await hre.ethers.getSigners();
    const { CredentialLedger__factory } = await import("../typechain-types");
    const { deployedAddress, localState } = await import("../tasks/lib/context");
    const { placeId } = await import("../offchain/mssa/registration");
    const ledger = CredentialLedger__factory.connect(await deployedAddress(hre, "CredentialLedger"), signers[0]);
    const place = "PL-s21-ttl";
    // a first user creates the place (so that no transaction is mined between the next consent and its proposal)
    await hre.run("mssa:register", { user: signers[7].address, place, info: "mail:a@example.org,passport:UTO:S2100001" });
    const user = signers[8].address;
    const keystore = localState(hre).keystore;
    const records = keystore.list().sort();
    // the next block is an hour later: the consent, 60 s from the latest block, expires before it
    await hre.network.provider.send("evm_increaseTime", [3600]);
    const e = await rejects(hre.run("mssa:register", { user, place, info: "mail:b@example.org,passport:UTO:S2100002", consentTtl: 60 }));
    expect(e.message.split("\n")).to.have.length(1);
    expect(e.message).to.match(
      new RegExp(
        `^mssa:register: the consent of --user ${user} to ${place} expired at \\d+ \\(chain time\\) before it was proposed: nothing recorded; register again, with a longer --consent-ttl \\(now 60 s\\)$`,
      ),
    );
    const [granted, id] = await ledger.access(user, placeId(place));
    expect([granted, id]).to.deep.equal([false, hre.ethers.ZeroHash]);
    expect(await ledger.consentNonce(user, placeId(place)), "her consent nonce").to.equal(0n);
    expect(keystore.list().sort(), "the keystore").to.deep.equal(records);
    // the default deadline (7 days): registered, not resumed
    const r = (await hre.run("mssa:register", { user, place, info: "mail:b@example.org,passport:UTO:S2100002" })) as { id: string };
    expect((await ledger.access(user, placeId(place))).granted).to.equal(true);
    expect((await ledger.registration(r.id)).status).to.equal(2n);
  });
});
