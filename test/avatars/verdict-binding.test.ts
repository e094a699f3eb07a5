/**
 * Red team h14-red, finding F3 (LOW, closed in session 14): the verdict audit did not bind the
 * verdict to the traced avatar, so an IdP's verdict naming an innocent MIT holder passed it.
 *
 * Paper property (avatar paper §V-B2, "defending against false accusation"; non-frameability
 * against an IdP acting in its role): a case on avatar X traces to X's manipulator. Every warrant
 * the IdP records carries the owner's iris commitment, so an honest trace names the UID of the
 * avatar's owner, keccak256("UID" || owner serial), and the chain records that serial for the
 * case's avatar. `auditVerdict` (task `avatar:audit`) and `verdictOpens` checked only that the
 * IdP's opening (UID, salt) opens the commitment; now they also check that the UID is the avatar's
 * owner's (`FOREIGN_UID`). An IdP (or whoever runs its keystore) that commits to bob's UID in a
 * case filed against alice's avatar is caught by every auditor. What the audit still cannot show
 * is that the UID is a given person: that is the IdP's word (docs/specs/avatars.md). Bite: with
 * the owner check removed from `verdictOpens`, the framing verdict passes the audit (checked).
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { randomBytes } from "@noble/hashes/utils.js";
import { MITRegistry } from "../../typechain-types";
import { FileContentStore } from "../../offchain/storage/content-store";
import { AvatarParty, IdentityProvider, verdictCommitmentOf } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import {
  avatarIdOf,
  type AvatarContext,
  ChallengeBook,
  auditVerdict,
  issueUserMit,
  login,
  verdictOpens,
} from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";

const uidOf = (serial: Uint8Array) => ethers.keccak256(ethers.concat([ethers.toUtf8Bytes("UID"), serial]));

describe("verdict audit: the opening must name the traced avatar's owner (h14-red F3)", () => {
  it("an IdP commits bob's UID in a case on alice's avatar: auditVerdict refuses it (FOREIGN_UID), verdictOpens answers false", async () => {
    const [idpAccount, , , reporter] = await ethers.getSigners();
    const registry = (await (await ethers.getContractFactory("MITRegistry")).deploy(idpAccount.address)) as unknown as MITRegistry;
    const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-f3-")));
    const idp = new IdentityProvider();
    const offset = (await time.latest()) + 1_000 - Math.floor(Date.now() / 1000);
    const ctx: AvatarContext = { registry, idp, store, now: () => Math.floor(Date.now() / 1000) + offset };
    await time.setNextBlockTimestamp(ctx.now());
    const alice = new AvatarParty("alice");
    const bob = new AvatarParty("bob");
    await issueUserMit(ctx, alice, "Alice Liddell", new SimulatedEye(201));
    await issueUserMit(ctx, bob, "Bob Builder", new SimulatedEye(202));
    const server = new ChallengeBook();
    const fox = avatarIdOf(alice.mit!.serial, "fox");
    await login(ctx, server, alice, new SimulatedEye(201), { avatarId: fox, appearance: "fox" });

    // a case against alice's fox; the IdP records a verdict that commits to bob's UID
    await (await registry.connect(reporter).requestTrace(toHex(fox), toHex(randomBytes(32)))).wait();
    const caseId = 1n; // the first case of this registry
    const salt = randomBytes(32);
    const commitment = verdictCommitmentOf(uidOf(bob.mit!.serial), salt);
    await (await registry.recordVerdict(caseId, true, toHex(commitment))).wait();
    const record = JSON.parse(JSON.stringify(idp.toRecord())) as { verdicts?: { commitment: string; uid: string; salt: string }[] };
    record.verdicts = [...(record.verdicts ?? []), { commitment: toHex(commitment), uid: uidOf(bob.mit!.serial), salt: toHex(salt) }];
    const framing = IdentityProvider.fromRecord(record);
    expect((await registry.avatar(toHex(fox))).owner, "precondition: fox is alice's on chain").to.equal(toHex(alice.mit!.serial));

    const err = await auditVerdict({ registry, idp: framing }, caseId).then(
      (o) => expect.fail(`the audit accepted a verdict on alice's fox that names UID ${o.uid}`),
      (e: unknown) => e as { reason?: string; message: string },
    );
    expect(err.reason).to.equal("FOREIGN_UID");
    expect(err.message).to.equal(
      `auditVerdict: case ${caseId}'s verdict names UID ${uidOf(bob.mit!.serial)}, not ${uidOf(alice.mit!.serial)} of avatar ${toHex(fox)}'s owner`,
    );
    // the opening does open the commitment: only the owner binding catches it
    const opening = { uid: uidOf(bob.mit!.serial), salt };
    expect(verdictOpens(commitment, alice.mit!.serial, opening)).to.equal(false);
    expect(verdictOpens(commitment, bob.mit!.serial, opening), "the opening is a true one, of bob's UID").to.equal(true);
  });
});
