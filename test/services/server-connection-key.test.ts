import { expect } from "chai";
import { connectionKey } from "../../offchain/services/server";

/**
 * s23-review finding 9, fixed: the per-address connection cap (server.ts, s23-rth F5) keyed on the
 * exact address, so an IPv6 client spread over its /64 (every host is given one) opened 64
 * connections per address and took all 1024, locking everyone else out. The cap now counts an IPv6
 * client by its /64 and an IPv4-mapped IPv6 client (a dual-stack socket's name for an IPv4 one) by
 * its IPv4 address, the key an IPv4 socket gets.
 */
describe("services/server: the connection cap counts IPv6 clients by /64, IPv4-mapped ones by IPv4 (s23-review finding 9)", () => {
  it("addresses of one /64 share a key, however they are written; another /64 does not", () => {
    const k = connectionKey("2001:db8:1:2::1");
    expect(k).to.equal("2001:db8:1:2::/64");
    for (const a of ["2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:0DB8:0001:0002:0:0:0:9", "2001:db8:1:2::1.2.3.4", "2001:db8:1:2::7%eth0"])
      expect(connectionKey(a), a).to.equal(k);
    expect(connectionKey("2001:db8:1:3::1")).to.not.equal(k);
    expect(connectionKey("2001:db8::1:2:0:1")).to.equal("2001:db8:0:0::/64");
    expect(connectionKey("::1")).to.equal("0:0:0:0::/64");
  });

  it("an IPv4-mapped IPv6 address counts as its IPv4 address; IPv4 as is", () => {
    expect(connectionKey("::ffff:127.0.0.2")).to.equal("127.0.0.2");
    expect(connectionKey("::FFFF:10.1.2.3")).to.equal(connectionKey("10.1.2.3"));
    expect(connectionKey("10.1.2.3")).to.equal("10.1.2.3");
    expect(connectionKey("::ffff:10.1.2.3")).to.not.equal(connectionKey("::ffff:10.1.2.4"));
  });
});
