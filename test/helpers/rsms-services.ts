/**
 * The RSMS services in one process against the in-process chain, for the service tests: an MSRP
 * service (with the service-group desk when asked) and one RPM service per pool, each enrolled over
 * HTTP with an account of its own, in folders of their own.
 */
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { Wallet, parseEther } from "ethers";
import { deploySystemFixture } from "../fixtures/system";
import { Keystore } from "../../offchain/storage/keystore";
import { RsmsLedger } from "../../offchain/rsms/ledger";
import { GroupLedger } from "../../offchain/rsms/group-flows";
import { Msrp } from "../../offchain/rsms/msrp";
import { MsrpService, MSRP_RECORD, type JoinBatching } from "../../offchain/services/rsms/msrp-service";
import { RpmService } from "../../offchain/services/rsms/rpm-service";
import { enrolRpm, joinRemote, registerRnRemote, type Deployment } from "../../offchain/services/rsms/clients";
import { issueEnrolmentToken } from "../../offchain/services/enrolment";
import { Kind, audienceOf } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import {
  localParty,
  registerUserRemote,
  requestGroupRemote,
  takePart,
  type GroupDeployment,
} from "../../offchain/services/rsms/group-clients";
import { equalBytes } from "../../offchain/crypto/bytes";
import type { RetryPolicy } from "../../offchain/services/client";
import type { GroupPolicy } from "../../offchain/services/rsms/group-quota";
import { ResourcePoolRegistry__factory, ServiceGroupRegistry__factory, TrustManager__factory } from "../../typechain-types";

/** A fresh temporary folder. */
export const tmp = (n: string) => fs.mkdtempSync(path.join(os.tmpdir(), `svc-${n}-`));

/** A new account funded with 10 ETH by the node's first account. */
export async function funded(): Promise<Wallet> {
  const w = Wallet.createRandom().connect(hre.ethers.provider) as unknown as Wallet;
  const [funder] = await hre.ethers.getSigners();
  await (await funder.sendTransaction({ to: w.address, value: parseEther("10") })).wait();
  return w;
}

/** One pool's RPM service: the service, its URL, its keystore and folder. */
export type RunningRpm = { svc: RpmService; url: string; ks: Keystore; dir: string };

/** What the MSRP service of {@link startMsrp} is started with (beyond its defaults). */
export type MsrpOptions = {
  /** the MSRP also runs the service-group desk (its role on the ServiceGroupRegistry, the group ledger in its deps and in `dep`) */
  groups?: boolean;
  /** with groups: the TrustManager too */
  trust?: boolean;
  openRegistration?: boolean;
  /** the batching of joins (recordJoins) */
  batch?: JoinBatching;
  /** the MSRP's flag sync tick (ms), off by default */
  flagSyncMs?: number;
  /** the MSRP's automatic key update at each flag sync (MsrpService autoEvict; default on) */
  autoEvict?: boolean;
  /** the MSRP's group quota and budget (default DEFAULT_GROUP_POLICY), and the quota's clock */
  groupPolicy?: GroupPolicy;
  clock?: () => number;
  /** its freshness window (ms) */
  windowMs?: number;
};

/**
 * Deploys the system and starts the MSRP service (a funded account with the MSRP role, a fresh
 * keystore holding its setup: capacity 8, lambda 16, no interval, ttl 1 h; admission "any").
 * @returns the fixture, the deployment as clients see it (`dep`), the service, its deps, URL and log lines
 */
