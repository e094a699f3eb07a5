/**
 * The court's minimum age is the age of the standing a juror votes with, not of its id (guard for
 * h13-red finding D3, docs/specs/disputes.md "Juror eligibility"): `_whyNot` reads the standing at
 * the snapshot from `TrustManager.jurorAt` (as `standingAt` returns it), whose `grantedAt` is the
 * block of the attestation (or the admin's first verification). A plain `register` (free,
 * permissionless, reputation 0, unverified) made long ago and attested in the block before a
 * dispute opens lends the attestation no age: the juror is as
 * young as a fresh one and `reveal` refuses it (NotEligible), like the control with no earlier
 * registration. Before the fix, `registeredAt` (the first checkpoint, which `registerAttested`
 * keeps) let the dormant id vote with full weight one block after it gained standing.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import type { Signer } from "ethers";
import { loadFixture, mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployDisputeFixture, salt } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { attestRegistration } from "../../offchain/trust/ledger";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { commitmentOf } from "../../offchain/disputes/tally";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { MITRegistry__factory } from "../../typechain-types";

const h = (s: string) => keccak256(new TextEncoder().encode(`h13-d3:${s}`));

async function fixture() {
  const f = await deployDisputeFixture();
  const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp); // the fixture's IdP
  const owl = async (who: string) => {
    const serial = h(`${who}-serial`);
    await mit.issueMIT(toHex(serial), toHex(h(`${who}-key`)), "bafy-params");
    const avatar = toHex(avatarIdOf(serial, "owl"));
    const ctl = ethers.Wallet.createRandom().connect(ethers.provider);
    await setBalance(ctl.address, 10n ** 20n);
    /** The login and the IdP's attestation, as `trust:register --type avatar` uses them. */
    const activate = async () => {
      await mit.recordLogin(avatar, toHex(serial), toHex(h(`${who}-warrant`)), toHex(h(`${who}-vid`)), (await time.latest()) + 86_400);
      const deadline = BigInt(await time.latest()) + 3600n;
      await f.trust
        .connect(ctl)
        .registerAttested(
          avatar,
          Kind.Avatar,
          deadline,
          await attestRegistration(f.msrp, f.trust, avatar, "avatar", ctl.address, deadline),
        );
    };
    return { avatar, ctl, activate };
  };
  return { ...f, owl };
}

/** Opens a dispute in the next block, commits `voter`'s vote and tries to reveal it. */
async function votes(f: Awaited<ReturnType<typeof fixture>>, voter: { avatar: string; ctl: Signer }) {
  await f.disputes.openDispute(id("claimant"), id("respondent"), 0, 2, id("evidence"), "bafkrei-evidence", 0, { value: P.deposit });
  const dId = await f.disputes.disputeCount();
  await f.disputes.connect(voter.ctl).commit(dId, voter.avatar, commitmentOf(dId, voter.avatar, 1, salt("d3")));
  await time.increase(Number(P.commitPeriod) + 1);
  return f.disputes
    .connect(voter.ctl)
    .reveal(dId, voter.avatar, 1, salt("d3"))
    .then(
      async () => (await f.disputes.voteOf(dId, voter.avatar)).weight,
      (e: Error) => {
        // only the age rule may refuse it here (NotEligible: too young at the snapshot)
        expect(e.message).to.match(/DisputeResolution__NotEligible/);
        return 0n;
      },
    );
}

describe("juror age: counted from the standing's grant, not the id's first registration (h13-red D3)", () => {
  it("control: a juror attested in the block before the dispute, with no earlier registration, has no vote", async () => {
    const f = await loadFixture(fixture);
    const fresh = await f.owl("fresh");
    await fresh.activate();
    expect(await votes(f, fresh)).to.equal(0n);
  });

  it("a dormant plain registration, attested in the block before the dispute, has no vote either", async () => {
    const f = await loadFixture(fixture);
    const dormant = await f.owl("dormant");
    await f.trust.connect(dormant.ctl).register(dormant.avatar, Kind.Avatar); // reputation 0, unverified: invisible
    expect((await f.trust.entity(dormant.avatar)).reputation).to.equal(0n);
    await mine(Number(P.minAge) + 1);
    await dormant.activate(); // the block before the dispute opens: reputation 0.5, verified
    const weight = await votes(f, dormant);
    expect(
      weight,
      "the dormant id voted with full weight one block after it gained standing (its first registration lent it age)",
    ).to.equal(0n);
  });

  it("the same dormant id votes with full weight once its standing is minAge blocks old", async () => {
    const f = await loadFixture(fixture);
    const dormant = await f.owl("dormant");
    await f.trust.connect(dormant.ctl).register(dormant.avatar, Kind.Avatar);
    await mine(Number(P.minAge) + 1);
    await dormant.activate();
    const granted = BigInt(await ethers.provider.getBlockNumber());
    await mine(Number(P.minAge));
    const [rep, since] = await f.trust.standingAt(dormant.avatar, granted);
    expect([rep, since]).to.deep.equal([5n * 10n ** 17n, granted]); // the attestation's 0.5, granted in its block
    expect(await votes(f, dormant)).to.equal(rep);
  });
});
