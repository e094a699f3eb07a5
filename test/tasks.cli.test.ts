import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { rejects, useTaskSandbox } from "./helpers/tasks";
import {
  describeError,
  describeMissingRecord,
  exitCodeOf,
  EXIT,
  firstLine,
  namesFromArgs,
  RefusedError,
  UsageError,
} from "../tasks/lib/cli";
import { DeploymentNotFoundError } from "../offchain/chain/deployments";
import { KeystoreNotFoundError } from "../offchain/storage/errors";
import { RsmsRejectedError } from "../offchain/protocols/rsms/errors";
import { entityId } from "../offchain/trust/ledger";

describe("tasks: command-line errors (one line, named entity, exit code by kind)", function () {
  this.timeout(120_000);
  useTaskSandbox("metatrust-cli-errors-");

  it("exit codes: 2 bad input, 3 refused, 4 unavailable, 1 unexpected", () => {
    expect(exitCodeOf(new UsageError("trust:rate: --score must be in [0, 1]"))).to.equal(EXIT.input);
    expect(exitCodeOf(new KeystoreNotFoundError("rsms-rn-x", "/tmp/x.json"))).to.equal(EXIT.input);
    expect(exitCodeOf(new Error("chain:advance: --blocks must be a positive integer, got 0"))).to.equal(EXIT.input);
    expect(exitCodeOf(new RefusedError("mssa:verify: no access"))).to.equal(EXIT.refused);
    expect(exitCodeOf(new RsmsRejectedError("REPLAYED_SECRET", "MSRP.verifyJoin: replayed request"))).to.equal(EXIT.refused);
    expect(exitCodeOf(Object.assign(new Error("execution reverted"), { code: "CALL_EXCEPTION" }))).to.equal(EXIT.refused);
    expect(exitCodeOf(new DeploymentNotFoundError("no deployment"))).to.equal(EXIT.unavailable);
    expect(exitCodeOf(new Error("HH108: Cannot connect to the network localhost."))).to.equal(EXIT.unavailable);
    expect(exitCodeOf(new TypeError("Cannot read properties of undefined"))).to.equal(EXIT.unexpected);
    expect(exitCodeOf(Object.assign(new Error("ENOENT: no such file"), { code: "ENOENT", path: "notes.txt" }))).to.equal(EXIT.input);
  });

  it("a revert is decoded from the artifacts and its entity id named by the flag that gave it", async () => {
    await hre.run("trust:register", { entity: "ann", type: "avatar" });
    const args = { from: "ann", to: "nobody", score: 0.5, unverifiable: true };
    const e = await rejects(hre.run("trust:rate", args));
    expect(exitCodeOf(e)).to.equal(EXIT.refused);
    const line = await describeError(e, hre, args);
    expect(line).to.equal(`TrustManager refused: UnknownEntity(id --to "nobody" (${entityId("nobody").slice(0, 10)}…))`);
    expect(line).to.not.contain("\n");
  });

  it("a missing file is named by its flag", async () => {
    const args = { from: "ann", to: "ann", records: "no-such-records.json" };
    const e = await rejects(hre.run("trust:rate", args));
    expect(exitCodeOf(e)).to.equal(EXIT.input);
    expect(await describeError(e, hre, args)).to.equal("--records no-such-records.json: no such file");
  });

  it("sim:attacks: every flag is checked before anything runs or is written", async () => {
    const bench = path.resolve(__dirname, "..", "bench", "results", "trust-detection.json");
    const before = fs.existsSync(bench) ? fs.statSync(bench).mtimeMs : 0;
    for (const [args, line] of [
      [{ scale: "abc" }, '--scale: "abc" is not a network size (a whole number of nodes, 20 to 1,000,000, comma-separated)'],
      [{ scale: "500,5e3" }, '--scale: "5e3" is not a network size (a whole number of nodes, 20 to 1,000,000, comma-separated)'],
      [{ scale: "500", seeds: 0 }, "--seeds: 0 is out of range (1-3)"],
      [{ scale: "500", checkpoint: -1 }, "--checkpoint: -1 must be 0 or more rounds"],
      [{ scale: "500", families: "collusive-ring,nope" }, '--families: unknown family "nope"'],
    ] as const) {
      const e = await rejects(hre.run("sim:attacks", args));
      expect(exitCodeOf(e)).to.equal(EXIT.input);
      expect(e.message.startsWith(line)).to.equal(true, e.message);
    }
    expect(fs.existsSync(bench) ? fs.statSync(bench).mtimeMs : 0).to.equal(before);
  });

  it("a missing keystore record is named as the entity, with the command that creates it", async () => {
    const e = await rejects(hre.run("rsms:join", { rn: "nobody", pool: 1 }));
    expect(exitCodeOf(e)).to.equal(EXIT.input);
    expect(await describeError(e, hre, { rn: "nobody", pool: 1 })).to.match(/^no (MSRP on this network yet|resource node "nobody")/);
    expect(describeMissingRecord("rsms-rn-edge-9")).to.equal(
      'no resource node "edge-9": register it with `npx hardhat rsms:rn:register --name edge-9 --pool <n>`',
    );
    expect(describeMissingRecord("something-else")).to.equal(undefined);
  });

  it("names: every id form of a string flag maps back to the flag; messages lose ethers' tails", () => {
    const names = namesFromArgs({ avatars: "ann,ben", place: "PL1", score: 1 });
    expect(names.get(entityId("ben"))).to.equal('--avatars "ben"');
    expect([...names.values()]).to.include('--place "PL1"');
    expect(firstLine('Error: execution reverted (action="estimateGas", data="0x12", reason=null)\n    at x')).to.equal(
      "execution reverted",
    );
  });
});
