/**
 * Red team h15-red, finding H4 (fixed: Msrp.rekeyGroup and requestGroup refuse more than MAX_GROUP_RNS): three different size limits for one group, and the MSRP agent
 * checks none of them on a key update.
 *
 * - the mailbox wire (`group-wire.ts MAX_PARTIES`): at most 256 *parties*, the user included, i.e.
 *   255 RNs; `decodeGroupMailbox` refuses more (its comment says "the registry's own limit is lower":
 *   it is not);
 * - the registry (`ServiceGroupRegistry.MAX_MEMBERS`): at most 256 *RNs*;
 * - the agent (`Msrp.rekeyGroup`): no limit. A formation is capped (GroupRequest size <= 255), but a
 *   user's adds (16 at a time, `POST /v1/group/add`) grow the group past both.
 *
 * At 256 RNs the update is recorded on chain and every party's mailbox (257 parties) fails to decode
 * at the client: no party can ever take the new key. Past 256 RNs the MSRP journals the update, then
 * the registry reverts (TooManyMembers); the intent stays, and every later update of the group first
 * re-sends it (GroupDesk.update, "finished first, by recovery's rule"), which reverts again: the group
 * can never be updated, so a member the trust layer flags later can never be evicted from it (and
 * recovery retries the intent in the background for good).
 *
 * Secure behaviour asserted: `Msrp.rekeyGroup` deals no update the mailbox cannot carry or the
 * registry would refuse (it refuses it, nothing changed), the same bound as a formation's.
 */
import { expect } from "chai";
import { randomBytes } from "@noble/hashes/utils.js";
import { Msrp, MsrpRecord, DEFAULT_FILTER_POLICY } from "../../offchain/rsms/msrp";
import { Role } from "../../offchain/rsms/messages";
import { encodeScalar, randomScalar } from "../../offchain/crypto/group";
import { toHex } from "../../offchain/crypto/bytes";
import { decodeGroupMailbox, encodeGroupMailbox } from "../../offchain/services/rsms/group-wire";

/** An MSRP agent with `n` joined RNs (records as commitJoin leaves them) and a user "u". */
function msrpWithJoined(n: number): Msrp {
  const m = Msrp.setup(DEFAULT_FILTER_POLICY);
  m.registerUser("u", Msrp.registrationRequest(m.params.pkPub, Role.User, 0, "user u"));
  const rec = m.toRecord();
  for (let i = 0; i < n; i++)
    rec.rns[`rn${String(i).padStart(3, "0")}`] = {
      rid: `serial-${i}`,
      sk: toHex(encodeScalar(randomScalar())),
      homePool: 1,
      pool: 1,
      a: toHex(encodeScalar(randomScalar())),
      pids: [toHex(randomBytes(32))],
      used: true,
      issuedAt: 0,
    };
  return Msrp.fromRecord(rec as MsrpRecord);
}

describe("h15-red H4: a key update grows a group past what the mailbox carries and the registry records (fixed)", function () {
  this.timeout(120_000);

  it("a group of 255 RNs (the largest formation) plus one added RN: the agent refuses the update (no 257-party mailbox)", () => {
    const m = msrpWithJoined(256);
    const gid = randomBytes(32);
    const names = Object.keys(m.toRecord().rns).sort();
    // the formation's record (what commitGroup keeps once formGroup is on chain): 255 RNs
    m.commitGroup(
      gid,
      "u",
      names.slice(0, 255).map((name) => ({ name, pid: m.rnPids(name)[0] })),
    );
    let outcome: string;
    try {
      const r = m.rekeyGroup(gid, [], [names[255]]);
      const me = r.roster[1];
      const box = encodeGroupMailbox({
        epoch: r.epoch,
        kind: 1,
        roster: r.roster,
        mine: r.messages.get(toHex(me.pid))!,
        memberships: [],
        keyShares: [],
      });
      try {
        decodeGroupMailbox(box);
        outcome = "carried";
      } catch (e) {
        outcome = `dealt to ${r.roster.length} parties, and a party's mailbox does not decode: ${(e as Error).message}`;
      }
    } catch (e) {
      outcome = `refused: ${(e as Error).message}`;
    }
    expect(outcome, outcome).to.match(/^(refused|carried)/);
  });

  it("a group of 256 RNs plus one added RN: the agent refuses it, nothing changes (the registry would revert TooManyMembers)", () => {
    const m = msrpWithJoined(257);
    const gid = randomBytes(32);
    const names = Object.keys(m.toRecord().rns).sort();
    m.commitGroup(
      gid,
      "u",
      names.slice(0, 256).map((name) => ({ name, pid: m.rnPids(name)[0] })),
    );
    const before = JSON.stringify(m.toRecord());
    let outcome: string;
    try {
      const r = m.rekeyGroup(gid, [], [names[256]]);
      outcome = `dealt: ${r.members.length} RNs (the registry's MAX_MEMBERS is 256)`;
    } catch (e) {
      outcome = `refused: ${(e as Error).message}`;
    }
    expect(JSON.stringify(m.toRecord()), "nothing changes").to.equal(before);
    expect(outcome, outcome).to.match(/^refused/);
  });
});
