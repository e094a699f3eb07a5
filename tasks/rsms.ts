/**
 * RSMS resource-pool tasks (§IV.A). Every agent's state lives in the network's keystore
 * (.metatrust/<network>/keystore), so the tasks work across separate invocations against
 * `--network localhost`; messages between the agents are serialized and exchanged in-process.
 */
import { task, types } from "hardhat/config";
import { attach } from "../offchain/chain/contracts";
import { onChainReset } from "../offchain/chain/reset";
import { mark } from "../offchain/util/spans";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Msrp as MsrpAgent } from "../offchain/rsms/msrp";
import type { ResourcePoolManager as RpmAgent } from "../offchain/rsms/rpm";
import type { RecordStamp } from "../offchain/storage/keystore";
import { RefusedError, UsageError, localName, lookupNamed, parseHex32, parseWhole } from "./lib/cli";

import { MSRP_PATCH, MSRP_RECORD, withMsrpRecord } from "./lib/msrp-record";
const rpmRecord = (poolId: number) => `rsms-rpm-${poolId}`;
/**
 * Per keystore folder: the MSRP agent a join left, with the stamp of the record it holds
 * (Keystore.stamp: the texts of the record's base and head as that join committed them, Keystore.stampAfter). The next join in
 * this process takes it instead of loading and rebuilding the agent (issue 20: about half a
 * millisecond of a step) when the record's stamp as it stands is that one: any write since, by any
 * process or any other command of this one, changed a text, and the agent is loaded again. Taken
 * out while a join uses it and put back only after that join's records are committed: a join that
 * fails (whatever it changed in the agent) leaves nothing here.
 */
const msrpKept = new Map<string, { m: MsrpAgent; stamp: RecordStamp }>();
/**
 * Per keystore folder and pool: the RPM agent a join left, with the stamp of its record (as
 * msrpKept) and the MSRP's PK_pub it was built with. It holds the pool's filters it loaded, each
 * checked against its on-chain root when it was loaded, so the next join of this process loads none
 * of them again and does not rebuild the agent (issue 20). Taken out while a join uses it, put back
 * only after that join's records are committed, and never with a quarantined epoch (a fresh agent
 * tries such an epoch again). An epoch is published once, unless the chain goes back under it: each
 * join's sync compares the roots the agent loaded with the roots the join read and loads again an
 * epoch whose root changed (flows.syncFilters), and every kept agent is dropped when the process
 * finds the chain went back or was reset (offchain/chain/reset.ts; s27-rtc F4).
 */
const rpmKept = new Map<string, { rpm: RpmAgent; stamp: RecordStamp; pkPub: string }>();
onChainReset(() => rpmKept.clear());
const rnRecord = (name: string) => `rsms-rn-${name}`;

/**
 * The registry's contract handles, per runner and address: a join builds two (a reader and the
 * MSRP's signer), and an ethers Contract costs about 0.05 ms to build (issue 20). A handle holds
 * no chain state; a new deployment has a new address.
 */
const registries = new WeakMap<object, Map<string, import("../typechain-types").ResourcePoolRegistry>>();

/** The modules the rsms commands use, imported once per process (a command's 13 dynamic imports cost about 0.1 ms: issue 20). */
let rsmsModules: ReturnType<typeof importRsmsModules> | undefined;
function importRsmsModules() {
  return Promise.all([
    import("./lib/context"),
    import("../offchain/rsms/flows"),
    import("../offchain/rsms/msrp"),
    import("../offchain/rsms/rpm"),
    import("../offchain/rsms/rn"),
    import("../offchain/rsms/ledger"),
    import("../typechain-types"),
    import("../offchain/rsms/params"),
    import("../offchain/crypto/group"),
    import("../offchain/crypto/bytes"),
    import("../offchain/storage/keystore"),
    import("./lib/msrp-record"),
    import("./lib/record-hold"),
  ]);
}

