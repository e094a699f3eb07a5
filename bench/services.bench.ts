/**
 * Joins through the RSMS services over loopback HTTP (issue 19): one MSRP service and one RPM
 * service, each with its own keystore, folders and chain account, against a real `hardhat node`
 * (JSON-RPC, automine). The RNs register over HTTP, then join one after the other (latency from
 * the RN's request to its verified reply) and with 16 in flight (joins per second). The two
 * services run in this process (the RN clients too), so they share its two cores; the process
 * test of the same services is test/e2e/services.test.ts. The workloads run twice: batching off
 * (every join its own `recordJoin` transaction, serialised by the MSRP) and on (the MSRP's
 * `batch` option, `rsms:serve msrp --batch-ms`: forwards within BATCH_MS of a batch's first, at
 * most BATCH_MAX, share one `recordJoins` transaction), each with a fresh MSRP, pool and RNs.
 * `SERVICES_BENCH_BATCH=off|on` runs one of them (default both).
 *
 * The IdP part: one IdP service (own keystore, own account holding IDP_ROLE) and user clients in
 * this process; users get MITs over HTTP, then log in one after the other and with 8 in flight.
 * A login is two round trips (challenge, response), a CPS verification and an iris match at the
 * IdP, and a `recordLogin` transaction mined by the node before the IdP answers.
 *
 * `SERVICES_BENCH_PART=rsms|idp` runs one part and keeps the other's last numbers (`report`: none,
 * the tables rewritten from bench/results/services.json).
 * Writes bench/results/services.{md,json}.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { JsonRpcProvider, Wallet, parseEther } from "ethers";
import { startNode } from "../scripts/lib/hardhat-node";
import { ResourcePoolRegistry__factory } from "../typechain-types";
import { RsmsLedger } from "../offchain/rsms/ledger";
import { Msrp } from "../offchain/rsms/msrp";
import { Keystore } from "../offchain/storage/keystore";
import { FileContentStore } from "../offchain/storage/content-store";
import { MsrpService, MSRP_RECORD, type JoinBatching } from "../offchain/services/rsms/msrp-service";
import { RpmService } from "../offchain/services/rsms/rpm-service";
import { enrolRpm, joinRemote, registerRnRemote, type Deployment } from "../offchain/services/rsms/clients";
import { issueEnrolmentToken } from "../offchain/services/enrolment";
import { MITRegistry__factory } from "../typechain-types";
import { AvatarParty, IdentityProvider } from "../offchain/avatars/agents";
import { SimulatedEye } from "../offchain/avatars/iris";
import { avatarIdOf } from "../offchain/avatars/protocols";
import { IdpService, IDP_RECORD } from "../offchain/services/avatars/idp-service";
import { idpInfo, issueRemote, loginRemote, type IdpDeployment } from "../offchain/services/avatars/clients";
import { machine } from "./lib";

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const SEQ = Number(process.env.SERVICES_BENCH_SEQ ?? 40);
const CONC = Number(process.env.SERVICES_BENCH_CONC ?? 120);
const IN_FLIGHT = 16;
const LOGINS_SEQ = Number(process.env.SERVICES_BENCH_LOGINS_SEQ ?? 40);
const LOGINS_CONC = Number(process.env.SERVICES_BENCH_LOGINS_CONC ?? 80);
const LOGIN_IN_FLIGHT = 8;
const USERS = 8;
const PART = process.env.SERVICES_BENCH_PART ?? "all";
const BATCH_MS = Number(process.env.SERVICES_BENCH_BATCH_MS ?? 100);
const BATCH_MAX = Number(process.env.SERVICES_BENCH_BATCH_MAX ?? 32);
const BATCH_MODES = (process.env.SERVICES_BENCH_BATCH ?? "off,on").split(",");

type Row = { perSec: number; p50: number; p95: number; p99: number };
type RsmsRes = {
  registrationsPerSec: number;
  sequential: Row & { joins: number; txs?: number };
  concurrent: Row & { joins: number; inFlight: number; txs?: number };
};
/** The RSMS results: batching off at the top level (as before), batching on under `batched`. */
type RsmsAll = Partial<RsmsRes> & Partial<Stamp> & { batched?: RsmsRes & Stamp & { batch: JoinBatching } };
type Stamp = { measuredAt: string; machine: string };
type IdpRes = { issuancesPerSec: number; sequential: Row & { logins: number }; concurrent: Row & { logins: number; inFlight: number } };

