/**
 * Bad input to a task is a typed error (UsageError: exit 2), whatever its message looks like. Until
 * session 24 the tasks threw plain `Error`s for some of their checks, and the exit code came from a
 * reading of the message (`<task>:<sub>: `): `dispute: entity x is not registered` and
 * `avatar: bob has no MIT` read as a bug (exit 1), and `trust:interact`'s checks held only while their
 * messages kept that form (s23-fxops). A plain `Error` in the tasks is an internal invariant, not
 * input: the scan below lists the ones there are.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { rejects, useTaskSandbox } from "./helpers/tasks";
import { EXIT, UsageError, exitCodeOf } from "../tasks/lib/cli";

/** The plain `Error`s the tasks may throw: a broken invariant of the code itself (exit 1, "a bug"). */
const INVARIANTS = [/without holding the IdP's folder/, /without holding the MSRP's folder/];

function taskSources(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? taskSources(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
}

describe("tasks: bad input is a typed error, not a plain Error read by its message", function () {
  this.timeout(120_000);

  it("no task throws a plain Error but for its own invariants", () => {
    const root = path.resolve(__dirname, "..", "tasks");
    const plain: string[] = [];
    for (const f of taskSources(root)) {
      const lines = fs.readFileSync(f, "utf8").split("\n");
      lines.forEach((l, i) => {
        if (!/throw new Error\(/.test(l)) return;
        // the message may start on the next line
        const text = l + (lines[i + 1] ?? "");
        if (!INVARIANTS.some((r) => r.test(text))) plain.push(`${path.relative(root, f)}:${i + 1}: ${l.trim()}`);
      });
    }
    expect(plain, "plain Errors in tasks/ (throw UsageError or RefusedError)").to.deep.equal([]);
  });

  describe("in a sandbox", () => {
    useTaskSandbox("metatrust-typed-errors-");

    it("trust:interact: a bad --outcome, --latency or --bound and an unregistered --to are UsageErrors (exit 2)", async () => {
      await hre.run("trust:register", { entity: "tia", type: "avatar", verified: true, account: "8" });
      const bad = [
        { outcome: "maybe", latency: 1, match: /--outcome/ },
        { outcome: "success", latency: -1, match: /--latency/ },
        { outcome: "success", latency: 1, bound: 0, match: /--bound/ },
        { outcome: "success", latency: 1, to: "nobody", match: /--to nobody is not registered/ },
      ];
      for (const b of bad) {
        const e = await rejects(
          hre.run("trust:interact", { from: "tia", to: b.to ?? "tia", outcome: b.outcome, latency: b.latency, bound: b.bound }),
        );
        expect(e, e.message).to.be.instanceOf(UsageError);
        expect(e.message).to.match(b.match);
        expect(exitCodeOf(e)).to.equal(EXIT.input);
      }
    });
  });
});