async function rsms(hre: HardhatRuntimeEnvironment) {
  const [
    { localState, deployedAddress, operatorSigner, ethersProvider },
    flows,
    { Msrp },
    { ResourcePoolManager },
    { ResourceNode },
    { RsmsLedger },
    { ResourcePoolRegistry__factory },
    { tagOf },
    { decodeScalar },
    { fromHex, toHex },
    { sameStamp },
    { msrpRecord, msrpServiceDir },
    { holdsFolder },
  ] = await (rsmsModules ??= importRsmsModules().catch((e) => {
    rsmsModules = undefined; // a failed import is tried again by the next command
    throw e;
  }));
  mark("rsms.imported");
  const local = localState(hre);
  const ks = local.keystore;
  // A join that crashed or failed with its outcome unknown left an intent: it is decided from the
  // chain before any record it names is read (flows.resolveJoinIntents; rsms-join.md change 17).
  // Applying one writes the MSRP's record: holding its folder, as any writer of it (the command's
  // hold, or one of its own for a command that only reads the record).
  if (ks.intents().length) {
    const registry = attach(ResourcePoolRegistry__factory, await deployedAddress(hre, "ResourcePoolRegistry"), ethersProvider(hre));
    const resolve = () => flows.resolveJoinIntents(ks, new RsmsLedger(registry), ethersProvider(hre));
    const r = holdsFolder(msrpServiceDir(local.dir))
      ? await resolve()
      : await withMsrpRecord("rsms (an interrupted join)", local.dir, resolve);
    if (r.applied + r.dropped)
      console.error(
        `rsms: an interrupted join's records: ${r.applied ? `${r.applied} committed (its transaction is on-chain)` : ""}${r.applied && r.dropped ? ", " : ""}${r.dropped ? `${r.dropped} dropped (its transaction was never mined)` : ""}`,
      );
  }
  mark("rsms.intents");
  const registryAt = async (runner: Awaited<ReturnType<typeof operatorSigner>> | ReturnType<typeof ethersProvider>) => {
    const address = await deployedAddress(hre, "ResourcePoolRegistry");
    let byAddress = registries.get(runner);
    if (!byAddress) registries.set(runner, (byAddress = new Map()));
    let registry = byAddress.get(address);
    if (!registry) byAddress.set(address, (registry = attach(ResourcePoolRegistry__factory, address, runner)));
    return registry;
  };
  const chain = async () => {
    const registry = await registryAt(await operatorSigner(hre, "msrp"));
    return { ledger: new RsmsLedger(registry), store: local.store };
  };
  /** The registry for reads only (no signer to resolve): what a step reads before it needs the MSRP's key. */
  const reader = async () => {
    const registry = await registryAt(ethersProvider(hre));
    return { ledger: new RsmsLedger(registry), store: local.store };
  };
  // The MSRP's record as the commands change it (tasks/lib/msrp-record.ts): refused while an MSRP
  // service serves this folder (s17-redA F20's shape), committed only over the stamp it was loaded
  // at (s17-redA F21).
  const record = await msrpRecord(ks, local.dir, (data) => Msrp.fromRecord(data as never));
  mark("rsms.record");
  /** The MSRP agent, with the stamp it was loaded at; `task`: the command will change it (it must hold the MSRP's folder: asMsrp). */
  const loadMsrp = (task?: string) => record.load(task);
  /** The MSRP agent a join in this process left (msrpKept), if the record is still what it committed; else loaded. */
  const takeMsrp = (): { m: MsrpAgent; stamp: RecordStamp; kept: boolean } => {
    record.held("rsms:join");
    const kept = msrpKept.get(ks.dir);
    msrpKept.delete(ks.dir);
    if (kept && sameStamp(kept.stamp, ks.stamp(MSRP_RECORD))) return { ...kept, kept: true };
    const { data, stamp } = ks.loadStamped(MSRP_RECORD);
    return { m: Msrp.fromRecord(data as never), stamp, kept: false };
  };
  /** After a commit of `m` that wrote `texts` (Keystore.commit's result): the agent kept for the next join, with the stamp the commit left. */
  const keepMsrp = (m: MsrpAgent, stamp: RecordStamp, texts: RecordStamp) => {
    msrpKept.set(ks.dir, { m, stamp: ks.stampAfter(MSRP_RECORD, stamp, texts) });
  };
  // the MSRP's record is kept as a base and patches of its RNs (Keystore.commit's `patch`): a
  // command that changes a few RNs writes those, not every RN the MSRP knows. Committed only over
  // the stamp loadMsrp loaded it at; `also` are records committed only if the check passes.
  const saveMsrp = (m: MsrpAgent, task = "rsms", also: () => void = () => undefined, withRecords: Record<string, unknown> = {}) =>
    record.save(m, task, also, withRecords);
  const loadRpm = (m: MsrpAgent, poolId: number) => ResourcePoolManager.fromRecord(m.params, ks.load(rpmRecord(poolId)));
  const rpmKey = (poolId: number) => `${ks.dir}\0${poolId}`;
  /** The pool's RPM agent a join in this process left (rpmKept), if its record is unchanged and the MSRP's key is the same; else loaded. */
  const takeRpm = (m: MsrpAgent, poolId: number): { rpm: RpmAgent; stamp: RecordStamp } => {
    const kept = rpmKept.get(rpmKey(poolId));
    rpmKept.delete(rpmKey(poolId));
    if (kept && kept.pkPub === toHex(m.pkPubBytes)) {
      const stamp = ks.stamp(rpmRecord(poolId));
      if (sameStamp(kept.stamp, stamp)) return kept;
    }
    const { data, stamp } = ks.loadStamped(rpmRecord(poolId));
    return { rpm: ResourcePoolManager.fromRecord(m.params, data), stamp };
  };
  /** After a committed join: the RPM agent kept for the next one (none with a quarantined epoch). */
  const keepRpm = (m: MsrpAgent, rpm: RpmAgent, stamp: RecordStamp) => {
    if (rpm.quarantinedEpochs.size === 0) rpmKept.set(rpmKey(rpm.poolId), { rpm, stamp, pkPub: toHex(m.pkPubBytes) });
  };
  const loadRn = (m: MsrpAgent, name: string) => ResourceNode.fromRecord(m.params, ks.load(rnRecord(name)));
  const rnFrom = (m: MsrpAgent, rec: Record<string, unknown>) => ResourceNode.fromRecord(m.params, rec);
  /** H4(a) of the secret an RN's keystore record holds. */
  const tagOfRecord = (rec: Record<string, unknown>) => tagOf(decodeScalar(fromHex(String(rec.a), 32)));
  return {
    local,
    ks,
    chain,
    reader,
    flows,
    Msrp,
    loadMsrp,
    takeMsrp,
    keepMsrp,
    saveMsrp,
    loadRpm,
    takeRpm,
    keepRpm,
    loadRn,
    rnFrom,
    tagOfRecord,
    mark,
  };
}

/** A pool named by `flag` that this MSRP has no RPM for is bad input (exit 2), with the command that creates it. */
function knownPool(task: string, flag: string, m: MsrpAgent, pool: number): void {
  const pools = m.summary().rpms.map((r) => r.poolId);
  if (!pools.includes(pool))
    throw new UsageError(
      `${task}: ${flag} ${pool} is not a pool of this MSRP (${pools.length ? `pools: ${pools.join(", ")}` : "none yet"}); \`rsms:rpm:register --pool ${pool}\` creates it`,
    );
}

