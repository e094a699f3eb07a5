/**
 * s17-redA F12: `trust:register --entity` takes "a name, or a 0x 32-byte id (e.g. an RN's PID)".
 * A 0x id cut short or mistyped (`0x1234`, 63 hex digits, a stray character) is not refused: it is
 * taken as a *name* and a new entity keccak("metatrust:entity:0x1234") is registered on-chain, under
 * the operator's account, for an id nobody meant. Charter: bad input gets one line that names the
 * flag and changes nothing.
 */
import { expect } from "chai";
import hre from "hardhat";
import { deploymentSummary } from "../../offchain/chain/deployments";
import { entityId } from "../../offchain/trust/ledger";
import { describeError, exitCodeOf, EXIT } from "../../tasks/lib/cli";
import { useTaskSandbox } from "../helpers/tasks";

describe("trust:register: a 0x id that is not 32 bytes is refused, not registered as a name (s17-redA F12)", function () {
  this.timeout(120_000);
  useTaskSandbox("metatrust-redA-truncid-");

  for (const entity of ["0x1234", "0x" + "ab".repeat(31) + "c", "0x" + "ab".repeat(31) + "zz"])
    it(`--entity ${entity.slice(0, 14)}… (${entity.length - 2} digits): exit 2 naming --entity, nothing registered`, async () => {
      const args = { entity, type: "resource-node", verified: false };
      const e = (await hre.run("trust:register", args).then(
        () => undefined,
        (x: unknown) => x,
      )) as Error | undefined;
      const tm = await hre.ethers.getContractAt("TrustManager", deploymentSummary(hre.network.name).addresses.TrustManager);
      expect(Number((await tm.entity(entityId(entity))).kind)).to.equal(0, "registered as a name");
      expect(e, "accepted").to.not.equal(undefined);
      expect(exitCodeOf(e)).to.equal(EXIT.input);
      expect(await describeError(e, hre, args)).to.contain("--entity");
    });
});
