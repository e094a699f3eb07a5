/**
 * The RSMS parties as services (issue 19): `rsms:serve msrp`, `rsms:serve rpm --pool N`, and the
 * steps that bring a party into a running system from its own machine (`rsms:rpm:enrol`,
 * `rsms:msrp:grant`). Each process has its own data folder (METATRUST_DATA_DIR), so its own
 * keystore and its own chain account; they talk over HTTP (offchain/services/). The RN side is
 * `rsms:rn:register --msrp <url>` and `rsms:join --rpm <url>` (tasks/rsms.ts).
 */
import fs from "fs";
import net from "net";
import path from "path";
import { X509Certificate, createPrivateKey } from "crypto";
import { task, types } from "hardhat/config";
import type { ConfigurableTaskDefinition, HardhatRuntimeEnvironment } from "hardhat/types";
import { RefusedError, UsageError, localName, minedReceipt } from "./lib/cli";
import { CONNECTION_DEFAULTS } from "../offchain/services/limits";

/**
 * Refuses (one line, nothing sent) a grant from an account that is not the contract's admin: the
 * contract would refuse it (AccessControlUnauthorizedAccount) after the gas is paid (s23-fxops).
 */
async function adminOf(
  task: string,
  contracts: { name: string; c: { hasRole(role: string, account: string): Promise<boolean>; DEFAULT_ADMIN_ROLE(): Promise<string> } }[],
  admin: string,
): Promise<void> {
  for (const { name, c } of contracts)
    if (!(await c.hasRole(await c.DEFAULT_ADMIN_ROLE(), admin)))
      throw new RefusedError(
        `${task}: ${admin} (this machine's first account: PRIVATE_KEY) is not the ${name}'s admin (DEFAULT_ADMIN_ROLE); run it with the deployer's key; nothing sent`,
      );
}

/**
 * The chain side every service needs: its account, the registry through that account, chain id.
 * @param create - make (and fund) the role's key if this machine has none: only for the command
 *   whose job is to make the account (rsms:rpm:enrol); a service's start refuses instead, naming
 *   the role, having written and sent nothing (s22-redo R1's class; s23-fxops)
 */
async function serviceChain(hre: HardhatRuntimeEnvironment, role: string, create = false) {
  const [{ localState, deployedAddress }, { roleAccounts }, { RsmsLedger }, { ResourcePoolRegistry__factory }] = await Promise.all([
    import("./lib/context"),
    import("../offchain/chain/accounts"),
    import("../offchain/rsms/ledger"),
    import("../typechain-types"),
  ]);
  const local = localState(hre);
  // a service signs its replies with a key it holds (not a development node's unlocked account)
  const wallet = await roleAccounts(hre, local.keystore).key(role, { flag: "role", create });
  const registry = await deployedAddress(hre, "ResourcePoolRegistry");
  const ledger = new RsmsLedger(ResourcePoolRegistry__factory.connect(registry, wallet));
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  return { local, wallet, registry, ledger, chainId };
}

type ListenArgs = Pick<
  ServeArgs,
  | "host"
  | "port"
  | "tlsKey"
  | "tlsCert"
  | "bodyLimit"
  | "rateLimit"
  | "trustProxy"
  | "maxConnections"
  | "maxConnectionsPerAddress"
  | "headersTimeout"
  | "requestTimeout"
>;

/** The flags every service takes to listen: address, port, TLS, body and rate limits. */
function listenFlags<T extends ConfigurableTaskDefinition>(t: T, rateLimit = 600): T {
  return t
    .addOptionalParam("host", "Address to bind (default loopback only)", "127.0.0.1")
    .addOptionalParam("port", "Port to bind (0: any free port, printed)", 0, types.int)
    .addOptionalParam("tlsKey", "PEM private key: serve HTTPS (with --tls-cert)")
    .addOptionalParam("tlsCert", "PEM certificate: serve HTTPS (with --tls-key)")
    .addOptionalParam("bodyLimit", "Largest request body in bytes (413 above)", 16 * 1024, types.int)
    .addOptionalParam("rateLimit", "Requests per client address per minute (429 above)", rateLimit, types.int)
    .addOptionalParam(
      "maxConnections",
      "Connections held open at once, in all (more are closed at once)",
      CONNECTION_DEFAULTS.total,
      types.int,
    )
    .addOptionalParam(
      "maxConnectionsPerAddress",
      "Connections held open at once from one client address (more are closed at once; not applied with --trust-proxy)",
      CONNECTION_DEFAULTS.perAddress,
      types.int,
    )
    .addOptionalParam("headersTimeout", "Milliseconds to receive a request's headers (408 after)", CONNECTION_DEFAULTS.headersMs, types.int)
    .addOptionalParam(
      "requestTimeout",
      "Milliseconds to receive a whole request; also how long an idle socket is kept",
      CONNECTION_DEFAULTS.requestMs,
      types.int,
    )
    .addOptionalParam(
      "trustProxy",
      "Address(es) of a reverse proxy in front (e.g. a TLS terminator on 127.0.0.1): count each client by the address it forwards",
    ) as T;
}
function listenConfig(a: ListenArgs, t = "rsms:serve") {
  if ((a.tlsKey === undefined) !== (a.tlsCert === undefined)) throw new UsageError(`${t}: --tls-key and --tls-cert go together`);
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new UsageError(`${t}: --port ${a.port} is not a port`);
  if (!Number.isInteger(a.bodyLimit) || a.bodyLimit < 256) throw new UsageError(`${t}: --body-limit must be at least 256 bytes`);
  if (!Number.isInteger(a.rateLimit) || a.rateLimit < 1) throw new UsageError(`${t}: --rate-limit must be a positive integer`);
  for (const [flag, v, min] of [
    ["--max-connections", a.maxConnections, 1],
    ["--max-connections-per-address", a.maxConnectionsPerAddress, 1],
    ["--headers-timeout", a.headersTimeout, 100],
    ["--request-timeout", a.requestTimeout, 100],
  ] as const)
    if (!Number.isInteger(v) || v < min) throw new UsageError(`${t}: ${flag} must be an integer of at least ${min}`);
  if (a.maxConnectionsPerAddress > a.maxConnections)
    throw new UsageError(
      `${t}: --max-connections-per-address ${a.maxConnectionsPerAddress} is above --max-connections ${a.maxConnections}`,
    );
  if (a.trustProxy !== undefined && !/^[0-9A-Fa-f:.]+(\/\d{1,3})?(,[0-9A-Fa-f:.]+(\/\d{1,3})?)*$/.test(a.trustProxy))
    throw new UsageError(`${t}: --trust-proxy "${a.trustProxy}" is not a comma-separated list of addresses or CIDRs`);
  // read here, by flag: a file that is not PEM failed at listen as "no start line", exit 1 (s17-redA F19)
  if (a.tlsKey !== undefined && a.tlsCert !== undefined) {
    for (const [flag, file, parse] of [
      ["--tls-key", a.tlsKey, (b: Buffer) => createPrivateKey(b)],
      ["--tls-cert", a.tlsCert, (b: Buffer) => new X509Certificate(b)],
    ] as const) {
      if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new UsageError(`${t}: ${flag} ${file}: no such file`);
      try {
        parse(fs.readFileSync(file));
      } catch {
        throw new UsageError(`${t}: ${flag} ${file} is not a PEM ${flag === "--tls-key" ? "private key" : "certificate"}`);
      }
    }
  }
  return {
    host: a.host,
    port: a.port,
    bodyLimit: a.bodyLimit,
    rateLimit: { max: a.rateLimit, windowMs: 60_000 },
    connections: { total: a.maxConnections, perAddress: a.maxConnectionsPerAddress },
    timeouts: { headers: a.headersTimeout, request: a.requestTimeout, idle: a.requestTimeout },
    tls: a.tlsKey && a.tlsCert ? { key: a.tlsKey, cert: a.tlsCert } : undefined,
    trustProxy: a.trustProxy,
  };
}