/** Runs `job` from `workers` loops over `items`; returns the rate and the latencies. */
async function drive<T>(items: T[], workers: number, job: (x: T) => Promise<unknown>): Promise<Row> {
  const lat: number[] = [];
  const queue = [...items];
  const t = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let x = queue.shift(); x !== undefined; x = queue.shift()) {
        const s = performance.now();
        await job(x);
        lat.push(performance.now() - s);
      }
    }),
  );
  return { perSec: items.length / ((performance.now() - t) / 1000), p50: q(lat, 0.5), p95: q(lat, 0.95), p99: q(lat, 0.99) };
}

async function idpPart(node: Awaited<ReturnType<typeof startNode>>, work: string): Promise<IdpRes> {
  const file = JSON.parse(fs.readFileSync(path.join(node.env.METATRUST_DEPLOYMENTS_DIR!, "localhost.json"), "utf8"));
  const address: string = file.contracts.MITRegistry.address;
  const provider = new JsonRpcProvider(node.url, undefined, {
    staticNetwork: true,
    pollingInterval: 10,
    cacheTimeout: -1,
    batchStallTime: 0,
  });
  const admin = await provider.getSigner(0);
  const wallet = Wallet.createRandom().connect(provider) as unknown as Wallet;
  await (await admin.sendTransaction({ to: wallet.address, value: parseEther("100") })).wait();
  const reg = MITRegistry__factory.connect(address, admin);
  await (await reg.grantRole(await reg.IDP_ROLE(), wallet.address)).wait();
  const ks = new Keystore(path.join(work, "idp", "keystore"), "");
  ks.create(IDP_RECORD, new IdentityProvider().toRecord());
  const svc = new IdpService({
    keystore: ks,
    dir: path.join(work, "idp", "service"),
    registry: MITRegistry__factory.connect(address, wallet),
    court: file.contracts.DisputeResolution.address,
    store: new FileContentStore(path.join(work, "ipfs")),
    wallet,
    chainId: 31337n,
    log: () => undefined,
  });
  const url = (await svc.start({ port: 0, rateLimit: { max: 100_000, windowMs: 60_000 } })).url;
  try {
    const dep: IdpDeployment = { chainId: 31337n, registry: MITRegistry__factory.connect(address, provider) };
    const info = await idpInfo(url, dep);
    const client = new Keystore(path.join(work, "users", "keystore"), "");
    const users: { party: AvatarParty; eye: SimulatedEye }[] = [];
    console.log(`services: issuing ${USERS} user MITs over HTTP ...`);
    const ti = performance.now();
    for (let i = 0; i < USERS; i++) {
      const eye = new SimulatedEye(1000 + i);
      const r = await issueRemote({
        idp: info,
        dep,
        keystore: client,
        name: `u${i}`,
        kind: "user",
        label: `user ${i}`,
        enrollment: eye.capture(),
        // the IdP operator's one-time token (idp:enrol-token), issued outside the timed path's network
        token: issueEnrolmentToken(ks, { service: "idp", kind: "user", identity: `user ${i}`, ttlSec: 3600 }).token,
      });
      users.push({ party: r.party, eye });
    }
    const issuancesPerSec = USERS / ((performance.now() - ti) / 1000);
    const login = (i: number) =>
      loginRemote({
        idp: info,
        dep,
        user: users[i % USERS].party,
        sample: () => users[i % USERS].eye.capture(),
        avatarId: avatarIdOf(users[i % USERS].party.mit!.serial, `bench-${i % USERS}`),
        appearance: "bench",
      });
    console.log(`services: ${LOGINS_SEQ} logins one after the other ...`);
    const sequential = await drive([...Array(LOGINS_SEQ).keys()], 1, login);
    console.log(`services: ${LOGINS_CONC} logins, ${LOGIN_IN_FLIGHT} in flight ...`);
    const concurrent = await drive([...Array(LOGINS_CONC).keys()], LOGIN_IN_FLIGHT, login);
    const n = (await dep.registry.queryFilter(dep.registry.filters.AvatarLoggedIn())).length;
    if (n !== LOGINS_SEQ + LOGINS_CONC) throw new Error(`expected ${LOGINS_SEQ + LOGINS_CONC} logins on-chain, found ${n}`);
    return {
      issuancesPerSec,
      sequential: { logins: LOGINS_SEQ, ...sequential },
      concurrent: { logins: LOGINS_CONC, inFlight: LOGIN_IN_FLIGHT, ...concurrent },
    };
  } finally {
    await svc.stop();
    provider.destroy();
  }
}

