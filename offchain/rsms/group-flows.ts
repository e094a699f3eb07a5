/**
 * RSMS §IV.B end to end: the MSRP forms a service group for a user, the parties authenticate
 * each other and agree on the key, and the MSRP renews the key on eviction or addition. Messages
 * are the serialized bytes; those addressed to RNs are relayed by their pool's RPM, as in Fig. 4.
 */
import type { ContractTransactionResponse } from "ethers";
import type { ServiceGroupRegistry } from "../../typechain-types";
import { fromHex, toHex } from "../crypto/bytes";
import { Point, decodePoint, encodePoint } from "../crypto/group";
import { AgentStateError } from "./errors";
import { GroupChainView, GroupParty, GroupPartyInfo } from "./group";
import type { TxInfo } from "./ledger";
import type { Msrp } from "./msrp";
import { minedReceipt } from "../chain/mined";

async function mined(tx: Promise<ContractTransactionResponse>): Promise<TxInfo> {
  const r = await minedReceipt(tx); // a dropped transaction ends the wait (offchain/chain/mined.ts)
  return { hash: r.hash, gasUsed: r.gasUsed, block: r.blockNumber };
}

/** The ServiceGroupRegistry as the agents use it. */
export class GroupLedger {
  readonly registry: ServiceGroupRegistry;
  constructor(registry: ServiceGroupRegistry) {
    this.registry = registry;
  }

  /** The chain's view of a group (what every party checks its messages against). */
  async view(groupId: Uint8Array): Promise<GroupChainView & { members: number; userPid: Uint8Array }> {
    const g = await this.registry.group(toHex(groupId));
    if (/^0x0+$/.test(g.userPid)) throw new AgentStateError(`GroupLedger.view: no group ${toHex(groupId)} on-chain`);
    const Q = decodePoint(fromHex(await this.registry.groupKeyCommitment(toHex(groupId)), 33));
    return {
      epoch: Number(g.epoch),
      Q,
      commitmentsHash: fromHex(g.commitments, 32),
      members: Number(g.members),
      userPid: fromHex(g.userPid, 32),
    };
  }

  /**
   * Whether the chain holds a group under this id (its user's PID is set): a read, so that a service
   * can refuse an id the chain already settled before it deals or journals anything (s24-rtr R3).
   * A node that cannot be read throws; it is never taken for "no group".
   * @param groupId - the group's 32-byte id
   * @returns true when `formGroup` was mined for the id
   */
  async exists(groupId: Uint8Array): Promise<boolean> {
    const g = await this.registry.group(toHex(groupId));
    return !/^0x0+$/.test(g.userPid);
  }

  /**
   * Q of an update epoch as the chain recorded it (its `GroupRekeyed` event, filtered by group id and
   * epoch: no PID is named), for a party taking the key of a retired epoch it missed (s18-redg G3).
   * @throws AgentStateError when the chain has no update of that epoch for the group
   */
  async keyAt(groupId: Uint8Array, epoch: number): Promise<{ epoch: number; Q: Point }> {
    const logs = await this.registry.queryFilter(this.registry.filters.GroupRekeyed(toHex(groupId), epoch));
    if (logs.length !== 1)
      throw new AgentStateError(`GroupLedger.keyAt: ${logs.length} update(s) of group ${toHex(groupId)} at epoch ${epoch} on-chain`);
    return { epoch, Q: decodePoint(fromHex(logs[0].args.q, 33)) };
  }

  formGroup(groupId: Uint8Array, userPid: Uint8Array, members: Uint8Array[], Q: Point, commitmentsHash: Uint8Array): Promise<TxInfo> {
    return mined(
      this.registry.formGroup(toHex(groupId), toHex(userPid), members.map(toHex), toHex(encodePoint(Q)), toHex(commitmentsHash)),
    );
  }

