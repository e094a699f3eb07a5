/**
 * Red team s18-redg, finding G2: a member is evicted, and barred for good, on a flag that was lifted.
 *
 * Threat: the trust layer flags RN x, a member of alice's group, and the MSRP's flag sync puts it in
 * S_RN, held by the flag (rsms-group.md §8: it leaves S_RN when the flag is lifted). The flag is then
 * lifted (the court upholds x's flag contest, or the detector withdraws it: `TrustManager.unflag`).
 * Until the next flag sync (`--flag-sync`, 10 s by default; never when the operator turned it off),
 * the MSRP's record still has x in S_RN. A key update in that window (alice's `group:add`, or her
 * `group:rekey`) counts x as suspicious from the stale S_RN alone: x is not flagged on its own PID,
 * so the desk takes it for one flagged elsewhere and re-forms the whole group, and the eviction
 * makes x's place in S_RN permanent (evicted: until the operator's review), whatever the next sync
 * reads.
 * Steps: group {x, y}; x's own entity flagged; sync (x in S_RN, flag-held); the detector unflags x;
 * alice adds one RN before the next sync.
 * Impact: an RN the court cleared loses its group and stays barred from every group; every honest
 * member is evicted with it (a whole-group replacement); a flag contest is worth nothing against a
 * user who updates her group at the right time (or a rekey that lands before the sync).
 * Severity: medium (a window of one sync period, unbounded with the sync off; evictions of the innocent).
 *
 * Status: fixed (GroupDesk.suspects lists a flag-held member whose flag is lifted to `lift`; the
 * update takes it out of S_RN before the agent deals; rsms-group.md §10).
 *
 * Secure behaviour asserted: the add evicts nobody, x keeps its place and is out of S_RN.
 */
import { expect } from "chai";
import hre from "hardhat";
import { formedGroup, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { toHex } from "../../offchain/crypto/bytes";
import { TrustLedger } from "../../offchain/trust/ledger";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { addRemote, localParty } from "../../offchain/services/rsms/group-clients";
import { TrustManager__factory } from "../../typechain-types";

describe("s18-redg G2: a key update evicts a member on a lifted flag (stale S_RN) (fixed)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  after(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  it("after the detector withdrew x's flag, alice's add before the next sync keeps x and leaves it out of S_RN", async () => {
    const machines = new Map<string, Keystore>();
    let gid: Uint8Array;
    let members: string[];
    ({ s, gid, members } = await formedGroup(machines, ["a", "b", "c", "d", "e"]));
    const x = members[0];
    const xPid = localParty(machines.get(x)!, x).pid;
    const tmAddress = s.f.deployment.contracts.TrustManager.address;
    const signers = await hre.ethers.getSigners();
    const tm = TrustManager__factory.connect(tmAddress, signers[TRUST_ROLE_SIGNERS.detector]);
    const detector = new TrustLedger(tm);
    const controller = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[9]));
    await controller.register(toHex(xPid), "resource-node", s.msrpWallet);
    await detector.flag(toHex(xPid), 1, new Uint8Array(32), 0);
    expect((await s.msrp.desk!.syncTrustFlags()).added, "precondition: x is in S_RN, held by the flag").to.deep.equal([x]);
    await (await tm.unflag(toHex(xPid), 1, await tm.generationOf(toHex(xPid)), (await tm.flagMarks(toHex(xPid)))[1])).wait();
    expect(Number((await tm.entity(toHex(xPid))).flags), "precondition: x's flag is lifted on chain").to.equal(0);

    const add = await addRemote({
      msrpUrl: s.msrpUrl,
      user: "alice",
      groupId: gid,
      count: 1,
      keystore: machines.get("alice")!,
      dep: s.dep,
    });
    expect(add.evicted.map(toHex), "nobody is evicted on a lifted flag").to.deep.equal([]);
    expect(add.added.length, "the one RN asked for").to.equal(1);
    expect(await s.dep.groups.isMember(gid, xPid), "x is still a member on chain").to.equal(true);
    expect(s.msrp.msrp.suspiciousRns(), "x is out of S_RN").to.deep.equal([]);
    // and the next sync keeps it out
    await s.msrp.desk!.syncTrustFlags();
    expect(s.msrp.msrp.suspiciousRns(), "x is still out of S_RN after the sync").to.deep.equal([]);
  });
});
