/**
 * Red team h14-red, finding F3 (open, LOW): a verdict audit does not bind the verdict to the traced
 * avatar, so an IdP's verdict naming an innocent MIT holder passes it.
 *
 * Paper property (avatar paper §V-B2, "defending against false accusation"; the brief's
 * non-frameability against an IdP acting in its role): a case on avatar X traces to X's
 * manipulator. `recordVerdict(case, true, keccak256(UID || salt))` commits to a UID; `auditVerdict`
 * (task `avatar:audit`) and `verdictOpens` check only that the IdP's opening (UID, salt) opens the
 * commitment. But UID = keccak256("UID" || owner serial) and the case's avatar records its owner
 * serial on chain, so the audit could check that the opening names the avatar's owner, and does not:
 * an IdP (or whoever runs its keystore) that commits to bob's UID in a case filed against alice's
 * avatar shows an opening that every auditor accepts. The IdP still holds UID -> real identity, so
 * this frames at the UID level only: LOW. Fails while the audit accepts the foreign UID.
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
import { avatarIdOf, type AvatarContext, ChallengeBook, auditVerdict, issueUserMit, login } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";

const uidOf = (serial: Uint8Array) => ethers.keccak256(ethers.concat([ethers.toUtf8Bytes("UID"), serial]));

describe("findings h14-red F3: the verdict audit accepts an opening that names someone other than the traced avatar's owner", () => {
  it("an IdP commits bob's UID in a case on alice's avatar; auditVerdict returns bob's UID without complaint", async () => {
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

    const opening = await auditVerdict({ registry, idp: framing }, caseId).then(
      (o) => o,
      () => undefined, // refused: the audit binds the verdict to the avatar
    );
    if (opening) expect(opening.uid, "the audit accepted a verdict on alice's fox that names bob's UID").to.equal(uidOf(alice.mit!.serial));
  });
});