  rekey(
    groupId: Uint8Array,
    epoch: number,
    evict: Uint8Array[],
    add: Uint8Array[],
    Q: Point,
    commitmentsHash: Uint8Array,
  ): Promise<TxInfo> {
    return mined(
      this.registry.rekey(toHex(groupId), epoch, evict.map(toHex), add.map(toHex), toHex(encodePoint(Q)), toHex(commitmentsHash)),
    );
  }

  isMember(groupId: Uint8Array, pid: Uint8Array): Promise<boolean> {
    return this.registry.isMember(toHex(groupId), toHex(pid));
  }
}

/** Bytes each party sent in a phase (for Table III). */
export type GroupWire = { allocationPerParty: number; membershipPerParty: number; keySharesPerParty: number };

/**
 * Looks up the agent of each party by name and, for an RN, the PID the group lists it under (an RN
 * that re-authenticated since it was allocated takes part under that PID: red-team finding H5).
 */
export type PartyDirectory = (name: string, pid?: Uint8Array) => GroupParty;

/**
 * Service request through group key agreement (§IV.B.2.a-b).
 * @param directory - the parties' agents (the user and the RNs), by name
 * @returns the group id, the parties in order (user first), the epoch key each derived, the formation transaction
 */
export async function formServiceGroup(
  ledger: GroupLedger,
  msrp: Msrp,
  directory: PartyDirectory,
  a: {
    user: string;
    size: number;
    groupId?: Uint8Array;
    /** saves the MSRP's commit; given the commit's arguments, to make it again on a record another command changed meanwhile */
    committed?: (c: { groupId: Uint8Array; user: string; members: { name: string; pid: Uint8Array }[] }) => void;
  },
): Promise<{ groupId: Uint8Array; parties: GroupParty[]; keys: Uint8Array[]; tx: TxInfo; wire: GroupWire }> {
  const { dealing, parties: infos } = msrp.requestGroup(a.user, a.size, a.groupId);
  const members = infos.slice(1);
  const tx = await ledger.formGroup(
    dealing.groupId,
    infos[0].pid,
    members.map((m) => m.pid),
    dealing.Q,
    dealing.commitmentsHash,
  );
  msrp.commitGroup(dealing.groupId, a.user, members);
  a.committed?.({ groupId: dealing.groupId, user: a.user, members }); // the MSRP's record saved at the chain's state before any party runs (red-team finding H5)
  const parties = infos.map((p, i) => (i === 0 ? directory(p.name) : directory(p.name, p.pid)));
  const { keys, wire } = await authenticateGroup(ledger, dealing.groupId, parties, dealing.allocations);
  return { groupId: dealing.groupId, parties, keys, tx, wire: { allocationPerParty: dealing.allocations[0].length, ...wire } };
}

/**
 * Group membership authentication and key agreement among the parties, given their allocations.
 * Every message goes through its encoder/decoder. Throws the first party's failure (naming the
 * culprits) and leaves no key derived anywhere if any check fails.
 * @returns the epoch key derived by each party, in order, and the bytes each party sent
 */
export async function authenticateGroup(
  ledger: GroupLedger,
  groupId: Uint8Array,
  parties: GroupParty[],
  allocations: Uint8Array[],
): Promise<{ keys: Uint8Array[]; wire: Omit<GroupWire, "allocationPerParty"> }> {
  const view = await ledger.view(groupId);
  const membership = parties.map((p, i) => p.acceptAllocation(allocations[i], view));
  parties.forEach((p, i) =>
    p.verifyMembership(
      groupId,
      membership.filter((_, j) => j !== i),
    ),
  );
  const shares = parties.map((p) => p.keyShares(groupId));
  const keys = parties.map((p, i) =>
    p.acceptKeyShares(
      groupId,
      shares.filter((_, j) => j !== i).map((m) => m.get(i)!),
    ),
  );
  return {
    keys,
    wire: {
      membershipPerParty: membership[0].length * (parties.length - 1),
      keySharesPerParty: [...shares[0].values()].reduce((n, m) => n + m.length, 0),
    },
  };
}

