/**
 * RSMS at scale (issue 13 item 13): the MSRP's and the RPM's cost per operation with 100, 1,000
 * and 10,000 joined RNs, as ratios to the cost at 100. Flat means each operation is O(1) in the
 * size of history (registration, exact check of a join or re-authentication, tracing) or O(group
 * size) (requestGroup + commitGroup). `joinedRns()`, which is O(RNs) by design, is measured beside
 * them as a linear reference. The RPM's filter check is measured with every epoch loaded (no
 * expiry) and with the policy's TTL (epochs published every ttl/2, expired ones dropped).
 *
 * In-process, no chain: the forwards are built as an honest RPM builds them (ECIES to PK_pub, the
 * RPM's Schnorr signature). The population between checkpoints is written into the MSRP's
 * keystore record as the joins would leave it (an RN entry with its keys, current secret and
 * PID, joined; its a_0 in a filter epoch) and loaded with Msrp.fromRecord, because 10,000 real
 * joins take most of an hour on a loaded 2-core machine; every measured operation goes through
 * the agents' API. Run: `npx hardhat run bench/rsms-scale.bench.ts` (RSMS_SCALE_MAX
 * lowers the largest population for a quick run). Writes bench/results/rsms-scale.md and .json.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { performance } from "perf_hooks";
import { BloomFilter } from "../offchain/crypto/bloom";
import { concat } from "../offchain/crypto/bytes";
import { eciesEncrypt } from "../offchain/crypto/ecies";
import { encodeScalar, randomScalar } from "../offchain/crypto/group";
import { H4, H6 } from "../offchain/crypto/hash";
import { schnorrSign } from "../offchain/crypto/schnorr";
import { DEFAULT_FILTER_POLICY, Msrp, MsrpRecord } from "../offchain/rsms/msrp";
import { H1 } from "../offchain/crypto/hash";
import { toHex } from "../offchain/crypto/bytes";
import { randomBytes } from "@noble/hashes/utils.js";
import { AAD, Role, encodeJoinForward, encodeReauthForward, joinForwardSigned, reauthForwardSigned } from "../offchain/rsms/messages";
import { FORWARD_DST, ResourcePoolManager } from "../offchain/rsms/rpm";
import { machine } from "./lib";

const SIZES = [100, 1_000, 10_000].filter((n) => n <= Number(process.env.RSMS_SCALE_MAX ?? 10_000));
const SAMPLES = 25;
const NOW = 1_800_000_000;

type Rn = { name: string; sk: bigint; a: bigint; pid: Uint8Array };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const loadStart = os.loadavg()[0];
  const policy = { ...DEFAULT_FILTER_POLICY };
  let msrp = Msrp.setup(policy);
  const pkPub = msrp.params.pkPub;
  const rpmCreds = msrp.registerRpm("rpm", Msrp.registrationRequest(pkPub, Role.RPM, 1, "rpm-rid"));
  msrp.registerUser("alice", Msrp.registrationRequest(pkPub, Role.User, 0, "Alice"));
  const rpm = new ResourcePoolManager(msrp.params, { poolId: 1, sk: rpmCreds.sk, pid: rpmCreds.pid });
  const filters: BloomFilter[] = [];
  const flush = () => {
    if (msrp.pendingCount(1) > 0) filters.push(msrp.takeFilter(1).filter);
  };
  let serial = 0;
  const joinForward = (r: Rn) => {
    const fields = { poolId: 1, sealed: eciesEncrypt(pkPub, concat(encodeScalar(r.a), r.pid), AAD.joinForward(1)) };
    return encodeJoinForward({ ...fields, sig: schnorrSign(rpmCreds.sk, FORWARD_DST, joinForwardSigned(fields)) });
  };
  const reauthForward = (r: Rn) => {
    const a = H4(r.a, r.sk);
    const nextPid = H6(r.pid, a);
    const fields = { poolId: 1, nextPid, sealed: eciesEncrypt(pkPub, encodeScalar(a), AAD.reauthForward(1)) };
    return { fwd: encodeReauthForward({ ...fields, sig: schnorrSign(rpmCreds.sk, FORWARD_DST, reauthForwardSigned(fields)) }), a, nextPid };
  };
  const joined: Rn[] = [];
  const timed = (f: () => void): number => {
    const t = performance.now();
    f();
    return performance.now() - t;
  };

  type Row = { op: string; ms: number[]; note?: string };
  const rows = new Map<string, Row>();
  const put = (op: string, ms: number, note?: string) => {
    const r = rows.get(op) ?? { op, ms: [], note };
    r.ms.push(ms);
    rows.set(op, r);
  };
  const started = performance.now();
  for (const n of SIZES) {
    // population: RN entries as initial joins leave them, a_0 in filter epochs of `capacity` RNs
    const rec = msrp.toRecord() as MsrpRecord;
    let f = BloomFilter.init(policy.capacity, policy.lambda);
    while (joined.length < n) {
      const name = `rn${String(serial).padStart(6, "0")}`;
      const sk = randomScalar();
      const a = randomScalar();
      const pid = H1(pkPub, `serial-${serial++}`, randomBytes(32));
      f.insert(encodeScalar(a));
      if (f.count === f.capacity) {
        filters.push(f);
        f = BloomFilter.init(policy.capacity, policy.lambda);
      }
      rec.rns[name] = {
        rid: `serial-${serial}`,
        sk: toHex(encodeScalar(sk)),
        homePool: 1,
        pool: 1,
        a: toHex(encodeScalar(a)),
        pids: [toHex(pid)],
        used: true,
        issuedAt: NOW,
      };
      joined.push({ name, sk, a, pid });
    }
    if (f.count > 0) filters.push(f);
    msrp = Msrp.fromRecord(rec);
    console.log(`  ${n} RNs in the record (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    // registration (MSRP side: open Enc_PKpub(RID), issue keys, insert into the pending filter)
    const fresh: Rn[] = [];
    const reqs = Array.from({ length: SAMPLES }, (_, i) => Msrp.registrationRequest(pkPub, Role.RN, 1, `sample-${n}-${i}`));
    put(
      "MSRP registerRn",
      median(
        reqs.map((q, i) =>
          timed(() => {
            const c = msrp.registerRn(`s${n}-${i}`, q, NOW);
            fresh.push({ name: `s${n}-${i}`, sk: c.sk, a: c.a, pid: c.pid });
          }),
        ),
      ),
    );
    // exact check + commit of a join
    const fwds = fresh.map(joinForward);
    put("MSRP verifyJoin + commitJoin", median(fwds.map((f) => timed(() => msrp.commitJoin(msrp.verifyJoin(f, NOW))))));
    // exact check + commit of a re-authentication (the RNs just joined, at the front of history)
    const re = fresh.map(reauthForward);
    put("MSRP verifyReauth + commitJoin", median(re.map((x) => timed(() => msrp.commitJoin(msrp.verifyReauth(x.fwd))))));
    fresh.forEach((r, i) => Object.assign(r, { a: re[i].a, pid: re[i].nextPid }));
    joined.push(...fresh);
    // requestGroup (8 RNs) + commitGroup
    put(
      "MSRP requestGroup(8) + commitGroup",
      median(
        Array.from({ length: SAMPLES }, () =>
          timed(() => {
            const { dealing, parties } = msrp.requestGroup("alice", 8);
            msrp.commitGroup(dealing.groupId, "alice", parties.slice(1));
          }),
        ),
      ),
    );
    // tracing
    put("MSRP trace(PID)", median(joined.slice(0, SAMPLES).map((r) => timed(() => msrp.trace(r.pid)))));
    // linear reference
    put("reference: joinedRns() (O(RNs) by design)", median(Array.from({ length: 5 }, () => timed(() => msrp.joinedRns()))));
    // RPM filter check: every epoch so far, and with TTL expiry (one epoch published every ttl/2)
    flush();
    const all = new ResourcePoolManager(msrp.params, { poolId: 1, sk: rpmCreds.sk, pid: rpmCreds.pid });
    const ttl = policy.ttlSec!;
    const live = new ResourcePoolManager(msrp.params, { poolId: 1, sk: rpmCreds.sk, pid: rpmCreds.pid, filterTtlSec: ttl });
    filters.forEach((f, e) => {
      const bytes = f.serialize();
      all.addFilter(e, bytes, f.root());
      live.addFilter(e, bytes, f.root(), NOW + e * (ttl / 2));
    });
    live.expire(NOW + (filters.length - 1) * (ttl / 2));
    const probes = Array.from({ length: 200 }, () => randomScalar());
    const check = (r: ResourcePoolManager) => median(probes.map((a) => timed(() => r.inFilters(a))));
    put("RPM filter check, every epoch loaded", check(all), "epochs");
    put("RPM filter check, expired epochs dropped", check(live), "epochs");
    rows.get("RPM filter check, every epoch loaded")!.note = `${rows.get("RPM filter check, every epoch loaded")!.note ?? ""}`;
    console.log(`${n} RNs: ${filters.length} epochs, ${live.loadedEpochs.length} live`);
    epochsAt.push({ n, all: all.loadedEpochs.length, live: live.loadedEpochs.length });
    void rpm;
  }
  const fmt = (x: number) => (x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(4));
  const when = new Date().toISOString();
  const head = `| operation | ${SIZES.map((n) => `${n.toLocaleString("en-US")} RNs (ms)`).join(" | ")} | ${SIZES.slice(1)
    .map((n) => `${n.toLocaleString("en-US")} / ${SIZES[0]}`)
    .join(" | ")} |`;
  const md = [
    "# RSMS at scale: cost per operation against the number of RNs",
    "",
    `Measured ${when} on ${machine()}. Median (p50) of ${SAMPLES} calls per cell (5 for the reference, 200 for the filter check), in-process, no chain. Ratios are to the cost at ${SIZES[0]} RNs in the same run: about 1 is flat. Load average ${loadStart.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end (2 cores): on a shared machine each cell moves by tens of percent on its own, so read the ratios against the linear reference. Issue 13 item 13; see bench/rsms-scale.bench.ts.`,
    "",
    head,
    `|---|${SIZES.map(() => "---:").join("|")}|${SIZES.slice(1)
      .map(() => "---:")
      .join("|")}|`,
    ...[...rows.values()].map(
      (r) =>
        `| ${r.op} | ${r.ms.map(fmt).join(" | ")} | ${r.ms
          .slice(1)
          .map((x) => (x / r.ms[0]).toFixed(2))
          .join(" | ")} |`,
    ),
    "",
    `Filter epochs (default policy: ${policy.capacity} RNs per filter, TTL ${policy.ttlSec! / 86400} days; in the expiry column one epoch is published every TTL/2): ${epochsAt
      .map((e) => `${e.n.toLocaleString("en-US")} RNs: ${e.all} loaded without expiry, ${e.live} live with it`)
      .join("; ")}.`,
    "",
  ].join("\n");
  const dir = path.resolve(__dirname, "results");
  fs.writeFileSync(path.join(dir, "rsms-scale.md"), md);
  fs.writeFileSync(
    path.join(dir, "rsms-scale.json"),
    JSON.stringify({ measuredAt: when, machine: machine(), sizes: SIZES, rows: [...rows.values()], epochs: epochsAt }, null, 2) + "\n",
  );
  console.log(md);
}

const epochsAt: { n: number; all: number; live: number }[] = [];

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