/**
 * Binds --host and --port once and lets go, before the service reads its state or sends anything:
 * a port in use or a host that is not this machine's is bad input named by its flag (it was exit 1,
 * "listen EADDRINUSE", and exit 4 blaming the chain for "getaddrinfo ENOTFOUND": s17-redA F17, F18).
 * The service binds again when it starts (another program may take the port in between: then its
 * own error stands).
 */
async function listenable(t: string, cfg: { host: string; port: number }): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE")
        reject(new UsageError(`${t}: --port ${cfg.port} is in use on ${cfg.host} (another service, or this one running already)`));
      else if (e.code === "EACCES") reject(new UsageError(`${t}: --port ${cfg.port} needs privileges this process does not have`));
      else if (["ENOTFOUND", "EAI_AGAIN", "EADDRNOTAVAIL", "EAI_NONAME"].includes(e.code ?? ""))
        reject(new UsageError(`${t}: --host ${cfg.host} is not an address of this machine`));
      else reject(e);
    });
    probe.listen(cfg.port, cfg.host, () => probe.close(() => resolve()));
  });
}

type ServeArgs = {
  role: string;
  pool?: number;
  host: string;
  port: number;
  publicUrl?: string;
  tlsKey?: string;
  tlsCert?: string;
  bodyLimit: number;
  rateLimit: number;
  trustProxy?: string;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  headersTimeout: number;
  requestTimeout: number;
  admitRpm: string;
  tick: number;
  flagSync: number;
  autoEvict?: string;
  batchMs?: number;
  batchMax?: number;
  groupQuota?: number;
  groupBudget?: number;
  groupWindow?: number;
  rotationBudget?: number;
  rotationWindow?: number;
  openRegistration: boolean;
};

/** The start-up banner of a service whose registration is open (development only). */
function openRegistrationBanner(service: string): void {
  const line = "!".repeat(78);
  console.log(
    `${line}\n!! ${service}: OPEN REGISTRATION (--open-registration): anyone who reaches this service registers\n` +
      `!! under any identity it claims. Development only; never on a reachable address.\n${line}`,
  );
}

/** Runs until SIGTERM or SIGINT, then stops the service. */
function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const end = () => void stop().finally(resolve);
    process.once("SIGTERM", end);
    process.once("SIGINT", end);
  });
}

