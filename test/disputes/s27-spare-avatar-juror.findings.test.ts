/**
 * Open finding (s27-rtd's untested residual, written by the lead; not fixed): a person's attested
 * avatar judges an ordinary claim against her own further avatar, when that avatar's id was
 * registered by a spare account before the IdP recorded its login.
 *
 * At the opening the registry does not know the respondent avatar's owner (no login recorded for it:
 * `ownerTagOf` is 0), so the dispute's `otherAccount` is 0 and nobody on the owner's side is barred.
 * The IdP records the login after the opening: from then on the chain links the respondent to the
 * juror's owner tag, but the court reads the parties as fixed at the opening. Had the login been
 * recorded before the opening, the owner's attested avatar would be barred (s26-fxr4, `_whyNot`).
 * Ways forward (disputes.md "Open"): read the respondent avatar's owner tag again at reveal (a
 * registry call: reveal gas, see s27-rtd G1), or refuse an ordinary dispute's opening against an
 * avatar the registry cannot place yet (the claimant waits for its login), or accept it as the
 * unlinkable residual it is until the login.
 * Correct behaviour asserted: once the chain links the respondent to her, her avatar has no weight
 * in the claim against it.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployDisputeFixture } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { attestRegistration } from "../../offchain/trust/ledger";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { MITRegistry__factory } from "../../typechain-types";

const label = (s: string) => toHex(keccak256(new TextEncoder().encode(`s27-spare:${s}`)));

async function world() {
  const f = await deployDisputeFixture();
  const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
  const serial = label("ann-serial");
  const main = toHex(avatarIdOf(ethers.getBytes(serial), "ann"));
  const further = toHex(avatarIdOf(ethers.getBytes(serial), "ann-spare"));
  const [own, spare] = [ethers.Wallet.createRandom(), ethers.Wallet.createRandom()].map((w) => w.connect(ethers.provider));
  for (const w of [own, spare]) await setBalance(w.address, 10n ** 20n);
  // Ann's attested avatar, old enough to sit on a jury
  await mit.issueMIT(serial, label("ann-key"), "bafy-params");
  await mit.recordLogin(main, serial, label("w-ann"), label("v-ann"), (await time.latest()) + 30 * 86_400);
  const deadline = BigInt(await time.latest()) + 3600n;
  await f.trust
    .connect(own)
    .registerAttested(main, Kind.Avatar, deadline, await attestRegistration(f.msrp, f.trust, main, "avatar", own.address, deadline));
  // her further avatar's id, registered plainly by a spare account before any login of it
  await f.trust.connect(spare).register(further, Kind.Avatar);
  await mine(Number(P.minAge) + 1);
  await f.disputes.openDispute(id("claimant"), further, 0, 2, id("s27-spare evidence"), "bafkrei-s", 0, { value: P.deposit });
  return { ...f, mit, serial, main, further };
}

describe("open finding: the owner's attested avatar judges a claim against her further avatar placed after the opening", function () {
  it("once the IdP records the further avatar's login, her attested avatar has no weight in the claim against it", async function () {
    const { disputes, mit, serial, main, further } = await loadFixture(world);
    expect((await disputes.dispute(1)).otherAccount, "the dispute's second account at the opening").to.equal(ethers.ZeroAddress);
    await mit.recordLogin(further, serial, label("w-spare"), label("v-spare"), (await time.latest()) + 86_400);
    expect(await mit.ownerTagOf(further), "the chain now links the respondent to her").to.equal(await mit.ownerTagOf(main));
    expect(await disputes.eligibleWeight(1, main), "her attested avatar's weight in the claim against her own avatar").to.equal(0n);
  });
});