/**
 * Refuses a rekey that some party did not take: its epoch is on-chain and the MSRP's commit saved,
 * but each party named holds no key of it (a demo, an eviction or a task that went on would report
 * a group that is not whole; session 16's final read: the demo ignored `undelivered`).
 * @param r - a rekey's epoch and the parties whose delivery failed ({@link rekeyServiceGroup})
 * @param caller - the caller's name, which starts the message
 * @throws AgentStateError naming each party that did not take the key, and why
 */
export function requireDelivered(r: { epoch: number; undelivered: readonly { name: string; reason: string }[] }, caller: string): void {
  if (r.undelivered.length > 0)
    throw new AgentStateError(
      `${caller}: epoch ${r.epoch} is on-chain, but ${r.undelivered.map((u) => `${u.name} (${u.reason})`).join(", ")} did not take its key`,
    );
}

/**
 * Group session key update: the MSRP evicts and adds, commits the new epoch on-chain, and every
 * remaining and added party (and the user) opens and checks the new key.
 *
 * The chain write is the point of no return: the MSRP's commit is handed to `a.committed` (which
 * saves it) right after it, before any party opens its update, and the parties' deliveries are
 * independent: one that fails (its agent cannot open the update) is reported in `undelivered`
 * and stops neither the others nor the saves (red-team finding H5: a throw there left the MSRP's
 * keystore an epoch behind the chain and every later update refused by it).
 * @returns the new epoch, its members' agents (those that took the key), the transaction, the
 *   update bytes per party, and the parties whose delivery failed
 */
export async function rekeyServiceGroup(
  ledger: GroupLedger,
  msrp: Msrp,
  directory: PartyDirectory,
  a: {
    groupId: Uint8Array;
    evict?: Uint8Array[];
    add?: string[];
    /**
     * the RNs evicted because the trust layer flags them: they stay flag-held in S_RN (Msrp.commitRekey's
     * `byFlag`, s22-redx F1), lifted by the flag sync with the flag
     */
    byFlag?: string[];
    /** saves the MSRP's commit; given the commit's arguments, to make it again on a record another command changed meanwhile */
    committed?: (c: { groupId: Uint8Array; epoch: number; members: { name: string; pid: Uint8Array }[]; byFlag?: string[] }) => void;
  },
): Promise<{
  epoch: number;
  parties: GroupParty[];
  keys: Uint8Array[];
  tx: TxInfo;
  messages: Map<string, Uint8Array>;
  roster: GroupPartyInfo[];
  bytesPerParty: number;
  undelivered: { name: string; reason: string }[];
}> {
  const r = msrp.rekeyGroup(a.groupId, a.evict ?? [], a.add ?? []);
  const tx = await ledger.rekey(
    a.groupId,
    r.epoch,
    r.evicted,
    r.added.map((m) => m.pid),
    r.Q,
    r.commitmentsHash,
  );
  msrp.commitRekey(a.groupId, r.epoch, r.members, undefined, undefined, a.byFlag);
  a.committed?.({ groupId: a.groupId, epoch: r.epoch, members: r.members, ...(a.byFlag ? { byFlag: a.byFlag } : {}) });
  const view = await ledger.view(a.groupId);
  const info = msrp.groupInfo(a.groupId);
  const parties: GroupParty[] = [];
  const keys: Uint8Array[] = [];
  const undelivered: { name: string; reason: string }[] = [];
  for (const [name, pid] of [[info.user, undefined] as const, ...info.members.map((m) => [m.name, m.pid] as const)]) {
    try {
      const p = directory(name, pid);
      const mine = r.messages.get(toHex(p.pid));
      if (!mine) throw new AgentStateError(`rekeyServiceGroup: no update for ${name} under ${toHex(p.pid)}`);
      keys.push(p.acceptRekey(mine, view, r.roster));
      parties.push(p);
    } catch (e) {
      undelivered.push({ name, reason: (e as Error).message.split("\n")[0] });
    }
  }
  return {
    epoch: r.epoch,
    parties,
    keys,
    tx,
    messages: r.messages,
    roster: r.roster,
    bytesPerParty: [...r.messages.values()][0].length,
    undelivered,
  };
}
