/**
 * s23-rth: outside red team of the services' network surface. Each `it` is one finding, written to
 * FAIL while the finding stands and to pass once it is fixed (nothing here fixes anything).
 *
 * F1 (H in open registration, M overall): an unsigned envelope (scheme 0) is malleable: every header
 * field outside the protocol body (issuedAt, session) can be changed by anyone on the path. The
 * reply cache names a request by its id and refuses the same id with other bytes
 * (REQUEST_ID_REUSED), and the client takes that refusal as proof that its very request can never
 * be served (client.ts refusedForGood) and drops what it keeps pending. A network attacker who sends
 * a copy of the party's request with issuedAt moved by 1 ms ahead of it has the request SERVED under
 * the copy's bytes, then the party's own bytes are refused for good: the party deletes its keys
 * while the effect stands. s19-reds R1 closed this for account signatures (one encoding of v and
 * s); the unsigned case was left open.
 */
import { expect } from "chai";
import http from "http";
import net from "net";
import { spawn } from "child_process";
import { idpSystem, startIdp } from "../helpers/idp-services";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { issueRemote, partyRecord } from "../../offchain/services/avatars/clients";
import { HEADER_BYTES } from "../../offchain/services/envelope";
import { toHex } from "../../offchain/crypto/bytes";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { Wallet, parseEther } from "ethers";
import { useTaskSandbox } from "../helpers/tasks";
import { TrustLedger, entityId } from "../../offchain/trust/ledger";
import { readDeployment } from "../../offchain/chain/deployments";
import { FileContentStore } from "../../offchain/storage/content-store";
import { DetectorService } from "../../offchain/services/trust/detector-service";
import { detectRemote, observeRemote } from "../../offchain/services/trust/clients";
import { OracleService } from "../../offchain/services/trust/oracle-service";
import { TrustManager__factory } from "../../typechain-types";
import { rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { registerRnRemote, rnClientRecord, rnRegisterPending } from "../../offchain/services/rsms/clients";

const RETRY = { attempts: 3, timeoutMs: 30_000, backoffMs: 10 };
const firstLine = (e: Error) => e.message.split("\n")[0];

/** Offset of issuedAt in an envelope: version, kind, route, audience, session, requestId. */
const ISSUED_AT = 1 + 1 + 1 + 32 + 16 + 16;

/** A copy of an envelope with issuedAt moved by `deltaMs` (unsigned envelopes only: nothing covers it). */
function malleate(env: Buffer, deltaMs = 1n): Buffer {
  const out = Buffer.from(env);
  out.writeBigUInt64BE(out.readBigUInt64BE(ISSUED_AT) + deltaMs, ISSUED_AT);
  return out;
}

/**
 * An on-path attacker in front of `target`: the first POST it sees is replaced by a malleated copy
 * (issuedAt + 1 ms), which it forwards; it then cuts the party's connection (the party sees a
 * dropped connection and retries). Everything after that is passed through unchanged.
 */
async function preempting(target: string): Promise<{ url: string; served: number[]; close(): void }> {
  const state = { url: "", served: [] as number[], close: () => server.close() };
  let first = true;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        let body: Buffer | undefined = req.method === "POST" ? Buffer.concat(chunks) : undefined;
        const attack = req.method === "POST" && first;
        if (attack) {
          first = false;
          body = malleate(body!);
        }
        const r = await fetch(new URL(req.url ?? "/", target), {
          method: req.method,
          headers: req.headers["content-type"] ? { "content-type": String(req.headers["content-type"]) } : {},
          body: body ? new Uint8Array(body) : undefined,
        });
        const out = Buffer.from(await r.arrayBuffer());
        if (req.method === "POST") state.served.push(r.status);
        if (attack) return void req.socket.destroy();
        res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/octet-stream" });
        res.end(out);
      })();
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return state;
}

