/**
 * `npm run demo -- --services` (issue 19): the demo's story with every server-side party as its own
 * process, run as a new user runs it. node.test.ts runs the in-process demo against a node.
 */
import { expect } from "chai";
import { spawn } from "child_process";
import path from "path";
import { skipUnderCoverage } from "../helpers/coverage";

const ROOT = path.resolve(__dirname, "../..");

/** Runs `npm run --silent <args>` to its end. */
function npmRun(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (c) => resolve({ code: c, out, err }));
  });
}

describe("e2e: npm run demo -- --services, npm run services", function () {
  this.timeout(1_800_000);

  it("starts a node and the eight services, runs the story through them over HTTP, and exits 0", async function () {
    skipUnderCoverage(this, "e2e: spawns `hardhat node` and service processes, which would load instrumented artifacts");
    const { code, out: stdout, err } = await npmRun(["demo", "--", "--services"]);
    const out = stdout + err;
    expect(code, out).to.equal(0);
    expect(out).to.match(/^ {3}(\d+) passed, 0 failed$/m);
    for (const step of [
      /ok {3}edge-3 joins pool 1 over the network/,
      /ok {3}edge-3 re-authenticates at pool 2 through pool 2's RPM \(found on-chain\) .*on-chain: pool 2, kind 2/,
      /ok {3}a reporter asks the IdP to trace fox .*the reporter never sees who/,
      /ok {3}carol registers at PL1 .*\(2 approvals\)/,
      /ok {3}the detector service runs on request .*signed by the detector's own key/,
      /ok {3}two reporters observe O\(ann, guild\); the oracle service writes their median .*0\.3 on-chain, from the oracle's own account/,
      /ok {3}alice requests a 2-RN group; .*the same epoch-0 key .* at all three/,
      /ok {3}the raters use both RNs for 8 days and rate them from signed records .*48 evidence-backed ratings on-chain/,
      /ok {3}the detector service reads the ratings and flags edge-\d on-chain by itself .*on-off flag on edge-\d from the detector's own account.*not flagged/,
      /ok {3}the MSRP's flag sync evicts it by itself: .*epoch 1 on-chain; evicted edge-\d; added edge-\d \(alice asked nothing\)/,
      /ok {3}alice, the remaining RN and the newcomer open the new key; the evicted RN cannot .*refused by the mailbox/,
      /ok {3}alice talks to the group on the new key through the MSRP's mailbox; the newcomer reads it .*opened it with the epoch-1 key/,
      /ok {3}the dispute is resolved after the appeal window .*resolution 0/,
      /ok {3}residents register at PL1 over HTTP .*\d+ registered; the electorate has M = \d+ members/,
      /ok {3}round: nominations, Borda ballots, the top m sit .*round \d+: \d+ candidates, .* \d+ new authorities sit/,
    ])
      expect(out).to.match(step);
  });

  it("refuses another flag beside --services in one line, exit 2, before starting anything", async () => {
    const { code, err } = await npmRun(["demo", "--", "--services", "--network", "localhost"]);
    expect(code).to.equal(2);
    expect(err.trim()).to.equal("demo: --services starts its own node and takes no other flag (got --network localhost)");
  });

  it("npm run services starts every service, each healthy at its printed URL, and Ctrl-C stops them all", async function () {
    skipUnderCoverage(this, "e2e: spawns `hardhat node` and service processes, which would load instrumented artifacts");
    // its own process group, as in a terminal: Ctrl-C signals the whole group (npm, sh, ts-node and the services)
    const child = spawn("npm", ["run", "--silent", "services"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const group = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        /* the group is gone */
      }
    };
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const exited = new Promise<void>((r) => child.on("exit", () => r()));
    try {
      for (let i = 0; !out.includes("Ctrl-C stops them all"); i++) {
        if (child.exitCode !== null || i > 3000) throw new Error(`npm run services did not come up:\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const urls = [...out.matchAll(/^ {2}(msrp|rpm1|rpm2|idp|au1|au2|detector|oracle) +(http:\/\/127\.0\.0\.1:\d+)/gm)].map((m) => m[2]);
      expect(urls, out).to.have.length(8);
      for (const u of urls) expect((await fetch(`${u}/v1/health`)).status, u).to.equal(200);
      const node = /^node +(http:\/\/127\.0\.0\.1:\d+)/m.exec(out)![1];
      group("SIGINT");
      await exited; // npm itself dies of the SIGINT, as in a terminal; the script stops what it started
      for (let i = 0; i < 100 && !out.includes("stopping the services and the node"); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).to.include("stopping the services and the node");
      urls.push(node);
      for (const u of urls)
        expect(
          await fetch(`${u}/v1/health`).then(
            () => "up",
            () => "down",
          ),
          u,
        ).to.equal("down");
    } finally {
      group("SIGKILL");
    }
  });

  it("npm run services refuses an unknown flag and a folder that is not empty, in one line, exit 2", async () => {
    const bogus = await npmRun(["services", "--", "--bogus"]);
    expect(bogus.code).to.equal(2);
    expect(bogus.err.trim()).to.equal("services: unknown argument --bogus (usage: npm run services [-- --dir <empty folder>])");
    const full = await npmRun(["services", "--", "--dir", "test"]);
    expect(full.code).to.equal(2);
    expect(full.err.trim()).to.match(/^services: --dir test: the folder is not empty \(usage: /);
  });
});