/** A client machine's view: its keystore, and the deployment read from the chain (no account needed). */
async function clientSide(hre: HardhatRuntimeEnvironment) {
  const [{ localState, deployedAddress }, { RsmsLedger }, { ResourcePoolRegistry__factory }] = await Promise.all([
    import("./lib/context"),
    import("../offchain/rsms/ledger"),
    import("../typechain-types"),
  ]);
  const registry = await deployedAddress(hre, "ResourcePoolRegistry");
  const ledger = new RsmsLedger(attach(ResourcePoolRegistry__factory, registry, hre.ethers.provider));
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  return { keystore: localState(hre).keystore, dep: { chainId, registry, ledger } };
}

/**
 * Runs the in-process part of a command that changes the MSRP's record holding the MSRP service's
 * folder for its run (tasks/lib/msrp-record.ts withMsrpRecord): refused in one line beside a live
 * `rsms:serve msrp`, waited for by a service started meanwhile and by another such command.
 */
async function asMsrp<T>(hre: HardhatRuntimeEnvironment, task: string, run: () => Promise<T>, o: { lease?: boolean } = {}): Promise<T> {
  const { localState } = await import("./lib/context");
  return withMsrpRecord(task, localState(hre).dir, run, o);
}

const gas = (g: bigint) => `${g.toLocaleString("en-US")} gas`;

task("rsms:setup", "MSRP setup: draws msk, derives PK_pub and stores the MSRP's keystore record (never overwrites)")
  .addOptionalParam("capacity", "Bloom filter capacity N per published filter", 1024, types.int)
  .addOptionalParam("lambda", "Bloom filter security parameter (false-positive rate 2^-lambda)", 20, types.int)
  .addOptionalParam("interval", "Publish a pool's filter after this many seconds even if not full", 3600, types.int)
  .addOptionalParam("ttl", "An issued one-time secret (and its filter epoch) serves joins for this many seconds", 7 * 24 * 3600, types.int)
  .setAction(async (a: { capacity: number; lambda: number; interval: number; ttl: number }, hre) => {
    const r = await rsms(hre);
    const { BloomFilter, BLOOM_LIMITS } = await import("../offchain/crypto/bloom");
    parseWhole("rsms:setup", "--capacity", a.capacity, 1, BLOOM_LIMITS.maxN);
    BloomFilter.init(a.capacity, a.lambda); // validates the parameters
    if (!Number.isInteger(a.ttl) || a.ttl < 1) throw new UsageError(`rsms:setup: --ttl must be a positive number of seconds, got ${a.ttl}`);
    const m = r.Msrp.setup({ capacity: a.capacity, lambda: a.lambda, intervalSec: a.interval, ttlSec: a.ttl });
    r.ks.create(MSRP_RECORD, m.toRecord());
    const { toHex } = await import("../offchain/crypto/bytes");
    console.log(`MSRP ready: PK_pub ${toHex(m.pkPubBytes)}`);
    console.log(
      `keystore ${r.ks.file(MSRP_RECORD)} (${r.ks.encrypted ? "sealed with METATRUST_PASSPHRASE" : "plaintext dev mode, mode 0600"})`,
    );
    // the MSRP's account (role `msrp`): `deploy` from this data folder made it the MSRP; from
    // another one (the MSRP on its own machine), the admin grants it MSRP_ROLE
    const { resolveAccount } = await import("./lib/context");
    const account = await resolveAccount(hre, "msrp", { flag: "role msrp", create: true });
    console.log(
      `MSRP service account ${account} (role msrp; for \`rsms:serve msrp\`, or when the deployment names another MSRP, the admin runs \`rsms:msrp:grant --to ${account}\`)`,
    );
    return { pkPub: toHex(m.pkPubBytes), account };
  });

task(
  "rsms:rpm:register",
  "RPM setup: the MSRP issues an RPM's keys and creates its pool on-chain (the keys are kept, pending, before createPool: run again after a crash or a lost reply, it completes the pool)",
)
  .addParam("pool", "New pool id (a positive integer)", undefined, types.int)
  .addOptionalParam("rid", "The RPM's real identity (sent sealed to PK_pub; never on-chain)")
  .addOptionalParam(
    "account",
    "The RPM's account: a role name, an address or (development nodes) a signer index (default: role rpm:<pool>, on development nodes the node's account #pool)",
  )
  .setAction(async (a: { pool: number; rid?: string; account?: string }, hre) => {
    if (!Number.isInteger(a.pool) || a.pool < 1 || a.pool > 0xffffffff)
      throw new UsageError(`rsms:rpm:register: --pool must be a positive integer (pool 0 is reserved), got ${a.pool}`);
    return asMsrp(hre, "rsms:rpm:register", async () => {
      const r = await rsms(hre);
      const { resolveAccount } = await import("./lib/context");
      const m = r.loadMsrp("rsms:rpm:register");
      // registering a pool makes its RPM's account (a new role name gets a key)
      const account = await resolveAccount(hre, a.account ?? `rpm:${a.pool}`, { flag: "--account", create: true });
      // The RPM's keys, marked pending, and the MSRP's record are kept in one commit before createPool;
      // a rerun after a crash (or a lost reply) finds the pool under the kept PID_RPM and completes it,
      // or sends createPool again with the same keys (s17-redA F4)
      const name = rpmRecord(a.pool);
      const kept = r.ks.exists(name) ? (r.ks.load(name) as Record<string, unknown>) : undefined;
      const pending = kept?.pending as { account: string; pkRpm: string } | undefined;
      const { rpm, tx, existing } = await r.flows.setupPool(
        await r.chain(),
        m,
        {
          name: `rpm-${a.pool}`,
          poolId: a.pool,
          rid: a.rid ?? `rpm-${a.pool}`,
          account: a.account === undefined && pending ? pending.account : account,
        },
        {
          load: () => (pending ? { rpm: r.loadRpm(m, a.pool), ...pending } : undefined),
          keep: (agent, acct, pkRpm) => {
            // over the stamp the MSRP's record was loaded at (s17-redA F21), with the RPM's keys in the same commit
            r.saveMsrp(m, "rsms:rpm:register", undefined, { [name]: { ...agent.toRecord(), pending: { account: acct, pkRpm } } });
          },
        },
      );
      r.ks.commit({ [name]: rpm.toRecord() });
      const { toHex } = await import("../offchain/crypto/bytes");
      console.log(
        `pool ${a.pool}: RPM ${pending?.account ?? account}, PID_RPM ${toHex(rpm.pid)}; ${tx ? `createPool ${gas(tx.gasUsed)} (tx ${tx.hash})` : "created by an earlier run that did not finish (nothing sent); its keys are kept now"}`,
      );
      return { poolId: a.pool, pid: toHex(rpm.pid), tx, existing };
    });
  });

