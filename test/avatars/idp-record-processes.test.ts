/**
 * s22-fxidp (s22-redo R8, R9), across real processes: the commands that write the IdP's record
 * (`idp:issue`, `avatar:trace` in the IdP's folder) hold the IdP's folder lock
 * (`service-idp/service.lock`, tasks/lib/idp-record.ts) from before they load the record until
 * their run ends. The other party here is a child process running the real lock code
 * (offchain/services/folder-lock.ts through ts-node), holding the folder either as a live
 * `idp:serve` (a service lock) or as another command's run (a command's lock):
 * - beside a live service, the commands are refused in one line naming it and how to go through it,
 *   having loaded and written nothing; `idp:enrol-token` (the README's walkthrough runs it beside
 *   the service) still works;
 * - beside another command's run, a command waits (one notice naming it), writes nothing while
 *   the other holds the folder, and runs once the holder is gone: a holder killed while holding
 *   (a crash, a lost reply it was waiting for) leaves a stale lock, taken over with a notice;
 * - a hold that outlasts the wait is refused in one line naming the holder;
 * - the service loads the record once it holds the folder (a command that wrote it after the
 *   service was built but before it started is kept), and a command's write keeps the service's
 *   used enrolment tokens.
 * No timing is pinned: each step waits for the other party's observable state (the child's
 * "held" line, the command's wait notice, the child's exit).
 */
import { expect } from "chai";
import hre from "hardhat";
import fs from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { rejects, useTaskSandbox } from "../helpers/tasks";

const ROOT = path.join(__dirname, "..", "..");

/** A child process that takes the folder lock of `dir` with the real code and holds it until killed. */
async function holder(dir: string, service: string, task: boolean): Promise<ChildProcess> {
  const code = `const f = require("./offchain/services/folder-lock"); f.lockFolder(process.argv[1], process.argv[2], undefined, { task: process.argv[3] === "1" }); console.log("held"); setInterval(() => {}, 60000);`;
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", code, dir, service, task ? "1" : "0"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (b) => (err += String(b)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (b) => String(b).includes("held") && resolve());
    child.on("exit", (c) => reject(new Error(`the holder exited (${c}) before it held ${dir}: ${err}`)));
  });
  return child;
}

const killed = (c: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.on("exit", () => resolve());
    c.kill("SIGKILL"); // no handler runs: the lock stays as a crash leaves it
  });

/** Every file under `dir` (relative path -> sha256). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else out[path.relative(dir, f)] = createHash("sha256").update(fs.readFileSync(f)).digest("hex");
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

/**
 * A command's lock after its run: this process's, kept at most HOLD_LEASE_MS for the next command
 * (tasks/lib/record-hold.ts), then gone.
 */
async function leaseEnded(file: string, what: string): Promise<void> {
  const { HOLD_LEASE_MS } = await import("../../tasks/lib/record-hold");
  if (fs.existsSync(file)) expect(JSON.parse(fs.readFileSync(file, "utf8")).pid, what).to.equal(process.pid);
  await new Promise((go) => setTimeout(go, HOLD_LEASE_MS + 10));
  expect(fs.existsSync(file), what).to.equal(false);
}

async function until(what: string, ok: () => boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((go) => setTimeout(go, 50));
  }
}