export async function startMsrp(o: MsrpOptions = {}) {
  const f = await deploySystemFixture();
  const address = await f.registry.getAddress();
  const groupsAddress = await f.groups.getAddress();
  const msrpWallet = await funded();
  await (await f.registry.grantRole(await f.registry.MSRP_ROLE(), msrpWallet.address)).wait();
  if (o.groups) await (await f.groups.grantRole(await f.groups.MSRP_ROLE(), msrpWallet.address)).wait();
  const dir = tmp("msrp");
  const msrpKs = new Keystore(path.join(dir, "keystore"), "");
  msrpKs.create(MSRP_RECORD, Msrp.setup({ capacity: 8, lambda: 16, intervalSec: 0, ttlSec: 3600 }).toRecord());
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const tmAddress = f.deployment.contracts.TrustManager.address;
  const dep: Deployment & GroupDeployment = {
    chainId,
    registry: address,
    ledger: new RsmsLedger(ResourcePoolRegistry__factory.connect(address, hre.ethers.provider)),
    groups: new GroupLedger(ServiceGroupRegistry__factory.connect(groupsAddress, hre.ethers.provider)),
  };
  const msrpLog: string[] = [];
  const msrpDeps = {
    keystore: msrpKs,
    dir: path.join(dir, "service"),
    ledger: new RsmsLedger(ResourcePoolRegistry__factory.connect(address, msrpWallet)),
    ...(o.groups ? { groups: new GroupLedger(ServiceGroupRegistry__factory.connect(groupsAddress, msrpWallet)) } : {}),
    ...(o.groups && o.trust ? { trust: TrustManager__factory.connect(tmAddress, hre.ethers.provider) } : {}),
    store: f.store,
    wallet: msrpWallet,
    chainId,
    registry: address,
    admission: "any" as const,
    ...(o.openRegistration ? { openRegistration: true } : {}),
    ...(o.batch ? { batch: o.batch } : {}),
    ...(o.flagSyncMs ? { flagSyncMs: o.flagSyncMs } : {}),
    ...(o.autoEvict !== undefined ? { autoEvict: o.autoEvict } : {}),
    ...(o.groupPolicy ? { groupPolicy: o.groupPolicy } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.windowMs ? { windowMs: o.windowMs } : {}),
    log: (line: string) => void msrpLog.push(line),
  };
  const msrp = new MsrpService(msrpDeps);
  const msrpUrl = (await msrp.start({ port: 0 })).url;
  return { f, address, groupsAddress, chainId, dir, msrpWallet, msrpKs, dep, msrpDeps, msrp, msrpUrl, msrpLog };
}

/**
 * Deploys the system, starts the MSRP service and one enrolled RPM service per pool.
 * @param o - pools (default [1]); groups: the MSRP also runs the service-group desk (with the TrustManager); msrpRetry: the RPMs' retry policy toward the MSRP;
 *   batch: the MSRP batches joins (recordJoins)
 */
export async function rsmsServices(o: Omit<MsrpOptions, "trust" | "windowMs"> & { pools?: number[]; msrpRetry?: RetryPolicy } = {}) {
  const pools = o.pools ?? [1];
  const { f, address, groupsAddress, chainId, dir, msrpWallet, msrpKs, dep, msrpDeps, msrp, msrpUrl, msrpLog } = await startMsrp({
    ...o,
    trust: true,
  });
  const dirs = { msrp: dir, client: tmp("client") };
  const rpms = new Map<number, RunningRpm>();
  for (const poolId of pools) {
    const rpmWallet = await funded();
    const dir = tmp(`rpm${poolId}`);
    const ks = new Keystore(path.join(dir, "keystore"), "");
    await enrolRpm({ msrpUrl, poolId, rid: `rpm-${poolId}`, wallet: rpmWallet, keystore: ks, dep });
    const svc = new RpmService({
      keystore: ks,
      dir: path.join(dir, "service"),
      poolId,
      ledger: new RsmsLedger(ResourcePoolRegistry__factory.connect(address, rpmWallet)),
      store: f.store,
      wallet: rpmWallet,
      chainId,
      registry: address,
      ...(o.msrpRetry ? { msrpRetry: o.msrpRetry } : {}),
      log: () => undefined,
    });
    rpms.set(poolId, { svc, url: (await svc.start({ port: 0 })).url, ks, dir });
  }
  const first = rpms.get(pools[0])!;
  const client = new Keystore(path.join(dirs.client, "keystore"), "");
  return {
    f,
    dep,
    dirs: { ...dirs, rpm: first.dir },
    msrp,
    msrpDeps,
    msrpUrl,
    /** the MSRP service's log lines (of every instance started with msrpDeps) */
    msrpLog,
    rpms,
    rpm: first.svc,
    rpmUrl: first.url,
    rpmKs: first.ks,
    client,
    msrpWallet,
    groupsAddress,
    /** the MSRP operator's step: a one-time enrolment token for an RN (naming its real identity, default `rn:<name>`) or a user (rsms:enrol-token) */
    enrol: (name: string, kind: "rn" | "user" = "rn", ttlSec = 3600, rid = kind === "rn" ? `rn:${name}` : undefined) =>
      issueEnrolmentToken(msrpKs, { service: "msrp", kind, identity: name, ttlSec, ...(rid !== undefined ? { rid } : {}) }).token,
    /** stops every service */
    async stop() {
      for (const r of rpms.values()) await r.svc.stop();
    },
  };
}

/**
 * RNs registered with the MSRP for pool 1 (each with its token) and joined there, and a user
 * registered, each from a keystore of its own (`tmp(`${prefix}-${name}`)`); the due filter is
 * published in between (exactly one).
 * @returns the keystores by name
 */
