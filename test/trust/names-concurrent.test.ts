/**
 * s22-fxidp (the R8 class, in the trust folder): `trust-names` maps entity ids to the names the
 * operator gave them. `trust:register` loaded it when it started and wrote the whole map back after
 * its transaction was mined, so a second registration in the same folder that kept its name
 * meanwhile (another shell, a script) was dropped: the entity showed as a cut id from then on.
 * Now the name is written over the map as it stands at that moment (no await between the read
 * and the write). The race is run in order: the other registration runs to its end while the first
 * one's transaction is being sent.
 * Bite: with `remember` writing the map it loaded at the start, "e-late" is missing.
 */
import { expect } from "chai";
import hre from "hardhat";
import { useTaskSandbox } from "../helpers/tasks";

describe("trust-names: a registration keeps the names another kept meanwhile (s22-fxidp)", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-fxidp-names-");

  it("trust:register while another trust:register keeps its name: both names kept", async () => {
    const { TrustLedger } = await import("../../offchain/trust/ledger");
    const orig = TrustLedger.prototype.register;
    TrustLedger.prototype.register = async function (this: InstanceType<typeof TrustLedger>, ...a: Parameters<typeof orig>) {
      TrustLedger.prototype.register = orig;
      await hre.run("trust:register", { entity: "e-late", type: "organization" }); // the other command, to its end
      return orig.apply(this, a);
    };
    try {
      await hre.run("trust:register", { entity: "e-first", type: "organization" });
    } finally {
      TrustLedger.prototype.register = orig;
    }
    const { localState } = await import("../../tasks/lib/context");
    const names = Object.values(localState(hre).keystore.load("trust-names") as Record<string, string>).sort();
    expect(names).to.deep.equal(["e-first", "e-late"]);
  });
});
