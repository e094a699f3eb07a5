/**
 * The MSRP's channel log is append-only (session 13; h11-red's "channel log cost"): each
 * `/v1/group/send` used to re-read and rewrite the epoch's whole JSON log (up to MAX_CHANNEL_LOG
 * messages) under the MSRP's mutex, so one member's flood made every send O(log) and delayed
 * everyone's joins. Now a send appends one line and fsyncs (offchain/services/rsms/channel-log.ts).
 * Checked without timing: the file is the same file after a send, what it held is a prefix of what
 * it holds, and it grew by one line; a torn last line (a crash during an append) is cut off at the
 * next start and the log serves on; a log in the earlier JSON format is converted with its senders'
 * last sequence numbers. The cost itself: bench/group-channel.bench.ts.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import { formedGroup, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { fromHex, toHex } from "../../offchain/crypto/bytes";
import { MsrpService } from "../../offchain/services/rsms/msrp-service";
import { ChannelLog } from "../../offchain/services/rsms/channel-log";
import { localParty, readRemote, sendRemote } from "../../offchain/services/rsms/group-clients";
import { Route, Scheme, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { decodeGroupSent, groupSession } from "../../offchain/services/rsms/group-wire";
import { msrpRequest } from "../helpers/rsms-services";
import { postEnvelope } from "../../offchain/services/client";

const text = (s: string) => new TextEncoder().encode(s);
const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("h13-harden: the MSRP's group channel log is append-only", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  let msrp: MsrpService;
  const machines = new Map<string, Keystore>();
  const ks = (n: string) => machines.get(n)!;
  let gid: Uint8Array;
  let members: string[];
  const dir = () => path.join(s.msrpDeps.dir, "groups");
  const logFile = () => path.join(dir(), `${toHex(gid).slice(2)}.channel.log`);
  const send = (who: string, m: string) =>
    sendRemote({ msrpUrl: s.msrpUrl, name: who, groupId: gid, message: text(m), keystore: ks(who), dep: s.dep });
  const read = async (who: string) =>
    (await readRemote({ msrpUrl: s.msrpUrl, name: who, groupId: gid, keystore: ks(who), dep: s.dep })).messages.map((x) =>
      new TextDecoder().decode(x.plaintext),
    );
  const restart = async () => {
    await msrp.stop();
    msrp = new MsrpService(s.msrpDeps);
    // (no probe first: the first GET after the restart retries a stale kept-alive socket itself, client-restart.test.ts)
    await msrp.start({ port: Number(new URL(s.msrpUrl).port) });
  };

  before(async () => {
    ({ s, gid, members } = await formedGroup(machines, ["a", "b", "c"]));
    msrp = s.msrp;
  });
  after(async () => {
    await s?.stop();
    await msrp?.stop();
  });

  it("a send appends one line to the same file: what it held is a prefix of what it holds, whatever the log's length", async () => {
    for (let i = 0; i < 30; i++) await send("alice", `frame ${i}`);
    const before = fs.readFileSync(logFile());
    const inode = fs.statSync(logFile()).ino;
    await send("alice", "frame 30");
    const after = fs.readFileSync(logFile());
    expect(fs.statSync(logFile()).ino, "the same file, not a rewritten copy").to.equal(inode);
    expect(after.subarray(0, before.length).equals(before)).to.equal(true);
    const added = after.subarray(before.length).toString("utf8");
    expect(added.split("\n")).to.deep.equal([added.slice(0, -1), ""]); // one line
    expect(JSON.parse(added)).to.include({ e: 0, seq: "31" });
    expect(fs.existsSync(path.join(dir(), `${toHex(gid).slice(2)}.channel.json`))).to.equal(false);
    expect((await read(members[0])).slice(-2)).to.deep.equal(["frame 29", "frame 30"]);
  });

  it("a torn last line (a crash during an append) is cut off at the next start; the log serves on, and a copy of a logged message appends nothing", async () => {
    const good = fs.readFileSync(logFile());
    fs.appendFileSync(logFile(), '{"e":0,"m":"0x0102'); // no newline: never acknowledged
    await restart();
    expect(await read(members[1])).to.have.length(31);
    expect(fs.readFileSync(logFile()).equals(good)).to.equal(true);
    expect(await send("alice", "after the crash")).to.include({ epoch: 0, index: 31 });
    expect(await read(members[0])).to.deep.equal(["after the crash"]);
    // a copy of the first message under a fresh request id (a relay's): its index again, nothing appended
    const first = fs
      .readFileSync(logFile(), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { m?: string })
      .find((l) => l.m)!.m!;
    const env = sealEnvelope(msrpRequest(s.dep, Route.GroupSend, groupSession(gid, 0), fromHex(first)), {
      scheme: Scheme.Schnorr,
      sk: localParty(ks("alice"), "alice").sk,
    });
    const size = fs.statSync(logFile()).size;
    const reply = await postEnvelope(s.msrpUrl, "/v1/group/send", env, once);
    expect(decodeGroupSent(openEnvelope(reply).body)).to.deep.equal({ epoch: 0, index: 0 });
    expect(fs.statSync(logFile()).size).to.equal(size);
  });

  it("a log in the earlier JSON format is converted at the first read, with each sender's last sequence number", async () => {
    const now = new ChannelLog(dir()).epochs(gid);
    const legacy = Object.fromEntries([...now].map(([e, l]) => [String(e), { roster: l.roster, messages: l.messages, last: l.last }]));
    fs.rmSync(logFile());
    fs.writeFileSync(path.join(dir(), `${toHex(gid).slice(2)}.channel.json`), JSON.stringify(legacy));
    await restart();
    expect(await send("alice", "after the conversion")).to.include({ epoch: 0, index: 32 });
    expect(fs.existsSync(path.join(dir(), `${toHex(gid).slice(2)}.channel.json`))).to.equal(false);
    const back = new ChannelLog(dir()).epoch(gid, 0)!;
    expect(back.messages).to.have.length(33);
    expect(back.last).to.deep.equal({ ...legacy["0"].last, [toHex(localParty(ks("alice"), "alice").pid)]: "33" });
    expect(await read(members[1])).to.deep.equal(["after the crash", "after the conversion"]);
  });
});
