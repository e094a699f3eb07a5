/**
 * RSMS service-group tasks (§IV.B). The parties' group keys live in the keystore
 * (`rsms-party-<name>`), so the tasks work across invocations against `--network localhost`.
 * Without `--msrp`, the MSRP and every party are in this data folder and the protocol messages are
 * exchanged in-process between the agents, as bytes. With `--msrp <url>` (or for a party
 * registered over the network, the URL it registered with), this machine holds one party only and
 * talks to the MSRP service (`rsms:serve msrp`): `group:request`, `group:rekey` and `group:add` as
 * the user, `group:join`, `group:send` and `group:read` as any party, through the MSRP's mailbox
 * (offchain/services/rsms/group-clients.ts).
 */
import { task, types } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { GroupParty } from "../offchain/rsms/group";
import type { KeptUpdate } from "../offchain/services/rsms/group-clients";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { RefusedError, UsageError, lookupNamed } from "./lib/cli";

/**
 * A --group as the tasks print it (0x and 64 hex digits): anything else is bad input named by the
 * flag, not the codec's "fromHex: not a hex string" (s17-redA F8).
 */
function groupFlag(task: string, group: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(group))
    throw new UsageError(`${task}: --group ${group} is not a group id (0x and 64 hex digits, as group:request prints it)`);
  return group;
}

/** The line shown for a kept update of the other kind, finished before this run's request (s18-review1 M2). */
function keptLine(group: string, u: KeptUpdate, pids: (ps: Uint8Array[]) => string): string {
  const asked = u.kind === "add" ? `${u.count} RN${u.count === 1 ? "" : "s"}` : `evict ${pids(u.evict)}`;
  return `group ${group}: the kept ${u.kind} of an earlier run (its reply was lost; ${asked}) is finished first: epoch ${u.epoch} on-chain; evicted ${pids(u.evicted)}; added ${pids(u.added)}`;
}

/** A kept update of the other kind, as a task's return value. */
function keptValue(u: KeptUpdate, hex: (b: Uint8Array) => string) {
  const made = { epoch: u.epoch, evicted: u.evicted.map(hex), added: u.added.map(hex) };
  return u.kind === "add" ? { kind: u.kind, count: u.count, ...made } : { kind: u.kind, evict: u.evict.map(hex), ...made };
}

/**
 * Runs the in-process part of a command that changes the MSRP's record holding the MSRP service's
 * folder for its run (tasks/lib/msrp-record.ts withMsrpRecord; as tasks/rsms.ts).
 */
async function asMsrp<T>(hre: HardhatRuntimeEnvironment, task: string, run: () => Promise<T>): Promise<T> {
  const [{ localState }, { withMsrpRecord }] = await Promise.all([import("./lib/context"), import("./lib/msrp-record")]);
  return withMsrpRecord(task, localState(hre).dir, run);
}

/**
 * The in-process MSRP and parties of this data folder. `task`: the command will change the MSRP's
 * record: it runs holding the MSRP service's folder ({@link asMsrp}: refused beside a live service,
 * which would undo the write: s17-redA F20's shape), and the record is committed only over the stamp it was loaded at,
 * a change the chain already holds made again on the record as it stands (tasks/lib/msrp-record.ts,
 * s17-redA F21's shape; s18-fixo).
 */