async function rsmsPart(node: Awaited<ReturnType<typeof startNode>>, work: string, poolId: number, batch?: JoinBatching): Promise<RsmsRes> {
  let stop: (() => Promise<void>) | undefined;
  try {
    const file = JSON.parse(fs.readFileSync(path.join(node.env.METATRUST_DEPLOYMENTS_DIR!, "localhost.json"), "utf8"));
    const address: string = file.contracts.ResourcePoolRegistry.address;
    const provider = new JsonRpcProvider(node.url, undefined, {
      staticNetwork: true,
      pollingInterval: 10,
      cacheTimeout: -1,
      batchStallTime: 0,
    });
    const admin = await provider.getSigner(0);
    const fund = async () => {
      const w = Wallet.createRandom().connect(provider) as unknown as Wallet;
      await (await admin.sendTransaction({ to: w.address, value: parseEther("100") })).wait();
      return w;
    };
    const msrpWallet = await fund();
    const reg = ResourcePoolRegistry__factory.connect(address, admin);
    await (await reg.grantRole(await reg.MSRP_ROLE(), msrpWallet.address)).wait();
    const chainId = 31337n;
    const store = new FileContentStore(path.join(work, "ipfs"));
    const msrpKs = new Keystore(path.join(work, "msrp", "keystore"), "");
    msrpKs.create(MSRP_RECORD, Msrp.setup({ capacity: 1024, lambda: 20, intervalSec: 0, ttlSec: 86_400 }).toRecord());
    const msrp = new MsrpService({
      keystore: msrpKs,
      dir: path.join(work, "msrp", "service"),
      ledger: new RsmsLedger(ResourcePoolRegistry__factory.connect(address, msrpWallet)),
      store,
      wallet: msrpWallet,
      chainId,
      registry: address,
      admission: "any",
      ...(batch ? { batch } : {}),
      log: () => undefined,
    });
    const msrpUrl = (await msrp.start({ port: 0, rateLimit: { max: 100_000, windowMs: 60_000 } })).url;
    const dep: Deployment = {
      chainId,
      registry: address,
      ledger: new RsmsLedger(ResourcePoolRegistry__factory.connect(address, provider)),
    };
    const rpmWallet = await fund();
    const rpmKs = new Keystore(path.join(work, "rpm", "keystore"), "");
    await enrolRpm({ msrpUrl, poolId, rid: `rpm-${poolId}`, wallet: rpmWallet, keystore: rpmKs, dep });
    const rpm = new RpmService({
      keystore: rpmKs,
      dir: path.join(work, "rpm", "service"),
      poolId,
      ledger: new RsmsLedger(ResourcePoolRegistry__factory.connect(address, rpmWallet)),
      store,
      wallet: rpmWallet,
      chainId,
      registry: address,
      log: () => undefined,
    });
    const rpmUrl = (await rpm.start({ port: 0, rateLimit: { max: 100_000, windowMs: 60_000 } })).url;
    stop = async () => {
      await rpm.stop();
      await msrp.stop();
      provider.destroy();
    };
    const client = new Keystore(path.join(work, "client", "keystore"), "");
    const names = Array.from({ length: SEQ + CONC }, (_, i) => `rn-${i}`);
    console.log(`services: registering ${names.length} RNs over HTTP ...`);
    const tr = performance.now();
    for (const n of names)
      await registerRnRemote({
        msrpUrl,
        name: n,
        poolId,
        rid: `rn:${n}`,
        token: issueEnrolmentToken(msrpKs, { service: "msrp", kind: "rn", identity: n, ttlSec: 3600 }).token,
        keystore: client,
        dep,
      });
    const regPerSec = names.length / ((performance.now() - tr) / 1000);
    await msrp.publishDue();

    const txsSince = async (from: number) => {
      const ev = await dep.ledger.registry.queryFilter(dep.ledger.registry.filters.JoinRecorded(), from);
      return new Set(ev.map((e) => e.transactionHash)).size;
    };
    const b0 = (await provider.getBlockNumber()) + 1;
    const joins0 = await dep.ledger.joinCount();
    console.log(`services: ${SEQ} joins one after the other (batching ${batch ? `${batch.ms} ms` : "off"}) ...`);
    const lat: number[] = [];
    const t0 = performance.now();
    for (const n of names.slice(0, SEQ)) {
      const s = performance.now();
      await joinRemote({ name: n, poolId, keystore: client, dep, rpmUrl });
      lat.push(performance.now() - s);
    }
    const seqPerSec = SEQ / ((performance.now() - t0) / 1000);
    const b1 = (await provider.getBlockNumber()) + 1;
    const seqTxs = await txsSince(b0);

    console.log(`services: ${CONC} joins, ${IN_FLIGHT} in flight ...`);
    const clat: number[] = [];
    const queue = names.slice(SEQ);
    const t1 = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
          const s = performance.now();
          await joinRemote({ name: n, poolId, keystore: client, dep, rpmUrl });
          clat.push(performance.now() - s);
        }
      }),
    );
    const concPerSec = CONC / ((performance.now() - t1) / 1000);
    const concTxs = await txsSince(b1);
    const joins = (await dep.ledger.joinCount()) - joins0;
    if (joins !== SEQ + CONC) throw new Error(`expected ${SEQ + CONC} join records, found ${joins}`);

    return {
      registrationsPerSec: regPerSec,
      sequential: { joins: SEQ, txs: seqTxs, perSec: seqPerSec, p50: q(lat, 0.5), p95: q(lat, 0.95), p99: q(lat, 0.99) },
      concurrent: {
        joins: CONC,
        inFlight: IN_FLIGHT,
        txs: concTxs,
        perSec: concPerSec,
        p50: q(clat, 0.5),
        p95: q(clat, 0.95),
        p99: q(clat, 0.99),
      },
    };
  } finally {
    await stop?.();
  }
}

