/**
 * Red team (h8-redrsms), finding F2, severity MEDIUM, fixed: an RN's pseudonyms were linkable
 * through the public key that service groups carry beside them.
 *
 * The paper (§III.D.2 unlinkability, §V Prop. 7) rotates PID_{k+1} = H6(PID_k, a_{k+1}) so that
 * nobody but the MSRP can tell that two pseudonyms belong to one RN. Service groups (metatrust's
 * additions for channel signatures and sound blame) list every party as (PID, PK) and every
 * allocation carries the whole roster; an RN's PK is its long-term PK_RN = sk_RN * P, the same
 * under every PID. So the user and every RN that shares a group with it before and after a
 * rotation, and anyone who reads the allocations or the mailbox replies (`/v1/group/fetch`
 * answers in clear unless TLS is on), links PID_k to PID_{k+1}; the channel's sender signature,
 * outside the ciphertext, also verifies only under PK_RN, so a passive observer who saw one
 * roster links the channel traffic of every later pseudonym. The fix: an RN takes part in groups
 * under a key of its current PID, sk_G = hash_to_scalar(sk_RN || PID) (params.ts rnGroupSecret),
 * which the MSRP derives for its rosters. The test passes when the two rosters give an RN's two
 * pseudonyms unrelated keys; it fails without the fix.
 */
import { expect } from "chai";
import { loadRsms } from "./fixtures";
import { initialJoin, reauthenticate } from "../../offchain/rsms/flows";
import { Msrp } from "../../offchain/rsms/msrp";
import { Role } from "../../offchain/rsms/messages";
import { decodeAllocation } from "../../offchain/rsms/group-messages";
import { encodePoint } from "../../offchain/crypto/group";
import { equalBytes, toHex } from "../../offchain/crypto/bytes";

describe("red team F2 (MEDIUM, fixed): pseudonym linkability through the group roster's long-term key", function () {
  this.timeout(120_000);

  it("a member of two groups, one before and one after an RN's rotation, cannot pair the RN's two PIDs by their keys", async () => {
    const { ctx, msrp, rpmA, rpmB, rns } = await loadRsms();
    for (const r of rns.slice(0, 3)) await initialJoin(ctx, r, rpmA, msrp);
    msrp.registerUser("alice", Msrp.registrationRequest(msrp.params.pkPub, Role.User, 0, "Alice"));
    const rn = rns[0];
    const before = decodeAllocation(msrp.requestGroup("alice", 3).dealing.allocations[0]);
    const pid0 = rn.state.pid;
    await reauthenticate(ctx, rn, rpmB, msrp);
    const pid1 = rn.state.pid;
    expect(equalBytes(pid0, pid1)).to.equal(false);
    const after = decodeAllocation(msrp.requestGroup("alice", 3).dealing.allocations[0]);
    // both rosters are what alice (and every member, and a reader of the mailbox) sees
    const i0 = before.pids.findIndex((p) => equalBytes(p, pid0));
    const i1 = after.pids.findIndex((p) => equalBytes(p, pid1));
    expect(i0).to.be.greaterThan(0);
    expect(i1).to.be.greaterThan(0);
    // the RN signs and opens with the key the roster names for its current PID
    expect(rn.groupParty().publicKey.equals(after.pks[i1])).to.equal(true);
    const k0 = toHex(encodePoint(before.pks[i0]));
    const k1 = toHex(encodePoint(after.pks[i1]));
    expect(k1, `PID ${toHex(pid0).slice(0, 12)}… and PID ${toHex(pid1).slice(0, 12)}… carry the same key ${k0.slice(0, 14)}…`).to.not.equal(
      k0,
    );
  });
});