task("rsms:rn:register", "RN setup: the MSRP issues an RN's keys, one-time secret and first PID, and adds it to the pool's Bloom filter")
  .addParam("name", "The RN's local name (1 to 64 letters, digits, '.', '_' or '-')")
  .addParam("pool", "The pool it registers for", undefined, types.int)
  .addOptionalParam("rid", "The RN's real identity (sent sealed to PK_pub; never on-chain)")
  .addOptionalParam("msrp", "The MSRP service's URL: register over the network from this machine (rsms:serve msrp)")
  .addOptionalParam("token", "With --msrp: the enrolment token the MSRP's operator issued for this name (`rsms:enrol-token --rn <name>`)")
  .addFlag(
    "abandon",
    "With --msrp: drop the registration this folder keeps pending (a lasting 409 resent on every run) once the service, sent it once more, refuses it again; if the service answers it, it took effect and is completed instead; nothing is dropped if the chain shows it or the service cannot be reached",
  )
  .setAction(async (a: { name: string; pool: number; rid?: string; msrp?: string; token?: string; abandon: boolean }, hre) => {
    localName("rsms:rn:register", "--name", a.name);
    if (a.token !== undefined && !a.msrp)
      throw new UsageError("rsms:rn:register: --token goes with --msrp (a registration over the network)");
    if (a.abandon && !a.msrp) throw new UsageError("rsms:rn:register: --abandon goes with --msrp (a registration over the network)");
    if (a.msrp) {
      const { registerRnRemote, abandonRnRegister } = await import("../offchain/services/rsms/clients");
      const args = {
        msrpUrl: a.msrp,
        name: a.name,
        poolId: a.pool,
        rid: a.rid ?? `rn:${a.name}`,
        ...(a.token !== undefined ? { token: a.token } : {}),
        ...(await clientSide(hre)),
      };
      if (a.abandon) {
        const line = await abandonRnRegister(args);
        console.log(line);
        return { abandoned: line };
      }
      const rn = await registerRnRemote(args);
      const { toHex } = await import("../offchain/crypto/bytes");
      console.log(`${a.name}: registered for pool ${a.pool} through ${a.msrp}, PID_0 ${toHex(rn.state.pid)}`);
      return { pid: toHex(rn.state.pid) };
    }
    return asMsrp(hre, "rsms:rn:register", async () => {
      const r = await rsms(hre);
      const m = r.loadMsrp("rsms:rn:register");
      knownPool("rsms:rn:register", "--pool", m, a.pool);
      // checked before the MSRP takes it: its filter may be published on-chain by this very registration
      if (r.ks.exists(rnRecord(a.name)))
        throw new UsageError(`rsms:rn:register: --name "${a.name}": this folder already holds an RN of that name (${rnRecord(a.name)})`);
      const { rn, published } = await r.flows.registerRn(await r.chain(), m, {
        name: a.name,
        poolId: a.pool,
        rid: a.rid ?? `rn:${a.name}`,
      });
      r.saveMsrp(m, "rsms:rn:register", () => r.ks.create(rnRecord(a.name), rn.toRecord()));
      const { toHex } = await import("../offchain/crypto/bytes");
      console.log(`${a.name}: registered for pool ${a.pool}, PID_0 ${toHex(rn.state.pid)}`);
      if (published)
        console.log(
          `pool ${a.pool}: filter epoch ${published.epoch} published (${published.count} RNs, CID ${published.cid}${published.tx ? `, ${gas(published.tx.gasUsed)}` : ", by an earlier attempt: nothing sent"})`,
        );
      else console.log(`pool ${a.pool}: ${m.pendingCount(a.pool)} RN(s) wait for the next filter (rsms:filter:publish --pool ${a.pool})`);
      return { pid: toHex(rn.state.pid), published };
    });
  });