export async function joinedRnsAndUser(
  s: Awaited<ReturnType<typeof rsmsServices>>,
  rns: string[],
  user: string,
  prefix: string,
): Promise<Map<string, Keystore>> {
  const ks = new Map<string, Keystore>();
  for (const n of [...rns, user]) ks.set(n, new Keystore(tmp(`${prefix}-${n}`), ""));
  for (const n of rns)
    await registerRnRemote({ msrpUrl: s.msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: s.enrol(n), keystore: ks.get(n)!, dep: s.dep });
  if ((await s.msrp.publishDue()) !== 1) throw new Error("joinedRnsAndUser: expected one filter published");
  for (const n of rns) await joinRemote({ name: n, poolId: 1, keystore: ks.get(n)!, dep: s.dep });
  await registerUserRemote({
    msrpUrl: s.msrpUrl,
    name: user,
    rid: `user:${user}`,
    token: s.enrol(user, "user"),
    keystore: ks.get(user)!,
    dep: s.dep,
  });
  return ks;
}

/**
 * A service group formed over the MSRP's mailbox: the RSMS services with the group desk, each RN of
 * `rns` registered (with its token) and joined from a machine of its own, the user "alice"
 * registered, her group of `size` RNs requested, and every party through the formation rounds.
 * @param machines - filled with each party's own keystore, by name
 * @param opts - the services' options (rsmsServices), the desk always on
 * @returns the services, the group's id and the names of its RN members
 */
export async function formedGroup(
  machines: Map<string, Keystore>,
  rns: string[],
  size = 2,
  opts: Omit<Parameters<typeof rsmsServices>[0], "groups"> = {},
) {
  const s = await rsmsServices({ ...opts, groups: true });
  const ks = (n: string) => machines.get(n)!;
  for (const n of [...rns, "alice"]) machines.set(n, new Keystore(tmp(`m-${n}`), ""));
  for (const n of rns)
    await registerRnRemote({ msrpUrl: s.msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: s.enrol(n), keystore: ks(n), dep: s.dep });
  if ((await s.msrp.publishDue()) !== 1) throw new Error("formedGroup: the MSRP published no filter for pool 1");
  for (const n of rns) await joinRemote({ name: n, poolId: 1, keystore: ks(n), dep: s.dep });
  await registerUserRemote({
    msrpUrl: s.msrpUrl,
    name: "alice",
    rid: "user:alice",
    token: s.enrol("alice", "user"),
    keystore: ks("alice"),
    dep: s.dep,
  });
  const g = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "alice", size, keystore: ks("alice"), dep: s.dep });
  const nameOf = (pid: Uint8Array) => [...machines.keys()].find((n) => equalBytes(localParty(ks(n), n).pid, pid))!;
  const members = g.pids.slice(1).map(nameOf);
  await Promise.all(
    ["alice", ...members].map((n) =>
      takePart({ msrpUrl: s.msrpUrl, name: n, groupId: g.groupId, keystore: ks(n), dep: s.dep, pollMs: 50 }),
    ),
  );
  return { s, gid: g.groupId, members };
}

/**
 * The fields of a request envelope to the MSRP service (fresh request id, issued now), for tests
 * that build or tamper with a request by hand.
 */
export const msrpRequest = (dep: Deployment, route: number, session: Uint8Array, body: Uint8Array) => ({
  kind: Kind.Request,
  route,
  audience: audienceOf(dep.chainId, dep.registry, "msrp"),
  session,
  requestId: freshId(),
  issuedAt: Date.now(),
  inReplyTo: new Uint8Array(32),
  body,
});

/**
 * Intercepts one chain write of the MSRP's GroupLedger (`rekey` or `formGroup`) until `restore()`, to
 * lose its reply: `slow` makes the write after 1.5 s (past a client's 500 ms timeout; `written` settles
 * with it); `lost` makes it, then throws as a node connection dropping after the transaction was mined;
 * `dropped` throws without making it, as a transaction the node dropped (never mined).
 */
export function interceptGroupWrite(groups: GroupLedger, method: "rekey" | "formGroup", mode: "slow" | "lost" | "dropped") {
  const real = (groups[method] as (...a: unknown[]) => Promise<unknown>).bind(groups);
  let written: Promise<unknown> = Promise.resolve();
  (groups as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
    if (mode === "slow") return (written = new Promise((r) => setTimeout(r, 1_500)).then(() => real(...args)));
    if (mode === "dropped") return Promise.reject(new Error("simulated: the node dropped the MSRP's transaction (never mined)"));
    return real(...args).then(() => {
      throw new Error("simulated: the MSRP's node connection dropped after the transaction was mined");
    });
  };
  return {
    written: () => written,
    restore: () => {
      (groups as unknown as Record<string, unknown>)[method] = real;
    },
  };
}
