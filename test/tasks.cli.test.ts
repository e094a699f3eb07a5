import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { rejects, useTaskSandbox } from "./helpers/tasks";
import { spawnSync } from "child_process";
import {
  cliArgumentError,
  describeError,
  describeMissingRecord,
  exitCodeOf,
  EXIT,
  firstLine,
  namesFromArgs,
  RefusedError,
  UsageError,
  unavailableHint,
  flagOfValue,
} from "../tasks/lib/cli";
import { DeploymentNotFoundError } from "../offchain/chain/deployments";
import { KeystoreNotFoundError } from "../offchain/storage/errors";
import { RsmsRejectedError } from "../offchain/rsms/errors";
import { entityId } from "../offchain/trust/ledger";
import { MetatrustError } from "../offchain/errors";

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
    const args = { from: "ann", to: "ben", records: "no-such-records.json" };
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
      [{ scale: "500", rounds: 3 }, "--rounds: 3 is out of range (4-240 rounds of history)"],
      [{ scale: "500", families: "collusive-ring,nope" }, '--families: unknown family "nope"'],
    ] as const) {
      const e = await rejects(hre.run("sim:attacks", args));
      expect(exitCodeOf(e)).to.equal(EXIT.input);
      expect(e.message.startsWith(line)).to.equal(true, e.message);
    }
    expect(fs.existsSync(bench) ? fs.statSync(bench).mtimeMs : 0).to.equal(before);
  });

  it("sim:whitewash: every flag is checked before anything runs or is written, --newcomers against the study it keeps", async () => {
    const bench = path.resolve(__dirname, "..", "bench", "results", "trust-whitewash.json");
    const before = fs.statSync(bench).mtimeMs;
    // nor any resume checkpoint (offchain/sim/checkpoint.ts)
    const checkpoints = path.resolve(__dirname, "..", ".sim-checkpoints");
    const listing = () => (fs.existsSync(checkpoints) ? fs.readdirSync(checkpoints).sort() : []);
    const ckBefore = listing();
    // the sizes the committed study holds (500 and 5,000 at least) and the share of newcomers it ran with
    const kept = JSON.parse(fs.readFileSync(bench, "utf8")).study as { newcomers: number; seeds: { nodes: number }[] };
    const sizes = [...new Set(kept.seeds.map((x) => x.nodes))].map((n) => n.toLocaleString("en-US")).join(", ");
    expect(kept.newcomers).to.not.equal(0.3);
    for (const [args, line] of [
      [{ scale: "abc" }, '--scale: "abc" is not a network size'],
      [{ scale: "500", seeds: 4 }, "--seeds: 4 is out of range (1-3)"],
      [{ scale: "500", newcomers: 0 }, "--newcomers: 0 is out of range (0-1]"],
      // a size alone keeps the committed study (20 nodes: were the check gone, the run is short)
      [
        { scale: "20", newcomers: 0.3 },
        `--newcomers: 0.3 differs from the ${kept.newcomers} of the study kept at ${sizes} nodes (run those sizes too)`,
      ],
    ] as const) {
      const e = await rejects(hre.run("sim:whitewash", args));
      expect(exitCodeOf(e)).to.equal(EXIT.input);
      expect(e.message.startsWith(line)).to.equal(true, e.message);
    }
    expect(fs.statSync(bench).mtimeMs).to.equal(before);
    expect(listing()).to.deep.equal(ckBefore);
  });

  it("sim:oracle-bound: --scale is checked by the same rule as sim:attacks, with its own bound", async () => {
    for (const [args, line] of [
      [{ scale: "500,20001" }, '--scale: "20001" is not a network size (a whole number of nodes, 20 to 20,000, comma-separated)'],
      [{ scale: "19" }, '--scale: "19" is not a network size (a whole number of nodes, 20 to 20,000, comma-separated)'],
    ] as const) {
      const e = await rejects(hre.run("sim:oracle-bound", args));
      expect(exitCodeOf(e)).to.equal(EXIT.input);
      expect(e.message).to.equal(line);
    }
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

  describe("# Hardhat's own argument errors (HH3xx) on our tasks: one line, exit 2", () => {
    const ours = (t: string) => /^(deploy|deploy:verify|(rsms|group|trust|dispute|avatar|idp|mssa|sim|chain):.+)$/.test(t);
    const check = (line: string, networks = ["hardhat", "localhost"]) =>
      cliArgumentError(line.split(" "), hre.tasks as never, networks, ours);

    it("names the flag, the value or the task, and suggests the near one", () => {
      expect(check("trust:score --of x --bye y")).to.equal(
        "trust:score: --bye is not a flag of trust:score; did you mean --by? (`npx hardhat help trust:score` lists its flags)",
      );
      expect(check("trust:score --by x")).to.equal("trust:score: --of is required (`npx hardhat help trust:score` lists its flags)");
      expect(check("trust:score --of x --by")).to.equal("trust:score: --by needs a value (`npx hardhat help trust:score` lists its flags)");
      expect(check("rsms:rpm:register --pool abc --network localhost")).to.equal(
        'rsms:rpm:register: --pool "abc" is not a whole number (0 or more)',
      );
      expect(check("trust:score --of x --of y")).to.equal("trust:score: --of is given twice");
      expect(check("trust:scor --of x")).to.equal(
        "trust:scor: no such task; did you mean trust:score? (`npx hardhat help` lists every task)",
      );
      expect(check("trust:score --of x --network testnet")).to.match(
        /^trust:score: --network testnet is not configured here .*RPC_URL and PRIVATE_KEY/,
      );
    });

    it("leaves a correct command line, help and Hardhat's own tasks alone", () => {
      expect(check("trust:score --of x --by y --network localhost --json")).to.equal(undefined);
      expect(check("rsms:serve msrp --port 7001")).to.equal(undefined);
      expect(check("help trust:score")).to.equal(undefined);
      expect(check("trust:score --help")).to.equal(undefined);
      expect(check("compile --nope")).to.equal(undefined);
      expect(check("test --network nowhere")).to.equal(undefined);
    });

    it("the CLI prints that one line on stderr and exits 2, sending nothing", function () {
      this.timeout(120_000);
      const bin = path.resolve(__dirname, "..", "node_modules", ".bin", "hardhat");
      const r = spawnSync(bin, ["trust:rate", "--from", "ann", "--to", "guild", "--scroe", "0.5", "--network", "localhost"], {
        cwd: path.resolve(__dirname, ".."),
        encoding: "utf8",
        timeout: 110_000,
        env: { ...process.env, LOCALHOST_URL: "http://127.0.0.1:9" }, // nothing listens there: nothing could be sent
      });
      expect(r.status, r.stderr).to.equal(EXIT.input);
      expect(r.stderr.trim().split("\n"), r.stderr).to.deep.equal([
        "trust:rate: --scroe is not a flag of trust:rate; did you mean --score? (`npx hardhat help trust:rate` lists its flags)",
      ]);
      expect(r.stdout).to.equal("");
    });
  });

  describe("# a global flag before the task name: one line, exit 2 (scripts/lib/global-flags.cjs, patched into Hardhat's CLI)", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { globalFlagLine } = require("../scripts/lib/global-flags.cjs") as {
      globalFlagLine(e: unknown, flags: string[]): string | undefined;
    };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { patch, MARK } = require("../scripts/patch-hardhat-cli.cjs") as { patch(cli: string, helper: string): string; MARK: string };
    const root = path.resolve(__dirname, "..");
    const cliFile = require.resolve("hardhat/internal/cli/cli.js", { paths: [root] });

    it("Hardhat's parser errors for global flags become one line naming the flag", async () => {
      const { ArgumentsParser } = await import("hardhat/internal/cli/ArgumentsParser");
      const { HARDHAT_PARAM_DEFINITIONS } = await import("hardhat/internal/core/params/hardhat-params");
      const flags = Object.keys(HARDHAT_PARAM_DEFINITIONS).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
      const line = (argv: string) => {
        try {
          new ArgumentsParser().parseHardhatArguments(HARDHAT_PARAM_DEFINITIONS, {} as never, argv.split(" "));
        } catch (e) {
          return globalFlagLine(e, flags);
        }
        return "parsed";
      };
      const help = "(`npx hardhat help` lists them; a task's own flags go after the task name)";
      expect(line("--netwrk localhost deploy")).to.equal(`--netwrk is not one of Hardhat's global flags; did you mean --network? ${help}`);
      expect(line("--pool 3 rsms:join")).to.equal(`--pool is not one of Hardhat's global flags ${help}`);
      expect(line("--network")).to.equal(`--network needs a value ${help}`);
      expect(line("--network a --network b deploy")).to.equal("--network is given twice");
      expect(line("--max-memory abc deploy")).to.equal('--max-memory "abc" is not a whole number (0 or more)');
      expect(line("--network localhost deploy")).to.equal("parsed");
      expect(globalFlagLine(new Error("not Hardhat's"), flags)).to.equal(undefined);
    });

    it("the postinstall patch inserts one guarded call after the parser's creation, once; another Hardhat is left alone", () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-cli-patch-"));
      const copy = path.join(dir, "cli.js");
      const original = fs.readFileSync(cliFile, "utf8").replace(/^.*metatrust: scripts\/patch-hardhat-cli\.cjs.*\n/m, "");
      fs.writeFileSync(copy, original);
      expect(patch(copy, path.join(root, "scripts", "lib", "global-flags.cjs"))).to.equal("patched");
      const patched = fs.readFileSync(copy, "utf8");
      expect(patched.split("\n").length).to.equal(original.split("\n").length + 1);
      expect(patched.indexOf(MARK)).to.be.greaterThan(patched.indexOf("new ArgumentsParser_1.ArgumentsParser()"));
      expect(patched.indexOf(MARK)).to.be.lessThan(patched.indexOf("argumentsParser.parseHardhatArguments"));
      expect(patch(copy, path.join(root, "scripts", "lib", "global-flags.cjs"))).to.equal("already");
      fs.writeFileSync(copy, "// another version\n");
      expect(patch(copy, "x")).to.equal("no anchor");
      expect(fs.readFileSync(copy, "utf8")).to.equal("// another version\n");
    });

    it("the CLI prints that one line on stderr and exits 2 (this checkout's Hardhat is patched by npm ci's postinstall)", function () {
      this.timeout(120_000);
      expect(fs.readFileSync(cliFile, "utf8"), "run `npm ci` (or `node scripts/patch-hardhat-cli.cjs`)").to.include(MARK);
      const r = spawnSync(path.join(root, "node_modules", ".bin", "hardhat"), ["--netwrk", "localhost", "deploy"], {
        cwd: root,
        encoding: "utf8",
        timeout: 110_000,
        env: { ...process.env, LOCALHOST_URL: "http://127.0.0.1:9" },
      });
      expect(r.status, r.stderr).to.equal(EXIT.input);
      expect(r.stderr.trim().split("\n"), r.stderr).to.deep.equal([
        "--netwrk is not one of Hardhat's global flags; did you mean --network? (`npx hardhat help` lists them; a task's own flags go after the task name)",
      ]);
      expect(r.stdout).to.equal("");
    });
  });

  it("the CLI refuses a task whose state must outlive the command on the in-process network: one line, exit 2, nothing written", function () {
    this.timeout(180_000);
    const root = path.resolve(__dirname, "..");
    const data = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-inprocess-"));
    const r = spawnSync(path.join(root, "node_modules", ".bin", "hardhat"), ["rsms:setup"], {
      cwd: root,
      encoding: "utf8",
      timeout: 170_000,
      env: { ...process.env, METATRUST_DATA_DIR: data },
    });
    expect(r.status, r.stderr).to.equal(EXIT.input);
    expect(r.stderr.trim().split("\n"), r.stderr).to.have.length(1);
    expect(r.stderr).to.match(/^rsms:setup: the in-process "hardhat" network forgets its chain when this command ends/);
    expect(fs.readdirSync(data)).to.deep.equal([]); // no keystore, no record
  });

  describe("# exit 4 names what could not be reached", () => {
    const fakeHre = (name: string, url?: string) => ({ network: { name, config: url ? { url } : {} } }) as never;

    it("the chain, with its URL, only when the chain failed", () => {
      const e = new Error("HH108: Cannot connect to the network localhost.");
      expect(unavailableHint(e, firstLine(e.message), fakeHre("localhost", "http://127.0.0.1:8545"))).to.equal(
        "the chain at http://127.0.0.1:8545 is not reachable: is `npx hardhat node` running (LOCALHOST_URL moves it)?",
      );
      expect(unavailableHint(e, firstLine(e.message), fakeHre("testnet", "https://rpc.example.org"))).to.match(
        /^the chain of --network testnet at https:\/\/rpc\.example\.org is not reachable: check RPC_URL/,
      );
    });

    it("IPFS, a service or an explorer is named, and the node is not blamed", () => {
      const hh = fakeHre("localhost", "http://127.0.0.1:8545");
      const ipfs = new MetatrustError("IPFS_UNREACHABLE", "put: kubo not reachable");
      expect(unavailableHint(ipfs, ipfs.message, hh)).to.match(/^IPFS is not reachable: is the kubo daemon at IPFS_API_URL/);
      const explorer = Object.assign(new Error("1 of 8 contract(s) not verified"), { outcomes: [] });
      expect(unavailableHint(explorer, explorer.message, hh)).to.match(/^an explorer \(Sourcify or Etherscan\)/);
      const other = new Error("fetch failed");
      expect(unavailableHint(other, "request to https://sourcify.dev/server/verify failed", hh)).to.equal(
        "https://sourcify.dev/server/verify is not reachable; the chain was not the problem",
      );
      for (const h of [unavailableHint(ipfs, ipfs.message, hh), unavailableHint(explorer, explorer.message, hh)])
        expect(h).to.not.match(/hardhat node/);
    });
  });

  it("a keystore record that exists already is named as the entity, not as a file", async () => {
    const { KeystoreExistsError } = await import("../offchain/storage/errors");
    expect(await describeError(new KeystoreExistsError("rsms-msrp", "/tmp/k/rsms-msrp.json"), hre, {})).to.equal(
      "this network already has an MSRP (its keys are never overwritten); go on with `rsms:rpm:register`",
    );
    expect(await describeError(new KeystoreExistsError("avatar-idp", "/tmp/k/avatar-idp.json"), hre, {})).to.match(
      /^this network already has an identity provider/,
    );
    expect(await describeError(new KeystoreExistsError("other", "/tmp/k/other.json"), hre, {})).to.match(
      /^Keystore.create: keystore "other"/,
    );
  });

  it("a helper's message about a value is prefixed with the flag that gave it; the first flag keeps a name", () => {
    expect(flagOfValue("fromHex: expected 32 bytes, got 2", { pid: "0x1234", json: false })).to.equal("--pid 0x1234");
    expect(flagOfValue("packFactors: factor 2 is not in [0, 1]", { from: "ann", to: "guild", score: 2 })).to.equal("--score 2");
    expect(flagOfValue("something else went wrong", { from: "ann", score: 2 })).to.equal(undefined);
    expect(namesFromArgs({ entity: "ann", type: "avatar", account: "ann" }).get(entityId("ann"))).to.equal('--entity "ann"');
  });
});
