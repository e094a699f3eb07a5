/**
 * Issue 19, RSMS half: the MSRP and an RPM run as separate OS processes (`rsms:serve`), each with
 * its own data folder, keystore and chain account, against a `hardhat node`; RNs register and
 * join over HTTP from a third folder; a second pool's RPM starts in a folder of its own and an RN
 * re-authenticates there over HTTP. Then the faults: the RPM killed after the MSRP recorded a
 * join and before it replied, the MSRP killed between its on-chain write and its reply; each is
 * restarted, the client's retry completes, and the chain and the three keystores agree. Then bad
 * input: a malformed, an oversized and a stale body, a reused request id, a replay, a flood.
 * The IdP half: `idp:serve` in its own folder with its own account, users and a proxy in a fourth
 * folder getting MITs, logging in, delegating, authenticating (platform receipts) and tracing over
 * HTTP (the endpoint found on the MIT registry), and the IdP killed between its on-chain write and
 * its reply during a login. The MSSA half: two place authorities as `mssa:serve authority`, each
 * in its own folder with its own key and the place key the operator handed both, each announcing
 * its endpoint on the CredentialLedger (one finds its peer there, the other is given it with
 * `--peers`); a user in a third folder finds them there and registers over HTTP, both authorities
 * check the request, and the registration collects both approvals on-chain. Then the verifying
 * authority is killed between its proposal on-chain and its reply; restarted from its folder, the
 * user's `mssa:register` again resumes the registration: one registration on-chain. The detector: `trust:serve detector` with its own
 * key, refused until the admin grants it DETECTOR_ROLE, then answering with signed reports.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { JsonRpcProvider, Wallet } from "ethers";
import { startNode, RunningNode } from "../helpers/node";
import { devAccount, freePort, serve, stop, type Proc } from "../../scripts/lib/services-up";
import { skipUnderCoverage } from "../helpers/coverage";
import { Keystore } from "../../offchain/storage/keystore";
import { RsmsLedger } from "../../offchain/rsms/ledger";
import { ResourcePoolRegistry__factory } from "../../typechain-types";
import { joinRemote, registerRnRemote, loadRemoteRn, type Deployment } from "../../offchain/services/rsms/clients";
import { issueEnrolmentToken } from "../../offchain/services/enrolment";
import { ServiceError } from "../../offchain/services/client";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { fromHex, toHex } from "../../offchain/crypto/bytes";
import { FAULT_EXIT } from "../../offchain/services/faults";
import type { Deployment as DeploymentFile } from "../../offchain/chain/deployments";
import { CredentialLedger__factory, MITRegistry__factory, TrustManager__factory } from "../../typechain-types";
import { placeId } from "../../offchain/mssa/registration";
import { AvatarParty } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { keccak256 } from "../../offchain/crypto/hash";
import { idpInfo, loginRemote, type IdpDeployment } from "../../offchain/services/avatars/clients";
import { detectRemote } from "../../offchain/services/trust/clients";
import { registerRemote, userRecord } from "../../offchain/services/mssa/clients";

describe("e2e: RSMS parties as separate services (issue 19)", function () {
  this.timeout(900_000);
  let node: RunningNode;
  let work: string;
  const env: Record<"msrp" | "rpm" | "rpm2" | "client" | "idp" | "user" | "au1" | "au2" | "member" | "detector", NodeJS.ProcessEnv> =
    {} as never;
  let rpm2: Proc | undefined;
  let detector: Proc | undefined;
  const authorities: Proc[] = [];
  let idp: Proc | undefined;
  let idpPort: number;
  let idpDep: IdpDeployment;
  let msrp: Proc | undefined;
  let rpm: Proc | undefined;
  let msrpPort: number;
  let rpmPort: number;
  let msrpUrl: string;
  let rpmUrl: string;
  let provider: JsonRpcProvider;
  let dep: Deployment;
  let client: Keystore;
  let joined2: Uint8Array;
  const fast = { attempts: 2, timeoutMs: 60_000, backoffMs: 200 };
  let au1Port: number;
  let au1Args: string[];
  /** The CredentialLedger, read-only. */
  const ledger = () =>
    CredentialLedger__factory.connect(
      (JSON.parse(fs.readFileSync(path.join(node.env.METATRUST_DEPLOYMENTS_DIR!, "localhost.json"), "utf8")) as DeploymentFile).contracts
        .CredentialLedger.address,
      provider,
    );

  const msrpArgs = () => ["rsms:serve", "msrp", "--port", String(msrpPort), "--admit-rpm", "any", "--tick", "300"];
  const rpmArgs = () => ["rsms:serve", "rpm", "--pool", "1", "--port", String(rpmPort), "--rate-limit", "400"];
  const msrpRecord = () =>
    new Keystore(path.join(work, "msrp", "localhost", "keystore")).load("rsms-msrp") as { rns: Record<string, { used: boolean }> };

  before(async function () {
    skipUnderCoverage(this, "e2e: spawns `hardhat node` and service processes, which would load instrumented artifacts");
    node = await startNode();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-svc-"));
    const ipfs = path.join(work, "ipfs"); // stands for the IPFS network (kubo in a deployment)
    for (const p of ["msrp", "rpm", "rpm2", "client", "idp", "user", "au1", "au2", "member", "detector"] as const)
      env[p] = { ...node.env, METATRUST_DATA_DIR: path.join(work, p), METATRUST_IPFS_DIR: ipfs };
    const d = await node.run(["deploy"]);
    expect(d.code, d.stderr + d.stdout).to.equal(0);
    [msrpPort, rpmPort, idpPort] = [await freePort(), await freePort(), await freePort()];
    provider = new JsonRpcProvider(node.url);
    const file = JSON.parse(fs.readFileSync(path.join(node.env.METATRUST_DEPLOYMENTS_DIR!, "localhost.json"), "utf8")) as DeploymentFile;
    const registry = file.contracts.ResourcePoolRegistry.address;
    dep = { chainId: 31337n, registry, ledger: new RsmsLedger(ResourcePoolRegistry__factory.connect(registry, provider)) };
    client = new Keystore(path.join(work, "client", "localhost", "keystore"));
    idpDep = { chainId: 31337n, registry: MITRegistry__factory.connect(file.contracts.MITRegistry.address, provider) };
  });

  after(async () => {
    await stop(detector);
    for (const a of authorities) await stop(a);
    await stop(idp);
    await stop(rpm2);
    await stop(rpm);
    await stop(msrp);
    provider?.destroy();
    await node?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("the MSRP and the RPM start in their own folders with their own accounts; RNs register and join over HTTP", async () => {
    const setup = await node.run(["rsms:setup", "--capacity", "8", "--lambda", "16", "--interval", "1"], { env: env.msrp });
    expect(setup.code, setup.stderr + setup.stdout).to.equal(0);
    const account = /MSRP service account (0x[0-9a-fA-F]{40})/.exec(setup.stdout)![1];
    // without the role, the service refuses to start, in one line
    const early = await node.run(msrpArgs(), { env: env.msrp });
    expect(early.code, early.stderr).to.equal(2);
    expect(early.stderr).to.match(/does not hold MSRP_ROLE/);
    const grant = await node.run(["rsms:msrp:grant", "--to", account]);
    expect(grant.code, grant.stderr).to.equal(0);
    msrp = await serve(msrpArgs(), env.msrp);
    msrpUrl = msrp.url;
    expect(msrpUrl).to.equal(`http://127.0.0.1:${msrpPort}`);

    const enrol = await node.run(["rsms:rpm:enrol", "--pool", "1", "--msrp", msrpUrl], { env: env.rpm });
    expect(enrol.code, enrol.stderr + enrol.stdout).to.equal(0);
    rpm = await serve(rpmArgs(), env.rpm);
    rpmUrl = rpm.url;
    // discovery: the RPM announced its endpoint on-chain from its own account
    expect(await dep.ledger.registry.poolEndpoint(1)).to.equal(rpmUrl);
    const pool = await dep.ledger.pool(1);
    const rpmAccount = (new Keystore(path.join(work, "rpm", "localhost", "keystore")).load("account-rpm_1") as { address: string }).address;
    expect(pool!.rpm).to.equal(rpmAccount);
    // separate keys: msk only in the MSRP's folder, sk_RPM only in the RPM's
    expect(fs.existsSync(path.join(work, "rpm", "localhost", "keystore", "rsms-msrp.json"))).to.equal(false);
    expect(fs.existsSync(path.join(work, "msrp", "localhost", "keystore", "rsms-rpm-1.json"))).to.equal(false);

    // registration needs the operator's one-time token (F5): none, refused (401); the token comes
    // from the task in the MSRP's folder (rn-1), or the same step in-process on that keystore
    const stranger = await registerRnRemote({
      msrpUrl,
      name: "rn-1",
      poolId: 1,
      rid: "x",
      keystore: new Keystore(path.join(work, "x")),
      dep,
    }).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(stranger?.status).to.equal(401);
    const issued = await node.run(["rsms:enrol-token", "--rn", "rn-1", "--ttl", "10m"], { env: env.msrp });
    expect(issued.code, issued.stderr + issued.stdout).to.equal(0);
    const msrpKs = new Keystore(path.join(work, "msrp", "localhost", "keystore"));
    const token = (n: string) =>
      n === "rn-1"
        ? issued.stdout.trim().split("\n").slice(-1)[0]
        : issueEnrolmentToken(msrpKs, { service: "msrp", kind: "rn", identity: n, rid: `rn:${n}`, ttlSec: 600 }).token;
    for (const n of ["rn-1", "rn-2", "rn-3", "rn-4"])
      await registerRnRemote({ msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: token(n), keystore: client, dep });
    for (let i = 0; i < 100 && (await dep.ledger.pool(1))!.epochs === 0; i++) await new Promise((r) => setTimeout(r, 300));
    expect((await dep.ledger.pool(1))!.epochs).to.be.greaterThan(0);

    // the CLI join finds the RPM from the chain
    const j = await node.run(["rsms:join", "--rn", "rn-1", "--pool", "1"], { env: env.client });
    expect(j.code, j.stderr + j.stdout).to.equal(0);
    expect(j.stdout).to.match(/rn-1 joined pool 1 as 0x[0-9a-f]{64} over the network/);
    const r2 = await joinRemote({ name: "rn-2", poolId: 1, keystore: client, dep, rpmUrl });
    expect(r2.rn.state.joined).to.equal(true);
    joined2 = r2.request;
    expect(await dep.ledger.joinCount()).to.equal(2);
    const m = msrpRecord();
    expect(m.rns["rn-1"].used && m.rns["rn-2"].used).to.equal(true);

    // a replay of rn-2's request: the same reply, byte for byte, and nothing written
    const again = await fetch(`${rpmUrl}/v1/join`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: Buffer.from(r2.request),
    });
    expect(again.status).to.equal(200);
    expect(toHex(new Uint8Array(await again.arrayBuffer()))).to.equal(toHex(r2.reply!));
    expect(await dep.ledger.joinCount()).to.equal(2);
  });

  it("the RPM is killed after the MSRP recorded a join and before its reply; after a restart the RN's retry completes", async () => {
    await stop(rpm);
    rpm = await serve(rpmArgs(), { ...env.rpm, METATRUST_FAULT: "rpm:after-forward" });
    const first = await joinRemote({ name: "rn-3", poolId: 1, keystore: client, dep, rpmUrl, retry: fast }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(first?.message).to.match(/not reachable|socket|fetch failed|503/);
    expect(await rpm.exited).to.equal(FAULT_EXIT);
    // the MSRP recorded it; the RN still has its request in flight
    const pid = loadRemoteRn(client, "rn-3")!.state.pid;
    expect((await dep.ledger.recordOf(pid)).poolId).to.equal(1);
    expect(client.exists("rsms-rn-rn-3-join")).to.equal(true);
    expect(msrpRecord().rns["rn-3"].used).to.equal(true);

    rpm = await serve(rpmArgs(), env.rpm);
    const r = await joinRemote({ name: "rn-3", poolId: 1, keystore: client, dep });
    expect(r.resumed).to.equal(true);
    expect(r.rn.state.joined).to.equal(true);
    expect(client.exists("rsms-rn-rn-3-join")).to.equal(false);
    expect(await dep.ledger.joinCount()).to.equal(3);
  });

  it("the MSRP is killed between its on-chain write and its reply; after a restart it finishes the join from its journal", async () => {
    await stop(msrp);
    msrp = await serve(msrpArgs(), { ...env.msrp, METATRUST_FAULT: "msrp:after-chain-write" });
    const pending = joinRemote({
      name: "rn-4",
      poolId: 1,
      keystore: client,
      dep,
      rpmUrl,
      retry: { attempts: 10, timeoutMs: 120_000, backoffMs: 1000 },
    });
    expect(await msrp.exited).to.equal(FAULT_EXIT);
    const pid = loadRemoteRn(client, "rn-4")!.state.pid;
    // on-chain, not yet in the MSRP's state: exactly the gap the journal covers
    expect((await dep.ledger.recordOf(pid)).poolId).to.equal(1);
    expect(msrpRecord().rns["rn-4"].used).to.equal(false);
    const journal = path.join(work, "msrp", "localhost", "service-msrp", "journal");
    expect(fs.readdirSync(journal)).to.have.length(1);

    msrp = await serve(msrpArgs(), env.msrp);
    expect(msrp.log()).to.match(/recovery: join of 0x[0-9a-f]{64} at pool 1 completed/);
    const r = await pending;
    expect(r.rn.state.joined).to.equal(true);
    expect(msrpRecord().rns["rn-4"].used).to.equal(true);
    expect(fs.readdirSync(journal)).to.have.length(0);
    expect(await dep.ledger.joinCount()).to.equal(4);
    expect(client.list().filter((n) => n.endsWith("-join"))).to.deep.equal([]);
  });

  it("malformed, oversized, stale and reused-id requests get a 4xx with a typed error; a flood gets 429; the services stay up", async () => {
    const post = (url: string, body: Uint8Array, type = "application/octet-stream") =>
      fetch(url, { method: "POST", headers: { "content-type": type }, body: Buffer.from(body) });
    const bad = await post(`${rpmUrl}/v1/join`, new Uint8Array(40).fill(7));
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { error: string }).error).to.equal("MESSAGE_MALFORMED");
    const big = await post(`${rpmUrl}/v1/join`, new Uint8Array(64 * 1024));
    expect(big.status).to.equal(413);
    const json = await post(`${rpmUrl}/v1/join`, new TextEncoder().encode("{}"), "application/json");
    expect(json.status).to.be.oneOf([400, 415]);
    const audience = audienceOf(31337n, dep.registry, "rpm:1");
    const env0 = (issuedAt: number, requestId: Uint8Array, body: Uint8Array) =>
      sealEnvelope(
        {
          kind: Kind.Request,
          route: Route.Join,
          audience,
          session: new Uint8Array(16),
          requestId,
          issuedAt,
          inReplyTo: new Uint8Array(32),
          body,
        },
        { scheme: Scheme.None },
      );
    const stale = await post(`${rpmUrl}/v1/join`, env0(Date.now() - 3_600_000, new Uint8Array(16).fill(1), new Uint8Array(99)));
    expect(stale.status).to.equal(400);
    expect(((await stale.json()) as { reason: string }).reason).to.equal("STALE");
    // rn-2's request id with another body: refused, not answered with rn-2's reply
    const prior = openEnvelope(joined2);
    const reused = await post(`${rpmUrl}/v1/join`, env0(Date.now(), prior.requestId, new Uint8Array(99)));
    expect(reused.status).to.equal(409);
    expect(((await reused.json()) as { reason: string }).reason).to.equal("REQUEST_ID_REUSED");
    const count = await dep.ledger.joinCount();
    // a flood: more than the rate limit from one address, 32 connections at a time (more than the cap of
    // connections from one address, 64 by default, are reset: test/services/server-connections.test.ts)
    const codes: number[] = [];
    for (let i = 0; i < 450; i += 32)
      codes.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(32, 450 - i) }, () => post(`${rpmUrl}/v1/join`, new Uint8Array(3)).then((r) => r.status)),
        )),
      );
    expect(codes).to.include(429);
    expect(codes.every((c) => c === 400 || c === 429)).to.equal(true);
    const health = await fetch(`${rpmUrl}/v1/health`);
    expect(health.status).to.equal(200);
    expect((await fetch(`${msrpUrl}/v1/health`)).status).to.equal(200);
    expect(rpm!.child.exitCode).to.equal(null);
    expect(await dep.ledger.joinCount()).to.equal(count);
  });

  it("a second pool's RPM in its own folder; an RN re-authenticates at pool 2 over HTTP (`rsms:reauth`, that RPM found on-chain)", async () => {
    const enrol = await node.run(["rsms:rpm:enrol", "--pool", "2", "--msrp", msrpUrl], { env: env.rpm2 });
    expect(enrol.code, enrol.stderr + enrol.stdout).to.equal(0);
    rpm2 = await serve(["rsms:serve", "rpm", "--pool", "2", "--port", String(await freePort())], env.rpm2);
    expect(await dep.ledger.registry.poolEndpoint(2)).to.equal(rpm2.url);
    const rpm2Account = (new Keystore(path.join(work, "rpm2", "localhost", "keystore")).load("account-rpm_2") as { address: string })
      .address;
    expect((await dep.ledger.pool(2))!.rpm).to.equal(rpm2Account);
    // sk_RPM of pool 2 only in its own folder
    for (const other of ["msrp", "rpm"])
      expect(fs.existsSync(path.join(work, other, "localhost", "keystore", "rsms-rpm-2.json")), other).to.equal(false);
    const before = await dep.ledger.joinCount();
    const r = await node.run(["rsms:reauth", "--rn", "rn-1", "--to-pool", "2"], { env: env.client });
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    const pid = / moved to pool 2 as PID_\d+ (0x[0-9a-f]{64}) over the network/.exec(r.stdout)?.[1];
    expect(pid, r.stdout).to.not.equal(undefined);
    const rec = await dep.ledger.recordOf(fromHex(pid!, 32));
    expect([rec.poolId, rec.kind]).to.deep.equal([2, 2]);
    expect(toHex(loadRemoteRn(client, "rn-1")!.state.pid)).to.equal(pid);
    expect(await dep.ledger.joinCount()).to.equal(before + 1);
    expect(rpm2.child.exitCode).to.equal(null);
  });

  // ------------------------------------------------------------------ the IdP

  const idpArgs = () => ["idp:serve", "--port", String(idpPort)];
  const userKs = () => new Keystore(path.join(work, "user", "localhost", "keystore"));
  const eyeOf = (name: string) => new SimulatedEye(Number(BigInt(toHex(keccak256(new TextEncoder().encode(`eye:${name}`))).slice(0, 10))));
  /** The id of `owner`'s avatar `name` (names are per owner, avatarIdOf), from her keystore record. */
  const avatarId = (owner: string, name: string) =>
    avatarIdOf(AvatarParty.fromRecord(userKs().load(`avatar-party-${owner}`)).mit!.serial, name);

  it("the IdP runs in its own folder with its own account; a user and a proxy get MITs, log in, delegate, authenticate and trace over HTTP", async () => {
    const setup = await node.run(["idp:setup"], { env: env.idp });
    expect(setup.code, setup.stderr + setup.stdout).to.equal(0);
    const account = /IdP service account (0x[0-9a-fA-F]{40})/.exec(setup.stdout)![1];
    const grant = await node.run(["idp:grant", "--to", account]);
    expect(grant.code, grant.stderr).to.equal(0);
    idp = await serve(idpArgs(), env.idp);
    // discovery: the endpoint is on the MIT registry, announced from the IdP's own account
    expect(await idpDep.registry.idpEndpoint()).to.deep.equal([account, idp.url]);

    // the IdP's operator issues one-time enrolment tokens in its own folder (F5)
    const tokenFor = async (args: string[]) => {
      const r = await node.run(["idp:enrol-token", ...args], { env: env.idp });
      expect(r.code, r.stderr + r.stdout).to.equal(0);
      return r.stdout.trim().split("\n").slice(-1)[0];
    };
    const [aliceToken, botToken] = [await tokenFor(["--user", "Alice Liddell"]), await tokenFor(["--proxy", "metaverse AI service"])];
    // the user's folder has no IdP: the tasks find the service on-chain
    for (const args of [
      ["idp:issue", "--user", "alice", "--real-id", "Alice Liddell", "--token", aliceToken],
      ["idp:issue", "--proxy", "bot", "--token", botToken],
      ["avatar:login", "--user", "alice", "--avatar", "A"],
      ["avatar:delegate", "--user", "alice", "--avatar", "A", "--proxy", "bot"],
    ]) {
      const r = await node.run(args, { env: env.user });
      expect(r.code, `${args.join(" ")}: ${r.stderr}${r.stdout}`).to.equal(0);
      expect(r.stdout).to.include(idp.url);
    }
    const bot = AvatarParty.fromRecord(userKs().load("avatar-party-bot"));
    expect((await idpDep.registry.avatar(toHex(avatarId("alice", "A")))).driverSerial).to.equal(toHex(bot.mit!.serial));
    // mutual authentication (receipts from the platform over HTTP), then tracing the proxy-driven avatar
    const login = await node.run(["avatar:login", "--user", "alice", "--avatar", "C"], { env: env.user });
    expect(login.code, login.stderr).to.equal(0);
    const auth = await node.run(["avatar:auth", "--a", "A", "--b", "C"], { env: env.user });
    expect(auth.code, auth.stderr + auth.stdout).to.equal(0);
    const evidence = /evidence about A: (\S+)/.exec(auth.stdout)![1];
    const tr = await node.run(["avatar:trace", "--evidence", evidence], { env: env.user });
    expect(tr.code, tr.stderr + tr.stdout).to.equal(0);
    const [, caseId, commitment] = /case #(\d+): traced by the IdP at \S+; verdict commitment (0x[0-9a-f]{64})/.exec(tr.stdout)!;
    expect((await idpDep.registry.traceCase(BigInt(caseId))).verdictCommitment).to.equal(commitment);
    // the reporter's output never names the user; the IdP opens the verdict from its own folder
    expect(tr.stdout).to.not.include("Alice Liddell");
    const audit = await node.run(["avatar:audit", "--case", caseId], { env: env.idp });
    expect(audit.code, audit.stderr).to.equal(0);
    // separate keys: the templates only in the IdP's folder, the CPS keys only in the user's
    const idpRec = JSON.stringify(new Keystore(path.join(work, "idp", "localhost", "keystore")).load("avatar-idp"));
    expect(idpRec).to.include("Alice Liddell");
    expect(idpRec).to.not.include(bot.keys.sk.toString(16));
    expect(fs.existsSync(path.join(work, "user", "localhost", "keystore", "avatar-idp.json"))).to.equal(false);
  });

  it("the IdP is killed between recordLogin and its reply; after a restart the user's retry completes, one login on-chain", async () => {
    await stop(idp);
    idp = await serve(idpArgs(), { ...env.idp, METATRUST_FAULT: "idp:after-chain-write" });
    const alice = AvatarParty.fromRecord(userKs().load("avatar-party-alice"));
    const info = await idpInfo(idp.url, idpDep);
    const eye = eyeOf("alice");
    const pending = loginRemote({
      idp: info,
      dep: idpDep,
      user: alice,
      sample: () => eye.capture(),
      avatarId: avatarId("alice", "A2"),
      appearance: "a2",
      retry: { attempts: 10, timeoutMs: 120_000, backoffMs: 1000 },
    });
    expect(await idp.exited).to.equal(FAULT_EXIT);
    // on-chain, not answered: the gap the journal covers
    expect((await idpDep.registry.avatar(toHex(avatarId("alice", "A2")))).owner).to.equal(toHex(alice.mit!.serial));
    const journal = path.join(work, "idp", "localhost", "service-idp", "journal");
    expect(fs.readdirSync(journal)).to.have.length(1);

    idp = await serve(idpArgs(), env.idp);
    expect(idp.log()).to.match(/recovery: login of avatar 0x[0-9a-f]{10}… completed/);
    const r = await pending;
    expect((await idpDep.registry.avatar(toHex(avatarId("alice", "A2")))).warrantHash).to.equal(toHex(r.ack.h));
    expect(await idpDep.registry.queryFilter(idpDep.registry.filters.AvatarLoggedIn(toHex(avatarId("alice", "A2"))))).to.have.length(1);
    expect(fs.readdirSync(journal)).to.have.length(0);
  });

  it("the IdP answers a malformed or oversized body with a 4xx and stays up", async () => {
    const post = (body: Uint8Array) =>
      fetch(`${idp!.url}/v1/login`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: Buffer.from(body) });
    const bad = await post(new Uint8Array(200).fill(9));
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { error: string }).error).to.equal("MESSAGE_MALFORMED");
    expect((await post(new Uint8Array(64 * 1024))).status).to.equal(413);
    expect((await fetch(`${idp!.url}/v1/health`)).status).to.equal(200);
    expect(idp!.child.exitCode).to.equal(null);
  });
  // ------------------------------------------------------------------ MSSA place authorities

  it("two place authorities run as services with their own keys and announce their endpoints; a user finds them on-chain, registers at PL1 over HTTP, and both approve", async () => {
    // the genesis authorities are the node's accounts 1 and 2: each service holds its own key only
    const [a1, a2] = [devAccount(1), devAccount(2)];
    env.au1 = { ...env.au1, METATRUST_KEY_AUTHORITY_1: a1.privateKey };
    env.au2 = { ...env.au2, METATRUST_KEY_AUTHORITY_2: a2.privateKey };
    const place = await node.run(["mssa:place", "--name", "PL1", "--authorities", `${a1.address},${a2.address}`]);
    expect(place.code, place.stderr + place.stdout).to.equal(0);
    // the place key, handed to both by the place's operator
    const keyFile = path.join(work, "pl1.placekey");
    fs.writeFileSync(keyFile, "ab".repeat(32), { mode: 0o600 });
    au1Port = await freePort();
    // the first finds its peer on-chain; the second is told where the first is (--peers overrides the chain)
    au1Args = ["mssa:serve", "authority", "--place", "PL1", "--account", "authority:1", "--port", String(au1Port)];
    const au2Args = [
      "mssa:serve",
      "authority",
      "--place",
      "PL1",
      "--account",
      "authority:2",
      "--peers",
      `${a1.address}=http://127.0.0.1:${au1Port}`,
    ];
    authorities.push(
      ...(await Promise.all([serve([...au1Args, "--place-key", keyFile], env.au1), serve([...au2Args, "--place-key", keyFile], env.au2)])),
    );
    for (const a of authorities) expect(a.log()).to.match(/place PL1: endpoint http:\/\/127\.0\.0\.1:\d+ announced on-chain/);
    expect(await ledger().authorityEndpoints(placeId("PL1"))).to.deep.equal([[a1.address, a2.address], authorities.map((a) => a.url)]);
    // no --authorities: the endpoints on-chain
    const r = await node.run(["mssa:register", "--user", "carol", "--place", "PL1"], { env: env.member });
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    const [, user, id] = /(0x[0-9a-fA-F]{40}) has access to PL1 over the network: registration (0x[0-9a-f]{64}) \(2 approvals\)/.exec(
      r.stdout,
    )!;
    expect(await ledger().access(user, placeId("PL1"))).to.deep.equal([true, id]);
    expect(await ledger().approvedBy(id, a1.address)).to.equal(true);
    expect(await ledger().approvedBy(id, a2.address)).to.equal(true);
    // each authority checked the documents sealed to it, and kept none of them
    const rec2 = JSON.stringify(
      new Keystore(path.join(work, "au2", "localhost", "keystore")).load(`mssa-authority-${placeId("PL1").slice(2, 18)}`),
    );
    expect(rec2).to.not.include("passport:");
    expect(rec2).to.include('"verified"');
  });

  it("the verifying authority is killed between its proposal on-chain and its reply; restarted from its folder, the user's `mssa:register` again completes the registration: one on-chain", async () => {
    await stop(authorities[0]);
    authorities[0] = await serve(au1Args, { ...env.au1, METATRUST_FAULT: "authority:after-propose" });
    // dave's key, in the folder `mssa:register --user dave` reads it from
    const member = new Keystore(path.join(work, "member", "localhost", "keystore"));
    const dave = Wallet.createRandom();
    member.create("account-dave", { role: "dave", address: dave.address, privateKey: dave.privateKey });
    const first = await registerRemote({
      place: "PL1",
      user: new Wallet(dave.privateKey),
      infos: ["mail:dave@example.org", "passport:UTO:D0000001"],
      dep: { chainId: 31337n, ledger: ledger() },
      keystore: member,
      retry: fast,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(first?.message).to.match(/not reachable|socket|fetch failed|other side closed/);
    expect(await authorities[0].exited).to.equal(FAULT_EXIT);
    // proposed and approved by the verifier on-chain, unanswered; dave kept his opening
    const rec = member.load(userRecord("PL1", dave.address)) as { id: string; pending: boolean };
    expect(rec.pending).to.equal(true);
    const reg = await ledger().registration(rec.id);
    expect([reg.status, reg.approvals]).to.deep.equal([1n, 1n]);

    authorities[0] = await serve(au1Args, env.au1);
    // the same address: nothing to announce
    expect(authorities[0].log()).to.not.match(/announced on-chain/);
    const r = await node.run(["mssa:register", "--user", "dave", "--place", "PL1"], { env: env.member });
    expect(r.code, r.stderr + r.stdout).to.equal(0);
    expect(r.stdout).to.include(`${dave.address} has access to PL1 over the network: registration ${rec.id} (2 approvals), resumed`);
    expect(await ledger().access(dave.address, placeId("PL1"))).to.deep.equal([true, rec.id]);
    const proposed = await ledger().queryFilter(ledger().filters.RegistrationProposed(undefined, placeId("PL1"), dave.address));
    expect(proposed).to.have.length(1);
    expect((member.load(userRecord("PL1", dave.address)) as { pending: boolean }).pending).to.equal(false);
    for (const au of ["au1", "au2"]) {
      const journal = path.join(work, au, "localhost", `service-mssa-${placeId("PL1").slice(2, 10)}`, "journal");
      expect(fs.readdirSync(journal).filter((f) => f.endsWith(".json"))).to.deep.equal([]);
    }
  });
  // ------------------------------------------------------------------ the trust detector

  it("the detector runs with its own key once granted DETECTOR_ROLE, and answers with a report signed by that key", async () => {
    const early = await node.run(["trust:serve", "detector", "--interval", "0"], { env: env.detector });
    expect(early.code, early.stderr).to.equal(2);
    const account = /the detector account (0x[0-9a-fA-F]{40}) does not hold DETECTOR_ROLE/.exec(early.stderr)![1];
    const grant = await node.run(["trust:grant", "--role", "detector", "--to", account]);
    expect(grant.code, grant.stderr).to.equal(0);
    detector = await serve(["trust:serve", "detector", "--interval", "0", "--port", String(await freePort())], env.detector);
    const file = JSON.parse(fs.readFileSync(path.join(node.env.METATRUST_DEPLOYMENTS_DIR!, "localhost.json"), "utf8")) as DeploymentFile;
    const tm = TrustManager__factory.connect(file.contracts.TrustManager.address, provider);
    const run = await detectRemote({ url: detector.url, chainId: 31337n, trustManager: await tm.getAddress(), account });
    expect(run.cid).to.match(/^bagu/);
    expect(fs.existsSync(path.join(work, "detector", "localhost", "keystore", "account-detector.json"))).to.equal(true);
  });
});