/**
 * F2 (M): the detector service prunes its reply cache only from its watch timer, which does not run
 * with `trust:serve detector --interval 0` ("only on request"). `/v1/detect` is unsigned ("anyone
 * may ask"), and every request with a fresh id leaves a reply file that is never deleted: any client
 * that reaches the service grows its folder without bound (the rate limit slows it, 60 a minute per
 * address, and does not bound it; the IdP capped its challenge folder for this very reason). The
 * fix: prune on a timer of its own (as the RPM does) whatever the interval.
 */
describe("s23-rth F2: an unauthenticated client grows the detector's reply folder for good (--interval 0)", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-rth-f2-");

  it("replies to anonymous /v1/detect requests are still on disk long after twice the freshness window", async () => {
    await hre.run("trust:register", { entity: "ann", type: "avatar", account: "4" });
    const address = readDeployment("hardhat").contracts.TrustManager.address;
    const [admin] = await hre.ethers.getSigners();
    const wallet = Wallet.createRandom().connect(hre.ethers.provider) as unknown as Wallet;
    await (await admin.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    const tm = TrustManager__factory.connect(address, admin);
    await (await tm.grantRole(await tm.DETECTOR_ROLE(), wallet.address)).wait();
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rth-f2-"));
    const windowMs = 200;
    const svc = new DetectorService({
      ledger: new TrustLedger(TrustManager__factory.connect(address, wallet)),
      store: new FileContentStore(path.join(dir, "ipfs")),
      wallet,
      chainId,
      dir: path.join(dir, "service"),
      intervalMs: 0,
      windowMs,
      log: () => undefined,
    });
    try {
      const url = (await svc.start({ port: 0 })).url;
      // an anonymous client (no account: the envelope is unsigned), 20 requests with fresh ids
      for (let i = 0; i < 20; i++) await detectRemote({ url, chainId, trustManager: address, account: wallet.address });
      const replies = () => fs.readdirSync(path.join(dir, "service", "replies")).filter((f) => f.endsWith(".json")).length;
      expect(replies(), "one reply file per anonymous request").to.equal(20);
      // ten windows later every one of them is past the cache's horizon (2 windows)
      await new Promise((r) => setTimeout(r, 10 * windowMs));
      expect(replies(), "reply files left after 5 horizons (none is ever pruned with --interval 0)").to.equal(0);
    } finally {
      await svc.stop();
    }
  });
});

/**
 * F3 (M): while a flag run is deferred (FLAG_RUN_SPACING, 1 hour after the last run began), the
 * detector does not record its run as the last (detector-service.ts: "the next call runs again"),
 * so EVERY anonymous `/v1/detect` runs the whole pipeline again: it reads every rating and entity
 * from the chain, runs the detectors under the service's mutex, and stores (and pins) a new report
 * on IPFS (its `generatedAt` differs, so a new CID each time). An unauthenticated client thus grows
 * the IPFS store by one report per request for up to an hour after each flag run, and holds the
 * detector's mutex. Once fixed, requests with no new ratings during the deferral store nothing new.
 */