listenFlags(
  task("rsms:serve", "Runs an RSMS party as a service: `msrp`, or `rpm --pool N` (its own data folder, keystore and account)")
    .addPositionalParam("role", "msrp or rpm")
    .addOptionalParam("pool", "rpm: the pool it manages", undefined, types.int)
    .addOptionalParam("publicUrl", "rpm: the URL RNs reach it at, announced on-chain (default: the bound URL)")
    .addOptionalParam("admitRpm", "msrp: accounts that may enrol as RPMs: `any` or `1=0xabc…,2=0xdef…`", "")
    .addOptionalParam("tick", "msrp: how often (ms) it publishes the filters that are due", 1000, types.int)
    .addOptionalParam(
      "flagSync",
      "msrp: how often (ms) it puts the RNs the trust layer flags (on their own attested entity) into S_RN (no group, no rotation) and takes out the ones whose flag was lifted; 0: off",
      10_000,
      types.int,
    )
    .addOptionalParam(
      "autoEvict",
      "msrp: `on` (default) or `off`: at each flag sync, every service group with a member in S_RN (the RNs the trust layer flags, put there by the sync; evicted elsewhere; `rsms:rn:flag`) gets its key update by the MSRP itself (the member evicted, a fresh joined RN in its place, a new key the parties fetch with `group:join`; RSMS step c.1), as the user's `group:rekey` would make it. Costs: the MSRP pays one rekey transaction per such group (the group quota does not count it), and the group's members take a new key; an update that fails is tried again at a later sync with a per-group back-off (1 min, doubling, at most 6 h; a chain refusal that trying again will not change, e.g. the MSRP's role revoked, waits the 6 h at once and is logged once), kept in the MSRP's record across restarts, ended by any update of the group, shown by `group:status`; the parties' `group:join` says the epoch is automatic and names the PID it evicted; with `--flag-sync 0` there is no sync, so nothing is evicted by itself; `off`: the flagged member is only cut off the group's mailbox until the user's `group:rekey`, and keeps the key it holds",
    )
    .addOptionalParam(
      "batchMs",
      "msrp: batch joins: forwards arriving within this many ms of a batch's first go on-chain in one recordJoins transaction (default 0: off, one recordJoin each)",
      undefined,
      types.int,
    )
    .addOptionalParam(
      "batchMax",
      "msrp, with --batch-ms: at most this many joins per batch (default 32, at most 128: the static gas limit of one recordJoins transaction stays under 2^24)",
      undefined,
      types.int,
    )
    .addOptionalParam(
      "groupQuota",
      "msrp: group formations and adds one user may ask for per window (429 QUOTA_EXCEEDED GROUP_QUOTA above; env METATRUST_GROUP_QUOTA; default 16)",
      undefined,
      types.int,
    )
    .addOptionalParam(
      "groupBudget",
      "msrp: group formations and adds all users together may ask for per window, each a transaction the MSRP pays (429 GROUP_BUDGET above; env METATRUST_GROUP_BUDGET; default 1024)",
      undefined,
      types.int,
    )
    .addOptionalParam(
      "groupWindow",
      "msrp: the group quota's window in seconds (env METATRUST_GROUP_WINDOW_SEC; default 86400)",
      undefined,
      types.int,
    )
    .addOptionalParam(
      "rotationBudget",
      "msrp: at most this many recorded rotations (re-authentications, each a recordJoin the MSRP pays for) per RN per --rotation-window; one more is refused 422 ROTATION_BUDGET (default 12)",
      undefined,
      types.int,
    )
    .addOptionalParam("rotationWindow", "msrp: the rotation budget's window in seconds (default 3600)", undefined, types.int)
    .addFlag(
      "openRegistration",
      "msrp, DEVELOPMENT ONLY: RNs and users register without an enrolment token (default: each needs one, `rsms:enrol-token`)",
    ),
).setAction(async (a: ServeArgs, hre) => {
  const cfg = listenConfig(a);
  await listenable("rsms:serve", cfg);
  if (a.role !== "msrp" && (a.batchMs !== undefined || a.batchMax !== undefined))
    throw new UsageError(`rsms:serve: --batch-ms and --batch-max are for the msrp`);
  if (a.role !== "msrp" && a.autoEvict !== undefined) throw new UsageError(`rsms:serve: --auto-evict is for the msrp`);
  if (a.role !== "msrp" && (a.groupQuota !== undefined || a.groupBudget !== undefined || a.groupWindow !== undefined))
    throw new UsageError(`rsms:serve: --group-quota, --group-budget and --group-window are for the msrp`);
  if (a.role !== "msrp" && (a.rotationBudget !== undefined || a.rotationWindow !== undefined))
    throw new UsageError(`rsms:serve: --rotation-budget and --rotation-window are for the msrp`);
  for (const [flag, v] of [
    ["--rotation-budget", a.rotationBudget],
    ["--rotation-window", a.rotationWindow],
  ] as const)
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1))
      throw new UsageError(`rsms:serve: ${flag} ${v} is not a positive whole number`);
  if (a.role === "msrp") {
    if (!(Number.isInteger(a.flagSync) && a.flagSync >= 0))
      throw new UsageError(`rsms:serve: --flag-sync ${a.flagSync} is not a whole number of milliseconds (0: off)`);
    if (a.autoEvict !== undefined && a.autoEvict !== "on" && a.autoEvict !== "off")
      throw new UsageError(`rsms:serve: --auto-evict ${a.autoEvict} is not \`on\` or \`off\``);
    const { MsrpService, parseAdmission, parseBatching, MSRP_RECORD } = await import("../offchain/services/rsms/msrp-service");
    const { parseGroupPolicy } = await import("../offchain/services/rsms/group-quota");
    const { DEFAULT_ROTATION_BUDGET } = await import("../offchain/rsms/msrp");
    let batch: ReturnType<typeof parseBatching>;
    let groupPolicy: ReturnType<typeof parseGroupPolicy>;
    try {
      batch = parseBatching(a.batchMs, a.batchMax);
      groupPolicy = parseGroupPolicy({ perUser: a.groupQuota, budget: a.groupBudget, windowSec: a.groupWindow });
    } catch (e) {
      throw new UsageError(`rsms:serve: ${(e as Error).message}`);
    }
    const { localState } = await import("./lib/context");
    // before the account is resolved (and its key topped up): nothing is sent for a folder that cannot serve
    if (!localState(hre).keystore.exists(MSRP_RECORD))
      throw new UsageError("rsms:serve: no MSRP in this data folder: run `npx hardhat rsms:setup` with it first");
    const c = await serviceChain(hre, "msrp");
    const reg = c.ledger.registry;
    if (!(await reg.hasRole(await reg.MSRP_ROLE(), c.wallet.address)))
      throw new UsageError(
        `rsms:serve: the MSRP account ${c.wallet.address} does not hold MSRP_ROLE: the registry's admin grants it with \`npx hardhat rsms:msrp:grant --to ${c.wallet.address}\``,
      );
    const { GroupLedger } = await import("../offchain/rsms/group-flows");
    const { ServiceGroupRegistry__factory, TrustManager__factory } = await import("../typechain-types");
    const { deployedAddress } = await import("./lib/context");
    const groups = ServiceGroupRegistry__factory.connect(await deployedAddress(hre, "ServiceGroupRegistry"), c.wallet);
    if (!(await groups.hasRole(await groups.MSRP_ROLE(), c.wallet.address)))
      throw new UsageError(
        `rsms:serve: the MSRP account ${c.wallet.address} does not hold MSRP_ROLE on the ServiceGroupRegistry: the admin grants it with \`npx hardhat rsms:msrp:grant --to ${c.wallet.address}\``,
      );
    const svc = new MsrpService({
      keystore: c.local.keystore,
      dir: path.join(c.local.dir, "service-msrp"),
      ledger: c.ledger,
      groups: new GroupLedger(groups),
      trust: TrustManager__factory.connect(await deployedAddress(hre, "TrustManager"), hre.ethers.provider),
      store: c.local.store,
      wallet: c.wallet,
      chainId: c.chainId,
      registry: c.registry,
      admission: a.admitRpm ? parseAdmission(a.admitRpm) : new Map(),
      tickMs: a.tick,
      flagSyncMs: a.flagSync,
      autoEvict: a.autoEvict !== "off",
      openRegistration: a.openRegistration,
      groupPolicy,
      rotationBudget: {
        perRn: a.rotationBudget ?? DEFAULT_ROTATION_BUDGET.perRn,
        windowSec: a.rotationWindow ?? DEFAULT_ROTATION_BUDGET.windowSec,
      },
      ...(batch ? { batch } : {}),
    });
    if (a.openRegistration) openRegistrationBanner("msrp");
    const r = await svc.start(cfg);
    console.log(
      `msrp: listening on ${r.url} (account ${c.wallet.address})${batch ? `, joins batched (${batch.ms} ms, at most ${batch.max})` : ""}` +
        `, groups: ${groupPolicy.perUser} per user and ${groupPolicy.budget} in all per ${groupPolicy.windowSec} s`,
    );
    await untilSignal(() => svc.stop());
    return { url: r.url };
  }
  if (a.role === "rpm") {
    if (a.pool === undefined) throw new UsageError("rsms:serve: rpm needs --pool <n>");
    const { RpmService, rpmServiceRecord } = await import("../offchain/services/rsms/rpm-service");
    const { localState } = await import("./lib/context");
    // before the account is resolved: a mistyped --pool makes and funds no key (s23-fxops)
    if (!localState(hre).keystore.exists(rpmServiceRecord(a.pool)))
      throw new UsageError(
        `rsms:serve: pool ${a.pool} has no RPM in this data folder: run \`npx hardhat rsms:rpm:enrol --pool ${a.pool} --msrp <url>\` first`,
      );
    const c = await serviceChain(hre, `rpm:${a.pool}`);
    const svc = new RpmService({
      keystore: c.local.keystore,
      dir: path.join(c.local.dir, `service-rpm-${a.pool}`),
      poolId: a.pool,
      ledger: c.ledger,
      store: c.local.store,
      wallet: c.wallet,
      chainId: c.chainId,
      registry: c.registry,
    });
    const r = await svc.start(cfg, a.publicUrl);
    console.log(`rpm:${a.pool}: listening on ${r.url} (account ${c.wallet.address})`);
    await untilSignal(() => svc.stop());
    return { url: r.url };
  }
  throw new UsageError(`rsms:serve: unknown role "${a.role}" (msrp or rpm)`);
});

