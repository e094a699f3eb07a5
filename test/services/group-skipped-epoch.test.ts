/**
 * Red team s18-redg, finding G3: a member that misses a whole epoch loses its traffic silently.
 *
 * Threat: the mailbox keeps one key update per party, the current epoch's (`GroupDesk.finishRekey`
 * overwrites `mine`), and a party accepts only the chain's current epoch (`acceptRekey`). A member y
 * that is offline (or whose fetches the network drops) while the group goes through two updates
 * (alice adds an RN, then another) never gets the key of the epoch in between, although it was a
 * party of it and its messages were sealed for it. `readRemote` drains only the retired epochs whose
 * keys y holds, so the traffic of that epoch is neither returned nor reported: alice's client told
 * her the message was stored, y's says there was nothing.
 * Steps: group {x, y}; alice adds one RN (epoch 1) and sends m1 under epoch 1's key; alice adds one
 * more (epoch 2); y, back, takes part (epoch 2's key) and reads.
 * Impact: a lost message for a party that was entitled to it, with no trace on either side ("a lost
 * reply never strands a party"; the C1 fix promised that a key update drops no unread traffic).
 * Severity: medium (loss of service traffic; needs two updates while a member is away).
 *
 * Status: fixed. The MSRP's mailbox keeps the newest MAX_RETIRED_UPDATES update epochs' rosters
 * and Rekey messages (`past`); `readRemote` takes the key of an epoch it missed from there
 * (`GroupFetch.epoch`, `acceptRetiredRekey`, checked against that epoch's Q from `GroupRekeyed`) and
 * drains it like any retired epoch. An epoch the mailbox no longer keeps is reported as refused,
 * NO_KEY (never silent).
 *
 * Secure behaviour asserted: y reads alice's epoch-1 message; when the mailbox keeps no update of
 * epoch 1, y is told it missed it (NO_KEY); either way it reads the current epoch as before.
 */