describe("IdP record: commands hold the IdP's folder across processes (s22-fxidp: R8, R9)", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-fxidp-proc-");
  let dataDir = "";
  let lockDir = "";
  let child: ChildProcess | undefined;
  const errors: string[] = [];
  const error = console.error;
  let evidence = "";

  before(async () => {
    await hre.run("idp:setup");
    // evidence to trace (avatar:trace reads it before it holds the IdP's folder)
    for (const [user, avatar] of [
      ["alice", "fox"],
      ["bob", "whale"],
    ]) {
      await hre.run("idp:issue", { user });
      await hre.run("avatar:login", { user, avatar });
    }
    evidence = ((await hre.run("avatar:auth", { a: "fox", b: "whale" })) as { evidence: string[] }).evidence[0];
    const { localState } = await import("../../tasks/lib/context");
    dataDir = localState(hre).dir;
    lockDir = path.join(dataDir, "service-idp");
    console.error = (...a: unknown[]) => void errors.push(a.map(String).join(" "));
  });
  after(() => {
    console.error = error;
  });
  afterEach(async () => {
    if (child) await killed(child);
    child = undefined;
    errors.length = 0;
    fs.rmSync(path.join(lockDir, "service.lock"), { force: true });
  });

  it("beside a live idp:serve (another process): idp:issue and avatar:trace refused in one line naming it; nothing loaded or written; idp:enrol-token still works", async () => {
    child = await holder(lockDir, "idp", false);
    const keystore = path.join(dataDir, "keystore");
    const before = snapshot(keystore);
    const issue = await rejects(hre.run("idp:issue", { user: "carol" }));
    expect(issue.message.split("\n"), issue.message).to.have.length(1);
    expect(issue.message).to.match(/^idp:issue: an IdP service/);
    expect(issue.message).to.include(`pid ${child.pid}`).and.include("--idp").and.include("idp:enrol-token");
    const trace = await rejects(hre.run("avatar:trace", { evidence }));
    expect(trace.message.split("\n"), trace.message).to.have.length(1);
    expect(trace.message).to.match(/^avatar:trace: an IdP service/);
    expect(trace.message).to.include(`pid ${child.pid}`).and.include("--idp");
    expect(snapshot(keystore), "the keystore changed").to.deep.equal(before);
    // the operator's token step writes a record of its own, which the service reads: not refused
    const t = (await hre.run("idp:enrol-token", { user: "real identity of carol" })) as { id: string };
    expect(
      fs.readdirSync(keystore).some((f) => f.startsWith("enrol-token-") && f.includes(t.id.slice(2))),
      "the token's record",
    ).to.equal(true);
  });

  it("beside another command's run (another process holding the folder): idp:issue waits, names it once, writes nothing until the holder is killed, then issues", async () => {
    child = await holder(lockDir, "idp:issue", true);
    const party = path.join(dataDir, "keystore", "avatar-party-erin.json");
    const idpFile = path.join(dataDir, "keystore", "avatar-idp.json");
    const idpBefore = fs.readFileSync(idpFile, "utf8");
    const run = hre.run("idp:issue", { user: "erin" }).then(
      () => "issued",
      (e: Error) => `failed: ${e.message}`,
    );
    await until("the wait notice", () => errors.some((l) => l.includes("waiting for")));
    expect(errors.filter((l) => l.includes("waiting for"))).to.deep.equal([
      errors.find((l) => l.includes("waiting for"))!, // once
    ]);
    expect(errors.join("\n")).to.include(`idp:issue (pid ${child.pid}`);
    expect(fs.existsSync(party), "erin's party record while the other holds the folder").to.equal(false);
    expect(fs.readFileSync(idpFile, "utf8"), "the IdP's record while the other holds the folder").to.equal(idpBefore);
    const pid = child.pid;
    await killed(child); // the holder dies holding the lock (a crash; a kill of a run whose reply never came)
    child = undefined;
    expect(await run).to.equal("issued");
    expect(
      errors.some((l) => l.includes("took over the stale lock") && l.includes(`pid ${pid}`)),
      errors.join("\n"),
    ).to.equal(true);
    await leaseEnded(path.join(lockDir, "service.lock"), "the lock after the run");
    await hre.run("avatar:login", { user: "erin", avatar: "otter" });
  });

  it("a hold that outlasts the wait: refused in one line naming the holder; nothing run", async () => {
    child = await holder(lockDir, "avatar:trace", true);
    const { withIdpRecord } = await import("../../tasks/lib/idp-record");
    let ran = false;
    const e = await rejects(
      withIdpRecord(
        "idp:issue",
        dataDir,
        async () => {
          ran = true;
        },
        { waitMs: 300, onWait: () => undefined },
      ),
    );
    expect(ran).to.equal(false);
    expect(e.message.split("\n")).to.have.length(1);
    expect(e.message).to.include(`avatar:trace (pid ${child.pid}`);
    expect(e.constructor.name).to.equal("RefusedError");
  });

  it("idp:serve built before a command wrote the record, started after: it loads the record once it holds the folder, so its next write keeps the command's enrolment", async () => {
    const { buildIdpService } = await import("../../tasks/lib/idp-service");
    const { svc } = await buildIdpService(hre, { openRegistration: true, dir: lockDir, log: () => undefined });
    await hre.run("idp:issue", { user: "frank" }); // the service is built, not started: the folder is free
    const { url } = await svc.start({ host: "127.0.0.1", port: 0 } as Parameters<typeof svc.start>[0]);
    try {
      await hre.run("idp:issue", { user: "gina", idp: url }); // the service writes its record
    } finally {
      await svc.stop();
    }
    const login = await hre.run("avatar:login", { user: "frank", avatar: "hare" }).then(
      () => "logged in",
      (e: Error) => e.message,
    );
    expect(login, "frank's enrolment after the service's write").to.equal("logged in");
  });

  it("a command's write keeps the fields of the record it does not own (the service's used enrolment tokens)", async () => {
    const { localState } = await import("../../tasks/lib/context");
    const ks = localState(hre).keystore;
    const used = { ["0x" + "ab".repeat(16)]: { body: "0x" + "cd".repeat(32), at: 1 } };
    ks.update("avatar-idp", { ...ks.load("avatar-idp"), enrolment: used });
    await hre.run("idp:issue", { user: "hank" });
    const rec = ks.load("avatar-idp") as { enrolment?: unknown; users: { serial: string }[] };
    expect(rec.enrolment, "the used tokens after idp:issue in-process").to.deep.equal(used);
    expect(rec.users.length).to.be.greaterThan(0);
  });

  it("a writer that holds no lock writes the record between a command's load and its write: the command refuses, keeping the other's write and creating no party record", async () => {
    const { localState } = await import("../../tasks/lib/context");
    const ks = localState(hre).keystore;
    const { FileContentStore } = await import("../../offchain/storage/content-store");
    const put = FileContentStore.prototype.putJson;
    // the other writer (e.g. an older build, or an operator's script) writes during the issue's IPFS put
    FileContentStore.prototype.putJson = async function (this: InstanceType<typeof FileContentStore>, ...args) {
      FileContentStore.prototype.putJson = put;
      ks.update("avatar-idp", { ...ks.load("avatar-idp"), note: "the other writer's" });
      return put.apply(this, args);
    };
    let e: Error;
    try {
      e = await rejects(hre.run("idp:issue", { user: "ivy" }));
    } finally {
      FileContentStore.prototype.putJson = put;
    }
    expect(e.message).to.match(/^idp:issue: the IdP's record changed meanwhile/);
    expect((ks.load("avatar-idp") as { note?: string }).note, "the other writer's field").to.equal("the other writer's");
    expect(ks.exists("avatar-party-ivy"), "ivy's party record").to.equal(false);
    await leaseEnded(path.join(lockDir, "service.lock"), "the lock after the refusal");
  });
});
