/**
 * Red team (h10-red): the MSRP's trust attestation (POST /v1/trust/attest,
 * TrustManager.registerAttested) lets one RN hold several verified trust identities. Each test
 * passes when the attack is refused and fails while it gets through (`npm run test:findings`).
 */
import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { rsmsServices, funded, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { toHex } from "../../offchain/crypto/bytes";
import { joinRemote, loadRemoteRn, reauthRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import { attestTrustRemote, RESOURCE_NODE_KIND } from "../../offchain/services/rsms/attest";
import { TrustManager__factory } from "../../typechain-types";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("h10-red findings: the MSRP's trust attestation", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;

  before(async () => {
    s = await rsmsServices({ groups: true, pools: [1, 2] });
  });
  after(async () => {
    await s?.stop();
    await s?.msrp.stop();
  });

  /**
   * A1 (MEDIUM, Sybil) - one RN, several verified trust identities. The MSRP attests any PID it
   * issued to the asking RN, past or current (`Msrp.rnOfPid`; `current` is not checked), every PID
   * with a join record stays verified on-chain for good (ResourcePoolRegistry.isVerified), and an
   * RN chooses when to rotate (a re-authentication to another pool gives it PID_{k+1}). So an RN
   * that rotated k times gets k+1 attestations, each for a controller account of its choosing, and
   * registers k+1 resource-node entities, each vouched at the initial reputation: k+1 jurors
   * (the court excludes only entities of a party's controller, and these have distinct
   * controllers) and k+1 shares of the electorate E. "Verification costs something a script cannot
   * mint" (trust.md) holds per PID, not per RN. Refused when the MSRP attests at most one live
   * trust identity per RN (for example only its current PID, and only once per RN, or with the old
   * entity retired when the new one registers: a design decision, trust.md §5).
   */
  it("A1: an RN that rotated its PID cannot register two attested resource-node entities (one RN, one verified identity)", async () => {
    const ks = new Keystore(tmp("rn-sybil"), "");
    await registerRnRemote({ msrpUrl: s.msrpUrl, name: "r", poolId: 1, rid: "rn:r", token: s.enrol("r"), keystore: ks, dep: s.dep });
    await s.msrp.publishDue();
    await joinRemote({ name: "r", poolId: 1, keystore: ks, dep: s.dep, retry: once });
    const first = loadRemoteRn(ks, "r")!.state.pid;
    await reauthRemote({ name: "r", poolId: 2, keystore: ks, dep: s.dep, retry: once });
    const second = loadRemoteRn(ks, "r")!.state.pid;
    expect(toHex(second)).to.not.equal(toHex(first));
    const tmAddress = s.f.deployment.contracts.TrustManager.address;
    const registered: string[] = [];
    for (const pid of [first, second]) {
      const controller = await funded(); // a fresh account per identity: nothing links them publicly
      const r = await attestTrustRemote({
        name: "r",
        keystore: ks,
        dep: s.dep,
        trustManager: tmAddress,
        controller: controller.address,
        pid,
        now: await time.latest(),
        retry: once,
      }).catch((e: Error) => e.message.split("\n")[0]);
      if (typeof r === "string") continue;
      const tm = TrustManager__factory.connect(tmAddress, controller);
      const ok = await tm.registerAttested(r.pid, RESOURCE_NODE_KIND, r.deadline, r.attestation).then(
        async (tx) => (await tx.wait(), true),
        () => false,
      );
      if (ok && (await tm.entity(r.pid)).reputation > 0n) registered.push(r.pid);
    }
    if (registered.length > 1)
      console.log(`       one RN registered ${registered.length} attested resource nodes, each at the initial reputation`);
    expect(registered.length).to.be.at.most(1);
  });
});