async function main() {
  const dir = path.resolve(__dirname, "results");
  const prior = (() => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, "services.json"), "utf8")) as {
        rsms?: RsmsAll;
        idp?: IdpRes & Stamp;
      } & Partial<RsmsRes> & { measuredAt?: string; machine?: string };
    } catch {
      return {};
    }
  })();
  // results from before the IdP part sat at the top level
  let rsms: RsmsAll | undefined =
    prior.rsms ?? (prior.sequential ? { ...(prior as RsmsRes), measuredAt: prior.measuredAt!, machine: prior.machine! } : undefined);
  let idp = prior.idp;
  if (PART !== "report") {
    const node = await startNode();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-svc-bench-"));
    try {
      const d = await node.run(["deploy"]);
      if (d.code !== 0) throw new Error(d.stderr + d.stdout);
      if (PART !== "idp") {
        rsms = { ...rsms };
        if (BATCH_MODES.includes("off")) {
          const r = await rsmsPart(node, path.join(work, "off"), 1);
          rsms = { ...rsms, ...r, measuredAt: new Date().toISOString(), machine: machine() };
        }
        if (BATCH_MODES.includes("on")) {
          const batch = { ms: BATCH_MS, max: BATCH_MAX };
          const r = await rsmsPart(node, path.join(work, "on"), 2, batch);
          rsms = { ...rsms, batched: { ...r, batch, measuredAt: new Date().toISOString(), machine: machine() } };
        }
      }
      if (PART !== "rsms") idp = { ...(await idpPart(node, work)), measuredAt: new Date().toISOString(), machine: machine() };
    } finally {
      await node.stop();
      fs.rmSync(work, { recursive: true, force: true });
    }
  }
  const row = (w: string, r: Row) => `| ${w} | ${r.perSec.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} |`;
  const md = ["# Services over loopback HTTP against a `hardhat node`", ""];
  const jrow = (w: string, r: Row & { joins: number; txs?: number }) =>
    `${row(w, r)} ${r.txs === undefined ? "" : `${r.txs} (${(r.joins / r.txs).toFixed(1)} joins each)`} |`;
  if (rsms?.sequential && rsms.concurrent) {
    const b = rsms.batched;
    md.push(
      "## RSMS joins",
      "",
      "One MSRP service and one RPM service (own keystores and accounts), RN clients in the same process; every join is an",
      "RN -> RPM -> MSRP round trip over HTTP with signed envelopes, the join's intent journaled, its record mined by the",
      "node, and the MSRP's state written before it answers. Batching off: one `recordJoin` transaction per join,",
      "serialised by the MSRP. Batching on (`rsms:serve msrp --batch-ms`): forwards that arrive while a batch is open share",
      "one `recordJoins` transaction; each reply waits for it.",
      "",
      `Batching off: measured ${rsms.measuredAt} on ${rsms.machine} (the load average as it ended).` +
        (b ? ` Batching on (${b.batch.ms} ms, at most ${b.batch.max}): measured ${b.measuredAt} on ${b.machine}.` : ""),
      "",
      "| workload | joins/s | p50 (ms) | p95 (ms) | p99 (ms) | transactions |",
      "|---|---:|---:|---:|---:|---:|",
      jrow(`${rsms.sequential.joins} joins, one after the other, batching off`, rsms.sequential),
      jrow(`${rsms.concurrent.joins} joins, ${rsms.concurrent.inFlight} in flight, batching off`, rsms.concurrent),
      ...(b
        ? [
            jrow(`${b.sequential.joins} joins, one after the other, batching on`, b.sequential),
            jrow(`${b.concurrent.joins} joins, ${b.concurrent.inFlight} in flight, batching on`, b.concurrent),
          ]
        : []),
      "",
      `RN registrations over HTTP, one after the other: ${rsms.registrationsPerSec!.toFixed(1)}/s` +
        (b ? ` (batching off), ${b.registrationsPerSec.toFixed(1)}/s (on; registration is not batched).` : "."),
      "",
    );
  }
  if (idp)
    md.push(
      "## IdP logins",
      "",
      `Measured ${idp.measuredAt} on ${idp.machine}. One IdP service (own keystore, own account with IDP_ROLE), user clients in the same`,
      "process; a login is a challenge and a response over HTTP (signed replies, the iris sample sealed to the IdP), a CPS",
      "verification and an iris match at the IdP, and a `recordLogin` transaction mined by the node before the IdP answers.",
      "The IdP serialises its chain writes (one account, one nonce sequence); batching does not apply to logins.",
      "",
      "| workload | logins/s | p50 (ms) | p95 (ms) | p99 (ms) |",
      "|---|---:|---:|---:|---:|",
      row(`${idp.sequential.logins} logins, one after the other`, idp.sequential),
      row(`${idp.concurrent.logins} logins, ${idp.concurrent.inFlight} in flight`, idp.concurrent),
      "",
      `User MIT issuance over HTTP (enrollment sealed, \`issueMIT\` mined), one after the other: ${idp.issuancesPerSec.toFixed(1)}/s.`,
      "",
    );
  fs.writeFileSync(path.join(dir, "services.md"), md.join("\n"));
  fs.writeFileSync(path.join(dir, "services.json"), JSON.stringify({ rsms, idp }, null, 2) + "\n");
  console.log(md.join("\n"));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