import fs from "fs";
import { expect } from "chai";
import { formedGroup, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { addRemote, localParty, readRemote, sendRemote, takePart } from "../../offchain/services/rsms/group-clients";
import { toHex } from "../../offchain/crypto/bytes";
import { decodeGroupMailbox, encodeGroupMailbox } from "../../offchain/services/rsms/group-wire";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("s18-redg G3: a member that slept through an epoch reads its traffic (fixed)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  afterEach(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  /** Group {x, y}; alice adds an RN (epoch 1), sends m1, adds another (epoch 2); y, away throughout, takes epoch 2's key. */
  async function sleptThrough() {
    const machines = new Map<string, Keystore>();
    let gid: Uint8Array;
    let members: string[];
    ({ s, gid, members } = await formedGroup(machines, ["a", "b", "c", "d"]));
    const y = members[1];
    const party = (n: string) => ({ msrpUrl: s.msrpUrl, name: n, groupId: gid, keystore: machines.get(n)!, dep: s.dep });
    const grow = () => addRemote({ ...party("alice"), user: "alice", count: 1 });
    expect((await grow()).epoch, "precondition: epoch 1").to.equal(1);
    await takePart({ ...party("alice"), pollMs: 50 });
    const sent = await sendRemote({ ...party("alice"), message: new TextEncoder().encode("m1"), retry: once });
    expect(sent.epoch, "precondition: m1 is sent under epoch 1").to.equal(1);
    expect((await grow()).epoch, "precondition: epoch 2").to.equal(2);
    const took = await takePart({ ...party(y), pollMs: 50 });
    expect(took.epoch, "y takes epoch 2's key").to.equal(2);
    return { gid, y, party };
  }
  const heardOf = (r: Awaited<ReturnType<typeof readRemote>>, epoch: number) => [
    ...r.messages.filter((m) => m.epoch === epoch).map((m) => `read ${Buffer.from(m.plaintext).toString()}`),
    ...r.refused.filter((m) => m.epoch === epoch).map((m) => `told: ${m.reason}`),
  ];
  async function currentStillRead(y: string, party: (n: string) => Parameters<typeof readRemote>[0]) {
    await takePart({ ...party("alice"), pollMs: 50 });
    await sendRemote({ ...party("alice"), message: new TextEncoder().encode("m2"), retry: once });
    const again = await readRemote({ ...party(y), retry: once });
    expect(
      again.messages.map((m) => `${m.epoch}:${Buffer.from(m.plaintext).toString()}`),
      "y reads epoch 2's message, and nothing of epoch 1 again",
    ).to.deep.equal(["2:m2"]);
    expect(again.refused, "nothing refused the second time").to.deep.equal([]);
  }

  it("y, away during epoch 1, takes epoch 1's key from the mailbox and reads alice's epoch-1 message", async () => {
    const { y, party } = await sleptThrough();
    const r = await readRemote({ ...party(y), retry: once });
    expect(heardOf(r, 1), "y reads epoch 1's message").to.deep.equal(["read m1"]);
    await currentStillRead(y, party);
  });

  it("when the mailbox keeps no update of epoch 1, y is told it missed alice's message (NO_KEY), never silence", async () => {
    const { gid, y, party } = await sleptThrough();
    // as after MAX_RETIRED_UPDATES newer updates: the MSRP keeps no update of epoch 1
    const file = (s.msrp.desk! as unknown as { pastFile(g: Uint8Array): string }).pastFile(gid);
    const past = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    expect(Object.keys(past), "precondition: the mailbox kept epoch 1's update").to.deep.equal(["1"]);
    fs.rmSync(file);
    const r = await readRemote({ ...party(y), retry: once });
    expect(heardOf(r, 1), "y is told it missed epoch 1's message").to.deep.equal([
      `told: NO_KEY: ${y} never took the key of epoch 1 (its update was missed)`,
    ]);
    await currentStillRead(y, party);
  });

  it("an update of epoch 1 that does not open (another party's, as a faulty mailbox serves it) is reported NO_KEY with the reason; y's reads go on", async () => {
    const { gid, y, party } = await sleptThrough();
    const file = (s.msrp.desk! as unknown as { pastFile(g: Uint8Array): string }).pastFile(gid);
    const past = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, { mine: Record<string, string> }>;
    const mine = past["1"].mine;
    const yPid = Object.keys(mine).find((p) => p === toHex(localParty(party(y).keystore, y).pid))!;
    const other = Object.keys(mine).find((p) => p !== yPid)!;
    mine[yPid] = mine[other];
    fs.writeFileSync(file, JSON.stringify(past));
    const r = await readRemote({ ...party(y), retry: once });
    const heard = heardOf(r, 1);
    expect(heard.length, "one report for alice's message").to.equal(1);
    expect(heard[0], "y is told why").to.match(new RegExp(`^told: NO_KEY: ${y} never took the key of epoch 1 \\(its update was refused: `));
    await currentStillRead(y, party);
  });

  it("a retired fetch answered with another epoch (a faulty mailbox, simulated) is reported NO_KEY; y's reads go on (s18-review1 L1)", async () => {
    const { y, party } = await sleptThrough();
    // simulated faulty mailbox: its signed answer to y's fetch of epoch 1 names epoch 0
    const d = (s.msrp.desk! as unknown as { d: { reply(env: unknown, raw: Uint8Array, body: Uint8Array): Uint8Array } }).d;
    const reply = d.reply.bind(d);
    d.reply = (env, raw, body) => {
      if (body.length > 40) {
        try {
          const m = decodeGroupMailbox(body);
          if (m.kind === 1 && m.epoch === 1) return reply(env, raw, encodeGroupMailbox({ ...m, epoch: 0 }));
        } catch {
          // not a mailbox: answered as it is
        }
      }
      return reply(env, raw, body);
    };
    const r = await readRemote({ ...party(y), retry: once });
    d.reply = reply;
    expect(heardOf(r, 1), "y is told epoch 1's message is lost, and why").to.deep.equal([
      `told: NO_KEY: ${y} never took the key of epoch 1 (its update was refused: the MSRP answered epoch 0 of kind 1)`,
    ]);
    await currentStillRead(y, party);
  });
});
