/**
 * Review s18-review1, finding M2: a resumed key update answers another request than the one typed,
 * and a kept update of the other kind was finished unread.
 *
 * Threat: alice's add (count 1) loses its reply (the MSRP's chain write is slower than her client's
 * timeout) and is kept (s18-redg G4). Her next run (a) asks an add of 3: the kept add of 1 answers
 * it, but nothing in the return value said which request was answered; or (b) asks a rekey of a
 * flagged member: the kept add was finished first and its reply discarded, neither checked against
 * the chain nor shown, so alice never saw what it added.
 * Steps: group {x, y}; the chain write slowed to 1.5 s, alice's add with a 500 ms timeout; then (a)
 * `addRemote` with count 3, or (b) x flagged and synced into S_RN, then `rekeyRemote` evicting x.
 * Impact: a caller (a script, `demo:services`) takes the answer for its own request.
 * Severity: medium-low.
 *
 * Status: fixed (addRemote returns the answered request's `count`, rekeyRemote its `evict`; a kept
 * update of the other kind comes back checked in `earlier`; the tasks print and return both).
 *
 * Secure behaviour asserted: (a) resumed, count 1, one RN added, chain epoch 1; (b) earlier is the
 * kept add (epoch 1, one RN), the rekey is epoch 2 and evicts x.
 */
import { expect } from "chai";
import hre from "hardhat";
import { formedGroup, interceptGroupWrite, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { toHex } from "../../offchain/crypto/bytes";
import { TrustLedger } from "../../offchain/trust/ledger";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { addRemote, localParty, rekeyRemote } from "../../offchain/services/rsms/group-clients";
import { TrustManager__factory } from "../../typechain-types";

describe("s18-review1 M2: a kept key update says which request it answers (fixed)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>> | undefined;
  afterEach(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
    s = undefined;
  });

  /** A group {x, y} whose user's add of 1 RN lost its reply (kept) and landed at epoch 1. */
  async function keptAdd() {
    const machines = new Map<string, Keystore>();
    const f = await formedGroup(machines, ["a", "b", "c", "d", "e"]);
    s = f.s;
    const alice = { msrpUrl: f.s.msrpUrl, user: "alice", groupId: f.gid, keystore: machines.get("alice")!, dep: f.s.dep };
    const groups = f.s.msrpDeps.groups!;
    const slow = interceptGroupWrite(groups, "rekey", "slow");
    const first = await addRemote({ ...alice, count: 1, retry: { attempts: 1, timeoutMs: 500, backoffMs: 10 } }).then(
      () => "answered",
      (e: Error) => `lost: ${e.message.split("\n")[0]}`,
    );
    expect(first, "precondition: the first run lost its reply").to.match(/^lost: /);
    await slow.written();
    slow.restore();
    expect(Number((await f.s.dep.groups.view(f.gid)).epoch), "precondition: the first add landed").to.equal(1);
    return { ...f, machines, alice };
  }

  it("an add of 3 answered by the kept add of 1 says so: resumed, count 1", async () => {
    const { alice, gid } = await keptAdd();
    const r = await addRemote({ ...alice, count: 3 });
    expect([r.resumed, r.count, r.added.length, r.epoch], "the kept add of 1 answers, and says it").to.deep.equal([true, 1, 1, 1]);
    expect(r.earlier, "nothing of the other kind").to.equal(undefined);
    expect(Number((await s!.dep.groups.view(gid)).epoch), "no second update").to.equal(1);
  });

  it("a rekey after a kept add: the add is finished first and returned, checked, in `earlier`", async () => {
    const { alice, gid, members, machines } = await keptAdd();
    const x = members[0];
    const xPid = localParty(machines.get(x)!, x).pid;
    const tmAddress = s!.f.deployment.contracts.TrustManager.address;
    const signers = await hre.ethers.getSigners();
    const detector = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[TRUST_ROLE_SIGNERS.detector]));
    const controller = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[9]));
    await controller.register(toHex(xPid), "resource-node", s!.msrpWallet);
    await detector.flag(toHex(xPid), 1, new Uint8Array(32), 0);
    await s!.msrp.desk!.syncTrustFlags();

    const r = await rekeyRemote({ ...alice, evict: [xPid] });
    expect(r.earlier, "the kept add is reported").to.not.equal(undefined);
    const e = r.earlier!;
    expect([e.kind, e.kind === "add" ? e.count : -1, e.epoch, e.added.length], "the kept add of 1 at epoch 1").to.deep.equal([
      "add",
      1,
      1,
      1,
    ]);
    expect([r.resumed, r.epoch], "this run's rekey was sent: epoch 2").to.deep.equal([false, 2]);
    expect(r.evicted.map(toHex), "it evicts x").to.deep.equal([toHex(xPid)]);
    expect(r.evict.map(toHex), "the rekey that was answered named x").to.deep.equal([toHex(xPid)]);
    expect(Number((await s!.dep.groups.view(gid)).epoch)).to.equal(2);
  });

  it("a rekey whose reply was lost is finished by the next run, not made again (G4 on the rekey path)", async () => {
    const machines = new Map<string, Keystore>();
    const f = await formedGroup(machines, ["a", "b", "c", "d", "e"]);
    s = f.s;
    const x = f.members[0];
    const xPid = localParty(machines.get(x)!, x).pid;
    const tmAddress = s.f.deployment.contracts.TrustManager.address;
    const signers = await hre.ethers.getSigners();
    const detector = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[TRUST_ROLE_SIGNERS.detector]));
    const controller = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[9]));
    await controller.register(toHex(xPid), "resource-node", s.msrpWallet);
    await detector.flag(toHex(xPid), 1, new Uint8Array(32), 0);
    await s.msrp.desk!.syncTrustFlags();
    const alice = { msrpUrl: s.msrpUrl, user: "alice", groupId: f.gid, keystore: machines.get("alice")!, dep: s.dep, evict: [xPid] };
    const groups = s.msrpDeps.groups!;
    const slow = interceptGroupWrite(groups, "rekey", "slow");
    const first = await rekeyRemote({ ...alice, retry: { attempts: 1, timeoutMs: 500, backoffMs: 10 } }).then(
      () => "answered",
      (e: Error) => `lost: ${e.message.split("\n")[0]}`,
    );
    expect(first, "precondition: the first run lost its reply").to.match(/^lost: /);
    await slow.written();
    slow.restore();
    expect(Number((await s.dep.groups.view(f.gid)).epoch), "precondition: the rekey landed").to.equal(1);

    const again = await rekeyRemote({ ...alice, evict: [] });
    expect([again.resumed, again.epoch], "the kept rekey answers: epoch 1").to.deep.equal([true, 1]);
    expect(again.evicted.map(toHex), "it evicted x").to.deep.equal([toHex(xPid)]);
    expect(again.evict.map(toHex), "the answered request named x (this run named nobody)").to.deep.equal([toHex(xPid)]);
    expect(Number((await s.dep.groups.view(f.gid)).epoch), "no second update").to.equal(1);
  });
});