// ------------------------------------------------------------------ enrolment tokens (F5)

/** Issues a token into this data folder's keystore and prints it once. */
async function enrolToken(
  hre: HardhatRuntimeEnvironment,
  t: string,
  service: "msrp" | "idp",
  record: string,
  choice: [string, "rn" | "user" | "proxy", string | undefined][],
  ttl: string,
  rid?: string,
) {
  const given = choice.filter(([, , v]) => v !== undefined);
  if (given.length !== 1) throw new UsageError(`${t}: give exactly one of ${choice.map(([f]) => f).join(", ")}`);
  const [, kind, identity] = given[0];
  const [{ localState }, { issueEnrolmentToken, parseTtl }] = await Promise.all([
    import("./lib/context"),
    import("../offchain/services/enrolment"),
  ]);
  let ttlSec: number;
  try {
    ttlSec = parseTtl(ttl);
  } catch (e) {
    throw new UsageError(`${t}: ${(e as Error).message}`);
  }
  const local = localState(hre);
  if (!local.keystore.exists(record))
    throw new UsageError(
      `${t}: no ${service === "msrp" ? "MSRP" : "IdP"} in this data folder (run it where \`${service === "msrp" ? "rsms:serve msrp" : "idp:serve"}\` keeps its keystore)`,
    );
  if (rid !== undefined && kind !== "rn") throw new UsageError(`${t}: --rid names an RN's real identity: give it with --rn only`);
  const { token, record: rec } = issueEnrolmentToken(local.keystore, {
    service,
    kind,
    identity: identity!,
    ttlSec,
    ...(kind === "rn" ? { rid: rid ?? `rn:${identity}` } : {}),
  });
  const until = new Date(rec.expiresAt * 1000).toISOString();
  const of = rec.rid !== undefined ? ` (real identity "${rec.rid}")` : "";
  console.log(
    `${service}: enrolment token for ${kind} "${identity}"${of}, single use, valid until ${until}; shown once, give it out of band:`,
  );
  console.log(token);
  return { token, id: rec.id, kind, identity, ...(rec.rid !== undefined ? { rid: rec.rid } : {}), expiresAt: rec.expiresAt };
}

task("rsms:enrol-token", "The MSRP's operator: a one-time enrolment token for one RN or user (its verifier goes to this folder's keystore)")
  .addOptionalParam("rn", "The RN's name (as it will register: `rsms:rn:register --name`)")
  .addOptionalParam("user", "The user's name (as she will register: `rsms:user:register --name`)")
  .addOptionalParam(
    "rid",
    "With --rn: the RN's real identity, which its registration must open to (as `rsms:rn:register --rid`; default rn:<name>). An RN of a revoked identity (in S_RN) is refused under any name",
  )
  .addOptionalParam("ttl", "How long it is valid: 90s, 30m, 1h, 7d at most", "1h")
  .setAction(async (a: { rn?: string; user?: string; rid?: string; ttl: string }, hre) => {
    if (a.rn !== undefined) localName("rsms:enrol-token", "--rn", a.rn);
    if (a.user !== undefined) localName("rsms:enrol-token", "--user", a.user);
    const { MSRP_RECORD } = await import("../offchain/services/rsms/msrp-service");
    return enrolToken(
      hre,
      "rsms:enrol-token",
      "msrp",
      MSRP_RECORD,
      [
        ["--rn", "rn", a.rn],
        ["--user", "user", a.user],
      ],
      a.ttl,
      a.rid,
    );
  });

task(
  "idp:enrol-token",
  "The IdP's operator: a one-time enrolment token for one user's or AI proxy's MIT (its verifier goes to this folder's keystore)",
)
  .addOptionalParam("user", "The user's real identity, as she will send it sealed (`idp:issue --real-id`)")
  .addOptionalParam("proxy", "The AI proxy's operator, as it will send it sealed (`idp:issue --operator`)")
  .addOptionalParam("ttl", "How long it is valid: 90s, 30m, 1h, 7d at most", "1h")
  .setAction(async (a: { user?: string; proxy?: string; ttl: string }, hre) => {
    const { IDP_RECORD } = await import("../offchain/services/avatars/idp-service");
    return enrolToken(
      hre,
      "idp:enrol-token",
      "idp",
      IDP_RECORD,
      [
        ["--user", "user", a.user],
        ["--proxy", "proxy", a.proxy],
      ],
      a.ttl,
    );
  });

