/**
 * RSMS service-group tasks (§IV.B). The parties' group keys live in the keystore
 * (`rsms-party-<name>`), so the tasks work across invocations against `--network localhost`;
 * the protocol messages are exchanged in-process between the agents, as bytes.
 */
import { task, types } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { GroupParty } from "../offchain/protocols/rsms/group";
import { lookupNamed } from "./lib/cli";

const partyRecord = (name: string) => `rsms-party-${name}`;

async function groupContext(hre: HardhatRuntimeEnvironment) {
  const [
    { localState, deployedAddress, operatorSigner },
    gflows,
    { Msrp },
    { GroupParty: Party },
    { ResourceNode },
    { ServiceGroupRegistry__factory },
    bytes,
  ] = await Promise.all([
    import("./lib/context"),
    import("../offchain/protocols/rsms/group-flows"),
    import("../offchain/protocols/rsms/msrp"),
    import("../offchain/protocols/rsms/group"),
    import("../offchain/protocols/rsms/rn"),
    import("../typechain-types"),
    import("../offchain/crypto/bytes"),
  ]);
  const { keystore: ks } = localState(hre);
  const signer = await operatorSigner(hre, "msrp");
  const ledger = new gflows.GroupLedger(ServiceGroupRegistry__factory.connect(await deployedAddress(hre, "ServiceGroupRegistry"), signer));
  const msrp = Msrp.fromRecord(ks.load("rsms-msrp") as never);
  const loaded = new Map<string, GroupParty>();
  /** The agent of a party: its keystore record, or a new one from the RN's or user's keys. */
  const directory = (name: string): GroupParty => {
    const cached = loaded.get(name);
    if (cached) return cached;
    let p: GroupParty;
    const rnName = `rsms-rn-${name}`;
    const current = ks.exists(rnName) ? ResourceNode.fromRecord(msrp.params, ks.load(rnName)).groupParty() : undefined;
    if (ks.exists(partyRecord(name))) {
      p = Party.fromRecord(ks.load(partyRecord(name)));
      // An RN that re-authenticated since has a new PID: it joins new groups under it.
      if (current && !bytes.equalBytes(current.pid, p.pid)) p = current;
    } else if (current) p = current;
    else {
      const u = msrp.userCredentials(name);
      p = new Party(name, u.pid, u.sk);
    }
    loaded.set(name, p);
    return p;
  };
  const save = () => {
    ks.update("rsms-msrp", msrp.toRecord());
    for (const [name, p] of loaded) (ks.exists(partyRecord(name)) ? ks.update : ks.create).call(ks, partyRecord(name), p.toRecord());
  };
  return { ks, ledger, msrp, directory, save, gflows, bytes };
}

task(
  "group:request",
  "A user requests service: the MSRP allocates N joined RNs, deals the Shamir sharing, records the group; the parties authenticate and agree on the key",
)
  .addParam("user", "A registered user (rsms:user:register)")
  .addParam("size", "N, the number of RNs", undefined, types.int)
  .setAction(async (a: { user: string; size: number }, hre) => {
    const c = await groupContext(hre);
    lookupNamed("group:request", "--user", a.user, () => c.msrp.userCredentials(a.user));
    const g = await c.gflows.formServiceGroup(c.ledger, c.msrp, c.directory, { user: a.user, size: a.size });
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

task(
  "group:rekey",
  "Renews a group's key: evicts members (by PID), adds joined RNs (by name), commits the new epoch on-chain and delivers the new key",
)
  .addParam("group", "The group id (0x-hex)")
  .addOptionalParam("evict", "Comma-separated PIDs to evict", "")
  .addOptionalParam("add", "Comma-separated RN names to add", "")
  .setAction(async (a: { group: string; evict: string; add: string }, hre) => {
    const c = await groupContext(hre);
    const gid = c.bytes.fromHex(a.group, 32);
    lookupNamed("group:rekey", "--group", a.group, () => c.msrp.groupInfo(gid));
    const evict = a.evict
      .split(",")
      .filter(Boolean)
      .map((p) => c.bytes.fromHex(p.trim(), 32));
    const add = a.add
      .split(",")
      .map((n) => n.trim())
      .filter(Boolean);
    const r = await c.gflows.rekeyServiceGroup(c.ledger, c.msrp, c.directory, { groupId: gid, evict, add });
    c.save();
    console.log(
      `group ${a.group}: epoch ${r.epoch}, members ${r.parties
        .slice(1)
        .map((p) => p.name)
        .join(", ")}; rekey ${r.tx.gasUsed.toLocaleString("en-US")} gas, ${r.bytesPerParty} bytes per party`,
    );
    return { epoch: r.epoch, members: r.parties.slice(1).map((p) => p.name) };
  });

task("group:send", "Sends a service message on a group's AEAD channel; every party in the keystore tries to open it")
  .addParam("group", "The group id (0x-hex)")
  .addParam("from", "The sending party (the user or an RN)")
  .addParam("msg", "The message")
  .setAction(async (a: { group: string; from: string; msg: string }, hre) => {
    const c = await groupContext(hre);
    const gid = c.bytes.fromHex(a.group, 32);
    const info = lookupNamed("group:send", "--group", a.group, () => c.msrp.groupInfo(gid));
    const sender = lookupNamed("group:send", "--from", a.from, () => c.directory(a.from));
    const ct = sender.seal(gid, new TextEncoder().encode(a.msg));
    c.save(); // the sender's sequence number
    const names = new Set([
      info.user,
      ...info.members.map((m) => m.name),
      ...c.ks
        .list()
        .filter((n) => n.startsWith("rsms-party-"))
        .map((n) => n.slice(11)),
    ]);
    const results: Record<string, string> = {};
    for (const name of names) {
      if (name === a.from) continue;
      try {
        results[name] = `read "${new TextDecoder().decode(c.directory(name).open(ct).plaintext)}"`;
      } catch (e) {
        results[name] = `cannot read (${(e as { failure?: string }).failure ?? (e as Error).message})`;
      }
    }
    c.save(); // the receivers' last sequence numbers
    console.log(`${a.from} -> group ${a.group.slice(0, 10)}… (epoch ${c.directory(a.from).currentEpoch(gid)}, ${ct.length} bytes)`);
    for (const [n, r] of Object.entries(results)) console.log(`  ${n.padEnd(12)} ${r}`);
    return { bytes: ct.length, results };
  });

task("group:status", "A group's on-chain state (members, epoch, Q) and the MSRP's view of its members")
  .addParam("group", "The group id (0x-hex)")
  .setAction(async (a: { group: string }, hre) => {
    const c = await groupContext(hre);
    const gid = c.bytes.fromHex(a.group, 32);
    const info = lookupNamed("group:status", "--group", a.group, () => c.msrp.groupInfo(gid));
    const v = await c.ledger.view(gid);
    console.log(`group ${a.group}: epoch ${v.epoch}, ${v.members} RN member(s) on-chain, user ${info.user}`);
    for (const m of info.members)
      console.log(`  ${m.name.padEnd(12)} ${c.bytes.toHex(m.pid)} ${(await c.ledger.isMember(gid, m.pid)) ? "member" : "NOT on-chain"}`);
    return { epoch: v.epoch, members: info.members.map((m) => m.name), pids: info.members.map((m) => c.bytes.toHex(m.pid)) };
  });