task("rsms:user:register", "User register (RSMS §IV.B.1): the MSRP issues a user's keys and PID")
  .addParam("name", "The user's local name (1 to 64 letters, digits, '.', '_' or '-')")
  .addOptionalParam("rid", "The user's real identity (sent sealed to PK_pub; never on-chain)")
  .addOptionalParam("msrp", "The MSRP service's URL: register over the network from this machine (rsms:serve msrp)")
  .addOptionalParam("token", "With --msrp: the enrolment token the MSRP's operator issued for this name (`rsms:enrol-token --user <name>`)")
  .addFlag(
    "abandon",
    "With --msrp: drop the registration this folder keeps pending (a lasting 409 resent on every run) once the service, sent it once more, refuses it again; if the service answers it, it took effect and is completed instead; nothing is dropped if the chain shows it or the service cannot be reached",
  )
  .setAction(async (a: { name: string; rid?: string; msrp?: string; token?: string; abandon: boolean }, hre) => {
    localName("rsms:user:register", "--name", a.name);
    if (a.token !== undefined && !a.msrp)
      throw new UsageError("rsms:user:register: --token goes with --msrp (a registration over the network)");
    if (a.abandon && !a.msrp) throw new UsageError("rsms:user:register: --abandon goes with --msrp (a registration over the network)");
    if (a.msrp) {
      const { registerUserRemote, abandonUserRegister } = await import("../offchain/services/rsms/group-clients");
      const args = {
        msrpUrl: a.msrp,
        name: a.name,
        rid: a.rid ?? `user:${a.name}`,
        ...(a.token !== undefined ? { token: a.token } : {}),
        ...(await clientSide(hre)),
      };
      if (a.abandon) {
        const line = await abandonUserRegister(args);
        console.log(line);
        return { abandoned: line };
      }
      const { pid } = await registerUserRemote(args);
      const { toHex } = await import("../offchain/crypto/bytes");
      console.log(`${a.name}: PID_User ${toHex(pid)} (registered through ${a.msrp}; sk_User in this data folder)`);
      return { pid: toHex(pid) };
    }
    return asMsrp(hre, "rsms:user:register", async () => {
      const r = await rsms(hre);
      const { Role } = await import("../offchain/rsms/messages");
      const m = r.loadMsrp("rsms:user:register");
      const creds = m.registerUser(a.name, r.Msrp.registrationRequest(m.params.pkPub, Role.User, 0, a.rid ?? `user:${a.name}`));
      r.saveMsrp(m, "rsms:user:register");
      const { toHex } = await import("../offchain/crypto/bytes");
      console.log(`${a.name}: PID_User ${toHex(creds.pid)}`);
      return { pid: toHex(creds.pid) };
    });
  });

task(
  "rsms:attest",
  "On an RN's machine: the MSRP service's attestation that lets an account register the RN's PID in the TrustManager (`trust:register --attestation`). One PID per RN, for life: the first attested (then its current PID), asked for again by default after a rotation; none for an RN in S_RN",
)
  .addParam("rn", "The RN's name (registered over the network from this folder)")
  .addParam("controller", "The account that will register and control the PID (an address)")
  .addOptionalParam("msrp", "The MSRP service's URL (default: the one the RN registered with)")
  .addOptionalParam("ttl", "Seconds until the attestation expires (at most 86400)", 3600, types.int)
  .setAction(async (a: { rn: string; controller: string; msrp?: string; ttl: number }, hre) => {
    if (!hre.ethers.isAddress(a.controller)) throw new UsageError(`rsms:attest: --controller ${a.controller} is not an address`);
    if (!Number.isInteger(a.ttl) || a.ttl < 60 || a.ttl > 86_400)
      throw new UsageError(`rsms:attest: --ttl must be 60 to 86400 seconds, got ${a.ttl}`);
    const [{ attestTrustRemote }, { deployedAddress }] = await Promise.all([
      import("../offchain/services/rsms/attest"),
      import("./lib/context"),
    ]);
    const side = await clientSide(hre);
    if (!side.keystore.exists(`rsms-rn-${a.rn}`))
      throw new UsageError(`rsms:attest: no RN "${a.rn}" in this folder (rsms:rn:register --msrp first)`);
    const r = await attestTrustRemote({
      name: a.rn,
      ...side,
      trustManager: await deployedAddress(hre, "TrustManager"),
      controller: hre.ethers.getAddress(a.controller),
      ttlSec: a.ttl,
      now: Math.max(Math.floor(Date.now() / 1000), Number((await hre.ethers.provider.getBlock("latest"))!.timestamp)),
      ...(a.msrp ? { msrpUrl: a.msrp } : {}),
    });
    console.log(`${a.rn}: the MSRP attests PID ${r.pid} for ${r.controller} until ${new Date(r.deadline * 1000).toISOString()}`);
    console.log(
      `  npx hardhat trust:register --entity ${r.pid} --type resource-node --attestation ${r.attestation} --deadline ${r.deadline} --account ${r.controller}`,
    );
    return r;
  });

task(
  "rsms:filter:publish",
  "Publishes a pool's pending Bloom filter: bytes to IPFS, root and CID on-chain (run again after a lost reply, it finds the publication and sends nothing)",
)
  .addParam("pool", "The pool", undefined, types.int)
  .setAction(async (a: { pool: number }, hre) => {
    return asMsrp(hre, "rsms:filter:publish", async () => {
      const r = await rsms(hre);
      const m = r.loadMsrp("rsms:filter:publish");
      knownPool("rsms:filter:publish", "--pool", m, a.pool);
      if (m.pendingCount(a.pool) === 0)
        throw new RefusedError(
          `rsms:filter:publish: pool ${a.pool} has no registered RN waiting for a filter (\`rsms:rn:register --pool ${a.pool}\` adds one)`,
        );
      const p = await r.flows.publishFilter(await r.chain(), m, a.pool);
      r.saveMsrp(m, "rsms:filter:publish");
      console.log(
        `pool ${a.pool}: filter epoch ${p.epoch}${p.existing ? " (published by an earlier attempt whose reply was lost; nothing sent)" : ""} with ${p.count} RNs, ${p.bytes} bytes, CID ${p.cid}, root ${p.root}${p.tx ? `; ${gas(p.tx.gasUsed)}` : ""}`,
      );
      return p;
    });
  });