task(
  "rsms:msrp:grant",
  "The registries' admin grants MSRP_ROLE to the MSRP service's account (ResourcePoolRegistry: pools and joins; ServiceGroupRegistry: groups and rekeys)",
)
  .addParam("to", "The MSRP service's account address (printed by rsms:setup and rsms:serve)")
  .setAction(async (a: { to: string }, hre) => {
    const { deployedAddress } = await import("./lib/context");
    const { ResourcePoolRegistry__factory, ServiceGroupRegistry__factory } = await import("../typechain-types");
    if (!hre.ethers.isAddress(a.to)) throw new UsageError(`rsms:msrp:grant: --to ${a.to} is not an address`);
    const [admin] = await hre.ethers.getSigners();
    const reg = ResourcePoolRegistry__factory.connect(await deployedAddress(hre, "ResourcePoolRegistry"), admin);
    const groups = ServiceGroupRegistry__factory.connect(await deployedAddress(hre, "ServiceGroupRegistry"), admin);
    // both checked before the first grant: never one registry granted and the other refused
    await adminOf(
      "rsms:msrp:grant",
      [
        { name: "ResourcePoolRegistry", c: reg },
        { name: "ServiceGroupRegistry", c: groups },
      ],
      admin.address,
    );
    await minedReceipt(reg.grantRole(await reg.MSRP_ROLE(), a.to));
    await minedReceipt(groups.grantRole(await groups.MSRP_ROLE(), a.to));
    console.log(`MSRP_ROLE granted to ${a.to} on the ResourcePoolRegistry and the ServiceGroupRegistry`);
    return { to: a.to };
  });

task("rsms:rpm:enrol", "On the RPM's machine: enrols its account as the RPM of a pool with the MSRP service (the pool is created on-chain)")
  .addParam("pool", "The new pool's id", undefined, types.int)
  .addParam("msrp", "The MSRP service's URL")
  .addOptionalParam("rid", "The RPM's real identity (sent sealed to PK_pub)")
  .addFlag(
    "abandon",
    "Drop the enrolment this folder keeps pending (a lasting 409 resent on every run) once the chain shows no pool with this account and the service, sent it once more, refuses it again; if the service answers it, it took effect and is completed instead; nothing is dropped if the chain shows it or the service cannot be reached",
  )
  .setAction(async (a: { pool: number; msrp: string; rid?: string; abandon: boolean }, hre) => {
    if (!Number.isInteger(a.pool) || a.pool < 1) throw new UsageError(`rsms:rpm:enrol: --pool must be a positive integer, got ${a.pool}`);
    const { enrolRpm, abandonRpmEnrol } = await import("../offchain/services/rsms/clients");
    // enrolling makes the RPM's account (its job): a new key for role rpm:<pool>
    const c = await serviceChain(hre, `rpm:${a.pool}`, true);
    const args = {
      msrpUrl: a.msrp,
      poolId: a.pool,
      rid: a.rid ?? `rpm-${a.pool}`,
      wallet: c.wallet,
      keystore: c.local.keystore,
      dep: { chainId: c.chainId, registry: c.registry, ledger: c.ledger },
    };
    if (a.abandon) {
      const line = await abandonRpmEnrol(args);
      console.log(line);
      return { abandoned: line };
    }
    const rec = await enrolRpm(args);
    console.log(
      `pool ${a.pool}: RPM ${c.wallet.address}, PID_RPM ${rec.pid}; start it with \`npx hardhat rsms:serve rpm --pool ${a.pool}\``,
    );
    return { poolId: a.pool, pid: rec.pid, account: c.wallet.address };
  });

// ------------------------------------------------------------------ the IdP

listenFlags(
  task("idp:serve", "Runs the identity provider (and platform server) as a service: its own data folder, keystore and account")
    .addOptionalParam("publicUrl", "The URL users reach it at, announced on the MIT registry (default: the bound URL)")
    .addFlag(
      "openRegistration",
      "DEVELOPMENT ONLY: MITs are issued without an enrolment token (default: each needs one, `idp:enrol-token`)",
    ),
).setAction(async (a: ListenArgs & { publicUrl?: string; openRegistration: boolean }, hre) => {
  const cfg = listenConfig(a, "idp:serve");
  await listenable("idp:serve", cfg);
  const [{ localState }, { IDP_RECORD }, { buildIdpService }] = await Promise.all([
    import("./lib/context"),
    import("../offchain/services/avatars/idp-service"),
    import("./lib/idp-service"),
  ]);
  const local = localState(hre);
  if (!local.keystore.exists(IDP_RECORD))
    throw new UsageError("idp:serve: no IdP in this data folder: run `npx hardhat idp:setup` with it first");
  const { svc, wallet, registry } = await buildIdpService(hre, { openRegistration: a.openRegistration });
  if (!(await registry.hasRole(await registry.IDP_ROLE(), wallet.address)))
    throw new UsageError(
      `idp:serve: the IdP account ${wallet.address} does not hold IDP_ROLE: the registry's admin grants it with \`npx hardhat idp:grant --to ${wallet.address}\``,
    );
  if (a.openRegistration) openRegistrationBanner("idp");
  const r = await svc.start(cfg, a.publicUrl);
  console.log(`idp: listening on ${r.url} (account ${wallet.address})`);
  await untilSignal(() => svc.stop());
  return { url: r.url };
});

task("idp:grant", "The MIT registry's admin grants IDP_ROLE to the IdP service's account")
  .addParam("to", "The IdP service's account address (printed by idp:setup and idp:serve)")
  .setAction(async (a: { to: string }, hre) => {
    const { deployedAddress } = await import("./lib/context");
    const { MITRegistry__factory } = await import("../typechain-types");
    if (!hre.ethers.isAddress(a.to)) throw new UsageError(`idp:grant: --to ${a.to} is not an address`);
    const [admin] = await hre.ethers.getSigners();
    const reg = MITRegistry__factory.connect(await deployedAddress(hre, "MITRegistry"), admin);
    await adminOf("idp:grant", [{ name: "MITRegistry", c: reg }], admin.address);
    await minedReceipt(reg.grantRole(await reg.IDP_ROLE(), a.to));
    console.log(`IDP_ROLE granted to ${a.to}`);
    return { to: a.to };
  });

// ------------------------------------------------------------------ MSSA place authorities

/** Parses `--peers`: "0xabc…=http://…,0xdef…=http://…". */
function parsePeers(s: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of s.split(",").filter((x) => x.trim())) {
    const i = part.indexOf("=");
    const [a, u] = [part.slice(0, i).trim(), part.slice(i + 1).trim()];
    if (!/^0x[0-9a-fA-F]{40}$/.test(a) || !/^https?:\/\/\S+$/.test(u))
      throw new UsageError(`mssa:serve: --peers "${part}" is not <address>=<url>`);
    m.set(a.toLowerCase(), u);
  }
  return m;
}

