/**
 * Task-step latency against a real `hardhat node` over JSON-RPC (issue 20): how long one task step
 * takes in a process that is already running (`hre.run`, no TypeScript loading), how many JSON-RPC
 * calls it makes, and both next to the bare transaction round trip measured in the same run
 * (eth_sendRawTransaction of a transaction signed beforehand, then eth_getTransactionReceipt,
 * through the same provider). The CLI's start-up (a fresh `hardhat <task>` process) is measured
 * separately. Steps: a rating (`trust:rate`, a typed score, signed by the rater's role key) and an
 * RSMS join with its chain write (`rsms:join`, the MSRP's recordJoin).
 *
 * Run: `hardhat run bench/steps.bench.ts` (starts the node, re-runs itself against it with
 * `--network localhost`). STEPS_N sets the samples per step (default 30), STEPS_CLI the CLI runs (default 3). Writes
 * bench/results/steps.{md,json}.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { machine } from "./lib";

const N = Number(process.env.STEPS_N ?? 30);
/** Samples of the join's own transaction sent bare (STEPS_JOINTX, default STEPS_N), after the steps. */
const JOINTX_N = Number(process.env.STEPS_JOINTX ?? N);
/** Consecutive blocks of samples whose ratios are reported apart: the spread over sub-runs of this run. */
const BLOCKS = 5;
/** About the size of a join's journal (Keystore.commit: the RN's record, the MSRP record's patch and head; 1.8-2.0 KB). */
const JOURNAL_BYTES = 2048;
/** CLI start-up runs (STEPS_CLI; 0 skips them, e.g. for a quick comparison of two commits). */
const CLI_RUNS = Number(process.env.STEPS_CLI ?? 3);
const RESULT = path.resolve(__dirname, "results");
/** STEPS_PROFILE=<file>: also write a V8 CPU profile (.cpuprofile) of the measured steps, for scripts/profile-summary.ts. */
const PROFILE = process.env.STEPS_PROFILE;

/** Starts V8's sampling profiler in this process (0.1 ms interval); `stop` writes the profile to STEPS_PROFILE. */
async function startProfile() {
  const inspector = await import("inspector");
  const session = new inspector.Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params ?? {}, (e, r) => (e ? reject(e) : resolve(r))));
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 100 });
  await post("Profiler.start");
  return {
    async stop() {
      const { profile } = (await post("Profiler.stop")) as { profile: unknown };
      session.disconnect();
      fs.writeFileSync(PROFILE!, JSON.stringify(profile));
      return PROFILE!;
    },
  };
}

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

type StepResult = {
  p50: number;
  p95: number;
  /** p50 of the client process's CPU time during the step (user + system, ms): what the client computes. */
  cpu50: number;
  /** The calls most samples made, and how many. */
  calls: Record<string, number>;
  /** p50 of the HTTP requests the step sent (a JSON-RPC batch counts once): its round trips to the node. */
  http50: number;
  total: number;
  /** Mean time waiting for each method (ms). */
  ms: Record<string, number>;
  /** Samples that made other calls, and the calls they added. */
  others: number;
  extra: Record<string, number>;
};
type ChildResult = {
  bare: { p50: number; p95: number; cpu50: number };
  /**
   * The same transfer with its receipt asked for two turns after the send, in a request of its own
   * (what DirectContract.prepare does for a join's recordJoin): a node that answers in order
   * answers it once the transaction is mined. `hits`: the samples whose first receipt answer held it.
   */
  bareEarly: { p50: number; p95: number; hits: number };
  /**
   * The same transfer and receipt through a minimal JSON-RPC client: node:http, one kept-alive
   * connection, no Hardhat provider stack (its wrappers, hardhat-ethers): the floor of a TypeScript
   * client's round trip to this node, measured next to the bare one.
   */
  bareRaw: { p50: number; p95: number; cpu50: number };
  /**
   * The join's own recordJoin sent bare: a join (not timed) under evm_snapshot, then evm_revert and
   * the very same signed transaction sent again raw, its receipt asked for two turns after; `bare`:
   * the transfer with its early receipt, measured right after each (JOINTX_N samples, after the steps).
   */
  joinTx: { p50: number; p95: number; bare50: number; n: number };
  /** One eth_call (TrustManager.entity, encoded beforehand) through the same provider. */
  read: { p50: number; p95: number };
  /** A process's first join's read (joinView: the pool, a replay check, the filter roots), encoded beforehand; later joins take it from the process's local view (rsms-join.md change 18). */
  joinReads: { p50: number; p95: number };
  /** A journal-sized file (JOURNAL_BYTES) created, written and fsync'd next to the keystore: the commit point's disk time. */
  fsync: { p50: number; p95: number };
  /**
   * The ratios, robustly: the median over samples of each sample's own ratio (the step over the
   * bare round trip, or the join's floor, measured in the same sample), and the ratio of p50s
   * within each of BLOCKS consecutive blocks of samples (the spread over sub-runs).
   */
  ratios: Record<"rate" | "join" | "joinFloor" | "joinB2B", { paired50: number; blocks: number[] }>;
  /** The 1-minute load average at the start of each block, and at the end. */
  loads: number[];
  rate: StepResult;
  join: StepResult;
  /** The same steps with JSON-RPC batching off (each request its own HTTP request), interleaved with the above. */
  rateOff: StepResult;
  joinOff: StepResult;
  /** A join started as soon as the join before it returned (its view refresh and background writes under way). */
  joinB2B: StepResult;
  load: number;
};

