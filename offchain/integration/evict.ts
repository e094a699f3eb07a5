/**
 * Trust meets service groups: a resource node that the trust layer flagged (any attack flag in
 * the TrustManager, set by the detectors) is evicted from a service group, fresh joined RNs take
 * its place, and the group key is renewed (RSMS §IV.B.2.c).
 */
import type { TrustManager } from "../../typechain-types";
import { rnTrustFlagged } from "../trust/rn-flags";
import type { GroupLedger, PartyDirectory } from "../rsms/group-flows";
import { rekeyServiceGroup, requireDelivered } from "../rsms/group-flows";
import type { Msrp } from "../rsms/msrp";

/**
 * Evicts every flagged member of a group and adds as many unflagged joined RNs that are not in
 * the MSRP's set of suspicious RNs.
 * @returns the flagged members and the rekey (undefined when no member is flagged)
 * @throws AgentStateError, after the update is on chain and committed, when a party did not take its key
 */
export async function evictFlaggedMembers(
  trust: TrustManager,
  groups: GroupLedger,
  msrp: Msrp,
  directory: PartyDirectory,
  groupId: Uint8Array,
) {
  const info = msrp.groupInfo(groupId);
  // the RN's own attested entity only (h12-red F1: anyone may register a PID under another kind and get it flagged)
  const flaggedPid = (pid: Uint8Array) => rnTrustFlagged(trust, pid);
  // flagged under any pseudonym the MSRP issued it, past or current (h11-red2 G2: one rotation shed a flag)
  const isFlagged = async (name: string) => {
    for (const pid of msrp.rnPids(name)) if (await flaggedPid(pid)) return true;
    return false;
  };
  const flagged: { name: string; pid: Uint8Array }[] = [];
  for (const m of info.members) if (await isFlagged(m.name)) flagged.push(m);
  if (flagged.length === 0) return { flagged, rekey: undefined };
  // members by name: a member evicted now that rotated its PID is no spare (h11-red2 G1)
  const inGroup = new Set(info.members.map((m) => m.name));
  const spares: string[] = [];
  const suspicious = new Set(msrp.suspiciousRns());
  for (const r of msrp.joinedRns()) {
    if (spares.length === flagged.length) break;
    if (!inGroup.has(r.name) && !suspicious.has(r.name) && !(await isFlagged(r.name))) spares.push(r.name);
  }
  const rekey = await rekeyServiceGroup(groups, msrp, directory, { groupId, evict: flagged.map((f) => f.pid), add: spares });
  // the update is on chain and committed; a party that did not take its key is reported, loudly
  requireDelivered(rekey, "evictFlaggedMembers");
  return { flagged, rekey, added: spares };
}
