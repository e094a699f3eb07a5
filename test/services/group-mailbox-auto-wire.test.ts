/**
 * The GroupMailbox's optional section for an automatic update (session 20, rsms-group.md §8 "the
 * parties told"): the PIDs the MSRP's flag sync evicted, after the key shares, on an update epoch only.
 * Threat: a party's decoder that took any trailing bytes as the section (or none) would show an
 * update as automatic, or hide that it was, on bytes the MSRP did not mean so.
 * Asserted: a round trip with and without the section (without it, the bytes are the pre-session-20
 * encoding); a section on a formation epoch, an unknown section tag, and a truncated list are refused.
 */
import { expect } from "chai";
import { concat } from "../../offchain/crypto/bytes";
import { mulBase } from "../../offchain/crypto/group";
import { decodeGroupMailbox, encodeGroupMailbox, type GroupMailbox } from "../../offchain/services/rsms/group-wire";

describe("GroupMailbox: the automatic update's section (session 20)", () => {
  const pid = (b: number) => new Uint8Array(32).fill(b);
  const box: GroupMailbox = {
    epoch: 3,
    kind: 1,
    roster: [
      { pid: pid(1), pk: mulBase(5n) },
      { pid: pid(2), pk: mulBase(7n) },
    ],
    mine: Uint8Array.of(9, 9, 9),
    memberships: [],
    keyShares: [],
  };

  it("round trip with the evicted PIDs; without them the encoding has no section", () => {
    const plain = encodeGroupMailbox(box);
    const auto = encodeGroupMailbox({ ...box, auto: [pid(7)] });
    expect(auto.length - plain.length, "tag, count, one PID").to.equal(1 + 2 + 32);
    expect(decodeGroupMailbox(plain).auto).to.equal(undefined);
    expect(decodeGroupMailbox(auto).auto).to.deep.equal([pid(7)]);
  });

  it("refuses the section on a formation epoch, an unknown tag, a truncated list", () => {
    expect(() => encodeGroupMailbox({ ...box, kind: 0, auto: [pid(7)] })).to.throw(/kind 1/);
    const plain = encodeGroupMailbox(box);
    const formation = encodeGroupMailbox({ ...box, kind: 0 });
    expect(() => decodeGroupMailbox(concat(formation, Uint8Array.of(1, 0, 1), pid(7)))).to.throw(/trailing section 1 at kind 0/);
    expect(() => decodeGroupMailbox(concat(plain, Uint8Array.of(2, 0, 0)))).to.throw(/trailing section 2/);
    expect(() => decodeGroupMailbox(concat(plain, Uint8Array.of(1, 0, 2), pid(7)))).to.throw(/truncated/);
  });
});