describe("s23-rth F3: during a deferred flag run, each anonymous /v1/detect pins a new report on IPFS", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-rth-f3-");

  it("five anonymous requests with no new rating, five new pinned reports", async () => {
    for (const [n, account] of Object.entries({ ann: "4", ben: "5", cat: "6", dan: "7", eve: "8", fay: "9" }))
      await hre.run("trust:register", { entity: n, type: "avatar", verified: n !== "eve" && n !== "fay", account });
    const rateAll = async (badMouther: string, honest = true) => {
      for (const target of ["ann", "cat", "dan"]) {
        for (const rater of honest ? ["ben", "cat", "dan", "ann"] : [])
          if (rater !== target) await hre.run("trust:rate", { from: rater, to: target, score: 0.9, unverifiable: true });
        await hre.run("trust:rate", { from: badMouther, to: target, score: 0.05, unverifiable: true });
      }
    };
    await rateAll("eve");
    const address = readDeployment("hardhat").contracts.TrustManager.address;
    const [admin] = await hre.ethers.getSigners();
    const wallet = Wallet.createRandom().connect(hre.ethers.provider) as unknown as Wallet;
    await (await admin.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    const tm = TrustManager__factory.connect(address, admin);
    await (await tm.grantRole(await tm.DETECTOR_ROLE(), wallet.address)).wait();
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rth-f3-"));
    const ipfs = path.join(dir, "ipfs");
    const svc = new DetectorService({
      ledger: new TrustLedger(TrustManager__factory.connect(address, wallet)),
      store: new FileContentStore(ipfs),
      wallet,
      chainId,
      dir: path.join(dir, "service"),
      intervalMs: 0,
      log: () => undefined,
    });
    try {
      const url = (await svc.start({ port: 0 })).url;
      const ask = () => detectRemote({ url, chainId, trustManager: address, account: wallet.address });
      const first = await ask(); // flags eve: a flag run begins
      expect(first.flagged).to.be.greaterThan(0);
      await rateAll("fay", false); // a new bad-mouther: its flag must wait for the next flag run (1 hour)
      await ask(); // the deferred run
      expect((await tm.entity(entityId("fay"))).flags & (1n << 3n), "fay's flag waits for the next flag run").to.equal(0n);
      const blocks = () => fs.readdirSync(path.join(ipfs, "blocks")).length;
      const before = blocks();
      for (let i = 0; i < 5; i++) await ask(); // anonymous, nothing new on-chain
      expect(blocks() - before, "reports pinned by 5 anonymous requests that changed nothing").to.equal(0);
    } finally {
      await svc.stop();
    }
  });
});

/**
 * F4 (L): three services never prune their reply cache: the oracle (no pruner at all), the MSSA
 * authority (none either: `cache.prune` is called nowhere in authority-service.ts) and the MSRP
 * started with `--tick 0` (its prune runs in the filter tick only). Each served request leaves a
 * file for the life of the folder, whatever the window: a slow leak by honest use (a reporter
 * observes every pair every round), faster for whoever can get requests served (the MSRP's group
 * routes). Shown here on the oracle; the others are the same line missing.
 */
describe("s23-rth F4: the oracle keeps every reply for good", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-rth-f4-");

  it("reporters' observations leave reply files long after twice the freshness window", async () => {
    for (const [n, account] of Object.entries({ ann: "4", ben: "5" }))
      await hre.run("trust:register", { entity: n, type: "avatar", account });
    const address = readDeployment("hardhat").contracts.TrustManager.address;
    const [admin] = await hre.ethers.getSigners();
    const wallet = Wallet.createRandom().connect(hre.ethers.provider) as unknown as Wallet;
    await (await admin.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    const tm = TrustManager__factory.connect(address, admin);
    await (await tm.grantRole(await tm.ORACLE_ROLE(), wallet.address)).wait();
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rth-f4-"));
    const reporters = [0, 1, 2].map(() => Wallet.createRandom());
    const windowMs = 2_000;
    const svc = new OracleService({
      tm: TrustManager__factory.connect(address, wallet),
      wallet,
      chainId,
      dir: path.join(dir, "service"),
      params: { reporters: reporters.map((r) => r.address), quorum: 3, deviation: 0n },
      windowMs,
      log: () => undefined,
    });
    try {
      const ep = { url: (await svc.start({ port: 0 })).url, chainId, trustManager: address, account: wallet.address };
      const [ann, ben] = ["ann", "ben"].map(entityId);
      // open observations only (quorum 3, two reporters): nothing is written on-chain
      for (let round = 1; round <= 5; round++)
        for (const r of reporters.slice(0, 2)) await observeRemote(ep, r, { from: ann, to: ben, round, value: 1n, eras: [0, 0] });
      const replies = () => fs.readdirSync(path.join(dir, "service", "replies")).filter((f) => f.endsWith(".json")).length;
      expect(replies()).to.equal(10);
      await new Promise((r) => setTimeout(r, 10 * windowMs));
      expect(replies(), "reply files left after 5 horizons").to.equal(0);
    } finally {
      await svc.stop();
    }
  });
});