listenFlags(
  task(
    "mssa:serve",
    "Runs an MSSA place authority as a service: `authority --place PL1` (its own data folder, keystore and account); it announces its endpoint on-chain and finds the place's other authorities there",
  )
    .addPositionalParam("role", "authority")
    .addOptionalParam("place", "The place it is an authority of", "PL1")
    .addOptionalParam("account", "The role whose key it signs with (METATRUST_KEY_<ROLE> or its keystore)", "authority")
    .addOptionalParam(
      "peers",
      "Overrides where the place's other authorities are reached: `0xabc…=http://…,…` (default: the endpoints they announced on-chain; every authority collects their keys of a session, the verifying authority asks them to approve)",
      "",
    )
    .addOptionalParam("publicUrl", "The URL users and the other authorities reach it at, announced on-chain (default: the bound URL)")
    .addOptionalParam(
      "placeKey",
      "A file with the place key (64 hex characters) the place's operator handed to every authority of the place: imported into this folder's keystore on first start (delete the file after); needed once",
    )
    .addOptionalParam(
      "electionKey",
      "A file with the election key (64 hex characters), one for the deployment: the file the operator gave to `deploy --election-key` and hands to the authorities of every place; refused if its check value differs from deployments/<network>.json's (so is a key this folder holds); imported into this folder's keystore (delete the file after); without it the service registers for access only and makes no electors",
    ),
).setAction(
  async (
    a: ListenArgs & {
      role: string;
      place: string;
      account: string;
      peers: string;
      placeKey?: string;
      electionKey?: string;
      publicUrl?: string;
    },
    hre,
  ) => {
    if (a.role !== "authority") throw new UsageError(`mssa:serve: unknown role "${a.role}" (authority)`);
    const cfg = listenConfig(a, "mssa:serve");
    await listenable("mssa:serve", cfg);
    const peers = parsePeers(a.peers);
    if (a.publicUrl !== undefined && (!/^https?:\/\/[^\s/]+\S*$/.test(a.publicUrl) || Buffer.byteLength(a.publicUrl) > 256))
      throw new UsageError(`mssa:serve: --public-url "${a.publicUrl}" is not an http(s) URL of at most 256 bytes`);
    const [
      { localState, deployedAddress },
      { roleAccounts },
      { CredentialLedger__factory },
      { AuthorityService, importElectionKey, importPlaceKey, placeKeyRecord, ELECTION_KEY_RECORD },
      { placeId },
    ] = await Promise.all([
      import("./lib/context"),
      import("../offchain/chain/accounts"),
      import("../typechain-types"),
      import("../offchain/services/mssa/authority-service"),
      import("../offchain/mssa/registration"),
    ]);
    const local = localState(hre);
    // the authority's key is configured (METATRUST_KEY_<ROLE>) or kept in the keystore: a name with
    // none (a typo) is refused naming --account, with no key made or funded (s23-fxops)
    // and it is topped up only once it is found an authority of the place: a refused start sends
    // nothing (s23-review finding 6)
    const accounts = roleAccounts(hre, local.keystore);
    const wallet = await accounts.key(a.account, { flag: "--account", create: false, fund: false });
    const ledger = CredentialLedger__factory.connect(await deployedAddress(hre, "CredentialLedger"), wallet);
    const p = await ledger.place(placeId(a.place));
    const authorities = p.authorities.map((x) => x.toLowerCase());
    if (!authorities.includes(wallet.address.toLowerCase()))
      throw new UsageError(
        `mssa:serve: ${wallet.address} (--account ${a.account}) is not an authority of ${a.place} on-chain: the admin sets the place with \`npx hardhat mssa:place --name ${a.place} --authorities …\``,
      );
    for (const peer of peers.keys())
      if (!authorities.includes(peer) || peer === wallet.address.toLowerCase())
        throw new UsageError(`mssa:serve: --peers names ${peer}, which is not another authority of ${a.place} on-chain`);
    // both key files checked (present, 32 bytes of hex, not another key than the one held) before
    // either is imported: a bad --election-key must not leave --place-key written (h15-red2, R6's class)
    for (const [flag, file, record] of [
      ["--place-key", a.placeKey, placeKeyRecord(a.place)],
      ["--election-key", a.electionKey, ELECTION_KEY_RECORD],
    ] as const) {
      if (file === undefined) continue;
      if (!fs.existsSync(file)) throw new UsageError(`mssa:serve: ${flag} ${file} does not exist`);
      const t = fs.readFileSync(file, "utf8").trim().replace(/^0x/, "").toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(t)) throw new UsageError(`mssa:serve: ${flag} ${file}: the key must be 32 bytes of hex (64 characters)`);
      if (
        local.keystore.exists(record) &&
        String((local.keystore.load(record) as { key: string }).key)
          .replace(/^0x/, "")
          .toLowerCase() !== t
      )
        throw new UsageError(
          `mssa:serve: ${flag} ${file}: this folder already holds another key (${record}); rotating it is not supported`,
        );
    }
    // the election key must be the deployment's, the one `deploy` computed the genesis authorities'
    // e with (its check value in the record): another would make a second elector of a genesis or
    // registrar-enrolled person (s21-review1 finding 3); checked before either key is imported
    const { electionKeyMismatch } = await import("../offchain/chain/deployments");
    if (a.electionKey !== undefined) {
      const why = await electionKeyMismatch(
        Buffer.from(fs.readFileSync(a.electionKey, "utf8").trim().replace(/^0x/, ""), "hex"),
        hre.network.name,
      );
      if (why) throw new UsageError(`mssa:serve: --election-key ${a.electionKey}: ${why}`);
    } else if (local.keystore.exists(ELECTION_KEY_RECORD)) {
      const { loadElectionKey } = await import("../offchain/services/mssa/authority-service");
      const why = await electionKeyMismatch(loadElectionKey(local.keystore)!, hre.network.name);
      if (why)
        throw new UsageError(
          `mssa:serve: the election key this folder holds (${ELECTION_KEY_RECORD}, from an earlier --election-key): ${why}`,
        );
    }
    if (a.placeKey !== undefined) {
      if (!fs.existsSync(a.placeKey)) throw new UsageError(`mssa:serve: --place-key ${a.placeKey} does not exist`);
      try {
        if (importPlaceKey(local.keystore, a.place, fs.readFileSync(a.placeKey, "utf8")))
          console.log(`the place key of ${a.place} imported from ${a.placeKey} (delete that file now)`);
      } catch (e) {
        throw new UsageError(`mssa:serve: --place-key ${a.placeKey}: ${(e as Error).message}`);
      }
    } else if (!local.keystore.exists(placeKeyRecord(a.place)))
      throw new UsageError(
        `mssa:serve: this folder holds no place key for ${a.place}: start once with --place-key <file>, the key the place's operator handed to every authority of ${a.place} (docs/specs/mssa.md §2.6)`,
      );
    if (a.electionKey !== undefined) {
      if (!fs.existsSync(a.electionKey)) throw new UsageError(`mssa:serve: --election-key ${a.electionKey} does not exist`);
      try {
        if (importElectionKey(local.keystore, fs.readFileSync(a.electionKey, "utf8")))
          console.log(`the election key imported from ${a.electionKey} (delete that file now)`);
      } catch (e) {
        throw new UsageError(`mssa:serve: --election-key ${a.electionKey}: ${(e as Error).message}`);
      }
    } else if (!local.keystore.exists(ELECTION_KEY_RECORD))
      console.log("no election key in this folder (--election-key <file>): registrations for access only, no electors");
    // every refusal is behind us: only now is the authority's account topped up for its gas
    await accounts.topUp(wallet.address, 0n);
    const svc = new AuthorityService({
      keystore: local.keystore,
      dir: path.join(local.dir, `service-mssa-${placeId(a.place).slice(2, 10)}`),
      place: a.place,
      ledger,
      wallet,
      chainId: (await hre.ethers.provider.getNetwork()).chainId,
      peers,
      // re-announces it if the place drops it and takes it back (setPlace deletes a former authority's endpoint)
      announceMs: 15_000,
    });
    // announces its endpoint on-chain (unless the chain holds it already); finds its peers there
    const r = await svc.start(cfg, a.publicUrl);
    console.log(`mssa authority of ${a.place}: listening on ${r.url} (account ${wallet.address})`);
    await untilSignal(() => svc.stop());
    return { url: r.url };
  },
);

