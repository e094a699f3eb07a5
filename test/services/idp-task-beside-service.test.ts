/**
 * FINDING s22-redo R9 (severity H: permanent lock-out of an honest user; the shape of s17-redA F20,
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
 * Fixed behaviour: while an IdP service serves the folder, the tasks that write `avatar-idp` are
 * refused in one line naming the service (as msrpNotServed), or the service re-reads the record
 * before it writes (a stamp, as tasks/rsms.ts keeps the MSRP's), so carol's enrolment survives.
 */
import { expect } from "chai";
import path from "path";
import hre from "hardhat";
import { useTaskSandbox } from "../helpers/tasks";

describe("FINDING R9: idp:issue in the folder of a running idp:serve is undone by the service's next write", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-s22redo-r9-");

  it("carol, issued by the task beside the service, can still log in after the service issues another MIT", async () => {
    await hre.run("idp:setup");
    const { localState, deployedAddress } = await import("../../tasks/lib/context");
    const { roleAccounts } = await import("../../offchain/chain/accounts");
    const { MITRegistry__factory } = await import("../../typechain-types");
    const { IdpService } = await import("../../offchain/services/avatars/idp-service");
    const local = localState(hre);
    const wallet = await roleAccounts(hre, local.keystore).key("idp");
    const registry = MITRegistry__factory.connect(await deployedAddress(hre, "MITRegistry"), wallet);
    // as idp:serve builds it (tasks/services.ts)
    const svc = new IdpService({
      keystore: local.keystore,
      dir: path.join(local.dir, "service-idp"),
      registry,
      court: await deployedAddress(hre, "DisputeResolution"),
      store: local.store,
      wallet,
      chainId: (await hre.ethers.provider.getNetwork()).chainId,
      openRegistration: true,
    });
    const { url } = await svc.start({ host: "127.0.0.1", port: 0 } as Parameters<typeof svc.start>[0]);
    let outcome: string;
    try {
      // the operator, in another shell on the same folder, issues carol's MIT with the task
      const issued = await hre.run("idp:issue", { user: "carol" }).then(
        () => "issued",
        (e: Error) => e.message,
      );
      if (issued !== "issued") {
        // the fix that refuses the task while the service serves the folder
        expect(issued).to.match(/service/i);
        expect(issued.split("\n")).to.have.length(1);
        return;
      }
      // a user issued through the service: the service saves its record
      await hre.run("idp:issue", { user: "dave", idp: url });
      outcome = await hre.run("avatar:login", { user: "carol", avatar: "owl" }).then(
        () => "logged in",
        (e: Error) => `${e.constructor.name}: ${e.message}`,
      );
    } finally {
      await svc.stop();
    }
    expect(outcome, "carol's enrolment was overwritten by the service's save").to.equal("logged in");
  });
});