/**
 * F5 (M): the service framework (server.ts) limits requests per address (the rate limit) but not
 * connections: a client that opens sockets and sends a partial request (or nothing) holds a file
 * descriptor each for up to connectionTimeout / requestTimeout (30 / 60 s), and opens as many as it
 * likes. At the process's descriptor limit the service still accepts (libuv sheds), but every file
 * it must write fails: the reply cache, the keystore, the journals, the challenge files. One
 * unauthenticated client thus turns every other party's request into 500 EMFILE (and, for a
 * request that acted before its write, a retry path through recovery). Shown with the shared
 * framework in a child process whose limit is 200 descriptors (a service's is the shell's: 20000
 * here, which one client reaches from one address); the attacker's sockets come from 127.0.0.2, the
 * honest client's from 127.0.0.1. Once fixed (a cap on connections per address below the limit,
 * and a short headers timeout), the honest request is served.
 */
describe("s23-rth F5: one client's idle and half-open sockets exhaust a service's descriptors", function () {
  this.timeout(120_000);

  it("with the attacker's sockets open, an honest request that writes a file gets 500 EMFILE", async () => {
    const root = path.resolve(__dirname, "../..");
    const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), "rth-f5-"));
    const script = path.join(tmpDir, "serve.ts");
    fs.writeFileSync(
      script,
      `import { startService } from ${JSON.stringify(path.join(root, "offchain/services/server"))};
import { writeFileAtomic } from ${JSON.stringify(path.join(root, "offchain/storage/fs-atomic"))};
let n = 0;
void (async () => {
  // a route that does what every service route does: write a file before it answers
  const s = await startService({ name: "probe" }, [
    { path: "/v1/w", handle: async (b) => { writeFileAtomic(${JSON.stringify(tmpDir)} + "/reply-" + n++ + ".bin", b); return b; } },
  ]);
  process.stdout.write(s.url + "\\n");
})();
`,
    );
    const child = spawn(
      "bash",
      ["-c", `ulimit -n 200 && exec node ${path.join(root, "node_modules/.bin/ts-node")} --transpile-only ${script}`],
      {
        cwd: root,
        env: { ...process.env, TS_NODE_PROJECT: path.join(root, "tsconfig.json") },
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    const socks: net.Socket[] = [];
    try {
      const url: string = await new Promise((ok, no) => {
        child.stdout!.once("data", (d) => ok(String(d).trim()));
        child.once("exit", (c) => no(new Error(`the service exited (${c})`)));
      });
      const write = () =>
        fetch(url + "/v1/w", {
          method: "POST",
          headers: { "content-type": "application/octet-stream" },
          body: Buffer.from("honest"),
          signal: AbortSignal.timeout(10_000),
        }).then(
          async (r) => `${r.status} ${(await r.text()).slice(0, 160)}`,
          (e: Error) => `not served: ${e.message}`,
        );
      expect((await write()).slice(0, 3), "before the attack").to.equal("200");
      const port = Number(new URL(url).port);
      for (let i = 0; i < 400; i++) {
        const s = net.connect({ port, host: "127.0.0.1", localAddress: "127.0.0.2" });
        s.on("error", () => undefined);
        s.on("connect", () =>
          s.write("POST /v1/w HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 9000\r\n\r\nab"),
        );
        socks.push(s);
      }
      await new Promise((r) => setTimeout(r, 1500));
      // the first honest connection after the attack may be shed at accept; the next is accepted
      const tries = [await write(), await write()];
      expect(tries[1], `the honest request during the attack (first try: ${tries[0]})`).to.match(/^200 /);
    } finally {
      for (const s of socks) s.destroy();
      child.kill();
    }
  });
});
