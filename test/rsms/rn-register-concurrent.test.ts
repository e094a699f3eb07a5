/**
 * s17-redA F21: two `rsms:rn:register` commands run at the same time on the MSRP's folder (a script
 * that registers its RNs in parallel: `for rn in …; do npx hardhat rsms:rn:register … & done`) both
 * succeed, both print "1 RN(s) wait for the next filter", and the MSRP's record keeps only one of
 * them: each command loads the record, registers, and writes its whole record back (loadMsrp /
 * saveMsrp hold no stamp, unlike the RPM's record), so the later write drops the other RN. That RN
 * holds keys (`rsms-rn-<name>`) for a registration the MSRP forgot: its secret is in no filter and
 * its join is refused for good. Observed with two CLI processes against `hardhat node`; here two
 * runs of the task in one process, interleaved at their awaits, which is the same race.
 * Charter: a concurrent request never loses another's effect; nobody is stranded.
 */
import { expect } from "chai";
import hre from "hardhat";
import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { rejects, useRsmsTaskSandbox } from "../helpers/tasks";
import { LOCK_FILE } from "../../offchain/services/folder-lock";
import { sameStamp } from "../../offchain/storage/keystore";

describe("rsms:rn:register: two registrations at once are both kept (s17-redA F21)", function () {
  this.timeout(180_000);
  const sandbox = useRsmsTaskSandbox("metatrust-redA-rnconc-", ["edge-1"]);

  it("cc-1 and cc-2 registered concurrently: the MSRP's record holds both (or one is refused)", async () => {
    const results = await Promise.allSettled([
      hre.run("rsms:rn:register", { name: "cc-1", pool: 1 }),
      hre.run("rsms:rn:register", { name: "cc-2", pool: 1 }),
    ]);
    const rns = Object.keys((sandbox.keystore().load("rsms-msrp") as { rns: Record<string, unknown> }).rns);
    for (const [i, name] of ["cc-1", "cc-2"].entries())
      if (results[i].status === "fulfilled")
        expect(rns).to.include(name, `${name} was told it is registered, and the MSRP's record does not hold it`);
      else {
        // refused having kept nothing: no RN record, and one line saying to run again
        expect(sandbox.keystore().exists(`rsms-rn-${name}`), `${name}'s keystore record`).to.equal(false);
        expect(String((results[i] as PromiseRejectedResult).reason?.message)).to.match(/changed meanwhile.*run again/);
      }
  });
});

describe("rsms:rn:register in the folder of a running MSRP service is refused (s17-fixA1)", function () {
  this.timeout(180_000);
  const sandbox = useRsmsTaskSandbox("metatrust-fixA1-served-", ["edge-1"]);

  it("another live process holds service-msrp's lock: refused in one line, the MSRP's record and the folder unchanged", async () => {
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
      const err = await rejects(hre.run("rsms:rn:register", { name: "cc-3", pool: 1 }));
      expect(sameStamp(sandbox.keystore().stamp("rsms-msrp"), before), "the MSRP's record was written").to.equal(true);
      expect(sandbox.keystore().exists("rsms-rn-cc-3")).to.equal(false);
      expect(err.message).to.not.include("\n");
      expect(err.message).to.include(`pid ${child.pid}`).and.include(svcDir);
    } finally {
      child.kill();
      fs.rmSync(path.join(svcDir, LOCK_FILE), { force: true });
    }
  });
});