async function groupContext(hre: HardhatRuntimeEnvironment, task?: string) {
  const [
    { localState, deployedAddress, operatorSigner },
    gflows,
    { Msrp },
    { ResourceNode },
    { ServiceGroupRegistry__factory },
    bytes,
    { rnGroupSecret },
    clients,
  ] = await Promise.all([
    import("./lib/context"),
    import("../offchain/rsms/group-flows"),
    import("../offchain/rsms/msrp"),
    import("../offchain/rsms/rn"),
    import("../typechain-types"),
    import("../offchain/crypto/bytes"),
    import("../offchain/rsms/params"),
    import("../offchain/services/rsms/group-clients"),
  ]);
  const { msrpRecord } = await import("./lib/msrp-record");
  const local = localState(hre);
  const ks = local.keystore;
  const record = await msrpRecord(ks, local.dir, (data) => Msrp.fromRecord(data as never));
  const signer = await operatorSigner(hre, "msrp");
  const ledger = new gflows.GroupLedger(ServiceGroupRegistry__factory.connect(await deployedAddress(hre, "ServiceGroupRegistry"), signer));
  let msrp = record.load(task);
  const loaded = new Map<string, { p: GroupParty; current: Uint8Array }>();
  /** The texts of the party records an agent was loaded from (or their absence), as loaded. */
  const partyStamps = new Map<string, string | undefined>();
  const textOf = (rec: string) => (ks.exists(rec) ? JSON.stringify(ks.stamp(rec)) : undefined);
  const stampParty = (name: string, pid: Uint8Array) => {
    for (const rec of [clients.partyRecord(name), clients.pastPartyRecord(name, pid)])
      if (!partyStamps.has(rec)) partyStamps.set(rec, textOf(rec));
  };
  /**
   * The agent of a party: the user's, or an RN's under `pid` (the PID the group lists it under; by
   * default its current one): its keystore record for that PID (offchain/services/rsms/group-clients.ts
   * loadPartyAgent: one record per (RN, PID), red-team findings H5/H6), or a new one from its keys.
   */
  const directory = (name: string, pid?: Uint8Array): GroupParty => {
    const rnName = `rsms-rn-${name}`;
    const rn = ks.exists(rnName) ? ResourceNode.fromRecord(msrp.params, ks.load(rnName)) : undefined;
    let me: Uint8Array, sk: bigint;
    if (rn) {
      me = pid ?? rn.state.pid;
      sk = rnGroupSecret(rn.state.sk, me);
    } else {
      const u = msrp.userCredentials(name);
      me = u.pid;
      sk = u.sk;
    }
    const key = `${name} ${bytes.toHex(me)}`;
    const cached = loaded.get(key);
    if (cached) return cached.p;
    stampParty(name, me);
    if (rn) stampParty(name, rn.state.pid);
    const p = clients.loadPartyAgent(ks, name, me, sk);
    loaded.set(key, { p, current: rn ? rn.state.pid : me });
    return p;
  };
  /**
   * The MSRP's commit of a group formed on-chain (the flows' `committed`, right after the chain
   * write): over the stamp the record was loaded at, or made again on the record as it stands.
   */
  const committedGroup = (g: { groupId: Uint8Array; user: string; members: { name: string; pid: Uint8Array }[] }) => {
    msrp = record.commitChained(msrp, task ?? "group", (now) => now.commitGroup(g.groupId, g.user, g.members));
  };
  /** The same for a rekey committed on-chain. */
  const committedRekey = (r: { groupId: Uint8Array; epoch: number; members: { name: string; pid: Uint8Array }[]; byFlag?: string[] }) => {
    msrp = record.commitChained(msrp, task ?? "group", (now) =>
      now.commitRekey(r.groupId, r.epoch, r.members, undefined, undefined, r.byFlag),
    );
  };
  /**
   * Refuses, having written nothing, when a party record an agent was loaded from changed since
   * (another command of this folder at once): its write would drop that command's (a sender's
   * sequence number, a key) (s18-fixo).
   */
  const partiesUnchanged = (t: string) => {
    for (const [rec, text] of partyStamps)
      if (textOf(rec) !== text)
        throw new RefusedError(
          `${t}: the party record ${rec} changed meanwhile (another command wrote it): nothing of this run was kept; run again`,
        );
  };
  /** The parties' records (the MSRP's is committed by `committed*`, or unchanged). */
  const save = () => {
    for (const { p, current } of loaded.values()) clients.savePartyAgent(ks, p, current);
    for (const rec of partyStamps.keys()) partyStamps.set(rec, textOf(rec)); // as this command left them
  };
  return {
    ks,
    ledger,
    get msrp() {
      return msrp;
    },
    directory,
    save,
    partiesUnchanged,
    committedGroup,
    committedRekey,
    gflows,
    bytes,
    isPastPartyRecord: clients.isPastPartyRecord,
  };
}