task(
  "rsms:join",
  "Initial authentication of an RN at its pool (RN, RPM and MSRP exchange serialized messages; the MSRP records H4(a) with the PID)",
)
  .addParam("rn", "The RN's name")
  .addParam("pool", "The pool to join (the one it registered for)", undefined, types.int)
  .addOptionalParam("rpm", "The pool's RPM service URL (default for an RN registered with --msrp: the endpoint its RPM announced on-chain)")
  .addFlag(
    "abandon",
    "Over the network: drop the join this folder keeps pending (a lasting 409 resent on every run) once the chain shows no join record for its PID and the service, sent it once more, refuses it again; if the service answers it and the chain then holds the step, it took effect and is completed instead; nothing is dropped if the chain shows it, or the service answers with no record on-chain or the service cannot be reached",
  )
  .setAction(async (a: { rn: string; pool: number; rpm?: string; abandon: boolean }, hre) => {
    const started = performance.now();
    mark("task.action");
    const { localState } = await import("./lib/context");
    const { loadRemoteRn, joinRemote, abandonStep } = await import("../offchain/services/rsms/clients");
    if (a.rpm || loadRemoteRn(localState(hre).keystore, a.rn)) {
      if (a.abandon) {
        const line = await abandonStep({ name: a.rn, poolId: a.pool, rpmUrl: a.rpm, ...(await clientSide(hre)) }, "join");
        console.log(line);
        return { abandoned: line };
      }
      const t0 = Date.now();
      const res = await joinRemote({ name: a.rn, poolId: a.pool, rpmUrl: a.rpm, ...(await clientSide(hre)) });
      const { toHex } = await import("../offchain/crypto/bytes");
      console.log(
        `${a.rn} joined pool ${res.rn.state.pool} as ${toHex(res.rn.state.pid)} over the network${res.adopted ? " (taken from the chain's record: its reply was lost)" : res.resumed ? " (a resumed join)" : ""} in ${Date.now() - t0} ms`,
      );
      return { pid: toHex(res.rn.state.pid), resumed: res.resumed };
    }
    if (a.abandon) throw new UsageError("rsms:join: --abandon is for a join kept for an RPM service (an RN registered with --msrp)");
    mark("task.remoteChecked");
    return asMsrp(
      hre,
      "rsms:join",
      async () => {
        mark("task.locked");
        const r = await rsms(hre);
        // (the first command of a process loads the modules here: the CLI's case, reported apart)
        const loaded = performance.now();
        r.mark("task.loaded");
        const rnRec = r.ks.load(rnRecord(a.rn));
        // Before anything is sent: the pool it registered for, and a filter that holds its secret.
        if (!rnRec.joined && Number(rnRec.homePool) !== a.pool)
          throw new UsageError(`rsms:join: --pool ${a.pool}: ${a.rn} registered for pool ${rnRec.homePool}; it joins there first`);
        // The join's first reads (the pool, the replay check of the RN's tag, the filter roots): from
        // this process's local view of the registry when it has one for the pool and the tag is not in
        // it (flows.viewedJoin; kept current between joins, below; the registry's recordJoin is the
        // arbiter: rsms-join.md change 18); else one batch to the chain (flows.prefetchJoin), which goes
        // out now, and the MSRP's signer and the agents load while it is under way; a refusal below
        // leaves its answers unread. (A joined RN's request is refused by the RN.)
        const reader = await r.reader();
        const pre = rnRec.joined
          ? undefined
          : (r.flows.viewedJoin(reader, a.pool, r.tagOfRecord(rnRec)) ?? r.flows.prefetchJoin(reader, a.pool, r.tagOfRecord(rnRec)));
        // one turn of the event loop: the batching transport sends what was asked for in the turn before
        // (offchain/chain/transport.ts), so the read is under way while the agents load
        if (!pre?.fromView) await new Promise((resolve) => setImmediate(resolve));
        r.mark("task.view");
        const ctx = await r.chain();
        r.mark("task.chain");
        const { m, stamp, kept } = r.takeMsrp();
        r.mark("task.takeMsrp");
        const rn = r.rnFrom(m, rnRec);
        r.mark("task.rnFrom");
        if (!rn.state.joined && m.awaitsPublication(a.pool, rn.state.a))
          throw new RefusedError(
            `rsms:join: ${a.rn}'s one-time secret is in pool ${a.pool}'s next filter, which is not published yet: run \`npx hardhat rsms:filter:publish --pool ${a.pool}\` first`,
          );
        // The MSRP's record and the RN's together, journaled as an intent with the recordJoin
        // transaction and fsync'd while it is sent and mined (Keystore.commitIntent, flows.initialJoin):
        // the step returns once both the receipt and the intent are in.
        let written: RecordStamp = {};
        // A kept agent is its record as committed (its stamp checked above), and the join changes one
        // entry of it (the MSRP's commitJoin): that entry is journaled as a patch, and the whole record
        // is serialized only if the keystore must write it whole (Keystore.commitIntent's `entries`,
        // rsms-join.md change 20). An agent loaded now is compared whole: loading may have filled in
        // fields its record lacked (Msrp.fromRecord), which the whole comparison writes.
        const journal = (data: Record<string, unknown>, changedRn: string) => {
          r.mark("journal.start");
          const pending = r.ks.commitIntent(
            { [MSRP_RECORD]: kept ? () => m.toRecord() : m.toRecord(), [rnRecord(a.rn)]: rn.toRecord() },
            kept ? { ...MSRP_PATCH, entries: { [MSRP_RECORD]: { [changedRn]: m.rnEntryRecord(changedRn) } } } : MSRP_PATCH,
            { kind: r.flows.JOIN_INTENT, data },
          );
          written = pending.texts;
          r.mark("journal.end");
          return pending;
        };
        // the local view is brought up to date once this join has returned (or failed), and the
        // ephemerals of the next join are drawn (flows.restockJoinSoon): off its path, before the next one
        let res: Awaited<ReturnType<typeof r.flows.initialJoin>>;
        let rpm: RpmAgent, rpmStamp: RecordStamp;
        try {
          ({ rpm, stamp: rpmStamp } = r.takeRpm(m, a.pool));
          r.mark("task.takeRpm");
          res = await r.flows.initialJoin(ctx, rn, rpm, m, pre, journal);
        } finally {
          r.flows.refreshJoinViewSoon(reader, a.pool);
          r.flows.restockJoinSoon();
        }
        // a retry of a join already on-chain, or a signer without the fast path: one journaled commit, one fsync
        if (!res.journaled) written = r.ks.commit({ [MSRP_RECORD]: m.toRecord(), [rnRecord(a.rn)]: rn.toRecord() }, MSRP_PATCH);
        // the agent is the record's committed state now (a journaled join's intent was applied: the
        // step returned); kept for the next join of this process
        r.keepMsrp(m, stamp, written);
        r.keepRpm(m, rpm, rpmStamp);
        r.mark("task.kept");
        const { toHex } = await import("../offchain/crypto/bytes");
        console.log(
          `${a.rn} joined pool ${a.pool} as ${toHex(res.record.pid)}; ${res.tx ? `recordJoin ${gas(res.tx.gasUsed)}` : "already on-chain (a retry: nothing written)"} in ${(performance.now() - started).toFixed(1)} ms (${(loaded - started).toFixed(1)} ms of it loading the task's modules)`,
        );
        console.log(`  bytes: RN->RPM ${res.wire.rnToRpm}, RPM->MSRP ${res.wire.rpmToMsrp}, RPM->RN ${res.wire.rpmToRn}`);
        return res;
      },
      { lease: true },
    ); // back-to-back joins of a process: the lock is leased (tasks/lib/record-hold.ts)
  });

