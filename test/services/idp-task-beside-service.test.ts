/**
 * s22-redo R9 (severity H: permanent lock-out of an honest user; the shape of s17-redA F20,
 * fixed for the MSRP, open for the IdP).
 *
 * Attack / mishap: `idp:serve` loads the IdP's record `avatar-idp` once at start and writes its whole
 * in-memory record back on every change (IdpService.save). Its folder lock (`service-idp/service.lock`)
 * stops a second SERVICE, but the idp:* / avatar:* TASKS on the same data folder neither check it
 * (the MSRP's tasks do: tasks/lib/msrp-record.ts msrpNotServed) nor go through the service: with
 * `avatar-idp` in the folder, `idp:issue --user carol` runs in-process and writes carol's enrolment
 * into the record. The service's next save (here: the next MIT it issues over the network) writes
 * its own copy back, without carol. Carol's MIT is on-chain and her party record is complete, but
 * the IdP has no enrolment for her: she can never log in, and idp:issue refuses her a second MIT.
 * (One process stands for two here: the service and the task each hold their own copy of the
 * record, as two processes do.)
 *
 * Fixed (s22-fxidp): the commands that write `avatar-idp` take the IdP's folder lock, which the live
 * service holds: refused in one line naming the service (its pid) and how to go through it, having
 * written nothing (tasks/lib/idp-record.ts). Here the service is in this process (its lock has
 * this pid: the refusal does not rest on another pid being alive); the child-process form is
 * test/avatars/idp-record-processes.test.ts. Once the service is stopped the task runs.
 * Bite: with `withIdpRecord` reduced to `return run()`, carol is issued beside the service and this
 * fails with her login after the service's next write ("commitmentOf: not a user MIT").
 */
import { expect } from "chai";
import hre from "hardhat";
import { useTaskSandbox } from "../helpers/tasks";

describe("R9 (s22-redo): idp:issue in the folder of a running idp:serve", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-s22redo-r9-");

  it("idp:issue beside the live service: refused in one line naming it, nothing written; once it stops, carol is issued and she and dave (issued through it) log in", async () => {
    await hre.run("idp:setup");
    const { localState } = await import("../../tasks/lib/context");
    const { buildIdpService } = await import("../../tasks/lib/idp-service");
    const local = localState(hre);
    const { svc } = await buildIdpService(hre, { openRegistration: true }); // as idp:serve builds it
    const { url } = await svc.start({ host: "127.0.0.1", port: 0 } as Parameters<typeof svc.start>[0]);
    let refused = "";
    try {
      // the operator, in another shell on the same folder, issues carol's MIT with the task
      const issued = await hre.run("idp:issue", { user: "carol" }).then(
        () => "issued",
        (e: Error) => e.message,
      );
      if (issued === "issued") {
        // not refused: the service's next save (a user issued through it) decides carol's fate
        await hre.run("idp:issue", { user: "dave", idp: url });
        const login = await hre.run("avatar:login", { user: "carol", avatar: "owl" }).then(
          () => "logged in",
          (e: Error) => `${e.constructor.name}: ${e.message}`,
        );
        expect.fail(`carol was issued beside the live service; after its next write her login: ${login}`);
      }
      refused = issued;
      expect(local.keystore.exists("avatar-party-carol"), "carol's party record after the refusal").to.equal(false);
      await hre.run("idp:issue", { user: "dave", idp: url }); // the service goes on
    } finally {
      await svc.stop();
    }
    expect(refused.split("\n")).to.have.length(1);
    expect(refused).to.match(/^idp:issue: an IdP service \(pid \d+/);
    expect(refused).to.include(`pid ${process.pid}`).and.include("--idp");
    // stopped, the folder is the task's: carol is issued in-process, and both log in
    await hre.run("idp:issue", { user: "carol" });
    for (const [user, avatar] of [
      ["carol", "owl"],
      ["dave", "lynx"],
    ])
      await hre.run("avatar:login", { user, avatar });
  });
});
