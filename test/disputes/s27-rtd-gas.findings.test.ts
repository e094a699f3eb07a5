/**
 * s27-rtd (red team): the 60,000-gas goal of commit and reveal, measured for the jurors the system
 * actually has. The committed snapshot and DisputeResolution.test.ts measure admin-verified jurors
 * only (bit 7 lets `commit` skip the identity call, and `jurorAt` returns at once on it); a juror
 * whose standing is its registry's (an avatar attested through the MITRegistry: the paper's
 * identity) pays the TrustManager -> MITRegistry calls at commit (`isIdentityVerifiedAsOf` ->
 * `isVerifiedAsOf`: the avatar, its driver's MIT and its owner's MIT) and at reveal (`jurorAt` ->
 * `revokedSince`). A juror flagged after the opening (not barred: s25-rtt R3) also pays
 * `flagsHeldSince` at both steps. Each case asserts the goal (<= 60,000) for such a juror.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import type { ContractTransactionResponse, Signer } from "ethers";
import { loadFixture, mine, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployDisputeFixture, salt } from "../fixtures/disputes";
import { id, Kind } from "../fixtures/trust";
import { DEFAULT_DISPUTE_PARAMS as P } from "../../offchain/disputes/params";
import { attestRegistration } from "../../offchain/trust/ledger";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { MITRegistry__factory } from "../../typechain-types";

const label = (s: string) => toHex(keccak256(new TextEncoder().encode(`s27-rtd-gas:${s}`)));
const GOAL = 60_000n;

async function world() {
  const f = await deployDisputeFixture();
  const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, f.msrp);
  const avatars: { id: string; signer: Signer }[] = [];
  for (const name of ["ann", "ben"]) {
    const serial = label(`${name}-serial`);
    await mit.issueMIT(serial, label(`${name}-key`), "bafy-params");
    const avatar = toHex(avatarIdOf(ethers.getBytes(serial), name));
    await mit.recordLogin(avatar, serial, label(`w-${name}`), label(`v-${name}`), (await time.latest()) + 30 * 86_400);
    const w = ethers.Wallet.createRandom().connect(ethers.provider);
    await setBalance(w.address, 10n ** 20n);
    const deadline = BigInt(await time.latest()) + 3600n;
    const a = await attestRegistration(f.msrp, f.trust, avatar, "avatar", w.address, deadline);
    await f.trust.connect(w).registerAttested(avatar, Kind.Avatar, deadline, a);
    avatars.push({ id: avatar, signer: w });
  }
  await mine(Number(P.minAge) + 1);
  await f.disputes.openDispute(id("claimant"), id("respondent"), 0, 2, id("s27-rtd-gas evidence"), "bafkrei-e", 0, {
    value: P.deposit,
  });
  const detector = (await ethers.getSigners())[TRUST_ROLE_SIGNERS.detector];
  return { ...f, mit, avatars, detector };
}

async function gasOf(tx: Promise<ContractTransactionResponse>) {
  const r = await (await tx).wait();
  return r!.gasUsed;
}

describe("s27-rtd G1: commit and reveal gas beyond the admin-verified, unflagged juror (goal 60,000)", function () {
  it("an attested avatar juror commits and reveals within 60,000 gas", async function () {
    const { disputes, avatars, voters, signerOf } = await loadFixture(world);
    const [ann] = avatars;
    // the baseline the snapshot measures: an admin-verified juror in the same dispute
    const v0 = disputes.connect(signerOf.get(voters[0])!);
    const baseline = await gasOf(v0.commit(1, voters[0], await v0.commitmentFor(1, voters[0], 0, salt("v0"))));
    const dr = disputes.connect(ann.signer);
    const c = await dr.commitmentFor(1, ann.id, 0, salt("ann"));
    const commitGas = await gasOf(dr.commit(1, ann.id, c));
    await time.increase(Number(P.commitPeriod) + 1);
    const revealGas = await gasOf(dr.reveal(1, ann.id, 0, salt("ann")));
    console.log(`      admin-verified commit ${baseline}; attested avatar juror: commit ${commitGas}, reveal ${revealGas}`);
    expect(commitGas <= GOAL, `commit ${commitGas}`).to.equal(true);
    expect(revealGas <= GOAL, `reveal ${revealGas}`).to.equal(true);
  });

  it("an attested avatar juror flagged after the opening (not barred) commits and reveals within 60,000 gas", async function () {
    const { disputes, trust, avatars, detector } = await loadFixture(world);
    const [, ben] = avatars;
    await trust.connect(detector).flag(ben.id, 2, id("s27-rtd later flag"), 0); // after the opening: bars nobody
    const dr = disputes.connect(ben.signer);
    const c = await dr.commitmentFor(1, ben.id, 1, salt("ben"));
    const commitGas = await gasOf(dr.commit(1, ben.id, c));
    await time.increase(Number(P.commitPeriod) + 1);
    const revealGas = await gasOf(dr.reveal(1, ben.id, 1, salt("ben")));
    console.log(`      attested avatar juror flagged later: commit ${commitGas}, reveal ${revealGas}`);
    expect(commitGas <= GOAL, `commit ${commitGas}`).to.equal(true);
    expect(revealGas <= GOAL, `reveal ${revealGas}`).to.equal(true);
  });

  it("an admin-verified juror flagged after the opening (not barred) commits and reveals within 60,000 gas", async function () {
    const { disputes, trust, voters, signerOf, detector } = await loadFixture(world);
    const v = voters[1];
    await trust.connect(detector).flag(v, 2, id("s27-rtd later flag v1"), 0); // after the opening: bars nobody
    const dr = disputes.connect(signerOf.get(v)!);
    const commitGas = await gasOf(dr.commit(1, v, await dr.commitmentFor(1, v, 1, salt("v1"))));
    await time.increase(Number(P.commitPeriod) + 1);
    const revealGas = await gasOf(dr.reveal(1, v, 1, salt("v1")));
    console.log(`      admin-verified juror flagged later: commit ${commitGas}, reveal ${revealGas}`);
    expect(commitGas <= GOAL, `commit ${commitGas}`).to.equal(true);
    expect(revealGas <= GOAL, `reveal ${revealGas}`).to.equal(true);
  });

  it("s27-fxd (D1's price): an admin-verified juror of a flag contest commits and reveals within 60,000 gas", async function () {
    const { disputes, trust, voters, signerOf, detector, others } = await loadFixture(world);
    await trust.connect(detector).flag(voters[5], 3, id("s27-fxd contested flag"), 0);
    await disputes.connect(others[15]).openDispute(voters[5], ethers.ZeroHash, 3, 2, ethers.ZeroHash, "", 0, {
      value: P.deposit,
    });
    const v = voters[0];
    const dr = disputes.connect(signerOf.get(v)!);
    const commitGas = await gasOf(dr.commit(2, v, await dr.commitmentFor(2, v, 1, salt("v0"))));
    await time.increase(Number(P.commitPeriod) + 1);
    const revealGas = await gasOf(dr.reveal(2, v, 1, salt("v0")));
    console.log(`      admin-verified juror of a flag contest: commit ${commitGas}, reveal ${revealGas}`);
    expect(commitGas <= GOAL, `commit ${commitGas}`).to.equal(true);
    expect(revealGas <= GOAL, `reveal ${revealGas}`).to.equal(true);
  });
});
