/**
 * s22-redo R8 (severity H: permanent lock-out of an honest user, and an avatar the IdP can
 * no longer trace; "two processes on one keystore").
 *
 * Attack / mishap: the IdP's keystore record `avatar-idp` holds every enrolment (the iris template
 * and salts by which a user logs in, the real identity by which her avatars are traced). Each task
 * run loads the whole record when it starts (tasks/avatar.ts `ctx()` -> `loadIdp()`) and idp:issue
 * writes it back WHOLE just before its MIT goes on-chain (`ks.update("avatar-idp",
 * ctx.idp.toRecord())` in `beforeSend`). No lock is taken on the folder (the services take one,
 * offchain/services/folder-lock.ts; the tasks do not). Two idp:issue runs on one IdP folder at the
 * same time (two operator shells, a script issuing in parallel; modelled here as two task runs in
 * one process, each with its own copy of the record, exactly as two processes have; the timing of
 * two processes is made deterministic by holding each IPFS put of the terms until both runs have
 * made theirs, as a kubo node a few milliseconds away, or a loaded machine, does) each write the
 * record they loaded plus their own enrolment: the last writer wins and the other user's
 * enrolment is gone, while her MIT is on-chain and her party record says it is complete.
 * She can never log in (the IdP finds no enrolment for her MIT), and idp:issue refuses her a
 * second MIT ("one party, one MIT"): permanent lock-out. An avatar she drove before the loss could
 * no longer be traced to her.
 *
 * Fixed (s22-fxidp): a command that writes the IdP's record holds the IdP's folder from before it
 * loads the record until its run ends (tasks/lib/idp-record.ts; across processes the lock file
 * `service-idp/service.lock` with the holder's pid, within one process a queue first): the second
 * run waits for the first and loads what it wrote, so both users log in. The two-process form
 * (a child holding the folder) is test/avatars/idp-record-processes.test.ts.
 * Bite: with `withIdpRecord` reduced to `return run()`, this fails with alice's login refused
 * ("commitmentOf: not a user MIT").
 */
import { expect } from "chai";
import hre from "hardhat";
import { useTaskSandbox } from "../helpers/tasks";

describe("R8 (s22-redo): two idp:issue runs on one IdP folder keep both enrolments", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-s22redo-r8-");

  it("both users issued at the same time can log in", async () => {
    await hre.run("idp:setup");
    // the two runs' MIT parameters reach IPFS together (a put that takes a moment: kubo, a busy disk)
    const { FileContentStore } = await import("../../offchain/storage/content-store");
    const put = FileContentStore.prototype.putJson;
    let waiting: (() => void)[] = [];
    FileContentStore.prototype.putJson = async function (this: InstanceType<typeof FileContentStore>, ...args) {
      await new Promise<void>((go) => {
        waiting.push(go);
        if (waiting.length === 2) (waiting.forEach((g) => g()), (waiting = []));
        else setTimeout(go, 3000); // alone: a slow put, no more
      });
      return put.apply(this, args);
    };
    let issued: PromiseSettledResult<unknown>[];
    try {
      issued = await Promise.allSettled([hre.run("idp:issue", { user: "alice" }), hre.run("idp:issue", { user: "bob" })]);
    } finally {
      FileContentStore.prototype.putJson = put;
    }
    expect(
      issued.map((r) => r.status),
      "an issue failed outright",
    ).to.deep.equal(["fulfilled", "fulfilled"]);
    const logins: Record<string, string> = {};
    for (const [user, avatar] of [
      ["alice", "fox"],
      ["bob", "whale"],
    ])
      try {
        await hre.run("avatar:login", { user, avatar });
        logins[user] = "logged in";
      } catch (e) {
        logins[user] = `${(e as Error).constructor.name}: ${(e as Error).message}`;
      }
    // and the loss is for good: a second MIT for alice is refused (one party, one MIT)
    const again = await hre.run("idp:issue", { user: "alice" }).then(
      () => "issued again",
      (e: Error) => (/already holds an MIT/.test(e.message) ? "refused: already holds an MIT" : e.message),
    );
    expect({ ...logins, again }).to.deep.equal({ alice: "logged in", bob: "logged in", again: "refused: already holds an MIT" });
  });
});