/** A party's machine: its keystore and the deployment read from the chain (no account needed). */
async function groupClient(hre: HardhatRuntimeEnvironment) {
  const [{ localState, deployedAddress }, { attach }, { RsmsLedger }, { GroupLedger }, typechain, clients, bytes] = await Promise.all([
    import("./lib/context"),
    import("../offchain/chain/contracts"),
    import("../offchain/rsms/ledger"),
    import("../offchain/rsms/group-flows"),
    import("../typechain-types"),
    import("../offchain/services/rsms/group-clients"),
    import("../offchain/crypto/bytes"),
  ]);
  const registry = await deployedAddress(hre, "ResourcePoolRegistry");
  const groupRegistry = attach(
    typechain.ServiceGroupRegistry__factory,
    await deployedAddress(hre, "ServiceGroupRegistry"),
    hre.ethers.provider,
  );
  const dep = {
    chainId: (await hre.ethers.provider.getNetwork()).chainId,
    registry,
    ledger: new RsmsLedger(attach(typechain.ResourcePoolRegistry__factory, registry, hre.ethers.provider)),
    groups: new GroupLedger(groupRegistry),
  };
  const keystore = localState(hre).keystore;
  /** --msrp, or the URL the party registered with */
  const msrpOf = (task: string, flag: string, name: string, given?: string): string => {
    const url = given ?? lookupNamed(task, flag, name, () => clients.localParty(keystore, name)).msrpUrl;
    if (!url) throw new UsageError(`${task}: no MSRP URL for "${name}": give --msrp <url>`);
    return url;
  };
  const fingerprint = (key: Uint8Array) => bytes.toHex(keccak_256(key)).slice(0, 18);
  return { keystore, dep, groupRegistry, clients, bytes, msrpOf, fingerprint };
}

task(
  "group:request",
  "A user requests service: the MSRP allocates N joined RNs, deals the Shamir sharing, records the group; the parties authenticate and agree on the key",
)
  .addParam("user", "A registered user (rsms:user:register)")
  .addParam("size", "N, the number of RNs", undefined, types.int)
  .addOptionalParam("msrp", "The MSRP service's URL (default for a user registered with --msrp: the URL she registered with)")
  .addFlag(
    "abandon",
    "Through the MSRP service: drop the group request this folder keeps pending (a lasting 409 resent on every run) once the chain shows no group with its id and the service, sent it once more, refuses it again; if the service answers it, it took effect and is completed instead; nothing is dropped if the chain shows it or the service cannot be reached",
  )
  .setAction(async (a: { user: string; size: number; msrp?: string; abandon: boolean }, hre) => {
    if (!Number.isInteger(a.size) || a.size < 1) throw new UsageError(`group:request: --size must be a positive integer, got ${a.size}`);
    const { localState } = await import("./lib/context");
    if (a.msrp || localState(hre).keystore.exists(`rsms-user-${a.user}`)) {
      const k = await groupClient(hre);
      const msrpUrl = k.msrpOf("group:request", "--user", a.user, a.msrp);
      if (a.abandon) {
        const line = await k.clients.abandonGroupRequest({ msrpUrl, user: a.user, size: a.size, keystore: k.keystore, dep: k.dep });
        console.log(line);
        return { abandoned: line };
      }
      const t0 = Date.now();
      const g = await k.clients.requestGroupRemote({ msrpUrl, user: a.user, size: a.size, keystore: k.keystore, dep: k.dep });
      const gid = k.bytes.toHex(g.groupId);
      console.log(
        `group ${gid} formed for ${a.user} by ${msrpUrl} with ${g.pids.length - 1} RN(s) in ${Date.now() - t0} ms; the RNs take part with \`group:join\``,
      );
      const r = await k.clients.takePart({ msrpUrl, name: a.user, groupId: g.groupId, keystore: k.keystore, dep: k.dep });
      console.log(
        `  ${a.user} agreed on the epoch-${r.epoch} key with ${r.parties - 1} RN(s) (key fingerprint ${k.fingerprint(r.key)}) in ${Date.now() - t0} ms`,
      );
      return { groupId: gid, members: g.pids.slice(1).map(k.bytes.toHex), epoch: r.epoch, fingerprint: k.fingerprint(r.key) };
    }
    if (a.abandon)
      throw new UsageError("group:request: --abandon is for a request kept for the MSRP service (a user registered with --msrp)");
    return asMsrp(hre, "group:request", async () => {
      const c = await groupContext(hre, "group:request");
      lookupNamed("group:request", "--user", a.user, () => c.msrp.userCredentials(a.user));
      const g = await c.gflows.formServiceGroup(c.ledger, c.msrp, c.directory, { user: a.user, size: a.size, committed: c.committedGroup });
      c.save();
      console.log(
        `group ${c.bytes.toHex(g.groupId)} formed for ${a.user}: ${g.parties
          .slice(1)
          .map((p) => p.name)
          .join(", ")}; formGroup ${g.tx.gasUsed.toLocaleString("en-US")} gas`,
      );
      console.log(
        `  all ${g.parties.length} parties derived the same epoch-0 key; bytes per party: allocation ${g.wire.allocationPerParty}, membership ${g.wire.membershipPerParty}, key shares ${g.wire.keySharesPerParty}`,
      );
      return { groupId: c.bytes.toHex(g.groupId), members: g.parties.slice(1).map((p) => p.name) };
    });
  });

