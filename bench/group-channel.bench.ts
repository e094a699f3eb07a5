/**
 * The cost of one `/v1/group/send` as the epoch's log grows (h11-red's "channel log cost"). One
 * MSRP service with the group desk on the in-process hardhat chain, a group formed through its
 * mailbox (test/helpers/rsms-services.ts `formedGroup`), then N Channel messages from the user,
 * sealed and signed beforehand (so the time is the service's: HTTP, the envelope and sender
 * checks, the log, the reply), posted one after the other. Reported: the median latency of the
 * first W sends (log nearly empty) and of the last W (log at about N), and their ratio; both
 * measured in the same run, interleaved with nothing. Before session 13 every send re-read and
 * rewrote the epoch's whole JSON log under the MSRP's mutex (O(log) per send); now it appends one
 * line and fsyncs (O(1)). `GROUP_CHANNEL_N` (default 4000), `GROUP_CHANNEL_W` (default 100).
 * Writes bench/results/group-channel.{md,json} (`GROUP_CHANNEL_OUT` names another base, for a
 * before/after pair).
 */
import fs from "fs";
import os from "os";
import path from "path";
import { formedGroup } from "../test/helpers/rsms-services";
import { msrpRequest } from "../test/helpers/rsms-services";
import { Keystore } from "../offchain/storage/keystore";
import { localParty } from "../offchain/services/rsms/group-clients";
import { Route, Scheme, sealEnvelope } from "../offchain/services/envelope";
import { groupSession } from "../offchain/services/rsms/group-wire";
import { postEnvelope } from "../offchain/services/client";
import { MsrpService } from "../offchain/services/rsms/msrp-service";

const N = Number(process.env.GROUP_CHANNEL_N ?? 4000);
const W = Number(process.env.GROUP_CHANNEL_W ?? 100);
const OUT = process.env.GROUP_CHANNEL_OUT ?? "group-channel";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function main() {
  const machines = new Map<string, Keystore>();
  const { s, gid } = await formedGroup(machines, ["a", "b", "c"]);
  // the same MSRP again, with a rate limit above the bench's sends (the default, 600 a minute, is per address)
  await s.msrp.stop();
  const msrp = new MsrpService(s.msrpDeps);
  const url = (await msrp.start({ port: 0, rateLimit: { max: 1_000_000, windowMs: 60_000 } })).url;
  try {
    const me = localParty(machines.get("alice")!, "alice");
    const epoch = me.party.currentEpoch(gid);
    const text = new TextEncoder().encode("x".repeat(160));
    const envs: Uint8Array[] = [];
    for (let i = 0; i < N; i++)
      envs.push(
        sealEnvelope(msrpRequest(s.dep, Route.GroupSend, groupSession(gid, epoch), me.party.seal(gid, text)), {
          scheme: Scheme.Schnorr,
          sk: me.sk,
        }),
      );
    const ms: number[] = [];
    for (const [i, env] of envs.entries()) {
      const t = performance.now();
      await postEnvelope(url, "/v1/group/send", env);
      ms.push(performance.now() - t);
      if ((i + 1) % 1000 === 0) console.log(`  ${i + 1} sends`);
    }
    const first = median(ms.slice(0, W));
    const last = median(ms.slice(-W));
    const dir = path.join(s.msrpDeps.dir, "groups");
    const bytes = fs.readdirSync(dir).reduce((n, f) => (f.includes("channel") ? n + fs.statSync(path.join(dir, f)).size : n), 0);
    const r = {
      n: N,
      window: W,
      firstMedianMs: first,
      lastMedianMs: last,
      ratio: last / first,
      logBytes: bytes,
      load: os.loadavg()[0],
      date: new Date().toISOString(),
    };
    console.log(JSON.stringify(r));
    const out = path.join(__dirname, "results");
    fs.writeFileSync(path.join(out, `${OUT}.json`), JSON.stringify(r, null, 2) + "\n");
    fs.writeFileSync(
      path.join(out, `${OUT}.md`),
      [
        `# One group send as the epoch's log grows (${OUT})`,
        "",
        "`npx hardhat run bench/group-channel.bench.ts` (in-process hardhat chain, one MSRP service, loopback HTTP).",
        `${N} Channel messages of 160 bytes from one sender, posted one after the other; load average ${r.load.toFixed(2)}.`,
        "",
        "| sends | median latency (ms) |",
        "|---|---|",
        `| first ${W} (log nearly empty) | ${first.toFixed(2)} |`,
        `| last ${W} (log at about ${N - W}) | ${last.toFixed(2)} |`,
        `| ratio last / first | ${r.ratio.toFixed(2)} |`,
        "",
        `Log on disk after the run: ${(bytes / 1024).toFixed(0)} KiB.`,
        "",
      ].join("\n"),
    );
  } finally {
    await s.stop();
    await msrp.stop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