// ------------------------------------------------------------------ the trust detector and oracle

listenFlags(
  task(
    "trust:serve",
    "Runs a trust-layer service in its own data folder with its own account: `detector` (attack flags) or `oracle` (Eq. 46's O_ij, the median of a quorum of reporters' observations)",
  )
    .addPositionalParam("role", "detector or oracle")
    .addOptionalParam(
      "interval",
      "detector: how often (ms) it looks whether its input moved (a rating, registration, reclaim or verification event, the identity seeds, a deferred evidence fetch come due) and runs the detectors then (0: only on request)",
      10_000,
      types.int,
    )
    .addFlag("evidenceOnly", "detector: ignore ratings without evidence")
    .addOptionalParam("reporters", "oracle: the reporters' accounts (comma-separated addresses or role names)")
    .addOptionalParam(
      "quorum",
      "oracle: distinct reporters that decide a pair's round (default: a majority of the reporters)",
      undefined,
      types.int,
    )
    .addOptionalParam("deviation", "oracle: the least change of O_ij worth a transaction, in [0, 2]", "0"),
  60,
).setAction(
  async (
    a: ListenArgs & { role: string; interval: number; evidenceOnly: boolean; reporters?: string; quorum?: number; deviation: string },
    hre,
  ) => {
    if (a.role !== "detector" && a.role !== "oracle") throw new UsageError(`trust:serve: unknown role "${a.role}" (detector or oracle)`);
    if (!Number.isInteger(a.interval) || a.interval < 0) throw new UsageError("trust:serve: --interval must be a non-negative integer");
    const cfg = listenConfig(a, "trust:serve");
    await listenable("trust:serve", cfg);
    const [{ localState, deployedAddress }, { roleAccounts }, { TrustManager__factory }] = await Promise.all([
      import("./lib/context"),
      import("../offchain/chain/accounts"),
      import("../typechain-types"),
    ]);
    const local = localState(hre);
    const accounts = roleAccounts(hre, local.keystore);
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    if (a.role === "oracle") {
      if (!a.reporters)
        throw new UsageError("trust:serve oracle: --reporters is required (the reporters' addresses or role names, comma-separated)");
      const names = a.reporters
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean);
      const reporters = await Promise.all(names.map((n) => (hre.ethers.isAddress(n) ? hre.ethers.getAddress(n) : accounts.address(n))));
      if (new Set(reporters.map((r) => r.toLowerCase())).size !== reporters.length)
        throw new UsageError("trust:serve oracle: --reporters lists an account twice");
      const quorum = a.quorum ?? Math.floor(reporters.length / 2) + 1;
      if (!Number.isInteger(quorum) || quorum < 1 || quorum > reporters.length)
        throw new UsageError(`trust:serve oracle: --quorum must be from 1 to ${reporters.length} (the reporters), got ${a.quorum}`);
      if (!/^\d+(\.\d{1,18})?$/.test(a.deviation) || hre.ethers.parseUnits(a.deviation, 18) > 2n * 10n ** 18n)
        throw new UsageError(`trust:serve oracle: --deviation must be a number in [0, 2], got ${a.deviation}`);
      const { OracleService } = await import("../offchain/services/trust/oracle-service");
      const wallet = await accounts.key("oracle");
      const tm = TrustManager__factory.connect(await deployedAddress(hre, "TrustManager"), wallet);
      if (!(await tm.hasRole(await tm.ORACLE_ROLE(), wallet.address)))
        throw new UsageError(
          `trust:serve oracle: the oracle account ${wallet.address} does not hold ORACLE_ROLE: the admin grants it with \`npx hardhat trust:grant --role oracle --to ${wallet.address}\``,
        );
      const svc = new OracleService({
        tm,
        wallet,
        chainId,
        dir: path.join(local.dir, "service-oracle"),
        params: { reporters, quorum, deviation: hre.ethers.parseUnits(a.deviation, 18) },
      });
      const r = await svc.start(cfg);
      console.log(`oracle: listening on ${r.url} (account ${wallet.address}; ${quorum} of ${reporters.length} reporters decide a round)`);
      await untilSignal(() => svc.stop());
      return { url: r.url };
    }
    const [{ TrustLedger }, { DetectorService }] = await Promise.all([
      import("../offchain/trust/ledger"),
      import("../offchain/services/trust/detector-service"),
    ]);
    const wallet = await accounts.key("detector");
    const tm = TrustManager__factory.connect(await deployedAddress(hre, "TrustManager"), wallet);
    if (!(await tm.hasRole(await tm.DETECTOR_ROLE(), wallet.address)))
      throw new UsageError(
        `trust:serve: the detector account ${wallet.address} does not hold DETECTOR_ROLE: the admin grants it with \`npx hardhat trust:grant --role detector --to ${wallet.address}\``,
      );
    const svc = new DetectorService({
      ledger: new TrustLedger(tm),
      store: local.store,
      wallet,
      chainId,
      dir: path.join(local.dir, "service-detector"),
      intervalMs: a.interval,
      evidenceOnly: a.evidenceOnly,
    });
    const r = await svc.start(cfg);
    console.log(`detector: listening on ${r.url} (account ${wallet.address})`);
    await untilSignal(() => svc.stop());
    return { url: r.url };
  },
);