task(
  "group:rekey",
  "Renews a group's key: evicts members (by PID), adds joined RNs (by name), commits the new epoch on-chain and delivers the new key (over the network, a key update kept from an earlier run whose reply was lost is resumed first: a kept rekey answers this one)",
)
  .addParam("group", "The group id (0x-hex)")
  .addOptionalParam("evict", "Comma-separated PIDs to evict", "")
  .addOptionalParam(
    "add",
    "Comma-separated RN names to add (in-process only; over the network the MSRP picks as many fresh RNs as it evicts)",
    "",
  )
  .addOptionalParam(
    "user",
    "Over the network: the group's user, who asks the MSRP service to evict the members the trust layer flagged (its flag sync makes this update by itself unless it runs with --auto-evict off; once it has, this refuses NOTHING_TO_EVICT)",
  )
  .addOptionalParam("msrp", "The MSRP service's URL (default: the URL --user registered with)")
  .setAction(async (a: { group: string; evict: string; add: string; user?: string; msrp?: string }, hre) => {
    if (a.user || a.msrp) {
      if (!a.user) throw new UsageError("group:rekey: --msrp needs --user (the group's user asks for the update)");
      if (a.add)
        throw new UsageError("group:rekey: --add is for the in-process MSRP; the MSRP service adds as many fresh RNs as it evicts");
      const k = await groupClient(hre);
      const gid = k.bytes.fromHex(groupFlag("group:rekey", a.group), 32);
      const evict = a.evict
        .split(",")
        .filter(Boolean)
        .map((p) => k.bytes.fromHex(p.trim(), 32));
      const msrpUrl = k.msrpOf("group:rekey", "--user", a.user, a.msrp);
      const t0 = Date.now();
      const r = await k.clients.rekeyRemote({ msrpUrl, user: a.user, groupId: gid, evict, keystore: k.keystore, dep: k.dep });
      const pids = (ps: Uint8Array[]) => ps.map(k.bytes.toHex).join(", ") || "none";
      if (r.earlier) console.log(keptLine(a.group, r.earlier, pids));
      if (r.resumed)
        console.log(
          `group ${a.group}: the kept rekey of an earlier run (its reply was lost; evict ${pids(r.evict)}) is finished; your rekey (evict ${pids(evict)}) was not sent: run again for a new one`,
        );
      console.log(
        `group ${a.group}: epoch ${r.epoch} on-chain; evicted ${r.evicted.map(k.bytes.toHex).join(", ")}; added ${r.added.map(k.bytes.toHex).join(", ") || "none"} (${Date.now() - t0} ms); the parties fetch the new key with \`group:join\``,
      );
      return {
        epoch: r.epoch,
        evicted: r.evicted.map(k.bytes.toHex),
        added: r.added.map(k.bytes.toHex),
        resumed: r.resumed,
        ...(r.earlier ? { earlier: keptValue(r.earlier, k.bytes.toHex) } : {}),
      };
    }
    return asMsrp(hre, "group:rekey", async () => {
      const c = await groupContext(hre, "group:rekey");
      const gid = c.bytes.fromHex(groupFlag("group:rekey", a.group), 32);
      lookupNamed("group:rekey", "--group", a.group, () => c.msrp.groupInfo(gid));
      const evict = a.evict
        .split(",")
        .filter(Boolean)
        .map((p) => c.bytes.fromHex(p.trim(), 32));
      const add = a.add
        .split(",")
        .map((n) => n.trim())
        .filter(Boolean);
      const r = await c.gflows.rekeyServiceGroup(c.ledger, c.msrp, c.directory, { groupId: gid, evict, add, committed: c.committedRekey });
      c.save(); // the parties that took the new key (the MSRP's commit was saved right after the chain write)
      if (r.undelivered.length > 0)
        throw new RefusedError(
          `group:rekey: epoch ${r.epoch} is on-chain and saved, but ${r.undelivered.map((u) => `${u.name} (${u.reason})`).join(", ")} did not take its key`,
        );
      console.log(
        `group ${a.group}: epoch ${r.epoch}, members ${r.parties
          .slice(1)
          .map((p) => p.name)
          .join(", ")}; rekey ${r.tx.gasUsed.toLocaleString("en-US")} gas, ${r.bytesPerParty} bytes per party`,
      );
      return { epoch: r.epoch, members: r.parties.slice(1).map((p) => p.name) };
    });
  });