task("rsms:reauth", "Re-authentication of a joined RN at another pool (PID_{k+1} and H4(a_{k+1}) recorded)")
  .addParam("rn", "The RN's name")
  .addParam("toPool", "The pool to move to", undefined, types.int)
  .addOptionalParam("rpm", "The pool's RPM service URL (default for an RN registered with --msrp: the endpoint its RPM announced on-chain)")
  .addFlag(
    "abandon",
    "Over the network: drop the re-authentication this folder keeps pending (a lasting 409 resent on every run) once the chain shows no join record for its PID and the service, sent it once more, refuses it again; if the service answers it and the chain then holds the step, it took effect and is completed instead; nothing is dropped if the chain shows it, or the service answers with no record on-chain or the service cannot be reached",
  )
  .setAction(async (a: { rn: string; toPool: number; rpm?: string; abandon: boolean }, hre) => {
    const { localState } = await import("./lib/context");
    const { loadRemoteRn, reauthRemote, abandonStep } = await import("../offchain/services/rsms/clients");
    if (a.rpm || loadRemoteRn(localState(hre).keystore, a.rn)) {
      if (a.abandon) {
        const line = await abandonStep({ name: a.rn, poolId: a.toPool, rpmUrl: a.rpm, ...(await clientSide(hre)) }, "reauth");
        console.log(line);
        return { abandoned: line };
      }
      const t0 = Date.now();
      const res = await reauthRemote({ name: a.rn, poolId: a.toPool, rpmUrl: a.rpm, ...(await clientSide(hre)) });
      const { toHex } = await import("../offchain/crypto/bytes");
      console.log(
        `${a.rn} moved to pool ${res.rn.state.pool} as PID_${res.rn.state.k} ${toHex(res.rn.state.pid)} over the network${res.adopted ? " (taken from the chain's record: its reply was lost)" : res.resumed ? " (a resumed re-authentication)" : ""} in ${Date.now() - t0} ms`,
      );
      const pid = toHex(res.rn.state.pid);
      return { record: { pid, poolId: res.rn.state.pool, kind: 2 }, pid, k: res.rn.state.k, resumed: res.resumed };
    }
    if (a.abandon)
      throw new UsageError("rsms:reauth: --abandon is for a re-authentication kept for an RPM service (an RN registered with --msrp)");
    return asMsrp(hre, "rsms:reauth", async () => {
      const r = await rsms(hre);
      const m = r.loadMsrp("rsms:reauth");
      const rn = r.loadRn(m, a.rn);
      const res = await r.flows.reauthenticate(await r.chain(), rn, r.loadRpm(m, a.toPool), m);
      r.ks.commit({ [MSRP_RECORD]: m.toRecord(), [rnRecord(a.rn)]: rn.toRecord() }, MSRP_PATCH); // both or neither, one fsync
      const { toHex } = await import("../offchain/crypto/bytes");
      console.log(
        `${a.rn} moved to pool ${a.toPool} as PID_${rn.state.k} ${toHex(res.record.pid)}; ${res.tx ? `recordJoin ${gas(res.tx.gasUsed)}` : "already on-chain (a retry: nothing written)"}`,
      );
      return res;
    });
  });

task(
  "rsms:rn:renew",
  "An RN that has not joined renews its expired one-time secret (signed by sk_RN; the MSRP adds the new one to the next filter). An RN registered with --msrp renews through the MSRP service (POST /v1/rn/renew); run it again after a lost reply: the MSRP answers with the same secret",
)
  .addParam("rn", "The RN's name")
  .addOptionalParam(
    "msrp",
    "Over the network: the MSRP service's URL (default for an RN registered with --msrp: the one it registered with)",
  )
  .setAction(async (a: { rn: string; msrp?: string }, hre) => {
    const { localState } = await import("./lib/context");
    const { loadRemoteRn, renewRemote } = await import("../offchain/services/rsms/clients");
    const ks = localState(hre).keystore;
    if (a.msrp || (ks.exists(`rsms-rn-${a.rn}`) && loadRemoteRn(ks, a.rn))) {
      const side = await clientSide(hre);
      if (!side.keystore.exists(`rsms-rn-${a.rn}`))
        throw new UsageError(`rsms:rn:renew: no RN "${a.rn}" in this folder (rsms:rn:register --msrp first)`);
      const rn = await renewRemote({ name: a.rn, ...side, ...(a.msrp ? { msrpUrl: a.msrp } : {}) });
      const pool = rn.state.homePool;
      console.log(
        `${a.rn}: secret renewed by the MSRP service; it joins once pool ${pool}'s next filter is published (the service's tick)`,
      );
      return { remote: true, pool };
    }
    return asMsrp(hre, "rsms:rn:renew", async () => {
      const r = await rsms(hre);
      const m = r.loadMsrp("rsms:rn:renew");
      const rn = r.loadRn(m, a.rn);
      const { published } = await r.flows.renewSecret(await r.chain(), m, rn);
      r.ks.commit({ [MSRP_RECORD]: m.toRecord(), [rnRecord(a.rn)]: rn.toRecord() }, MSRP_PATCH); // both or neither, one fsync
      const pool = rn.state.homePool;
      console.log(
        `${a.rn}: secret renewed; ${published ? `pool ${pool} filter epoch ${published.epoch} published` : `it waits for pool ${pool}'s next filter (rsms:filter:publish --pool ${pool})`}`,
      );
      return { published };
    });
  });

