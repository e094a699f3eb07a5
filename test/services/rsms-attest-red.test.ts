/**
 * Red team (h10-red finding A1, fixed in session 11): the MSRP's trust attestation
 * (POST /v1/trust/attest, TrustManager.registerAttested) let one RN hold several verified trust
 * identities: it attested any PID it had ever issued to the RN, a joined PID stays verified
 * on-chain for good, and an RN rotates its pseudonym when it likes, so k rotations gave k+1
 * verified jurors and raters. Now the first attestation binds the RN's current PID as its trust
 * identity for life (in the MSRP's record, before the reply leaves); the MSRP attests that PID
 * only, and nothing for an RN in S_RN. Each refusal leaves the MSRP's record as it was.
 */
import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { rsmsServices, funded, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { toHex } from "../../offchain/crypto/bytes";
import { joinRemote, loadRemoteRn, reauthRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import { attestTrustRemote, RESOURCE_NODE_KIND } from "../../offchain/services/rsms/attest";
import { ServiceError } from "../../offchain/services/client";
import { MSRP_RECORD } from "../../offchain/services/rsms/msrp-service";
import { TrustManager__factory } from "../../typechain-types";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("services/rsms: one RN, one verified trust identity (red-team finding A1)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  let tmAddress: string;

  before(async () => {
    s = await rsmsServices({ groups: true, pools: [1, 2] });
    tmAddress = s.f.deployment.contracts.TrustManager.address;
  });
  after(async () => {
    await s?.stop();
    await s?.msrp.stop();
  });

  /** An RN registered over the network and joined at pool 1. */
  async function joinedRn(name: string): Promise<Keystore> {
    const ks = new Keystore(tmp(`rn-${name}`), "");
    await registerRnRemote({ msrpUrl: s.msrpUrl, name, poolId: 1, rid: `rn:${name}`, token: s.enrol(name), keystore: ks, dep: s.dep });
    await s.msrp.publishDue();
    await joinRemote({ name, poolId: 1, keystore: ks, dep: s.dep, retry: once });
    return ks;
  }
  const pidOf = (ks: Keystore, name: string) => loadRemoteRn(ks, name)!.state.pid;
  /** The attestation for `pid` to a fresh controller, or the MSRP's refusal reason. */
  async function attest(ks: Keystore, name: string, pid: Uint8Array, controller?: string) {
    const c = controller ?? (await funded()).address;
    return attestTrustRemote({
      name,
      keystore: ks,
      dep: s.dep,
      trustManager: tmAddress,
      controller: c,
      pid,
      now: await time.latest(),
      retry: once,
    }).catch((e: unknown) => {
      expect(e, String(e)).to.be.instanceOf(ServiceError);
      return (e as ServiceError).reason!;
    });
  }
  /** The MSRP's keystore record as the disk has it. */
  const record = () => JSON.stringify(s.msrpDeps.keystore.load(MSRP_RECORD));

  it("A1: an RN that rotated its PID cannot register two attested resource-node entities (one RN, one verified identity)", async () => {
    const ks = await joinedRn("r");
    const first = pidOf(ks, "r");
    await reauthRemote({ name: "r", poolId: 2, keystore: ks, dep: s.dep, retry: once });
    const second = pidOf(ks, "r");
    expect(toHex(second)).to.not.equal(toHex(first));
    const registered: string[] = [];
    for (const pid of [first, second]) {
      const controller = await funded(); // a fresh account per identity: nothing links them publicly
      const r = await attest(ks, "r", pid, controller.address);
      if (typeof r === "string") continue;
      const tm = TrustManager__factory.connect(tmAddress, controller);
      const ok = await tm.registerAttested(r.pid, RESOURCE_NODE_KIND, r.deadline, r.attestation).then(
        async (tx) => (await tx.wait(), true),
        () => false,
      );
      if (ok && (await tm.entity(r.pid)).reputation > 0n) registered.push(r.pid);
    }
    expect(registered).to.deep.equal([toHex(second)]);
  });

  it("a first attestation is for the RN's current PID only: an old pseudonym is refused (NOT_CURRENT_PID) and nothing is bound", async () => {
    const ks = await joinedRn("o");
    const old = pidOf(ks, "o");
    await reauthRemote({ name: "o", poolId: 2, keystore: ks, dep: s.dep, retry: once });
    const before = record();
    expect(await attest(ks, "o", old)).to.equal("NOT_CURRENT_PID");
    expect(record()).to.equal(before);
    expect(s.msrp.msrp.trustIdOf("o")).to.equal(undefined);
  });

  it("the bound PID stays the RN's trust identity after it rotates: attested again (a new controller or deadline), a newer PID refused (SECOND_IDENTITY)", async () => {
    const ks = await joinedRn("h");
    const bound = pidOf(ks, "h");
    const a1 = await attest(ks, "h", bound);
    expect(a1).to.not.be.a("string");
    expect(s.msrp.msrp.trustIdOf("h")).to.equal(toHex(bound));
    await reauthRemote({ name: "h", poolId: 2, keystore: ks, dep: s.dep, retry: once });
    const newer = pidOf(ks, "h");
    const before = record();
    expect(await attest(ks, "h", newer)).to.equal("SECOND_IDENTITY");
    expect(record()).to.equal(before);
    // the honest case rotation must keep: the attestation expired before the operator registered it;
    // the RN's client asks for its trust identity by default (rsms:attest names no PID)
    const controller = await funded();
    const again = await attestTrustRemote({
      name: "h",
      keystore: ks,
      dep: s.dep,
      trustManager: tmAddress,
      controller: controller.address,
      now: await time.latest(),
      retry: once,
    });
    expect(again.pid).to.equal(toHex(bound));
    const tm = TrustManager__factory.connect(tmAddress, controller);
    await (await tm.registerAttested(again.pid, RESOURCE_NODE_KIND, again.deadline, again.attestation)).wait();
    expect((await tm.entity(toHex(bound))).controller).to.equal(controller.address);
  });

  it("an RN in S_RN (flagged or evicted) gets no attestation, not even for its bound PID (SUSPICIOUS_RN)", async () => {
    const ks = await joinedRn("f");
    const pid = pidOf(ks, "f");
    expect(await attest(ks, "f", pid)).to.not.be.a("string");
    const ks2 = await joinedRn("g");
    s.msrp.msrp.flagRn(pid);
    s.msrp.msrp.flagRn(pidOf(ks2, "g"));
    try {
      expect(await attest(ks, "f", pid)).to.equal("SUSPICIOUS_RN");
      const before = record();
      expect(await attest(ks2, "g", pidOf(ks2, "g"))).to.equal("SUSPICIOUS_RN");
      expect(record()).to.equal(before);
      expect(s.msrp.msrp.trustIdOf("g")).to.equal(undefined);
    } finally {
      s.msrp.msrp.clearSuspicious("f");
      s.msrp.msrp.clearSuspicious("g");
    }
  });

  it("the binding is written to the MSRP's keystore with the attestation (a restarted MSRP keeps refusing a second identity)", async () => {
    const ks = await joinedRn("k");
    const pid = pidOf(ks, "k");
    expect(await attest(ks, "k", pid)).to.not.be.a("string");
    const onDisk = s.msrpDeps.keystore.load(MSRP_RECORD) as { trustIds?: Record<string, string> };
    expect(onDisk.trustIds?.k).to.equal(toHex(pid));
  });
});