task(
  "group:send",
  "Sends a service message on a group's AEAD channel: over the network (a party registered with --msrp) through the MSRP's mailbox, which the others read with `group:read`; in-process, every party in the keystore tries to open it",
)
  .addParam("group", "The group id (0x-hex)")
  .addParam("from", "The sending party (the user or an RN)")
  .addParam("msg", "The message")
  .addOptionalParam("msrp", "The MSRP service's URL (default for a party registered over the network: the URL it registered with)")
  .setAction(async (a: { group: string; from: string; msg: string; msrp?: string }, hre) => {
    const { localState } = await import("./lib/context");
    const ks = localState(hre).keystore;
    if (a.msrp || ks.exists(`rsms-user-${a.from}`) || !ks.exists("rsms-msrp")) {
      const k = await groupClient(hre);
      const msrpUrl = k.msrpOf("group:send", "--from", a.from, a.msrp);
      const gid = k.bytes.fromHex(groupFlag("group:send", a.group), 32);
      const r = await k.clients.sendRemote({
        msrpUrl,
        name: a.from,
        groupId: gid,
        message: new TextEncoder().encode(a.msg),
        keystore: k.keystore,
        dep: k.dep,
      });
      console.log(
        `${a.from} -> group ${a.group.slice(0, 10)}… (epoch ${r.epoch}, ${r.bytes} bytes): message #${r.index} of the epoch at ${msrpUrl}`,
      );
      if (r.dropped)
        console.log(
          `  an earlier message of epoch ${r.dropped.epoch}, left unsent, was dropped (${r.dropped.reason}): send it again if it still matters`,
        );
      return r;
    }
    const c = await groupContext(hre);
    const gid = c.bytes.fromHex(groupFlag("group:send", a.group), 32);
    const info = lookupNamed("group:send", "--group", a.group, () => c.msrp.groupInfo(gid));
    // each party under the PID the group lists it under (an RN may have re-authenticated since)
    const pidOf = (name: string) => info.members.find((m) => m.name === name)?.pid;
    const sender = lookupNamed("group:send", "--from", a.from, () => c.directory(a.from, pidOf(a.from)));
    const ct = sender.seal(gid, new TextEncoder().encode(a.msg));
    c.partiesUnchanged("group:send"); // the sender's record as loaded: else its sequence number would be spent twice
    c.save(); // the sender's sequence number
    const names = new Set([
      info.user,
      ...info.members.map((m) => m.name),
      ...c.ks
        .list()
        .filter((n) => n.startsWith("rsms-party-") && !c.isPastPartyRecord(n))
        .map((n) => n.slice(11)),
    ]);
    const results: Record<string, string> = {};
    for (const name of names) {
      if (name === a.from) continue;
      try {
        results[name] = `read "${new TextDecoder().decode(c.directory(name, pidOf(name)).open(ct).plaintext)}"`;
      } catch (e) {
        results[name] = `cannot read (${(e as { failure?: string }).failure ?? (e as Error).message})`;
      }
    }
    c.partiesUnchanged("group:send");
    c.save(); // the receivers' last sequence numbers
    console.log(`${a.from} -> group ${a.group.slice(0, 10)}… (epoch ${sender.currentEpoch(gid)}, ${ct.length} bytes)`);
    for (const [n, r] of Object.entries(results)) console.log(`  ${n.padEnd(12)} ${r}`);
    return { bytes: ct.length, results };
  });

