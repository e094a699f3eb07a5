/**
 * s18-fixo: the in-process `group:*` tasks change the MSRP's record (a group formed or rekeyed) as
 * the `rsms:*` tasks do, and had neither guard those have (s17-fixA1):
 * - F20's shape: `group:request` / `group:rekey` ran beside a live MSRP service on the folder, whose
 *   next save undid the group (the service holds the record in memory);
 * - F21's shape: they loaded the record, awaited the chain and wrote the whole record back
 *   (`ks.update`, no stamp), dropping what another command committed meanwhile, e.g. an RN that
 *   `rsms:rn:register` registered while the group's transaction was mined: that RN holds keys for
 *   a registration the MSRP forgot (its join refused for good).
 * Now a writing group command refuses first while a service serves the folder, and commits the
 * MSRP's record over the stamp it was loaded at; the chain already holds the group then, so a record
 * changed meanwhile gets the same commit made again on it (tasks/lib/msrp-record.ts commitChained).
 * The race is run in order: the other writer runs to its end just before the group's chain write.
 * Since s23-fxops the commands that change the record hold the MSRP service's folder for their run
 * (tasks/lib/msrp-record.ts withMsrpRecord): another such command waits for the group command's end
 * and cannot land inside it; the writer that still can is one that takes no lock (an older build,
 * a hand edit), played here by a direct commit of a user into the record.
 */
import { expect } from "chai";
import hre from "hardhat";
import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { rejects, useRsmsTaskSandbox } from "../helpers/tasks";
import { LOCK_FILE } from "../../offchain/services/folder-lock";
import { sameStamp } from "../../offchain/storage/keystore";
import { GroupLedger } from "../../offchain/rsms/group-flows";
import { GroupParty } from "../../offchain/rsms/group";

type MsrpRec = {
  rns: Record<string, unknown>;
  users: Record<string, unknown>;
  groups?: Record<string, { epoch: number; members: { name: string }[] }>;
};

describe("group:* tasks: the MSRP's record guarded as the rsms tasks guard it (s18-fixo)", function () {
  this.timeout(300_000);
  const sandbox = useRsmsTaskSandbox("metatrust-fixo-group-", ["g-1", "g-2", "g-3", "g-4"]);
  const record = () => sandbox.keystore().load("rsms-msrp") as MsrpRec;
  let groupId = "";
  /** A writer that takes no lock commits a user into the MSRP's record (over it, as it stands). */
  const locklessUser = async (name: string) => {
    const { Msrp } = await import("../../offchain/rsms/msrp");
    const { Role } = await import("../../offchain/rsms/messages");
    const { MSRP_PATCH } = await import("../../tasks/lib/msrp-record");
    const ks = sandbox.keystore();
    const m = Msrp.fromRecord(ks.load("rsms-msrp") as never);
    m.registerUser(name, Msrp.registrationRequest(m.params.pkPub, Role.User, 0, `user:${name}`));
    ks.commit({ "rsms-msrp": m.toRecord() }, MSRP_PATCH);
  };

  before(async () => {
    for (const n of ["g-1", "g-2", "g-3", "g-4"]) await hre.run("rsms:join", { rn: n, pool: 1 });
    await hre.run("rsms:user:register", { name: "gu" });
  });

  /** Runs `other` to its end right before the next call of GroupLedger's `method` (the chain write). */
  const before1 = (method: "formGroup" | "rekey", other: () => Promise<unknown>) => {
    const orig = GroupLedger.prototype[method] as (...a: unknown[]) => Promise<unknown>;
    (GroupLedger.prototype as unknown as Record<string, unknown>)[method] = async function (this: unknown, ...a: unknown[]) {
      (GroupLedger.prototype as unknown as Record<string, unknown>)[method] = orig;
      await other();
      return orig.apply(this, a);
    };
    return () => ((GroupLedger.prototype as unknown as Record<string, unknown>)[method] = orig);
  };

  it("group:request while a lockless writer commits a user: the MSRP's record keeps the group and the user", async () => {
    const restore = before1("formGroup", () => locklessUser("g-late"));
    try {
      groupId = ((await hre.run("group:request", { user: "gu", size: 2 })) as { groupId: string }).groupId;
    } finally {
      restore();
    }
    expect(Object.keys(record().users), "the user registered while the group was formed").to.include("g-late");
    expect(Object.keys(record().groups ?? {}), "the group the chain holds").to.include(groupId);
  });

  it("group:rekey while a lockless writer commits a user: the record keeps the new epoch and the user", async () => {
    const evict = ((await hre.run("group:status", { group: groupId })) as { pids: string[] }).pids[0];
    const restore = before1("rekey", () => locklessUser("g-later"));
    let r: { epoch: number };
    try {
      r = (await hre.run("group:rekey", { group: groupId, evict, add: "" })) as { epoch: number };
    } finally {
      restore();
    }
    expect(Object.keys(record().users)).to.include("g-later");
    expect(record().groups?.[groupId]?.epoch, "the epoch the chain holds").to.equal(r.epoch);
  });

  it("group:send while another send of the same party commits its record: refused, the other's record kept (no sequence number spent twice)", async () => {
    const rec = "rsms-party-gu";
    const ks = sandbox.keystore();
    const orig = GroupParty.prototype.seal;
    let other = "";
    // another process's group:send by gu, between this one's load and its save: load, seal, save
    GroupParty.prototype.seal = function (this: GroupParty, ...a: Parameters<GroupParty["seal"]>) {
      GroupParty.prototype.seal = orig;
      const p = GroupParty.fromRecord(ks.load(rec));
      orig.apply(p, a);
      ks.update(rec, p.toRecord());
      other = JSON.stringify(ks.load(rec));
      return orig.apply(this, a);
    };
    let err: Error;
    try {
      err = await rejects(hre.run("group:send", { group: groupId, from: "gu", msg: "at once" }));
    } finally {
      GroupParty.prototype.seal = orig;
    }
    expect(other, "setup: the other send ran").to.not.equal("");
    expect(err.message).to.equal(
      "group:send: the party record rsms-party-gu changed meanwhile (another command wrote it): nothing of this run was kept; run again",
    );
    expect(JSON.stringify(ks.load(rec)), "the other send's record").to.equal(other);
    await hre.run("group:send", { group: groupId, from: "gu", msg: "again" }); // the rerun goes through
  });

  it("group:request and group:rekey beside a live MSRP service on the folder: refused in one line, the record unchanged", async () => {
    const { localState } = await import("../../tasks/lib/context");
    const svcDir = path.join(localState(hre).dir, "service-msrp");
    fs.mkdirSync(svcDir, { recursive: true });
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    try {
      fs.writeFileSync(
        path.join(svcDir, LOCK_FILE),
        JSON.stringify({ pid: child.pid, started: "2026-01-01T00:00:00.000Z", service: "msrp" }),
      );
      const before = sandbox.keystore().stamp("rsms-msrp");
      for (const [task, args] of [
        ["group:request", { user: "gu", size: 1 }],
        ["group:rekey", { group: groupId, evict: "", add: "g-4" }],
      ] as const) {
        const err = await rejects(hre.run(task, args));
        expect(err.message, task).to.match(new RegExp(`^${task}: an MSRP service \\(pid ${child.pid},`));
        expect(err.message).to.include(svcDir).and.not.include("\n");
        expect(sameStamp(sandbox.keystore().stamp("rsms-msrp"), before), `${task} wrote the MSRP's record`).to.equal(true);
      }
    } finally {
      child.kill();
      fs.rmSync(path.join(svcDir, LOCK_FILE), { force: true });
    }
  });
});
