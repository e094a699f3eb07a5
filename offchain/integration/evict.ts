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
 * Evicts every flagged member of a group, and every member in the MSRP's set of suspicious RNs
 * (S_RN: the update evicts those anyway, h15-red H1), and adds one unflagged joined RN outside
 * S_RN, and not still marked revoked on the ResourcePoolRegistry (`Msrp.markedRns`: out of S_RN,
 * awaiting the revocation sync; the registry would refuse it, s24-rtr R1, and the flagged member
 * would stay, s26-rtx), per evicted member, as the MSRP service's GroupDesk does (`freshRns`) (session 16's final read: S_RN
 * members were evicted unreplaced, the group shrank, and the return value did not name them).
 * Unlike the GroupDesk, it does not re-form the whole group when a member is suspicious under
 * another pseudonym than its member PID (h14-red F1): in process the operator runs every party.
 * @returns the flagged members, the members evicted for S_RN alone, the rekey (undefined when no
 *   member is flagged or suspicious) and the RNs added
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
  const suspicious = new Set(msrp.revokedRns());
  const flagged: { name: string; pid: Uint8Array }[] = [];
  const inSRN: { name: string; pid: Uint8Array }[] = [];
  for (const m of info.members)
    if (await isFlagged(m.name)) flagged.push(m);
    else if (suspicious.has(m.name)) inSRN.push(m);
  const evicted = [...flagged, ...inSRN];
  if (evicted.length === 0) return { flagged, suspicious: inSRN, rekey: undefined, added: [] as string[] };
  // members by name: a member evicted now that rotated its PID is no spare (h11-red2 G1)
  const inGroup = new Set(info.members.map((m) => m.name));
  const marked = msrp.markedRns();
  const spares: string[] = [];
  for (const r of msrp.joinedRns()) {
    if (spares.length === evicted.length) break;
    if (!inGroup.has(r.name) && !suspicious.has(r.name) && !marked.has(r.name) && !(await isFlagged(r.name))) spares.push(r.name);
  }
  // the flagged ones stay held by the flag in S_RN: lifted with it (s22-redx F1)
  const rekey = await rekeyServiceGroup(groups, msrp, directory, {
    groupId,
    evict: evicted.map((f) => f.pid),
    add: spares,
    byFlag: flagged.map((f) => f.name),
  });
  // the update is on chain and committed; a party that did not take its key is reported, loudly
  requireDelivered(rekey, "evictFlaggedMembers");
  return { flagged, suspicious: inSRN, rekey, added: spares };
}