task(
  "group:read",
  "A party reads the group's service messages it has not read yet through the MSRP service's mailbox and opens them with the epoch key: first what is left of the retired epochs it was a party of (a key update drops nothing; the key of one it missed is fetched from the mailbox, or its messages are reported NO_KEY), then its current epoch",
)
  .addParam("group", "The group id (0x-hex)")
  .addParam("party", "The RN or user in this data folder (registered with --msrp)")
  .addOptionalParam("msrp", "The MSRP service's URL (default: the URL the party registered with)")
  .setAction(async (a: { group: string; party: string; msrp?: string }, hre) => {
    const k = await groupClient(hre);
    const msrpUrl = k.msrpOf("group:read", "--party", a.party, a.msrp);
    lookupNamed("group:read", "--party", a.party, () => k.clients.localParty(k.keystore, a.party));
    const r = await k.clients.readRemote({
      msrpUrl,
      name: a.party,
      groupId: k.bytes.fromHex(groupFlag("group:read", a.group), 32),
      keystore: k.keystore,
      dep: k.dep,
    });
    console.log(
      `${a.party}: group ${a.group.slice(0, 10)}… epoch ${r.epoch}, ${r.messages.length} new message(s)${r.refused.length ? `, ${r.refused.length} refused` : ""}`,
    );
    const at = (m: { epoch: number; index: number }) => (m.epoch === r.epoch ? `#${m.index}` : `epoch ${m.epoch} #${m.index}`);
    for (const m of r.messages)
      console.log(`  ${at(m)} from ${m.sender.slice(0, 10)}… (seq ${m.seq}): "${new TextDecoder().decode(m.plaintext)}"`);
    for (const m of r.refused) console.log(`  ${at(m)} refused: ${m.reason}`);
    return {
      epoch: r.epoch,
      messages: r.messages.map((m) => ({ epoch: m.epoch, index: m.index, sender: m.sender, text: new TextDecoder().decode(m.plaintext) })),
      refused: r.refused,
    };
  });

task(
  "group:add",
  "The group's user asks the MSRP service to add fresh joined RNs to her group (members flagged or in S_RN are evicted and replaced by the same update): a new epoch on-chain and a new key, which every party opens with `group:join`; a key update kept from an earlier run whose reply was lost is resumed first (a kept add answers this one)",
)
  .addParam("group", "The group id (0x-hex)")
  .addParam("user", "The group's user (registered with --msrp)")
  .addOptionalParam("count", "How many RNs to add (1 to 16)", 1, types.int)
  .addOptionalParam("msrp", "The MSRP service's URL (default: the URL --user registered with)")
  .setAction(async (a: { group: string; user: string; count: number; msrp?: string }, hre) => {
    if (!Number.isInteger(a.count) || a.count < 1 || a.count > 16)
      throw new UsageError(`group:add: --count must be an integer from 1 to 16, got ${a.count}`);
    const k = await groupClient(hre);
    const msrpUrl = k.msrpOf("group:add", "--user", a.user, a.msrp);
    const t0 = Date.now();
    const r = await k.clients.addRemote({
      msrpUrl,
      user: a.user,
      groupId: k.bytes.fromHex(groupFlag("group:add", a.group), 32),
      count: a.count,
      keystore: k.keystore,
      dep: k.dep,
    });
    const pids = (ps: Uint8Array[]) => ps.map(k.bytes.toHex).join(", ") || "none";
    if (r.earlier) console.log(keptLine(a.group, r.earlier, pids));
    if (r.resumed)
      console.log(
        `group ${a.group}: the kept add of an earlier run (its reply was lost; ${r.count} RN${r.count === 1 ? "" : "s"}) is finished; your add of ${a.count} was not sent: run again for a new one`,
      );
    console.log(
      `group ${a.group}: epoch ${r.epoch} on-chain; added ${r.added.map(k.bytes.toHex).join(", ")}, evicted ${r.evicted.map(k.bytes.toHex).join(", ") || "none"} (${Date.now() - t0} ms); the parties fetch the new key with \`group:join\``,
    );
    return {
      epoch: r.epoch,
      added: r.added.map(k.bytes.toHex),
      evicted: r.evicted.map(k.bytes.toHex),
      resumed: r.resumed,
      ...(r.earlier ? { earlier: keptValue(r.earlier, k.bytes.toHex) } : {}),
    };
  });

