import { expect } from "chai";
import { Msrp } from "../../../offchain/protocols/rsms/msrp";
import { Role } from "../../../offchain/protocols/rsms/messages";
import { AgentStateError } from "../../../offchain/protocols/rsms/errors";
import { encodeScalar } from "../../../offchain/crypto/group";
import { expectThrows } from "../../helpers/errors";

function msrpWithPool(policy = { capacity: 3, lambda: 10, intervalSec: 100 }) {
  const m = Msrp.setup(policy);
  m.registerRpm("rpm", Msrp.registrationRequest(m.params.pkPub, Role.RPM, 1, "rpm"));
  const reg = (name: string, now: number) => m.registerRn(name, Msrp.registrationRequest(m.params.pkPub, Role.RN, 1, name), now);
  return { m, reg };
}

describe("protocols/rsms/msrp: Bloom filter policy", () => {
  it("a filter is due when full, or when its interval has passed since its first RN", () => {
    const { m, reg } = msrpWithPool();
    expect(m.filterDue(1, 0)).to.equal(false); // nothing pending
    reg("a", 1000);
    expect(m.filterDue(1, 1050)).to.equal(false);
    expect(m.filterDue(1, 1100)).to.equal(true); // interval
    reg("b", 1001);
    reg("c", 1002);
    expect(m.filterDue(1, 1003)).to.equal(true); // full
  });

  it("takeFilter hands over the pending RNs; a failed publication restores them, merged with newcomers", () => {
    const { m, reg } = msrpWithPool({ capacity: 10, lambda: 12, intervalSec: 100 });
    const a = reg("a", 0);
    const { filter, openedAt } = m.takeFilter(1);
    expect(filter.check(encodeScalar(a.a))).to.equal(true);
    expect(m.pendingCount(1)).to.equal(0);
    expectThrows(() => m.takeFilter(1), AgentStateError, "AGENT_STATE", /no registered RN waiting/);
    const b = reg("b", 5);
    m.restoreFilter(1, filter, openedAt);
    const again = m.takeFilter(1).filter;
    expect(again.check(encodeScalar(a.a))).to.equal(true);
    expect(again.check(encodeScalar(b.a))).to.equal(true);
  });

  it("pending filters survive a keystore round trip", () => {
    const { m, reg } = msrpWithPool();
    const a = reg("a", 0);
    const restored = Msrp.fromRecord(JSON.parse(JSON.stringify(m.toRecord())));
    expect(restored.pendingCount(1)).to.equal(1);
    expect(restored.takeFilter(1).filter.check(encodeScalar(a.a))).to.equal(true);
  });
});
