/**
 * s22-fxidp (the R8 class, in a rater's folder): `trust:interact` loaded the interaction log
 * (`trust-interactions`, every pair's records), awaited the chain and the provider's receipt, and
 * wrote the whole log back: a record another command logged meanwhile (another pair's, or this
 * pair's) was dropped, and two records of one pair could take one sequence number. Now the record
 * is written over the log as it stands at that moment (no await between the read and the write):
 * another pair's records are kept; a record of this pair logged meanwhile refuses this one
 * ("run again"), nothing logged. The other command is modelled by a write of the log made right
 * after this one's load (deterministic: no timing).
 * Bite: with `record` saving the log it loaded, the first case loses "x:y" and the second logs a
 * second receipt #1.
 */
import { expect } from "chai";
import hre from "hardhat";
import { rejects, useTaskSandbox } from "../helpers/tasks";
import { InteractionLog } from "../../offchain/trust/rater";

type Log = Record<string, { nextSeq: number; records: { seq: number; request: string }[] }>;

describe("trust:interact: the interaction log keeps what another command logged meanwhile (s22-fxidp)", function () {
  this.timeout(300_000);
  useTaskSandbox("metatrust-fxidp-interact-");
  const log = async () => {
    const { localState } = await import("../../tasks/lib/context");
    return localState(hre).keystore;
  };
  /** The next interaction's load of the log in `record` (its own, before the awaits) is followed at once by `other`'s write of it. */
  const afterLoad = (other: (loaded: Log) => Log) => {
    const proto = InteractionLog.prototype as unknown as { all: () => Log; record: (...a: unknown[]) => Promise<unknown> };
    const [all, record] = [proto.all, proto.record];
    let armed = false;
    proto.record = function (this: unknown, ...a: unknown[]) {
      proto.record = record;
      armed = true;
      return record.apply(this, a);
    };
    proto.all = function (this: unknown) {
      const loaded = all.call(this);
      if (!armed) return loaded;
      armed = false;
      proto.all = all;
      const ks = (this as { keystore: { update(n: string, d: unknown): void } }).keystore;
      ks.update("trust-interactions", other(JSON.parse(JSON.stringify(loaded)) as Log));
      return loaded;
    };
    return () => ((proto.all = all), (proto.record = record));
  };

  before(async () => {
    await hre.run("trust:register", { entity: "ann", type: "avatar", verified: true, account: "ann" });
    await hre.run("trust:register", { entity: "guild", type: "organization", verified: true });
    await hre.run("trust:interact", { from: "ann", to: "guild", outcome: "success", latency: 120, request: "req-1" });
  });

  it("another pair logged meanwhile: its record is kept beside this one", async () => {
    const [key] = Object.keys((await log()).load("trust-interactions"));
    const restore = afterLoad((l) => ({ ...l, "x:y": { ...l[key], nextSeq: 1 } }));
    try {
      await hre.run("trust:interact", { from: "ann", to: "guild", outcome: "success", latency: 120, request: "req-2" });
    } finally {
      restore();
    }
    const now = (await log()).load("trust-interactions") as Log;
    expect(Object.keys(now).sort()).to.deep.equal([key, "x:y"].sort());
    expect(now[key].records.map((r) => r.seq)).to.deep.equal([0, 1]);
  });

  it("this pair logged meanwhile: refused in one line (run again), the other's record kept, no sequence number taken twice", async () => {
    const ks = await log();
    const key = Object.keys(ks.load("trust-interactions")).find((k) => k !== "x:y")!;
    const restore = afterLoad((l) => {
      const p = l[key];
      return {
        ...l,
        [key]: {
          ...p,
          nextSeq: p.nextSeq + 1,
          records: [...p.records, { ...p.records[0], seq: p.nextSeq, request: "0x" + "11".repeat(32) }],
        },
      };
    });
    let e: Error;
    try {
      e = await rejects(hre.run("trust:interact", { from: "ann", to: "guild", outcome: "success", latency: 120, request: "req-3" }));
    } finally {
      restore();
    }
    expect(e.message.split("\n")).to.have.length(1);
    expect(e.message).to.match(/logged by another command meanwhile/);
    const seqs = (ks.load("trust-interactions") as Log)[key].records.map((r) => r.seq);
    expect(seqs).to.deep.equal([0, 1, 2]);
    expect((ks.load("trust-interactions") as Log)[key].records[2].request).to.equal("0x" + "11".repeat(32));
  });
});
