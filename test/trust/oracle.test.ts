/**
 * offchain/trust/oracle.ts: Eq. 46's O_ij as the median of a quorum of reporters (the pure
 * aggregator; the service around it is test/services/oracle-service.test.ts).
 */
import { expect } from "chai";
import { OracleAggregator, OracleError, ORACLE_WAD, median } from "../../offchain/trust/oracle";
import { expectThrows } from "../helpers/errors";

const R = ["0x" + "a1".repeat(20), "0x" + "b2".repeat(20), "0x" + "c3".repeat(20), "0x" + "d4".repeat(20), "0x" + "e5".repeat(20)];
const I = "0x" + "11".repeat(32);
const J = "0x" + "22".repeat(32);
const K = "0x" + "33".repeat(32);
const wad = (x: number) => BigInt(Math.round(x * 1e6)) * 10n ** 12n;

function agg(quorum = 3, deviation = 0n, reporters = R) {
  return new OracleAggregator({ reporters, quorum, deviation });
}

describe("trust/oracle: Eq. 46's oracle term from a quorum of reporters", () => {
  it("median: the middle value, or the truncated mean of the two middle values", () => {
    expect(median([3n, 1n, 2n])).to.equal(2n);
    expect(median([4n, 1n, 3n, 2n])).to.equal(2n);
    expect(median([-3n, -2n])).to.equal(-2n); // (-5)/2 truncates toward zero
    expect(median([5n])).to.equal(5n);
    expect(() => median([])).to.throw(RangeError);
  });

  it("a round is decided by the quorum's median, not before, and only with distinct reporters", () => {
    const a = agg();
    expect(a.observe({ reporter: R[0], from: I, to: J, round: 1, value: wad(0.2) }).decision).to.equal(undefined);
    // the same reporter again (a retry with the same value) is not a second reporter
    expect(a.observe({ reporter: R[0], from: I, to: J, round: 1, value: wad(0.2) })).to.include({ observed: 1 });
    expect(a.observe({ reporter: R[1].toUpperCase().replace("0X", "0x"), from: I, to: J, round: 1, value: wad(0.6) }).observed).to.equal(2);
    const r = a.observe({ reporter: R[2], from: I, to: J, round: 1, value: wad(0.4) });
    expect(r.decision?.value).to.equal(wad(0.4));
    expect(r.decision?.due).to.equal(true);
    expect(Object.keys(r.decision!.by)).to.have.members([R[0], R[1], R[2]]);
    // other pairs are independent
    expect(a.decision(J, I)).to.equal(undefined);
  });

  it("f liars out of a quorum of 2f + 1 cannot move the median outside the honest values", () => {
    for (const lie of [ORACLE_WAD, -ORACLE_WAD]) {
      const a = agg(5);
      const honest = [wad(0.1), wad(0.3), wad(0.2)];
      a.observe({ reporter: R[0], from: I, to: J, round: 7, value: lie });
      a.observe({ reporter: R[1], from: I, to: J, round: 7, value: lie });
      a.observe({ reporter: R[2], from: I, to: J, round: 7, value: honest[0] });
      a.observe({ reporter: R[3], from: I, to: J, round: 7, value: honest[1] });
      const v = a.observe({ reporter: R[4], from: I, to: J, round: 7, value: honest[2] }).decision!.value;
      expect(v >= wad(0.1) && v <= wad(0.3), `median ${v}`).to.equal(true);
    }
  });

  it("refuses, changing nothing: unknown reporter, bad pair, round or value, a stale round, a changed observation", () => {
    const a = agg(2);
    a.observe({ reporter: R[0], from: I, to: J, round: 5, value: wad(0.5) });
    const before = JSON.stringify(a.state());
    const cases: [Parameters<OracleAggregator["observe"]>[0], string][] = [
      [{ reporter: "0x" + "ff".repeat(20), from: I, to: J, round: 5, value: 0n }, "UNKNOWN_REPORTER"],
      [{ reporter: R[1], from: I, to: I, round: 5, value: 0n }, "BAD_PAIR"],
      [{ reporter: R[1], from: "0x12", to: J, round: 5, value: 0n }, "BAD_PAIR"],
      [{ reporter: R[1], from: I, to: J, round: 0, value: 0n }, "BAD_ROUND"],
      [{ reporter: R[1], from: I, to: J, round: 1.5, value: 0n }, "BAD_ROUND"],
      [{ reporter: R[1], from: I, to: J, round: 5, value: ORACLE_WAD + 1n }, "BAD_VALUE"],
      [{ reporter: R[1], from: I, to: J, round: 5, value: -ORACLE_WAD - 1n }, "BAD_VALUE"],
      [{ reporter: R[0], from: I, to: J, round: 5, value: wad(0.6) }, "ALREADY_OBSERVED"],
      [{ reporter: R[0], from: I, to: J, round: 4, value: wad(0.5) }, "STALE_ROUND"],
    ];
    for (const [o, reason] of cases) {
      let err: unknown;
      try {
        a.observe(o);
      } catch (e) {
        err = e;
      }
      expect(err, reason).to.be.instanceOf(OracleError);
      expect((err as OracleError).reason).to.equal(reason);
      expect(JSON.stringify(a.state()), reason).to.equal(before);
    }
    // the boundaries are accepted
    a.observe({ reporter: R[1], from: I, to: K, round: 1, value: ORACLE_WAD });
    a.observe({ reporter: R[2], from: I, to: K, round: 1, value: -ORACLE_WAD });
  });

  it("after a decision: its rounds are stale, a contributor's retry gets the decision, a changed value is refused", () => {
    const a = agg(2);
    a.observe({ reporter: R[0], from: I, to: J, round: 3, value: wad(0.2) });
    a.observe({ reporter: R[3], from: I, to: J, round: 4, value: wad(0.9) }); // an open observation of a later round survives
    const d = a.observe({ reporter: R[1], from: I, to: J, round: 3, value: wad(0.4) }).decision!;
    expect(d.value).to.equal(wad(0.3));
    const before = JSON.stringify(a.state());
    expect(a.observe({ reporter: R[1], from: I, to: J, round: 3, value: wad(0.4) }).decision?.value).to.equal(wad(0.3));
    expect(JSON.stringify(a.state())).to.equal(before);
    expectThrows(
      () => a.observe({ reporter: R[1], from: I, to: J, round: 3, value: wad(0.5) }),
      OracleError,
      "PROTOCOL_REJECTED",
      /another value/,
    );
    expectThrows(
      () => a.observe({ reporter: R[2], from: I, to: J, round: 3, value: wad(0.4) }),
      OracleError,
      "PROTOCOL_REJECTED",
      /decided round 3/,
    );
    expectThrows(
      () => a.observe({ reporter: R[2], from: I, to: J, round: 2, value: wad(0.4) }),
      OracleError,
      "PROTOCOL_REJECTED",
      /decided round 3/,
    );
    // the later round's open observation still counts
    expect(a.observe({ reporter: R[2], from: I, to: J, round: 4, value: wad(0.7) }).decision?.value).to.equal(wad(0.8));
  });

  it("a reporter holds one open observation per pair: a later round replaces it, an earlier one is refused", () => {
    const a = agg(2);
    a.observe({ reporter: R[0], from: I, to: J, round: 1, value: wad(0.1) });
    a.observe({ reporter: R[0], from: I, to: J, round: 2, value: wad(0.2) });
    expect(Object.keys(a.state().pairs[`${I}|${J}`].open)).to.deep.equal([R[0]]);
    expectThrows(
      () => a.observe({ reporter: R[0], from: I, to: J, round: 1, value: wad(0.1) }),
      OracleError,
      "PROTOCOL_REJECTED",
      /later round 2/,
    );
    // round 1 can no longer be decided with R[0]'s old value
    expect(a.observe({ reporter: R[1], from: I, to: J, round: 1, value: wad(0.1) }).decision).to.equal(undefined);
  });

  it("a decision is due until written, and only when it differs from the chain by at least the deviation", () => {
    const a = agg(1, wad(0.1));
    a.observe({ reporter: R[0], from: I, to: J, round: 1, value: wad(0.5) });
    expect(a.pending()).to.deep.equal([{ from: I, to: J, eras: [0, 0] }]);
    expect(a.due(I, J, wad(0.45))).to.equal(undefined); // within the deviation
    expect(a.due(I, J, wad(0.5))).to.equal(undefined);
    expect(a.due(I, J, wad(0.4))).to.equal(wad(0.5)); // exactly the deviation
    expect(a.due(I, J, 0n)).to.equal(wad(0.5));
    a.written(I, J, "0xabc");
    expect(a.pending()).to.deep.equal([]);
    expect(a.due(I, J, 0n)).to.equal(undefined);
    expect(a.decision(I, J)?.tx).to.equal("0xabc");
    a.written(J, I); // no decision: nothing happens
    expect(a.decision(J, I)).to.equal(undefined);
    // a zero deviation writes any difference
    const z = agg(1);
    z.observe({ reporter: R[0], from: I, to: J, round: 1, value: 1n });
    expect(z.due(I, J, 0n)).to.equal(1n);
  });

  it("one era per pair: a newer generation drops the older era's observations and due decision; an older one is STALE_ERA (h16-red2 R4)", () => {
    const a = agg(2);
    a.observe({ reporter: R[0], from: I, to: J, round: 1, value: wad(-1), eras: [0, 0] });
    a.observe({ reporter: R[1], from: I, to: K, round: 1, value: wad(-1), eras: [0, 0] });
    a.observe({ reporter: R[2], from: I, to: K, round: 1, value: wad(-1), eras: [0, 0] }); // decided, due
    // J reclaimed: R[0]'s open observation of J's old era does not count with R[1]'s of the new one
    expect(a.observe({ reporter: R[1], from: I, to: J, round: 1, value: wad(-1), eras: [0, 1] }).observed).to.equal(1);
    // K reclaimed before its due write: the decision is dropped with its era
    expect(a.observe({ reporter: R[0], from: I, to: K, round: 1, value: wad(0.2), eras: [0, 1] }).observed).to.equal(1);
    expect(a.pending()).to.deep.equal([]);
    expect(a.decision(I, K)).to.equal(undefined);
    const before = JSON.stringify(a.state());
    let err: unknown;
    try {
      a.observe({ reporter: R[2], from: I, to: J, round: 2, value: wad(-1), eras: [0, 0] });
    } catch (e) {
      err = e;
    }
    expect((err as OracleError).reason).to.equal("STALE_ERA");
    expect(JSON.stringify(a.state())).to.equal(before);
  });

  it("the state survives a round trip through JSON (a restart)", () => {
    const a = agg(2);
    a.observe({ reporter: R[0], from: I, to: J, round: 1, value: wad(-0.3) });
    const b = new OracleAggregator(a.p, JSON.parse(JSON.stringify(a.state())));
    expect(b.observe({ reporter: R[1], from: I, to: J, round: 1, value: wad(-0.1) }).decision?.value).to.equal(wad(-0.2));
  });

  it("refuses bad parameters", () => {
    expect(() => agg(0)).to.throw(RangeError, /quorum/);
    expect(() => agg(6)).to.throw(RangeError, /quorum/);
    expect(() => agg(2, -1n)).to.throw(RangeError, /deviation/);
    expect(() => agg(2, 0n, [R[0], R[0].toUpperCase().replace("0X", "0x")])).to.throw(RangeError, /twice/);
  });
});