/** In the child (`--network localhost`): deploy, set up, and measure the steps and the bare round trip. */
async function child(out: string) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const hre = require("hardhat") as typeof import("hardhat");
  const { countRpc } = await import("../scripts/lib/rpc-count");
  const { Wallet } = await import("ethers");
  const log = console.log;
  console.log = () => {};
  await hre.run("deploy", { quiet: true, noCompile: true });
  const counter = countRpc(hre.network.provider);
  const { httpStatsOf } = await import("../offchain/chain/transport");
  const http = httpStatsOf(hre.network.provider);
  if (!http) throw new Error("bench: the localhost network's provider has no batching HTTP transport (offchain/chain/transport.ts)");
  // 20 organizations, each controlled by a role key of its own (generated, funded on first use)
  const E = 20;
  for (let i = 0; i < E; i++) await hre.run("trust:register", { entity: `e${i}`, type: "organization", account: `rater${i}` });
  await hre.run("rsms:setup", { capacity: 1024, lambda: 20, interval: 3600, ttl: 7 * 24 * 3600 });
  await hre.run("rsms:rpm:register", { pool: 1 });
  // per sample: the join, the join with batching off, and the back-to-back pair; the CLI's joins (the parent's) take c0, c1, ...
  for (let i = 0; i < 4 * N + 2 + JOINTX_N; i++) await hre.run("rsms:rn:register", { name: `n${i}`, pool: 1 });
  for (let i = 0; i < CLI_RUNS + 1; i++) await hre.run("rsms:rn:register", { name: `c${i}`, pool: 1 });
  await hre.run("rsms:filter:publish", { pool: 1 });

  // The bare round trip: a transfer signed beforehand by a key of its own, sent raw, then its receipt.
  const provider = hre.ethers.provider;
  const bareKey = Wallet.createRandom();
  const [funder] = await hre.ethers.getSigners();
  await (await funder.sendTransaction({ to: bareKey.address, value: 10n ** 18n })).wait();
  const { chainId } = await provider.getNetwork();
  const fee = await provider.getFeeData();
  let bareNonce = 0;
  let lastBareCpu = 0;
  const { keccak256 } = await import("ethers");
  /** The next transfer of the bare key, signed (outside the timings): its raw bytes and hash. */
  const signBare = async () => {
    const raw = await bareKey.signTransaction({
      to: funder.address,
      value: 1n,
      nonce: bareNonce++,
      gasLimit: 21_000n,
      chainId,
      maxFeePerGas: fee.maxFeePerGas! * 2n,
      maxPriorityFeePerGas: fee.maxPriorityFeePerGas!,
      type: 2,
    });
    return { raw, hash: keccak256(raw) };
  };
  const bare = async () => {
    const { raw } = await signBare();
    const t = performance.now();
    const u = process.cpuUsage();
    const hash = (await hre.network.provider.request({ method: "eth_sendRawTransaction", params: [raw] })) as string;
    const r = await hre.network.provider.request({ method: "eth_getTransactionReceipt", params: [hash] });
    if (!r) throw new Error("bench: the bare transaction has no receipt (automine off?)");
    const du = process.cpuUsage(u);
    lastBareCpu = (du.user + du.system) / 1000;
    return performance.now() - t;
  };
  // The minimal client: one kept-alive connection to the node, JSON in and out, nothing else.
  const nodeHttp = await import("http");
  const nodeUrl = new URL((hre.network.config as { url: string }).url);
  const rawAgent = new nodeHttp.Agent({ keepAlive: true, maxSockets: 1 });
  let rawId = 0;
  const rawRpc = (method: string, params: unknown[]) =>
    new Promise<unknown>((resolve, reject) => {
      const body = JSON.stringify({ jsonrpc: "2.0", id: ++rawId, method, params });
      const req = nodeHttp.request(
        {
          host: nodeUrl.hostname,
          port: nodeUrl.port,
          path: nodeUrl.pathname,
          method: "POST",
          agent: rawAgent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            try {
              const j = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { result?: unknown; error?: { message: string } };
              if (j.error) reject(new Error(`bench: ${method}: ${j.error.message}`));
              else resolve(j.result);
            } catch (e) {
              reject(e);
            }
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  let lastRawCpu = 0;
  const bareRaw = async () => {
    const { raw } = await signBare();
    const t = performance.now();
    const u = process.cpuUsage();
    const hash = await rawRpc("eth_sendRawTransaction", [raw]);
    const r = await rawRpc("eth_getTransactionReceipt", [hash]);
    if (!r) throw new Error("bench: the bare transaction has no receipt (automine off?)");
    const du = process.cpuUsage(u);
    lastRawCpu = (du.user + du.system) / 1000;
    return performance.now() - t;
  };
  let earlyHits = 0;
  const bareEarly = async () => {
    const { raw, hash } = await signBare();
    const t = performance.now();
    const sent = hre.network.provider.request({ method: "eth_sendRawTransaction", params: [raw] });
    const early = new Promise<unknown>((resolve) =>
      setImmediate(() =>
        setImmediate(() => resolve(hre.network.provider.request({ method: "eth_getTransactionReceipt", params: [hash] }))),
      ),
    );
    await sent;
    let r = await early;
    if (r) earlyHits++;
    else r = await hre.network.provider.request({ method: "eth_getTransactionReceipt", params: [hash] });
    if (!r) throw new Error("bench: the bare transaction has no receipt (automine off?)");
    return performance.now() - t;
  };

  // The bare read round trip: one eth_call, encoded beforehand, through the same provider.
  const { deployedAddress } = await import("../tasks/lib/context");
  const { TrustManager__factory, ResourcePoolRegistry__factory } = await import("../typechain-types");
  const { entityId } = await import("../offchain/trust/ledger");
  const readCall = {
    to: await deployedAddress(hre, "TrustManager"),
    data: TrustManager__factory.createInterface().encodeFunctionData("entity", [entityId("e0")]),
  };
  const read = async () => {
    const t = performance.now();
    await hre.network.provider.request({ method: "eth_call", params: [readCall, "latest"] });
    return performance.now() - t;
  };
  // The join's first read without the join (flows.prefetchJoin): the same eth_call, encoded beforehand.
  const joinReadCall = {
    to: await deployedAddress(hre, "ResourcePoolRegistry"),
    data: ResourcePoolRegistry__factory.createInterface().encodeFunctionData("joinView", [1, "0x" + "ab".repeat(32), 0, 8]),
  };
  const joinReads = async () => {
    const t = performance.now();
    await hre.network.provider.request({ method: "eth_call", params: [joinReadCall, "latest"] });
    return performance.now() - t;
  };
  // The commit point's disk time: a new file of a join's journal size, written and fsync'd in the
  // folder that holds the keystore (Keystore.commit's journal), then removed outside the timing.
  const { dataDir } = await import("../offchain/chain/paths");
  const fsyncDir = dataDir(hre.network.name);
  let fsyncSeq = 0;
  const fsyncOnce = () => {
    const file = path.join(fsyncDir, `.steps-bench-${process.pid}-${fsyncSeq++}.tmp`);
    const body = Buffer.alloc(JOURNAL_BYTES, 0x61);
    const t = performance.now();
    const fd = fs.openSync(file, "wx", 0o600);
    try {
      fs.writeSync(fd, body);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    const dt = performance.now() - t;
    fs.rmSync(file);
    return dt;
  };

  // Rating k: rater k mod E rates the one 1 + (k div E) mod (E-1) places further: no pair twice.
  const pair = (k: number) => [k % E, ((k % E) + 1 + (Math.floor(k / E) % (E - 1))) % E] as const;
  const rate = (k: number) => {
    const [a, b] = pair(k);
    return hre.run("trust:rate", { from: `e${a}`, to: `e${b}`, score: 0.9, unverifiable: true });
  };
  const join = (k: number) => hre.run("rsms:join", { rn: `n${k}`, pool: 1 });

  // warm-up: module loading and first-use caches; every rater rates once (its controller, nonce and
  // fees are then known to this process, as to a rating service's), the measured ratings follow
  await bare();
  await bareEarly();
  await bareRaw();
  await read();
  await joinReads();
  fsyncOnce();
  for (let i = 0; i < E; i++) await rate(i);
  await join(0);
  const bareMs: number[] = [];
  const bareCpu: number[] = [];
  const bareEarlyMs: number[] = [];
  const bareRawMs: number[] = [];
  const bareRawCpu: number[] = [];
  const readMs: number[] = [];
  const joinReadMs: number[] = [];
  const fsyncMs: number[] = [];
  const loads: number[] = [];
  type Name = "rate" | "join" | "rateOff" | "joinOff" | "joinB2B";
  const names: Name[] = ["rate", "join", "rateOff", "joinOff", "joinB2B"];
  const steps = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Name, number[]>;
  const cpu = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Name, number[]>;
  const httpN = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Name, number[]>;
  const calls = Object.fromEntries(names.map((n) => [n, []])) as unknown as Record<Name, Awaited<ReturnType<typeof counter.during>>[]>;
  log(`steps: ${N} x (bare round trip, read, rating and join with batching on and off, ABBA), interleaved ...`);
  const profiler = PROFILE ? await startProfile() : undefined;
  // STEPS_SPANS=<file>: the marks of offchain/util/spans.ts inside each timed join (ms from its start), written as JSON
  const spans = process.env.STEPS_SPANS ? await import("../offchain/util/spans") : undefined;
  spans?.startMarks();
  const spanRows: [string, number][][] = [];
  // Each sample starts once the keystore's background writes of the join before it have settled
  // (Keystore.commit: fsync and rename off the step's path): they would otherwise run during, and
  // be counted in, whichever sample comes next (the bare round trip, its time and CPU).
  // Likewise the refresh of the process's local registry view that each join starts once it has
  // returned (flows.refreshJoinView: between joins, off their path; rsms-join.md change 18).
  const { settled: keystoreSettled } = await import("../offchain/storage/keystore");
  // (optional, so that this bench also runs on a tree from before the view, for ABBA comparisons)
  const { joinViewsSettled } = (await import("../offchain/rsms/flows")) as { joinViewsSettled?: () => Promise<void> };
  const settled = async () => {
    await keystoreSettled();
    await joinViewsSettled?.();
  };
  let nextRating = E;
  let nextJoin = 1;
  const floors = async () => {
    await settled();
    bareMs.push(await bare());
    bareCpu.push(lastBareCpu);
    bareEarlyMs.push(await bareEarly());
    bareRawMs.push(await bareRaw());
    bareRawCpu.push(lastRawCpu);
    readMs.push(await read());
    joinReadMs.push(await joinReads());
    fsyncMs.push(fsyncOnce());
  };
  for (let k = 1; k <= N; k++) {
    if ((k - 1) % Math.ceil(N / BLOCKS) === 0) loads.push(os.loadavg()[0]);
    // the floors before the steps in odd samples, after them in even ones (ABBA); batching on,
    // then off, in odd samples, off, then on, in even ones
    if (k % 2) await floors();
    const order: Name[] = k % 2 ? ["rate", "join", "rateOff", "joinOff", "joinB2B"] : ["joinB2B", "rateOff", "joinOff", "rate", "join"];
    for (const name of order) {
      const f = name.startsWith("rate") ? () => rate(nextRating++) : () => join(nextJoin++);
      await settled();
      // back to back: a join (not timed) right before, whose view refresh and keystore background
      // writes, started as it returned, run during the timed one, as in a process that joins RNs
      // one after the other
      if (name === "joinB2B") await join(nextJoin++);
      http.enabled = !name.endsWith("Off");
      const h = http.requests;
      spans?.takeMarks();
      const t = performance.now();
      const u = process.cpuUsage();
      const c = await counter.during(f);
      steps[name].push(performance.now() - t);
      const du = process.cpuUsage(u);
      httpN[name].push(http.requests - h);
      http.enabled = true;
      cpu[name].push((du.user + du.system) / 1000);
      calls[name].push(c);
      if (spans && name === "join") spanRows.push(spans.takeMarks().map(([m, v]) => [m, v - t] as [string, number]));
    }
    if (k % 2 === 0) await floors();
  }
  loads.push(os.loadavg()[0]);
  // The join's own transaction, sent bare: a join (not timed) under a snapshot, then the snapshot
  // restored and the very same signed recordJoin sent again raw, its receipt asked for two turns
  // after (as the join does); the chain ends as the join left it. Next to it, the transfer's.
  const { Transaction } = await import("ethers");
  const floorEarlyHits = earlyHits; // the floors' (the samples below count their own)
  const joinTxMs: number[] = [];
  const joinTxBareMs: number[] = [];
  for (let k = 0; k < JOINTX_N; k++) {
    await settled();
    const snap = await hre.network.provider.request({ method: "evm_snapshot", params: [] });
    const res = (await join(nextJoin++)) as { tx?: { hash: string } };
    const t = (await hre.network.provider.request({ method: "eth_getTransactionByHash", params: [res.tx!.hash] })) as Record<
      string,
      string
    >;
    const raw = Transaction.from({
      type: Number(t.type),
      chainId: BigInt(t.chainId),
      nonce: Number(t.nonce),
      to: t.to,
      data: t.input,
      value: BigInt(t.value),
      gasLimit: BigInt(t.gas),
      maxFeePerGas: BigInt(t.maxFeePerGas),
      maxPriorityFeePerGas: BigInt(t.maxPriorityFeePerGas),
      accessList: [],
      signature: { r: t.r, s: t.s, yParity: Number(t.yParity ?? t.v) as 0 | 1 },
    }).serialized;
    await settled();
    await hre.network.provider.request({ method: "evm_revert", params: [snap] });
    const t0 = performance.now();
    const sent = hre.network.provider.request({ method: "eth_sendRawTransaction", params: [raw] });
    const early = new Promise<unknown>((resolve) =>
      setImmediate(() =>
        setImmediate(() => resolve(hre.network.provider.request({ method: "eth_getTransactionReceipt", params: [res.tx!.hash] }))),
      ),
    );
    if ((await sent) !== res.tx!.hash) throw new Error("bench: the join's transaction sent again has another hash");
    if (!(await early) && !(await hre.network.provider.request({ method: "eth_getTransactionReceipt", params: [res.tx!.hash] })))
      throw new Error("bench: the join's transaction sent again: no receipt");
    joinTxMs.push(performance.now() - t0);
    joinTxBareMs.push(await bareEarly());
  }
  if (spans) {
    fs.writeFileSync(process.env.STEPS_SPANS!, JSON.stringify(spanRows));
    // each mark's median time from the join's start, in the order the first join met them
    const order = [...new Set(spanRows.flatMap((r) => r.map(([m]) => m)))];
    const at = (m: string) =>
      q(
        spanRows.flatMap((r) => r.filter(([n]) => n === m).map(([, v]) => v)),
        0.5,
      );
    log(
      `steps: marks of ${spanRows.length} joins (median ms from the step's start): ${order.map((m) => `${m} ${at(m).toFixed(3)}`).join(", ")}`,
    );
  }
  if (profiler) log(`steps: CPU profile of the ${N} x 3 steps written to ${await profiler.stop()}`);
  const summary = (name: Name): StepResult => {
    const ms: Record<string, number> = {};
    for (const c of calls[name]) for (const [m, v] of Object.entries(c.ms)) ms[m] = (ms[m] ?? 0) + v / calls[name].length;
    // the calls most samples made; the others made more (a fee refresh after FEE_TTL_MS, a funding
    // check after FUNDED_RECHECK_MS): counted, with the methods they added
    const keyOf = (c: Record<string, number>) => JSON.stringify(Object.entries(c).sort());
    const freq = new Map<string, number>();
    for (const c of calls[name]) freq.set(keyOf(c.calls), (freq.get(keyOf(c.calls)) ?? 0) + 1);
    const mode = [...freq.entries()].sort((a, b) => b[1] - a[1])[0][0];
    const usual = calls[name].find((c) => keyOf(c.calls) === mode)!;
    const extra: Record<string, number> = {};
    let others = 0;
    for (const c of calls[name])
      if (keyOf(c.calls) !== mode) {
        others++;
        for (const [m, n] of Object.entries(c.calls)) if (n > (usual.calls[m] ?? 0)) extra[m] = (extra[m] ?? 0) + n - (usual.calls[m] ?? 0);
      }
    return {
      p50: q(steps[name], 0.5),
      p95: q(steps[name], 0.95),
      cpu50: q(cpu[name], 0.5),
      calls: usual.calls,
      http50: q(httpN[name], 0.5),
      total: usual.total,
      ms,
      others,
      extra,
    };
  };
  // sample k's ratio: its step over the bare round trip (or the join's floor) of the same sample
  // a join's floor: its transaction with the receipt asked for early (its pre-answer checks come from
  // the process's local view, rsms-join.md change 18: no read before it); the intent's fsync runs
  // while the node mines and answers (Keystore.commitIntent), so it is not added
  const joinFloorMs = bareEarlyMs;
  const ratioOf = (xs: number[], floor: number[]) => {
    const size = Math.ceil(N / BLOCKS);
    const blocks: number[] = [];
    for (let i = 0; i < N; i += size) blocks.push(q(xs.slice(i, i + size), 0.5) / q(floor.slice(i, i + size), 0.5));
    return {
      paired50: q(
        xs.map((x, i) => x / floor[i]),
        0.5,
      ),
      blocks,
    };
  };
  const res: ChildResult = {
    bare: { p50: q(bareMs, 0.5), p95: q(bareMs, 0.95), cpu50: q(bareCpu, 0.5) },
    bareEarly: { p50: q(bareEarlyMs, 0.5), p95: q(bareEarlyMs, 0.95), hits: floorEarlyHits },
    bareRaw: { p50: q(bareRawMs, 0.5), p95: q(bareRawMs, 0.95), cpu50: q(bareRawCpu, 0.5) },
    joinTx: { p50: q(joinTxMs, 0.5), p95: q(joinTxMs, 0.95), bare50: q(joinTxBareMs, 0.5), n: joinTxMs.length },
    read: { p50: q(readMs, 0.5), p95: q(readMs, 0.95) },
    joinReads: { p50: q(joinReadMs, 0.5), p95: q(joinReadMs, 0.95) },
    fsync: { p50: q(fsyncMs, 0.5), p95: q(fsyncMs, 0.95) },
    ratios: {
      rate: ratioOf(steps.rate, bareMs),
      join: ratioOf(steps.join, bareMs),
      joinFloor: ratioOf(steps.join, joinFloorMs),
      joinB2B: ratioOf(steps.joinB2B, bareMs),
    },
    loads,
    rate: summary("rate"),
    join: summary("join"),
    rateOff: summary("rateOff"),
    joinOff: summary("joinOff"),
    joinB2B: summary("joinB2B"),
    load: os.loadavg()[0],
  };
  fs.writeFileSync(out, JSON.stringify(res));
  rawAgent.destroy();
  console.log = log;
}

/** In the parent: start the node, run the child against it, time the CLI, write the tables. */
async function parent() {
  const { startNode } = await import("../scripts/lib/hardhat-node");
  const loadBefore = os.loadavg()[0];
  const node = await startNode();
  const out = path.join(os.tmpdir(), `steps-bench-${process.pid}.json`);
  let res: ChildResult;
  const cli: number[] = [];
  const cliJoin: { total: number; step: number; loading: number }[] = [];
  let cliJoinCalls: Record<string, number> = {};
  try {
    const r = await node.run(["run", path.relative(path.resolve(__dirname, ".."), __filename)], { env: { STEPS_BENCH_CHILD: out } });
    process.stdout.write(r.stdout);
    if (r.code !== 0) throw new Error(`steps bench child failed (${r.code}):\n${r.stderr}`);
    res = JSON.parse(fs.readFileSync(out, "utf8"));
    // The CLI: a fresh process per rating (TypeScript loading, Hardhat start-up, the step).
    console.log(`steps: CLI start-up, ${CLI_RUNS} x \`hardhat trust:rate\` ...`);
    for (let k = 0; k < CLI_RUNS; k++) {
      const t = performance.now();
      // e(k) rates e(k+10): a pair the child's sequence reaches only after 9 x 20 ratings
      const c = await node.run(["trust:rate", "--from", `e${k}`, "--to", `e${(k + E_HALF) % 20}`, "--score", "0.5", "--unverifiable"]);
      if (c.code !== 0) throw new Error(`hardhat trust:rate failed (${c.code}):\n${c.stderr}`);
      cli.push(performance.now() - t);
    }
    // A join from the command line: always its process's first (no local view, no kept agents,
    // the wallet's chain id, fees and nonce not known yet; Hardhat exits when the task ends). The
    // task prints its own time ("in X ms", from its action's start): the in-process step.
    console.log(`steps: CLI joins, ${CLI_RUNS} x \`hardhat rsms:join\` ...`);
    for (let k = 0; k < CLI_RUNS; k++) {
      const t = performance.now();
      const c = await node.run(["rsms:join", "--rn", `c${k}`, "--pool", "1"]);
      const total = performance.now() - t;
      const step = /joined pool 1 .* in ([0-9.]+) ms \(([0-9.]+) ms of it loading/.exec(c.stdout);
      if (c.code !== 0 || !step) throw new Error(`hardhat rsms:join failed (${c.code}):\n${c.stdout}\n${c.stderr}`);
      cliJoin.push({ total, step: Number(step[1]) - Number(step[2]), loading: Number(step[2]) });
    }
    // One more, through a counting proxy to the node: the JSON-RPC calls of a CLI join's process.
    if (CLI_RUNS > 0) cliJoinCalls = await countedCli(node, ["rsms:join", "--rn", `c${CLI_RUNS}`, "--pool", "1"]);
  } finally {
    await node.stop();
    fs.rmSync(out, { force: true });
  }
  const cliP50 = cli.length ? q(cli, 0.5) : NaN;
  const cliJoinTotals = cliJoin.map((c) => c.total);
  const cliJoinSteps = cliJoin.map((c) => c.step);
  const x = (v: number) => `${(v / res.bare.p50).toFixed(2)}x`;
  // a rating's reads ride in its receipt's batch, asked for two turns after the send (TrustLedger.rate,
  // session 18): its floor is its transaction with the early receipt, as a join's
  const rateFloor = res.bareEarly.p50;
  // a join waits for its transaction and the receipt asked for two turns after it (the intent's fsync
  // runs meanwhile); its checks come from the local view (rsms-join.md change 18), no read before it
  const joinFloor = res.bareEarly.p50;
  const spread = (r: { paired50: number; blocks: number[] }) =>
    `${r.paired50.toFixed(2)}x (blocks ${Math.min(...r.blocks).toFixed(2)}-${Math.max(...r.blocks).toFixed(2)}x)`;
  const callList = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([m, n]) => (n > 1 ? `${m} x${n}` : m))
      .join(", ");
  const when = new Date().toISOString();
  const md = [
    "# Task steps against `hardhat node` (JSON-RPC, automine)",
    "",
    `Measured ${when} on ${machine()}.`,
    `Load average ${loadBefore.toFixed(1)} before and ${res.load.toFixed(1)} during the steps. ${N} samples of each, interleaved (bare, read, then the rating and the join with JSON-RPC batching on and off, in ABBA order: on first in odd samples, off first in even ones), so the ratios compare like with like; absolute times scale with the load.`,
    "",
    "In-process: `hre.run(<task>)` in a running process (modules loaded, the deployment known). The bare round trip is",
    "eth_sendRawTransaction of a transfer signed beforehand, then eth_getTransactionReceipt, through the same provider:",
    "the floor of any step that writes.",
    "",
    "| step | calls | HTTP requests | p50 (ms) | p95 (ms) | p50 / bare p50 | client CPU p50 (ms) | round-trip floor (ms) | p50 / floor |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    `| bare transaction round trip | 2 | 2 | ${res.bare.p50.toFixed(1)} | ${res.bare.p95.toFixed(1)} | 1.00x | ${res.bare.cpu50.toFixed(1)} | | |`,
    `| bare transaction, its receipt asked for two turns after the send (${res.bareEarly.hits} of ${N + 1} answered with it at once) | 2 | 2 | ${res.bareEarly.p50.toFixed(1)} | ${res.bareEarly.p95.toFixed(1)} | ${x(res.bareEarly.p50)} | | | |`,
    `| bare transaction round trip through a minimal client (node:http, one kept-alive connection, no Hardhat provider stack) | 2 | 2 | ${res.bareRaw.p50.toFixed(1)} | ${res.bareRaw.p95.toFixed(1)} | ${x(res.bareRaw.p50)} | ${res.bareRaw.cpu50.toFixed(1)} | | |`,
    `| the join's own recordJoin, signed beforehand, sent bare with its receipt asked for two turns after (evm_snapshot, a join, evm_revert, the same signed transaction again; ${res.joinTx.n} samples after the steps, where the transfer's early-receipt round trip took ${res.joinTx.bare50.toFixed(1)} ms: ${(res.joinTx.p50 / res.joinTx.bare50).toFixed(2)}x) | 2 | 2 | ${res.joinTx.p50.toFixed(1)} | ${res.joinTx.p95.toFixed(1)} | ${x(res.joinTx.p50)} | | | |`,
    `| bare read round trip (one eth_call) | 1 | 1 | ${res.read.p50.toFixed(1)} | ${res.read.p95.toFixed(1)} | ${x(res.read.p50)} | | | |`,
    `| a process's first join's read alone (joinView: the pool, the replay check, the filter roots; later joins take them from the local view) | 1 | 1 | ${res.joinReads.p50.toFixed(1)} | ${res.joinReads.p95.toFixed(1)} | ${x(res.joinReads.p50)} | | | |`,
    `| a journal-sized file (${JOURNAL_BYTES} bytes) written and fsync'd next to the keystore | | | ${res.fsync.p50.toFixed(1)} | ${res.fsync.p95.toFixed(1)} | ${x(res.fsync.p50)} | | | |`,
    ...(
      [
        ["rating (`trust:rate --score --unverifiable`, the rater's role key)", res.rate, rateFloor],
        ["rating, JSON-RPC batching off", res.rateOff, rateFloor],
        ["RSMS join with its recordJoin (`rsms:join`)", res.join, joinFloor],
        ["RSMS join, JSON-RPC batching off", res.joinOff, joinFloor],
        [
          "RSMS join right after another (back to back: the view's refresh and the keystore's background writes of the join before it still under way; their calls counted here)",
          res.joinB2B,
          joinFloor,
        ],
      ] as const
    ).map(
      ([label, r, floor]) =>
        `| ${label} | ${r.total} | ${r.http50} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${x(r.p50)} | ${r.cpu50.toFixed(1)} | ${floor.toFixed(1)} | ${(r.p50 / floor).toFixed(2)}x |`,
    ),
    "",
    "'round-trip floor': what a step must wait for, from the floors measured in this run. A rating waits for no read before",
    "its transaction: its two reads (the pair after it, and the pair before it, read at a block this process saw mined before",
    "the rating: TrustLedger.rate) go with its receipt, which it asks for two turns after the send, while the node mines it",
    "(session 18, as a join), so its floor is the second bare row (the node's time for the two eth_calls in that batch is not",
    "in it). A join in a process that ran one waits for no read: the pool (PK_RPM for the",
    "RN's request), the replay check of the RN's tag and the filter roots come from the process's local view of the registry,",
    "refreshed after each join off its path (flows.viewedJoin, rsms-join.md change 18; this bench waits for that refresh",
    "before each sample, as for the keystore's background writes, except for the back-to-back row, which starts a join as",
    "soon as the one before it returned, so that the refresh and the writes compete with it, as in a process that joins RNs",
    "one after the other); it waits for its transaction, whose receipt it asks for two turns after the send (the second bare",
    "row: DirectContract.prepare); its records are serialized once both have left (rsms-join.md change 19). A process's",
    "first join reads them first (the joinView row; a command-line join, below).",
    "Its records' fsync is not in the floor: the intent that holds them is written and fsync'd while the node mines and answers",
    "(Keystore.commitIntent; the step returns once the receipt and the fsync are both in, so a fsync longer than that wait",
    "shows in the step). What a join takes beyond its floor is the client's CPU on its path: loading the agents, the RSMS",
    "messages (the RN's request, the RPM's opening and forward, the MSRP's verification), signing, the keystore records.",
    "",
    `Ratios measured robustly (the floors are measured in every sample, before the steps in odd samples and after them in even`,
    `ones): the median of each sample's own ratio, and in brackets the range of the ratio of p50s over ${BLOCKS} consecutive blocks`,
    `of ${Math.ceil(N / BLOCKS)} samples. Load average (1 min) at the start of each block and at the end: ${res.loads.map((l) => l.toFixed(1)).join(", ")}.`,
    "",
    `- rating / bare transaction round trip: ${spread(res.ratios.rate)}`,
    `- join / bare transaction round trip: ${spread(res.ratios.join)}`,
    `- join / its floor (the bare transaction with its receipt asked for early, of the same sample): ${spread(res.ratios.joinFloor)}`,
    `- join back to back / bare transaction round trip: ${spread(res.ratios.joinB2B)}`,
    "",
    "'client CPU' is the CPU time (user + system, all threads) of the process running the step, during the step: what the",
    "client computes (ABI coding, signing, the keystore records, the RSMS messages), apart from waiting for the node. It",
    "depends far less on the machine's load than the wall-clock columns.",
    "",
    "Before issue 20's changes (commit 177c449, this bench, 2026-12-02 13:35 UTC, load average 9.6, 10 samples): a rating made 17",
    "calls (eth_getCode x2, eth_call x4, eth_getBalance, eth_getTransactionCount, eth_estimateGas, eth_chainId, eth_gasPrice,",
    "eth_getBlockByNumber, eth_maxPriorityFeePerGas, eth_sendRawTransaction, eth_blockNumber, eth_getTransactionReceipt,",
    "eth_getBlockByHash) at 8.32x the bare round trip, a join 17 calls at 10.04x. The ratios move by 1.5x between runs on this",
    "shared machine: the steps spend most of their time on the client's CPU (ABI coding, signing, the agents' keystore",
    "records, written with fsync), which the other jobs slow more than they slow the node's answer to a bare transaction.",
    "",
    "libsecp256k1 signing and the MSRP record's kept next-PID index (h8-speed), compared in two back-to-back runs of this bench",
    "(2026-12-02 22:10 UTC, load average 14, STEPS_CLI=0; offchain/ at 7a0e25d, then with the changes): client CPU per rating",
    "9.0 -> 7.9 ms and per join 16.2 -> 12.8 ms; the wall-clock ratios did not move beyond the noise (rating 1.63x -> 1.80x,",
    "join 3.59x -> 3.78x): at this load the steps wait on the node's eth_call and, for a join, on the two fsync'd keystore",
    "writes (about 5 ms each on this disk), not on the client's CPU.",
    "",
    "h9-speed (2026-12-03): a rater's controller is read once per process (a rating by a remembered controller that fails",
    "is sent again if the chain names another), so a rating makes 4 calls, not 5; a join writes the MSRP's and the RN's",
    "keystore records with one journaled commit (one fsync on the step's path; the records are fsync'd and renamed into",
    "place in the background), not two fsync'd atomic writes; ChainWallet serializes its transaction once. In CPU profiles",
    "of this bench (STEPS_PROFILE, load average 11-12), the join's keystore write took 11 ms per join before and 4 ms after.",
    "Wall-clock and CPU figures of this bench, run at load average 12-16 on the same code before and after (ABBA, two runs",
    "each), overlapped: rating client CPU 12.8 / 11.8 ms before, 12.0 / 11.1 ms after; join 18.6 / 17.6 before, 22.5 / 19.5",
    "after (the keystore's background writes run on the client's threads and count in its CPU). At this load the bare round trip moved",
    "between 7 and 16 ms from one run to the next; bench/results/keystore.md compares the keystore writes alone.",
    "",
    "h10-speed (2026-12-03): the hot calls bypass ethers' Contract and hardhat-ethers' formatting (offchain/chain/fastpath.ts,",
    "direct.ts): calldata and results through ABI codecs compiled once, the transaction RLP-encoded and signed on libsecp256k1",
    "by hand, raw JSON-RPC through the provider's `send`, the receipt asked for at once; the pool's key is taken from its",
    "record, so a join makes one read less (5 calls). Since then each sample starts after the keystore's background writes",
    "of the join before it settled (before, they ran during the next sample, usually the bare round trip, and inflated it).",
    "Back to back with this bench (ABBA, load average 10-11; main at 8c44b32 as A): rating 3.75x / 3.20x the",
    "bare round trip before, 1.92x / 2.32x after; join 7.01x / 5.85x before, 4.13x / 3.89x after. Client CPU per rating",
    "9.0 / 6.4 ms before, 6.1 / 6.0 ms after, per join 17.5 / 12.9 before, 12.8 / 12.6 after, while the bare round trip's own",
    "CPU (two calls) was 1.5 / 1.2 ms before and 1.8 / 1.6 ms after: the runs' machines differed by as much as the change.",
    "About half of a rating's remaining CPU is its four calls' HTTP stack (undici, Hardhat's HTTP provider, loopback TCP).",
    "",
    "h11-speed (2026-12-03): the requests a step issues together go to the node as one JSON-RPC batch (offchain/chain/transport.ts",
    "`batchHttp`, below Hardhat's HTTP wrappers; each request keeps its own answer, error and retry); a rating reads the pair",
    "before it after its transaction, at a block this process saw mined before it, in one batch with the receipt and the pair",
    "after (TrustLedger.rate): 2 HTTP requests, as the bare round trip, where it made 4 (the pair before; the transaction; the",
    "receipt and the pair after, in parallel); a join makes 4, not 5 (the replay check and the filter's root in one batch); the",
    "keystore's background renames left the main thread. Back to back with this bench, N = 30, STEPS_CLI=0, main at d48c959 as",
    "A (its bench made to register 2N + 2 RNs, as this one does, so that the MSRP's records are alike): B at load average",
    "8.2 / 7.7: rating 1.91x the bare round trip (4.2 ms; 2.31x with batching off in the same run), join 6.70x (14.9 ms; 6.81x",
    "off); A at 6.6 / 7.8: rating 3.48x (7.5 ms), join 6.80x (14.7 ms); A at 4.5 / 5.4: rating 3.18x (7.4 ms), join 9.13x",
    "(21.2 ms); B at 6.1 / 7.4 (a busier machine: the bare round trip's p50 4.3 ms, its p95 18.3 ms): rating 2.36x (10.2 ms;",
    "3.40x off), join 5.97x (25.7 ms; 5.03x off); B at 7.9 / 7.3: rating 2.26x (5.1 ms; 2.42x off), join 6.36x (14.2 ms;",
    "5.04x off); B with N = 60 at 5.6 / 5.2: rating 2.19x (5.2 ms; 2.43x off), join 5.28x (12.5 ms; 5.44x off); B with N =",
    "60 at 5.4 / 5.8: rating 2.04x (4.8 ms; 2.20x off), join 8.15x (19.2 ms; 8.64x off). Batching on against off in the same",
    "run is the steadier comparison: it saved a rating 0.16-1.04x of the bare round trip in these runs; a join's difference",
    "stays within the noise. A join's time moves between runs by more than these changes (its journal's fsync on a disk other",
    "jobs share; 14.7 and 21.2 ms in the two runs of A). A run of A with N + 2 = 32 RNs (load 7.6 / 8.2) gave 12.8 ms",
    "(4.78x): a join loaded and rewrote the MSRP's whole keystore record, which grows with its RNs (6.8 KB journaled per join",
    "at 20 RNs, 92.7 KB at 300). Then the MSRP's record was kept as a base and patches of its RNs (Keystore.commit's `patch`):",
    "a join journals the RN it changed, as many bytes at 300 RNs as at 20 (test/rsms/msrp-record.test.ts); it still loads",
    "the whole record.",
    "",
    "h12-join (2026-12-03, session 12): a join's first reads are one eth_call (ResourcePoolRegistry.joinView: the pool, the",
    "replay check of the RN's tag H4(a), read before the RPM opens the request and used only for that tag, and the filter",
    "roots), asked for while the task loads its agents: 3 calls in 3 HTTP requests, where it made 5 in 4 (a batch of three",
    "eth_calls measured 3.3 ms where the bare read took 1.6, in one run at load 8: hardhat node answers each call of a batch",
    "on its own); the keystore commit compares with parses it keeps, and the RPM does not hash a filter again. Back to back",
    "with this bench, N = 40, STEPS_CLI=0: the code before (da2dc7d) at load average 7.9: join 16.1 ms, 5.59x the bare",
    "round trip (p50 over p50), client CPU 7.8 ms; this code at 12.1 and 14.0: join 13.3 and 15.0 ms, 4.08x and 3.93x",
    "(the median of the samples' own ratios 4.07x and 3.60x), client CPU 7.4 and 8.3 ms; a rating 1.97x and 2.04x, the code",
    "before 1.92x. The join's floor (its read, the bare round trip and a journal-sized fsync, measured in each sample) is",
    "1.5-1.7x the bare round trip: the 2x goal leaves the client under half a bare round trip (about 1.5 ms) for loading",
    "the agents, the RSMS messages, signing and the keystore records, which take 3-4 ms on its path at this load.",
    "",
    "h13-join (2026-12-03, session 13): a join's records are journaled as an intent with its recordJoin, signed first, and",
    "fsync'd while the node mines it (Keystore.commitIntent, rsms-join.md change 17); the MSRP's commit and the records'",
    "serialization run in that wait too; the step returns once the receipt and the intent are both in. Its receipt is asked",
    "for two turns after the send, in a request of its own (DirectContract.prepare): hardhat node takes requests in order",
    "and answers it with the mined transaction's receipt (37-41 of 41 bare samples per run; one turn put both in one batch,",
    "16 of 31). Back to back with this bench, N = 40, STEPS_CLI=0, alternating with the code before (68bffad): at load",
    "average 4-5, six pairs: join p50 (median over the runs) 12.9 ms against 14.5, the bare round trip 2.9 and 3.2 ms,",
    "join / bare 4.51x against 4.63x (the median of the samples' own ratios 4.10x against 4.33x), client CPU 8.4 against",
    "7.7 ms; at load 17-21 (other jobs and this session's tests running), two pairs: 3.20x and 3.74x against 5.60x and",
    "4.94x, with the node's speed moving between the runs (bare round trip 7.7 and 6.6 ms, then 2.5 and 3.8). About 1.5 ms",
    "of a join's wall time is gone (the receipt's round trip, and the records' fsync); the overlapped CPU gains little on",
    "this machine, as the other jobs leave no core free while the node mines. The join stays CPU-bound: at load 4-5 its",
    "p50 is its floor (its read and its transaction with the early receipt: 3.4 ms) plus about its client CPU (8.4 ms).",
    "",
    "h14-speed (2026-12-03, session 14): a join takes the MSRP agent the join before it committed in this process, when the",
    "record's stamp (Keystore.stamp: the texts of its base, head and patches) is the one that commit wrote, instead of",
    "loading and rebuilding it (a write by any other process or command changes a text: the agent is loaded again); the",
    "keystore lists its journal folder once per turn of the event loop, not before every read; hre.ethers.provider is",
    "read once per network (each read of Hardhat's lazy hre.ethers built a source-mapped stack trace, 0.1-0.2 ms, on",
    "every step). Back to back with this bench, N = 40, STEPS_CLI=0, ABBA against main (bd2d490, with this bench), four",
    "runs of each, medians over the runs: at load average 12-16, join client CPU 7.17 -> 5.41 ms, rating 1.88 -> 1.68 ms;",
    "join p50 10.64 -> 10.86 ms, join / bare 3.42x -> 3.70x (the median of the samples' own ratios), join / its floor",
    "2.78x -> 2.51x, rating / bare 2.03x -> 1.96x; at load 22-27: join client CPU 7.79 -> 6.14 ms, rating 2.17 -> 1.99 ms;",
    "join p50 12.59 -> 11.87 ms, join / bare 3.79x -> 3.37x, join / its floor 2.63x -> 2.32x, rating / bare 2.11x -> 2.03x.",
    "The CPU is the steady figure (about 1.7 ms, a quarter, less per join); the wall-clock ratios move within the runs'",
    "noise, the bare round trip's p50 moving 2.3-11.5 ms between runs at that load. The minimal client's row (node:http,",
    "one kept-alive connection) measures what a lighter JSON-RPC client than Hardhat's provider could save: in these",
    "runs its CPU per round trip (0.8-1.1 ms) was no lower than the provider's (0.7-0.9 ms), so none was built. This",
    "table: that code.",
    "",
    "h15-speed (2026-12-04, session 15): a join in a process that ran one takes its pre-answer checks (the pool, the replay",
    "check, the filter roots) from the process's local view of the registry, refreshed after each join off its path, with",
    "the registry's recordJoin as the arbiter (rsms-join.md change 18): 2 calls in 2 requests, where it made 3 in 3. ABBA",
    "against main (94f2eaf, with this bench), STEPS_CLI=0, five runs of each (N = 30 and 40), medians over the runs: load",
    "average 9-13 (main) and 9-10 (the view); join p50 9.87 -> 6.85 ms; join / bare 3.99x -> 2.43x (the median of the",
    "samples' own ratios; p50 over p50 4.09x -> 2.55x); join client CPU 5.26 -> 5.01 ms; the read it no longer waits for",
    "(the joinView row) 1.2-1.6 ms; rating / bare 2.12x -> 2.01x (unchanged code). Serializing the records two or three",
    "turns after the send instead of before it (so that they do not delay it) gave 2.82x over five runs: not kept.",
    "",
    "h16-join (2026-12-04, session 16): spans timed inside the joins (performance.now()) showed the records' serialization",
    "(0.8-1.1 ms) running between the send and the moment the batching transport sent the transaction; a join now lets",
    "three turns pass first (the transaction and its early receipt on their way), then serializes and journals its records",
    "while the node mines (rsms-join.md change 19); the intent is written on the main thread and fsync'd on libuv's pool",
    "(one hop, not four); the pool's RPM agent and the filters it checked are kept across joins like the MSRP's (filter",
    "sync 0.13 -> 0.02 ms); the keystore compares with the record on disk through serializations kept per parse. Spans",
    "(medians, ms from the step's start; before: main at load 4; after: load 13): the transaction left at 2.8 -> 1.7, the",
    "step ended at 6.8 -> 5.6. ABBA against main (2e40b4b, with this bench), STEPS_CLI=0, N = 40, seven runs of each,",
    "medians over the runs, load average 8-41 (median 24 for main, 29 for this code): join p50 9.29 -> 6.94 ms; join / bare",
    "3.35x -> 2.62x (the median of the samples' own ratios; p50 over p50 3.79x -> 2.84x; 2.32-4.11x over this code's runs);",
    "join client CPU 5.34 -> 4.80 ms; back to back (the row added here) 3.69x -> 3.19x; rating / bare 2.04x -> 2.02x",
    "(unchanged code). A command-line join is measured apart (below): it is its process's first, and its time is module",
    "loading and first use, not the chain.",
    "",
    "h17-join (2026-12-04, session 17): marks inside the joins (offchain/util/spans.ts, STEPS_SPANS=<file>: each mark's",
    "median is printed) showed the journal, run after the send, taking 2.3 ms of the main thread (load 9-13): the MSRP's",
    "whole record serialized and compared entry by entry with the disk's, and hashed by noble's SHA-256 in JavaScript,",
    "while the answers to the transaction and its receipt waited and the intent's fsync could not start. A join whose MSRP",
    "agent was kept now journals the one RN entry its commitJoin changed as the next patch (Keystore.commitIntent's",
    "`entries`; the same files byte for byte), and the keystore hashes on node:crypto (rsms-join.md change 20): journal",
    "2.31 -> 1.03 ms, the step's end 8.7 -> 6.0 ms from its start (load 9-13 before, 16-17 after). ABBA against main",
    "(5f7f126, its own bench, which differs only by the marks), STEPS_CLI=0, N = 40, five runs of each alternating",
    "(A B B A A B B A A B), load average 18-25 throughout, medians over the runs: join p50 11.40 -> 8.87 ms; join client",
    "CPU 5.82 -> 4.98 ms; join / bare 2.13x -> 2.65x (the median of the samples' own ratios; p50 over p50 2.39x -> 2.69x;",
    "1.28-3.67x over main's runs, 1.87-3.43x over this code's): at this load the bare round trip's p50 moved between 1.9 and",
    "8.2 ms from one run to the next (median 4.78 ms in main's runs, 3.28 in this code's), more than the change, so the",
    "ratio does not show it; the join's time and CPU do. Two of the ten runs had the join's median ratio at or below 2x.",
    "",
    "h18-latency (2026-12-04, session 18): a rating asks for its receipt, with the pair after and the pair at the block",
    "seen, two turns after its send, while the node mines it (DirectContract.prepare's early receipt, as a join's;",
    "TrustLedger.rate), not once the node has answered the send: its floor is now the second bare row. A send refused",
    "for its nonce is counted again and sent as before; a pair after read before the rating was mined is read again at",
    "the rating's block. ABBA against main (26b38fd, this bench), STEPS_CLI=0, N = 30, five runs of main and six of this",
    "code, alternating, load average 10-16 throughout, medians over the runs: rating p50 5.77 -> 5.21 ms; rating / bare",
    "2.17x -> 1.91x (the median of the samples' own ratios; p50 over p50 2.17x -> 1.94x; 1.96-2.42x over main's runs,",
    "1.72-2.30x over this code's, at or below 2x in 1 of 5 and 3 of 6); client CPU 2.1 -> 2.0 ms. The join's code did",
    "not change: 2.89x and 2.63x in the two sets (noise). Its marks at load 14-16 (120 joins): before the send 2.2 ms (the",
    "task's bookkeeping 1.0, the RSMS messages 1.0, signing 0.2), the journal 1.0 after it, the send's answer processed",
    "at 6.0 ms where a bare transaction with the early receipt takes 2.0 in all.",
    "",
    "h19-join (2026-12-04, session 19): a join's three ephemerals (the RN's u with u*Z, the RPM's ECIES key with its shared",
    "point, its Schnorr nonce) are drawn between joins (offchain/crypto/ephemeral.ts, flows.restockJoinSoon; this bench",
    "waits for the restock with the view's refresh), each taken once (rsms-join.md change 21). ABBA against main (99dfd81,",
    "this bench), STEPS_CLI=0, N = 30, eight runs each (B A A B B A A B, then A B B A twice), load average 9-17 throughout,",
    "marks of 240 joins each: the RN's request 0.32 -> 0.09 ms, the RPM's forward 0.42 -> 0.30 ms, the send left 3.05 ->",
    "2.81 ms after the step's start. Medians over the runs: client CPU 7.00 -> 6.62 ms; join / bare 2.25x -> 2.26x (the",
    "median of the samples' own ratios; 1.58-3.01x over main's runs, 1.34-3.22x over this code's; at or below 2x in 3 of 8",
    "and 2 of 8): no change beyond the noise. In these runs the journal-sized fsync alone took 0.6-11.4 ms at p50 (p95 up",
    "to 46 ms), often more than the bare round trip, and the intent's fsync ended after the receipt in 145 of 240 and 141",
    "of 240 joins: at this load the shared disk, not the client's CPU, sets the join's time.",
    "",
    "s26 (2026-12-06, session 26): the row of the join's own recordJoin sent bare answers whether a transfer is the join's",
    "floor: the very transaction a join sent, signed, sent again raw after evm_revert with its receipt asked for two turns",
    "after, took 1.14-1.24x the transfer's early-receipt round trip over three runs (load 1.2-5), so executing recordJoin",
    "costs the node little. In the same runs the join took 2.5-3.1x the bare round trip with 4.9-5.6 ms of client CPU,",
    "itself over twice the bare round trip: the gap to the 2x goal is the client's work on the path. Marks of 30 joins",
    "(load 1.6) before the send (2.5 ms): the task's bookkeeping 1.35 ms (hre.run 0.08, the remote-RN check 0.14, the",
    "folder hold 0.27, modules and intents 0.13, the local view 0.18, the MSRP's signer and registry 0.18, the kept",
    "agents' stamps 0.32: up to 18 small files read to see that no other process wrote the record), the three parties'",
    "RSMS messages 0.93, signing 0.22; after it, the journal 0.9 ms on the main thread while the node mines, which on two",
    "cores competes with it: the node answered the send 2.9 ms after it left, against 1.9-2.2 ms for the bare transaction.",
    "",
    "s27 (2026-12-06, session 27): the task's bookkeeping trimmed (a checksummed address remembered per process: ethers'",
    "isAddress and getAddress each hash it, twice per signer lookup; the rsms commands' 13 modules imported once per process;",
    "the registry's contract handles kept per runner and address), then the fixes of a red team on the join's caches",
    "(s27-rtc: a fast-path receipt counts only with its call's event, a nonce retry on the journaled send, a view that takes",
    "a read in only when it is whole). ABBA against main before them (0aa7771), STEPS_CLI=0, N = 30, medians over the runs,",
    "load average 2.5-4.4 (two helpers' tests): the trims alone, eight runs each, client CPU per join 4.45 -> 4.20 ms, per",
    "rating 1.80 -> 1.75 ms, join / bare 2.85x -> 2.81x, rating / bare 2.20x -> 1.98x; with the red team's fixes too, six",
    "runs each, client CPU per join 4.90 -> 5.15 ms, per rating 1.75 -> 1.55 ms, join / bare 3.23x -> 2.71x, rating / bare",
    "2.04x -> 2.00x. Within this machine's noise (one code's runs spread over 1.5x); the rating sits at the 2x goal, the join",
    "near 2.8x.",
    "",
    "s28 (2026-12-06, session 28): rsms:join's folder lock is leased to the next join of the process (other commands write",
    "their commits into place and release it at once; tasks/lib/record-hold.ts HOLD_LEASE_MS, released once the process's",
    "commits are in place; a waiting process goes first), and a kept agent's stamp is the record's base and head (the head carries the patches' sums: 2 files read,",
    "not up to 18; rsms-join.md change 23). ABBA against session 27's main (5e926f70), STEPS_CLI=0, N = 30, four runs each,",
    "load average 1.5-2.1, no helper running: join / bare 2.64-2.73x -> 2.29-2.58x (medians 2.68x -> 2.53x), the join's",
    "p50 5.4-5.6 -> 5.0-5.1 ms, client CPU per join 4.3-5.0 -> 4.0-4.3 ms; the rating unchanged (1.91-2.02x, 1.90-2.12x).",
    "Marks of 30 joins (quiet): the folder hold 0.31-0.38 -> 0.11-0.12 ms, the MSRP agent's stamp 0.23 -> 0.11 ms; the send",
    "leaves 2.0 ms after the step's start, of which the three parties' RSMS messages 0.93 and signing 0.23 are the",
    "protocol's own; the receipt is in 2.9-3.0 ms after the send where the bare round trip takes 2.0-2.2 (recordJoin's",
    "execution about 0.3 of it: the s26 row; the journal's 0.7-1.2 ms of main-thread work and the intent's fsync run beside",
    "the node on two cores). A join at 2x would leave 0.8 ms for all its work beyond its messages, signing and round trip.",
    "",
    "'HTTP requests': the step's round trips to the node. With batching (offchain/chain/transport.ts `batchHttp`), the",
    "requests a step issues together go as one JSON-RPC batch: a rating's receipt and the pair read after it. A join sends",
    "nothing together (its transaction, its receipt), so batching changes nothing for it. With batching off, each",
    "request is an HTTP request of its own (concurrent ones in parallel, on separate connections).",
    "",
    "Calls per step (and the mean time spent waiting for each method, ms):",
    "",
    `- rating: ${callList(res.rate.calls)}${res.rate.others ? `; ${res.rate.others} of ${N} samples also: ${callList(res.rate.extra)} (fee data after 5 s, a funding check after 60 s)` : ""}`,
    `  (${Object.entries(res.rate.ms)
      .map(([m, v]) => `${m} ${v.toFixed(1)}`)
      .join(", ")})`,
    `- join: ${callList(res.join.calls)}${res.join.others ? `; ${res.join.others} of ${N} samples also: ${callList(res.join.extra)} (fee data after 5 s; a receipt asked for again when the early one came back empty)` : ""}`,
    `  (${Object.entries(res.join.ms)
      .map(([m, v]) => `${m} ${v.toFixed(1)}`)
      .join(", ")})`,
    "",
    "## CLI start-up",
    "",
    ...(cli.length
      ? [
          `A rating from the command line (\`hardhat trust:rate ... --network localhost\`, a fresh process each): p50 ${(cliP50 / 1000).toFixed(2)} s over ${cli.length} runs,`,
          `of which the step itself is ${res.rate.p50.toFixed(1)} ms: ${((cliP50 - res.rate.p50) / 1000).toFixed(2)} s is start-up (Node, TypeScript loading, Hardhat's configuration and tasks).`,
        ]
      : ["Not measured in this run (STEPS_CLI=0)."]),
    "",
    ...(cliJoin.length
      ? [
          `An RSMS join from the command line (\`hardhat rsms:join --rn <name> --pool 1 --network localhost\`, a fresh process each, so always`,
          `its process's first join: no local view of the registry, no kept agents, the wallet's chain id, fees and nonce not known;`,
          `Hardhat exits when the task ends, before the view's refresh), ${cliJoin.length} runs, p50s: the process ${(q(cliJoinTotals, 0.5) / 1000).toFixed(2)} s; the task's`,
          `modules loaded on its first use (TypeScript) ${(
            q(
              cliJoin.map((c) => c.loading),
              0.5,
            ) / 1000
          ).toFixed(2)} s; the join itself (the task's own time after that, printed`,
          `by the task) ${q(cliJoinSteps, 0.5).toFixed(1)} ms (runs: ${cliJoinSteps.map((v) => v.toFixed(1)).join(", ")} ms), ${(q(cliJoinSteps, 0.5) / res.bare.p50).toFixed(2)}x the bare round trip of the`,
          `in-process part (measured minutes earlier). Its process's JSON-RPC calls (one more run, through a counting proxy):`,
          `${callList(cliJoinCalls)}.`,
        ]
      : []),
    "",
  ].join("\n");
  fs.mkdirSync(RESULT, { recursive: true });
  fs.writeFileSync(path.join(RESULT, "steps.md"), md);
  fs.writeFileSync(
    path.join(RESULT, "steps.json"),
    JSON.stringify(
      {
        measuredAt: when,
        machine: machine(),
        samples: N,
        ...res,
        cli: { p50: cliP50, runs: cli, joins: cliJoin, joinCalls: cliJoinCalls },
      },
      null,
      2,
    ) + "\n",
  );
  console.log(md);
  console.log("wrote bench/results/steps.md");
}

const E_HALF = 10;

/**
 * Runs a CLI command against the node through a proxy that counts the JSON-RPC methods its process
 * sends (a batch's entries each), and returns the counts.
 */
async function countedCli(
  node: { url: string; run(args: string[], opts?: { env?: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: string; stderr: string }> },
  args: string[],
) {
  const http = await import("http");
  const counts: Record<string, number> = {};
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      try {
        const j = JSON.parse(body) as { method: string } | { method: string }[];
        for (const m of Array.isArray(j) ? j : [j]) counts[m.method] = (counts[m.method] ?? 0) + 1;
      } catch {
        /* not JSON: forwarded as it is */
      }
      fetch(node.url, { method: "POST", headers: { "content-type": "application/json" }, body })
        .then(async (r) => {
          res.writeHead(r.status, { "content-type": "application/json" });
          res.end(await r.text());
        })
        .catch((e) => {
          res.writeHead(502);
          res.end(String(e));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as { port: number };
  try {
    const c = await node.run(args, { env: { LOCALHOST_URL: `http://127.0.0.1:${port}` } });
    if (c.code !== 0) throw new Error(`hardhat ${args.join(" ")} through the counting proxy failed (${c.code}):\n${c.stderr}`);
  } finally {
    server.close();
  }
  return counts;
}

(process.env.STEPS_BENCH_CHILD ? child(process.env.STEPS_BENCH_CHILD) : parent()).catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
