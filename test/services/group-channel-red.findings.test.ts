/**
 * Red team (h10-red): group traffic through the MSRP's mailbox (msrp-groups.ts, group-clients.ts).
 * Each test passes when the attack is refused and fails while it gets through
 * (`npm run test:findings`). The setup is that of group-add-channel.test.ts.
 */
import { expect } from "chai";
import { formedGroup, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { MsrpService } from "../../offchain/services/rsms/msrp-service";
import { addRemote, readRemote, sendRemote, takePart } from "../../offchain/services/rsms/group-clients";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
const text = (s: string) => new TextEncoder().encode(s);

describe("h10-red findings: group traffic through the MSRP's mailbox", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  let msrp: MsrpService;
  const machines = new Map<string, Keystore>();
  const ks = (name: string) => machines.get(name)!;
  const rns = ["a", "b", "c", "d", "e"];
  let gid: Uint8Array;
  let members: string[] = [];
  before(async () => {
    ({ s, gid, members } = await formedGroup(machines, rns));
    msrp = s.msrp;
  });
  after(async () => {
    await s?.rpm.stop();
    await msrp?.stop();
  });

  /**
   * C1 (LOW, drop) - a key update silently drops the traffic a party has not read yet. readRemote
   * reads only the party's current epoch and restarts its cursor at 0 when the epoch changed; the
   * epoch's key is gone from the agent after takePart, so the messages of the previous epoch that
   * the party had not read (sent before the update: here by the user, just before she adds an RN)
   * are never returned and never reported among `refused`. The MSRP still holds them and would
   * serve them (the old epoch's roster lets the party read). The sender got an index for each, so
   * nobody learns that they were lost. Refused when the message is delivered or reported.
   */
  it("C1: a message sent just before an add (a key update) reaches a member who reads after it, or is reported", async () => {
    const m = members[0];
    const sent = await sendRemote({
      msrpUrl: s.msrpUrl,
      name: "alice",
      groupId: gid,
      message: text("last frame of epoch 0"),
      keystore: ks("alice"),
      dep: s.dep,
    });
    expect(sent.epoch).to.equal(0);
    const a = await addRemote({ msrpUrl: s.msrpUrl, user: "alice", groupId: gid, count: 1, keystore: ks("alice"), dep: s.dep });
    expect(a.epoch).to.equal(1);
    const parties = ["alice", ...msrp.msrp.groupInfo(gid).members.map((x) => x.name)];
    await Promise.all(parties.map((n) => takePart({ msrpUrl: s.msrpUrl, name: n, groupId: gid, keystore: ks(n), dep: s.dep, pollMs: 50 })));
    const r = await readRemote({ msrpUrl: s.msrpUrl, name: m, groupId: gid, keystore: ks(m), dep: s.dep, retry: once });
    const got = r.messages.map((x) => new TextDecoder().decode(x.plaintext));
    expect(
      got.includes("last frame of epoch 0") || r.refused.length > 0,
      `read after the update: ${JSON.stringify({ got, refused: r.refused })}`,
    ).to.be.true;
  });
});
