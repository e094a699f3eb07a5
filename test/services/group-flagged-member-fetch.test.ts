/**
 * Review s18-review1, finding L2: a flagged RN could still take the current epoch's key through
 * `/v1/group/fetch`.
 *
 * Threat: x, a member, is flagged after alice's add (epoch 1) and before it ran `group:join`; the
 * flag sync puts it in S_RN. s18-redg G1 refuses it the channel (read, send) and the retired
 * updates, but the fetch of the current update still handed it its Rekey, so x took K_1: any copy
 * of the epoch's traffic it gets elsewhere opens.
 * Steps: group {x, y}; alice adds an RN (epoch 1); x flagged, synced into S_RN; x runs takePart.
 * Impact: defence in depth (the mailbox already serves x no traffic).
 * Severity: low.
 *
 * Status: fixed (GroupDesk.fetch refuses SUSPICIOUS a party in S_RN for a key update, kind 1, after
 * its signature; a formation's rounds, kind 0, are still served).
 *
 * Secure behaviour asserted: x is refused SUSPICIOUS and holds no key of epoch 1; y takes it.
 */
import { expect } from "chai";
import hre from "hardhat";
import { formedGroup, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { toHex } from "../../offchain/crypto/bytes";
import { TrustLedger } from "../../offchain/trust/ledger";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { addRemote, groupParty, localParty, takePart } from "../../offchain/services/rsms/group-clients";
import { TrustManager__factory } from "../../typechain-types";

describe("s18-review1 L2: a member in S_RN cannot fetch the current key update (fixed)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  after(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  it("x, flagged after alice's add and before it joined epoch 1, is refused epoch 1's key; y takes it", async () => {
    const machines = new Map<string, Keystore>();
    let gid: Uint8Array;
    let members: string[];
    ({ s, gid, members } = await formedGroup(machines, ["a", "b", "c", "d"]));
    const [x, y] = members;
    const party = (n: string) => ({ msrpUrl: s.msrpUrl, name: n, groupId: gid, keystore: machines.get(n)!, dep: s.dep, pollMs: 50 });
    const add = await addRemote({ ...party("alice"), user: "alice", count: 1 });
    expect(add.epoch, "precondition: epoch 1").to.equal(1);
    const xPid = localParty(machines.get(x)!, x).pid;
    const tmAddress = s.f.deployment.contracts.TrustManager.address;
    const signers = await hre.ethers.getSigners();
    const detector = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[TRUST_ROLE_SIGNERS.detector]));
    const controller = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[9]));
    await controller.register(toHex(xPid), "resource-node", s.msrpWallet);
    await detector.flag(toHex(xPid), 1, new Uint8Array(32), 0);
    expect((await s.msrp.desk!.syncTrustFlags()).added, "precondition: x is in S_RN").to.deep.equal([x]);

    const xTook = await takePart(party(x)).then(
      (r) => `took epoch ${r.epoch}`,
      (e: Error) => `refused: ${e.message.split("\n")[0]}`,
    );
    expect(xTook, "x's fetch").to.match(/^refused: .*SUSPICIOUS/);
    const held = (await groupParty(machines.get(x)!, x, gid, s.dep)).party.epochsOf(gid);
    expect(held, "x holds no key of epoch 1").to.deep.equal([0]);
    expect((await takePart(party(y))).epoch, "y takes epoch 1's key").to.equal(1);
  });
});
