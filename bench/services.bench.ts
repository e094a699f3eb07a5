/**
 * Joins through the RSMS services over loopback HTTP (issue 19): one MSRP service and one RPM
 * service, each with its own keystore, folders and chain account, against a real `hardhat node`
 * (JSON-RPC, automine). The RNs register over HTTP, then join one after the other (latency from
 * the RN's request to its verified reply) and with 16 in flight (joins per second). The two
 * services run in this process (the RN clients too), so they share its two cores; the process
 * test of the same services is test/e2e/services.test.ts. Batching (recordJoins for several
 * forwards in one transaction) is not implemented in the services yet: every join is one
 * transaction, serialised by the MSRP. Writes bench/results/services.{md,json}.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { JsonRpcProvider, Wallet, parseEther } from "ethers";
import { startNode } from "../scripts/lib/hardhat-node";
import { ResourcePoolRegistry__factory } from "../typechain-types";
import { RsmsLedger } from "../offchain/protocols/rsms/ledger";
import { Msrp } from "../offchain/protocols/rsms/msrp";
import { Keystore } from "../offchain/storage/keystore";
import { FileContentStore } from "../offchain/storage/content-store";
import { MsrpService, MSRP_RECORD } from "../offchain/services/rsms/msrp-service";
import { RpmService } from "../offchain/services/rsms/rpm-service";
import { enrolRpm, joinRemote, registerRnRemote, type Deployment } from "../offchain/services/rsms/clients";
import { machine } from "./lib";

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const SEQ = Number(process.env.SERVICES_BENCH_SEQ ?? 40);
const CONC = Number(process.env.SERVICES_BENCH_CONC ?? 120);
const IN_FLIGHT = 16;

async function main() {
  const node = await startNode();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-svc-bench-"));
  let stop: (() => Promise<void>) | undefined;
  try {
    const d = await node.run(["deploy"]);
    if (d.code !== 0) throw new Error(d.stderr + d.stdout);
    const file = JSON.parse(fs.readFileSync(path.join(node.env.METATRUST_DEPLOYMENTS_DIR!, "localhost.json"), "utf8"));
    const address: string = file.contracts.ResourcePoolRegistry.address;
    const provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, pollingInterval: 10 });
    const admin = await provider.getSigner(0);
    const fund = async () => {
      const w = Wallet.createRandom().connect(provider) as unknown as Wallet;
      await (await admin.sendTransaction({ to: w.address, value: parseEther("100") })).wait();
      return w;
    };
    const msrpWallet = await fund();
    const reg = ResourcePoolRegistry__factory.connect(address, admin);
    await (await reg.grantRole(await reg.MSRP_ROLE(), msrpWallet.address)).wait();
    const chainId = 31337n;
    const store = new FileContentStore(path.join(work, "ipfs"));
    const msrpKs = new Keystore(path.join(work, "msrp", "keystore"), "");
    msrpKs.create(MSRP_RECORD, Msrp.setup({ capacity: 1024, lambda: 20, intervalSec: 0, ttlSec: 86_400 }).toRecord());
    const msrp = new MsrpService({
      keystore: msrpKs,
      dir: path.join(work, "msrp", "service"),
      ledger: new RsmsLedger(ResourcePoolRegistry__factory.connect(address, msrpWallet)),
      store,
      wallet: msrpWallet,
      chainId,
      registry: address,
      admission: "any",
      log: () => undefined,
    });
    const msrpUrl = (await msrp.start({ port: 0, rateLimit: { max: 100_000, windowMs: 60_000 } })).url;
    const dep: Deployment = {
      chainId,
      registry: address,
      ledger: new RsmsLedger(ResourcePoolRegistry__factory.connect(address, provider)),
    };
    const rpmWallet = await fund();
    const rpmKs = new Keystore(path.join(work, "rpm", "keystore"), "");
    await enrolRpm({ msrpUrl, poolId: 1, rid: "rpm-1", wallet: rpmWallet, keystore: rpmKs, dep });
    const rpm = new RpmService({
      keystore: rpmKs,
      dir: path.join(work, "rpm", "service"),
      poolId: 1,
      ledger: new RsmsLedger(ResourcePoolRegistry__factory.connect(address, rpmWallet)),
      store,
      wallet: rpmWallet,
      chainId,
      registry: address,
      log: () => undefined,
    });
    const rpmUrl = (await rpm.start({ port: 0, rateLimit: { max: 100_000, windowMs: 60_000 } })).url;
    stop = async () => {
      await rpm.stop();
      await msrp.stop();
      provider.destroy();
    };
    const client = new Keystore(path.join(work, "client", "keystore"), "");
    const names = Array.from({ length: SEQ + CONC }, (_, i) => `rn-${i}`);
    console.log(`services: registering ${names.length} RNs over HTTP ...`);
    const tr = performance.now();
    for (const n of names) await registerRnRemote({ msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, keystore: client, dep });
    const regPerSec = names.length / ((performance.now() - tr) / 1000);
    await msrp.publishDue();

    console.log(`services: ${SEQ} joins one after the other ...`);
    const lat: number[] = [];
    const t0 = performance.now();
    for (const n of names.slice(0, SEQ)) {
      const s = performance.now();
      await joinRemote({ name: n, poolId: 1, keystore: client, dep, rpmUrl });
      lat.push(performance.now() - s);
    }
    const seqPerSec = SEQ / ((performance.now() - t0) / 1000);

    console.log(`services: ${CONC} joins, ${IN_FLIGHT} in flight ...`);
    const clat: number[] = [];
    const queue = names.slice(SEQ);
    const t1 = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
          const s = performance.now();
          await joinRemote({ name: n, poolId: 1, keystore: client, dep, rpmUrl });
          clat.push(performance.now() - s);
        }
      }),
    );
    const concPerSec = CONC / ((performance.now() - t1) / 1000);
    const joins = await dep.ledger.joinCount();
    if (joins !== SEQ + CONC) throw new Error(`expected ${SEQ + CONC} join records, found ${joins}`);

    const res = {
      registrationsPerSec: regPerSec,
      sequential: { joins: SEQ, perSec: seqPerSec, p50: q(lat, 0.5), p95: q(lat, 0.95), p99: q(lat, 0.99) },
      concurrent: { joins: CONC, inFlight: IN_FLIGHT, perSec: concPerSec, p50: q(clat, 0.5), p95: q(clat, 0.95), p99: q(clat, 0.99) },
    };
    const row = (w: string, r: { perSec: number; p50: number; p95: number; p99: number }) =>
      `| ${w} | ${r.perSec.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} |`;
    const when = new Date().toISOString();
    const md = [
      "# RSMS joins through the services (loopback HTTP, `hardhat node`)",
      "",
      `Measured ${when} on ${machine()}. One MSRP service and one RPM service (own keystores and accounts), RN clients in the`,
      "same process; every join is an RN -> RPM -> MSRP round trip over HTTP with signed envelopes, a `recordJoin`",
      "transaction mined by the node, and the MSRP's state written before it answers. Batching: off (not implemented yet).",
      "",
      "| workload | joins/s | p50 (ms) | p95 (ms) | p99 (ms) |",
      "|---|---:|---:|---:|---:|",
      row(`${SEQ} joins, one after the other`, res.sequential),
      row(`${CONC} joins, ${IN_FLIGHT} in flight`, res.concurrent),
      "",
      `RN registrations over HTTP, one after the other: ${regPerSec.toFixed(1)}/s.`,
      "",
    ].join("\n");
    const dir = path.resolve(__dirname, "results");
    fs.writeFileSync(path.join(dir, "services.md"), md);
    fs.writeFileSync(path.join(dir, "services.json"), JSON.stringify({ measuredAt: when, machine: machine(), ...res }, null, 2) + "\n");
    console.log(md);
  } finally {
    await stop?.();
    await node.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