task(
  "group:status",
  "A group's on-chain state (members, epoch, Q) and the MSRP's view of its members, with the last key update the MSRP service's flag sync made by itself and, while that update fails, its back-off (failures in a row, last error, next try; a chain refusal that trying again will not change is said so) (run in the MSRP's folder)",
)
  .addParam("group", "The group id (0x-hex)")
  .setAction(async (a: { group: string }, hre) => {
    const c = await groupContext(hre);
    const gid = c.bytes.fromHex(groupFlag("group:status", a.group), 32);
    const info = lookupNamed("group:status", "--group", a.group, () => c.msrp.groupInfo(gid));
    const v = await c.ledger.view(gid);
    console.log(`group ${a.group}: epoch ${v.epoch}, ${v.members} RN member(s) on-chain, user ${info.user}`);
    for (const m of info.members)
      console.log(`  ${m.name.padEnd(12)} ${c.bytes.toHex(m.pid)} ${(await c.ledger.isMember(gid, m.pid)) ? "member" : "NOT on-chain"}`);
    // in the MSRP service's folder: the last update its flag sync made by itself (rsms-group.md §8)
    if (info.lastAuto)
      console.log(
        `  epoch ${info.lastAuto.epoch}: automatic update by the MSRP's flag sync, evicted RN ${info.lastAuto.evicted.join(", ") || "none"}`,
      );
    // its automatic update failing: the back-off (rsms-group.md §8; cleared by an update of the group)
    const r = info.autoRetry;
    if (r)
      console.log(
        `  automatic update ${r.refused ? "refused by the chain (trying again will not change it)" : "failing"}: ${r.failures} failure(s) in a row, last: ${r.error}; next try at the first flag sync from ${new Date(r.next).toISOString()}`,
      );
    return {
      epoch: v.epoch,
      members: info.members.map((m) => m.name),
      pids: info.members.map((m) => c.bytes.toHex(m.pid)),
      ...(info.lastAuto ? { lastAuto: info.lastAuto } : {}),
      ...(r ? { autoRetry: r } : {}),
    };
  });

task(
  "group:join",
  "A party (an RN, or the user) takes part in its service groups through the MSRP service's mailbox: it checks its allocation against the chain, runs the membership and key rounds, or opens the key of a new epoch (and says when that epoch is an automatic update of the MSRP's flag sync, with the PIDs it evicted)",
)
  .addParam("party", "The RN or user in this data folder (registered with --msrp)")
  .addOptionalParam(
    "group",
    "The group id (0x-hex); default: every group the chain lists the party in now, under any of its PIDs (an RN keeps its groups when it re-authenticates)",
  )
  .addOptionalParam("msrp", "The MSRP service's URL (default: the URL the party registered with)")
  .addOptionalParam("timeout", "How long to wait for the other parties' messages, in seconds", 300, types.int)
  .setAction(async (a: { party: string; group?: string; msrp?: string; timeout: number }, hre) => {
    const k = await groupClient(hre);
    const msrpUrl = k.msrpOf("group:join", "--party", a.party, a.msrp);
    const me = lookupNamed("group:join", "--party", a.party, () => k.clients.localParty(k.keystore, a.party));
    // without --group: the groups it is still a member of (an eviction ends a membership), under
    // any of its PIDs (a re-authentication does not), read from the group events without naming a PID
    const gids = a.group
      ? [k.bytes.fromHex(groupFlag("group:join", a.group), 32)]
      : await k.clients.currentGroupsOf(k.keystore, a.party, k.groupRegistry);
    if (gids.length === 0) throw new RefusedError(`group:join: the chain lists ${a.party} (${k.bytes.toHex(me.pid)}) in no group`);
    const out: { groupId: string; epoch: number; fingerprint: string; already: boolean; auto?: { evicted: string[] } }[] = [];
    for (const g of gids) {
      const t0 = Date.now();
      const r = await k.clients.takePart({
        msrpUrl,
        name: a.party,
        groupId: g,
        keystore: k.keystore,
        dep: k.dep,
        timeoutMs: a.timeout * 1000,
      });
      const fp = k.fingerprint(r.key);
      console.log(
        `${a.party}: group ${k.bytes.toHex(g)} epoch ${r.epoch}, ${r.parties} parties, key fingerprint ${fp}${r.already ? " (already held)" : ` (${Date.now() - t0} ms)`}`,
      );
      // an epoch the MSRP's flag sync made by itself (its user did not ask): said, with the PIDs it evicted
      const evicted = r.auto?.map(k.bytes.toHex);
      if (evicted)
        console.log(
          `  epoch ${r.epoch} is an automatic update by the MSRP's flag sync (the trust layer flagged a member): evicted ${evicted.join(", ") || "none"}`,
        );
      out.push({
        groupId: k.bytes.toHex(g),
        epoch: r.epoch,
        fingerprint: fp,
        already: r.already,
        ...(evicted ? { auto: { evicted } } : {}),
      });
    }
    return out;
  });
