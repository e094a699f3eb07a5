/**
 * Red team h15-red, finding H1 over the services (fixed: GroupDesk.add evicts the members in S_RN and replaces them; the agent-level test is
 * test/rsms/suspicious-member-rekeyed.findings.test.ts).
 *
 * The trust layer flags a member of alice's group; the MSRP's flag sync puts it in S_RN (rsms-group.md
 * §8: "no group, no rotation"). alice then grows her group (`POST /v1/group/add`): the MSRP seals the
 * new epoch's key to every member, the flagged one included, and it takes the new key from the
 * mailbox. The paper's update evicts the suspicious parties (§IV.B.2.c step 1); here the MSRP knows
 * the member is in S_RN and still hands it the key of every later epoch until alice happens to ask
 * for an eviction. (And an RN in S_RN for another reason, an eviction from another group or the
 * operator's `rsms:rn:flag`, cannot be evicted by alice at all: the desk's rekey evicts only members
 * the trust layer flags, NOTHING_TO_EVICT.)
 *
 * Secure behaviour asserted: the member in S_RN cannot take the key of the epoch the add creates.
 */
import { expect } from "chai";
import hre from "hardhat";
import { formedGroup, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { toHex } from "../../offchain/crypto/bytes";
import { TrustLedger } from "../../offchain/trust/ledger";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { addRemote, localParty, takePart } from "../../offchain/services/rsms/group-clients";
import { TrustManager__factory } from "../../typechain-types";

describe("h15-red H1 (services): an add seals the new key to a member the flag sync put in S_RN (fixed)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  after(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  it("a member flagged by the trust layer and in S_RN is evicted by alice's add, replaced, and cannot take the new key", async () => {
    const machines = new Map<string, Keystore>();
    let gid: Uint8Array;
    let members: string[];
    ({ s, gid, members } = await formedGroup(machines, ["a", "b", "c", "d"]));
    const x = members[0];
    const xPid = localParty(machines.get(x)!, x).pid;
    const tmAddress = s.f.deployment.contracts.TrustManager.address;
    const signers = await hre.ethers.getSigners();
    const detector = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[TRUST_ROLE_SIGNERS.detector]));
    const controller = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[9]));
    await controller.register(toHex(xPid), "resource-node", s.msrpWallet);
    await detector.flag(toHex(xPid), 1, new Uint8Array(32), 0);
    const synced = await s.msrp.desk!.syncTrustFlags();
    expect(synced.added, "precondition: the flag sync put x in S_RN").to.deep.equal([x]);

    const add = await addRemote({
      msrpUrl: s.msrpUrl,
      user: "alice",
      groupId: gid,
      count: 1,
      keystore: machines.get("alice")!,
      dep: s.dep,
    }).then(
      (r) => `epoch ${r.epoch}, added ${r.added.length}, evicted ${r.evicted.length}`,
      (e: Error) => e.message.split("\n")[0],
    );
    const xGot = await takePart({
      msrpUrl: s.msrpUrl,
      name: x,
      groupId: gid,
      keystore: machines.get(x)!,
      dep: s.dep,
      pollMs: 50,
      timeoutMs: 5_000,
    }).then(
      (r) => `the key of epoch ${r.epoch}`,
      (e: Error) => `refused: ${e.message.split("\n")[0]}`,
    );
    expect(xGot, `x is in S_RN (flagged); alice's add: ${add}`).to.match(/^refused: .*NOT_A_MEMBER|^refused: .*not a party/);
    // the add evicted x (flagged on its own PID: alone, no linkage) and replaced it, plus the one asked
    expect(add, "alice's add").to.equal("epoch 1, added 2, evicted 1");
    expect(await s.dep.groups.isMember(gid, xPid), "x is evicted on chain").to.equal(false);
  });
  it("a member in S_RN by the operator's flag (no trust flag on any PID) makes alice's add re-form the whole group (h14-red F1: evicting it alone would name its PID); only it stays in S_RN", async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
    const machines = new Map<string, Keystore>();
    let gid: Uint8Array;
    let members: string[];
    ({ s, gid, members } = await formedGroup(machines, ["a", "b", "c", "d", "e", "f", "g", "h"], 3));
    const x = members[0];
    const xPid = localParty(machines.get(x)!, x).pid;
    expect(s.msrp.msrp.flagRn(xPid), "precondition: the operator put x in S_RN").to.equal(x);
    const before = members.map((n) => toHex(localParty(machines.get(n)!, n).pid)).sort();
    const add = await addRemote({
      msrpUrl: s.msrpUrl,
      user: "alice",
      groupId: gid,
      count: 1,
      keystore: machines.get("alice")!,
      dep: s.dep,
    });
    expect(add.evicted.map(toHex).sort(), "every member is evicted, not x alone").to.deep.equal(before);
    expect(add.added.length, "the group's three members replaced, plus the one asked").to.equal(4);
    expect(await s.dep.groups.isMember(gid, xPid), "x is evicted on chain").to.equal(false);
    expect(s.msrp.msrp.suspiciousRns(), "only x is in S_RN").to.deep.equal([x]);
  });
});