/**
 * The registry's revocation marks follow S_RN (s22-redx F2, offchain/rsms/revocations.ts): run by a
 * command that changed S_RN, after its record is saved (the chain never gets ahead of the record),
 * on the record as saved; nothing is sent when no RN with a trust identity entered or left S_RN.
 * The MSRP service's flag sync does the same at each tick.
 */
async function revocationSync(r: Awaited<ReturnType<typeof rsms>>, task: string) {
  const m = r.loadMsrp(task);
  const { revoke, reinstate } = m.revocationChanges();
  if (revoke.length + reinstate.length === 0) return undefined;
  const { syncRevocations } = await import("../offchain/rsms/revocations");
  const out = await syncRevocations((await r.chain()).ledger, m);
  r.saveMsrp(m, task);
  for (const p of out.revoked) console.log(`trust identity ${p}: revoked on-chain (ResourcePoolRegistry.revokePid)`);
  for (const p of out.reinstated) console.log(`trust identity ${p}: reinstated on-chain (ResourcePoolRegistry.reinstatePid)`);
  for (const f of out.failed)
    console.error(`trust identity ${f.pid}: not changed on-chain (${f.error}); the MSRP service's next flag sync tries again`);
  return out;
}

task(
  "rsms:rn:flag",
  "MSRP only: puts the RN behind a pseudonym (any PID of its chain) in S_RN: not allocated, and it may not rotate; its trust identity is marked revoked on-chain",
)
  .addParam("pid", "Any pseudonym of the RN, 0x-hex (32 bytes)")
  .setAction(async (a: { pid: string }, hre) => {
    const pid = parseHex32("rsms:rn:flag", "--pid", a.pid);
    return asMsrp(hre, "rsms:rn:flag", async () => {
      const r = await rsms(hre);
      const m = r.loadMsrp("rsms:rn:flag");
      const name = lookupNamed("rsms:rn:flag", "--pid", a.pid, () => m.flagRn(pid));
      r.saveMsrp(m, "rsms:rn:flag");
      console.log(`${name}: in S_RN (suspicious under every pseudonym); rsms:rn:clear --rn ${name} after review`);
      await revocationSync(r, "rsms:rn:flag");
      return { name, suspicious: m.suspiciousRns() };
    });
  });

task("rsms:rn:clear", "MSRP only: takes an RN out of S_RN after review; its trust identity's on-chain revocation is lifted")
  .addParam("rn", "The RN's name")
  .setAction(async (a: { rn: string }, hre) => {
    return asMsrp(hre, "rsms:rn:clear", async () => {
      const r = await rsms(hre);
      const m = r.loadMsrp("rsms:rn:clear");
      if (!m.summary().rns.some((n) => n.name === a.rn))
        throw new UsageError(`rsms:rn:clear: --rn ${a.rn} is not an RN this MSRP registered`);
      m.clearSuspicious(a.rn);
      r.saveMsrp(m, "rsms:rn:clear");
      console.log(`${a.rn}: out of S_RN`);
      await revocationSync(r, "rsms:rn:clear");
      return { suspicious: m.suspiciousRns() };
    });
  });

task("rsms:trace", "MSRP only: the real identity behind a pseudonym (any PID of an RN's chain, a PID_RPM or a PID_User)")
  .addParam("pid", "The pseudonym, 0x-hex (32 bytes)")
  .setAction(async (a: { pid: string }, hre) => {
    const pid = parseHex32("rsms:trace", "--pid", a.pid);
    const r = await rsms(hre);
    const m = r.loadMsrp();
    const t = lookupNamed("rsms:trace", "--pid", a.pid, () => m.trace(pid));
    console.log(`${a.pid}: ${t.kind} "${t.name}", real identity "${t.rid}"${t.kind === "rn" ? `, pseudonym #${t.k} of its chain` : ""}`);
    return t;
  });

task(
  "rsms:status",
  "Pools, published filters and join records on-chain, and the MSRP's registrations (no secrets, no real identities)",
).setAction(async (_a, hre) => {
  const r = await rsms(hre);
  const m = r.loadMsrp();
  const { ledger } = await r.chain();
  const s = m.summary();
  console.log(`join records on-chain: ${await ledger.joinCount()}`);
  for (const p of s.rpms) {
    const onChain = await ledger.pool(p.poolId);
    console.log(
      `pool ${p.poolId}: RPM ${onChain?.rpm ?? "(not on-chain)"}, ${onChain?.epochs ?? 0} filter(s) published, ${s.pending[p.poolId] ?? 0} RN(s) pending`,
    );
  }
  for (const n of s.rns)
    console.log(
      `  ${n.name.padEnd(12)} home ${n.homePool} pool ${n.pool || "-"} k=${n.k} ${n.joined ? "joined" : "registered"} PID ${n.pid}`,
    );
  for (const u of s.users) console.log(`  user ${u.name.padEnd(7)} PID ${u.pid}`);
  return s;
});