task("trust:observe", "A reporter's observation of Eq. 46's oracle term O_ij for one round, sent to the oracle service")
  .addParam("oracle", "The oracle service's URL (http://host:port)")
  .addParam("from", "The rating entity i (name or 32-byte id)")
  .addParam("to", "The rated entity j (name or 32-byte id)")
  .addParam("value", "O_ij in [-1, 1]")
  .addParam("round", "The round the reporters agree on (a positive integer, e.g. the hour since the epoch)", undefined, types.int)
  .addParam("account", "The reporter's account: a role name (its own key) or a 0x private key in METATRUST_KEY_<ROLE>")
  .addOptionalParam("oracleAccount", "The oracle's account the reply must be signed by (default: read from the service's /v1/info)")
  .setAction(
    async (a: { oracle: string; from: string; to: string; value: string; round: number; account: string; oracleAccount?: string }, hre) => {
      if (!/^https?:\/\/[^\s/]+/.test(a.oracle)) throw new UsageError(`trust:observe: --oracle must be an http(s) URL, got ${a.oracle}`);
      if (!/^-?\d+(\.\d{1,18})?$/.test(a.value)) throw new UsageError(`trust:observe: --value must be a number in [-1, 1], got ${a.value}`);
      const value = hre.ethers.parseUnits(a.value, 18);
      if (value > 10n ** 18n || value < -(10n ** 18n)) throw new UsageError(`trust:observe: --value must be in [-1, 1], got ${a.value}`);
      if (!Number.isSafeInteger(a.round) || a.round < 1)
        throw new UsageError(`trust:observe: --round must be a positive integer, got ${a.round}`);
      const [{ localState, deployedAddress }, { roleAccounts }, { entityId }, { observeRemote }] = await Promise.all([
        import("./lib/context"),
        import("../offchain/chain/accounts"),
        import("../offchain/trust/ledger"),
        import("../offchain/services/trust/clients"),
      ]);
      const local = localState(hre);
      // a reporter's own key, never made here: a mistyped name would get a new key funded (s22-redo R1)
      const reporter = await roleAccounts(hre, local.keystore).key(a.account, { flag: "--account", create: false });
      const [from, to] = [entityId(a.from), entityId(a.to)];
      const { TrustManager__factory } = await import("../typechain-types");
      const tmRead = TrustManager__factory.connect(await deployedAddress(hre, "TrustManager"), hre.ethers.provider);
      const eras: [number, number] = [Number(await tmRead.generationOf(from)), Number(await tmRead.generationOf(to))];
      let account = a.oracleAccount;
      if (!account) {
        // through the service client's fetch (no redirect followed, a bounded reply: offchain/services/endpoint.ts)
        const { getJson } = await import("../offchain/services/client");
        const info = await getJson<{ service?: string; account?: string }>(a.oracle.replace(/\/$/, ""), "/v1/info");
        if (info.service !== "oracle" || !info.account) throw new UsageError(`trust:observe: ${a.oracle} is not an oracle service`);
        account = info.account;
      }
      const r = await observeRemote(
        {
          url: a.oracle,
          chainId: (await hre.ethers.provider.getNetwork()).chainId,
          trustManager: await deployedAddress(hre, "TrustManager"),
          account,
        },
        reporter,
        // the eras observed: the two ids' generations now, as the reporter observes them (the
        // service refuses the observation if either id is reclaimed before it arrives)
        { from, to, round: a.round, value, eras },
      );
      const d = r.decision;
      console.log(
        d
          ? `round ${r.round} of O(${a.from}, ${a.to}) decided: ${hre.ethers.formatUnits(d.value, 18)} (median of ${Object.keys(d.by).length}); on-chain ${hre.ethers.formatUnits(d.onChain, 18)}${d.tx ? ` (written in ${d.tx})` : ""}`
          : `round ${r.round} of O(${a.from}, ${a.to}): ${r.observed} of ${r.quorum} observation(s)`,
      );
      return r;
    },
  );

task("trust:grant", "The TrustManager's admin grants DETECTOR_ROLE or ORACLE_ROLE to a service's account")
  .addParam("role", "detector or oracle")
  .addParam("to", "The account address")
  .setAction(async (a: { role: string; to: string }, hre) => {
    const { deployedAddress } = await import("./lib/context");
    const { TrustManager__factory } = await import("../typechain-types");
    if (a.role !== "detector" && a.role !== "oracle") throw new UsageError(`trust:grant: --role must be detector or oracle, got ${a.role}`);
    if (!hre.ethers.isAddress(a.to)) throw new UsageError(`trust:grant: --to ${a.to} is not an address`);
    const [admin] = await hre.ethers.getSigners();
    const tm = TrustManager__factory.connect(await deployedAddress(hre, "TrustManager"), admin);
    await adminOf("trust:grant", [{ name: "TrustManager", c: tm }], admin.address);
    await minedReceipt(tm.grantRole(a.role === "detector" ? await tm.DETECTOR_ROLE() : await tm.ORACLE_ROLE(), a.to));
    console.log(`${a.role === "detector" ? "DETECTOR_ROLE" : "ORACLE_ROLE"} granted to ${a.to}`);
    return { to: a.to };
  });
