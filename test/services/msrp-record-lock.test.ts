/**
 * s23-fxops finding 1 (M; the shape of s17-redA F20 and s22-redo R9, left open for the MSRP):
 * `rsms:serve msrp` built its MsrpService, which read the MSRP's record `rsms-msrp`, before it
 * took its folder lock, and wrote that agent back whole at every save. A writer that ran between the
 * read and the lock (a second service on the folder stopping, a command finishing) had its write
 * undone by the service's next save: an RN or user registered there is gone from the record.
 * And the in-process commands only checked for a live service before they loaded the record: a
 * service started while a command awaited the chain loaded the record without the command's change,
 * and its next save undid the command's commit.
 *
 * Fixed: the service loads the record again once it holds the lock (MsrpService.startLocked); the
 * commands that change the record hold the same lock for their run (tasks/lib/msrp-record.ts
 * withMsrpRecord, the IdP's rule of tasks/lib/record-hold.ts): a service started meanwhile waits for
 * the command, and a command beside a live service refuses in one line naming it, having written
 * nothing.
 * Bites: without the reload in startLocked the first two cases lose a user; without the command's
 * hold (asMsrp in tasks/rsms.ts) the third one's command is not refused.
 */
import { expect } from "chai";
import path from "path";
import hre from "hardhat";
import { Keystore } from "../../offchain/storage/keystore";
import { Msrp } from "../../offchain/rsms/msrp";
import { Role } from "../../offchain/rsms/messages";
import { MsrpService, MSRP_RECORD } from "../../offchain/services/rsms/msrp-service";
import { registerUserRemote } from "../../offchain/services/rsms/group-clients";
import { lockFolder } from "../../offchain/services/folder-lock";
import { withServiceFolder } from "../../tasks/lib/record-hold";
import { startMsrp, tmp } from "../helpers/rsms-services";
import { useTaskSandbox } from "../helpers/tasks";
import { dataDir } from "../../offchain/chain/paths";

/** The users the MSRP's record on disk holds (a fresh Keystore: as another process reads it). */
const usersOnDisk = (dir: string) => Object.keys(new Keystore(dir, "").load<{ users: Record<string, unknown> }>(MSRP_RECORD).users).sort();

describe("rsms:serve msrp: the service reads its record only once it holds its folder (s23-fxops)", function () {
  this.timeout(300_000);

  it("a second service built while the first serves the folder keeps the first's registration once it starts", async () => {
    const s = await startMsrp({ groups: true, openRegistration: true });
    // built now (it reads the record), started only after the first stops: a supervisor's restart
    const second = new MsrpService({ ...s.msrpDeps, keystore: new Keystore(s.msrpKs.dir, "") });
    let url = "";
    try {
      await registerUserRemote({
        msrpUrl: s.msrpUrl,
        name: "alice",
        rid: "user:alice",
        keystore: new Keystore(tmp("u-a"), ""),
        dep: s.dep,
      });
      await s.msrp.stop();
      url = (await second.start({ port: 0 })).url;
      await registerUserRemote({ msrpUrl: url, name: "bob", rid: "user:bob", keystore: new Keystore(tmp("u-b"), ""), dep: s.dep });
      expect(usersOnDisk(s.msrpKs.dir), "a user registered through the first service was undone by the second's save").to.deep.equal([
        "alice",
        "bob",
      ]);
      expect(
        second.msrp
          .summary()
          .users.map((u) => u.name)
          .sort(),
      ).to.deep.equal(["alice", "bob"]);
    } finally {
      if (url) await second.stop();
      else await s.msrp.stop();
    }
  });

  it("a service started while a command holds the folder waits for it and serves what it wrote", async () => {
    const s = await startMsrp({ groups: true, openRegistration: true });
    await s.msrp.stop();
    const svc = new MsrpService({ ...s.msrpDeps, keystore: new Keystore(s.msrpKs.dir, "") });
    let started: Promise<{ url: string }> | undefined;
    let startedEarly = false;
    let startedWhileHeld = true;
    // a command (rsms:user:register in-process) holds the service's folder for its run, as the tasks do
    await withServiceFolder(
      "rsms:user:register",
      s.msrpDeps.dir,
      () => "refused",
      async () => {
        started = svc.start({ port: 0 });
        void started.then(() => (startedEarly = true));
        await new Promise((go) => setTimeout(go, 400));
        const ks = new Keystore(s.msrpKs.dir, "");
        const m = Msrp.fromRecord(ks.load(MSRP_RECORD) as never);
        m.registerUser("carol", Msrp.registrationRequest(m.params.pkPub, Role.User, 0, "user:carol"));
        ks.update(MSRP_RECORD, { ...ks.load(MSRP_RECORD), ...m.toRecord() });
        startedWhileHeld = startedEarly;
      },
      { onWait: () => undefined },
    );
    const { url } = await started!;
    try {
      expect(startedWhileHeld, "the service started while the command held its folder").to.equal(false);
      await registerUserRemote({ msrpUrl: url, name: "dave", rid: "user:dave", keystore: new Keystore(tmp("u-d"), ""), dep: s.dep });
      expect(usersOnDisk(s.msrpKs.dir), "the command's user was undone by the service's save").to.deep.equal(["carol", "dave"]);
    } finally {
      await svc.stop();
    }
  });
});

describe("rsms:* commands beside a live MSRP service hold its folder (s23-fxops)", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-s23-msrp-lock-");

  it("rsms:user:register in-process beside the service: one line naming its pid, nothing written; once it stops, the command runs", async () => {
    await hre.run("rsms:setup", { capacity: 1024, lambda: 20, interval: 3600, ttl: 7 * 24 * 3600 });
    const data = dataDir(hre.network.name);
    const ks = new Keystore(path.join(data, "keystore"), undefined);
    const before = JSON.stringify(ks.stamp(MSRP_RECORD));
    // the live service's lock (rsms:serve msrp holds it for its life), here of this very process
    const lock = lockFolder(path.join(data, "service-msrp"), "msrp");
    let refused = "";
    try {
      refused = await hre.run("rsms:user:register", { name: "erin" }).then(
        () => "registered",
        (e: Error) => e.message,
      );
    } finally {
      lock.release();
    }
    expect(refused.split("\n")).to.have.length(1);
    expect(refused).to.match(/^rsms:user:register: an MSRP service \(pid \d+/);
    expect(refused).to.include(`pid ${process.pid}`).and.include("--msrp");
    expect(JSON.stringify(ks.stamp(MSRP_RECORD)), "the MSRP's record after the refusal").to.equal(before);
    await hre.run("rsms:user:register", { name: "erin" });
    expect(Object.keys(ks.load<{ users: Record<string, unknown> }>(MSRP_RECORD).users)).to.deep.equal(["erin"]);
  });
});
