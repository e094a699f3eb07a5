/**
 * Every server-side party of metatrust as its own OS process against one `hardhat node`: the
 * MSRP, the RPM of pool 1, the IdP, the two place authorities of PL1, the trust detector and the
 * trust oracle. Each
 * has its own data folder (keystore, journal, reply cache) and its own chain account, started
 * through the same tasks a user types (`rsms:serve`, `idp:serve`, `mssa:serve`, `trust:serve`),
 * after the same setup and grants (README, "as services"). Used by `npm run services` (start them
 * all for development), by `npm run demo -- --services` and by the services e2e test.
 */
import { ChildProcess, spawn } from "child_process";
import { randomBytes } from "crypto";
import fs from "fs";
import path from "path";
import { HDNodeWallet, Mnemonic } from "ethers";
import { Keystore } from "../../offchain/storage/keystore";
import { freePort, type RunningNode } from "./hardhat-node";

export { freePort };

const ROOT = path.resolve(__dirname, "../..");
const HARDHAT = path.join(ROOT, "node_modules/.bin/hardhat");

/** A service process started by {@link serve}. */
export type Proc = { child: ChildProcess; url: string; log: () => string; exited: Promise<number | null> };

/**
 * Starts `hardhat <args> --network localhost` and waits for its "listening on <url>" line.
 * @param args - the task and its flags
 * @param env - the party's environment (its data folder)
 * @param timeoutMs - how long the start may take
 * @returns the running process and its URL
 */
export async function serve(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 240_000): Promise<Proc> {
  const child = spawn(HARDHAT, [...args, "--network", "localhost"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = /listening on (\S+)/.exec(out);
    if (m) return { child, url: m[1], log: () => out, exited };
    if (child.exitCode !== null) throw new Error(`${args.join(" ")} exited ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${args.join(" ")} did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Stops a service process (SIGTERM, then SIGKILL after 10 s). */
export async function stop(p?: Proc): Promise<void> {
  if (!p || p.child.exitCode !== null) return;
  p.child.kill("SIGTERM");
  const t = setTimeout(() => p.child.kill("SIGKILL"), 10_000);
  await p.exited;
  clearTimeout(t);
}

/** The development node's account `i` (its well-known mnemonic): the genesis authorities are 1 and 2. */
export function devAccount(i: number): HDNodeWallet {
  return HDNodeWallet.fromMnemonic(
    Mnemonic.fromPhrase("test test test test test test test test test test test junk"),
    `m/44'/60'/0'/0/${i}`,
  );
}

/** The parties with a data folder of their own. */
export const SERVICE_PARTIES = ["msrp", "rpm1", "idp", "au1", "au2", "detector", "oracle"] as const;

/** The trust oracle's reporters: keys that only sign observations (HD indices 21-23 of the node's mnemonic, past its 20 accounts: they never transact). */
export const ORACLE_REPORTERS = [21, 22, 23] as const;
export type ServiceParty = (typeof SERVICE_PARTIES)[number];

/** The running services: each party's process, endpoint, folder and account. */
export type Cluster = {
  node: RunningNode;
  work: string;
  /** The folder that stands for the IPFS network (a kubo cluster when deployed), shared by every party. */
  ipfs: string;
  services: Record<ServiceParty, { proc: Proc; url: string; dir: string; account: string }>;
  /** The environment of a party (a service, or a client such as "alice") with its own data folder. */
  envOf(party: string): NodeJS.ProcessEnv;
  /** Runs a task as `party`, in its folder; throws with the task's one-line error if it fails. */
  run(party: string, args: string[]): Promise<string>;
  stop(): Promise<void>;
};

/**
 * Deploys the system on `node` and starts every service, each in `work/<party>`.
 * @param node - a running `hardhat node` (scripts/lib/hardhat-node.ts)
 * @param work - the folder for the parties' data folders
 * @param say - progress lines
 * @returns the cluster
 */
export async function startServices(node: RunningNode, work: string, say: (line: string) => void = () => {}): Promise<Cluster> {
  const ipfs = path.join(work, "ipfs");
  fs.mkdirSync(ipfs, { recursive: true });
  const [a1, a2] = [devAccount(1), devAccount(2)];
  const extra: Record<string, NodeJS.ProcessEnv> = {
    au1: { METATRUST_KEY_AUTHORITY_1: a1.privateKey },
    au2: { METATRUST_KEY_AUTHORITY_2: a2.privateKey },
  };
  const envOf = (party: string): NodeJS.ProcessEnv => ({
    ...node.env,
    METATRUST_DATA_DIR: path.join(work, party),
    METATRUST_IPFS_DIR: ipfs,
    ...extra[party],
  });
  const run = async (party: string, args: string[]): Promise<string> => {
    const r = await node.run(args, { env: envOf(party) });
    if (r.code !== 0)
      throw new Error(`${party}: hardhat ${args.join(" ")} exited ${r.code}: ${(r.stderr || r.stdout).trim().split("\n")[0]}`);
    return r.stdout;
  };
  const started: Proc[] = [];
  const up = async (party: ServiceParty, args: string[], port?: number) => {
    const p = await serve([...args, "--port", String(port ?? (await freePort()))], envOf(party));
    started.push(p);
    say(`${party.padEnd(8)} ${p.url}`);
    return p;
  };
  try {
    say("deploying");
    await run("deployer", ["deploy"]);
    const accountIn = (out: string, what: RegExp) => {
      const m = what.exec(out);
      if (!m) throw new Error(`no account in: ${out.trim().split("\n")[0]}`);
      return m[1];
    };
    // The MSRP: its own key (rsms:setup in its folder), granted MSRP_ROLE by the deployer.
    const msrpAccount = accountIn(await run("msrp", ["rsms:setup", "--interval", "2"]), /MSRP service account (0x[0-9a-fA-F]{40})/);
    await run("deployer", ["rsms:msrp:grant", "--to", msrpAccount]);
    const msrp = await up("msrp", ["rsms:serve", "msrp", "--admit-rpm", "any", "--tick", "500"]);
    // The RPM of pool 1: enrols with the MSRP over HTTP, then announces its endpoint on-chain.
    await run("rpm1", ["rsms:rpm:enrol", "--pool", "1", "--msrp", msrp.url]);
    const rpm1 = await up("rpm1", ["rsms:serve", "rpm", "--pool", "1"]);
    // The IdP: its own key, granted IDP_ROLE; it announces its endpoint on the MIT registry.
    const idpAccount = accountIn(await run("idp", ["idp:setup"]), /IdP service account (0x[0-9a-fA-F]{40})/);
    await run("deployer", ["idp:grant", "--to", idpAccount]);
    const idp = await up("idp", ["idp:serve"]);
    // The place PL1 and its two authorities (the node's accounts 1 and 2), each with its own key
    // only, and the place key the place's operator hands to both (a file here, deleted once both
    // imported it). Each authority checks every registration itself, so each is the other's peer:
    // their ports are chosen before either starts.
    await run("deployer", ["mssa:place", "--name", "PL1", "--authorities", `${a1.address},${a2.address}`]);
    const placeKeyFile = path.join(work, "pl1.placekey");
    fs.writeFileSync(placeKeyFile, randomBytes(32).toString("hex"), { mode: 0o600 });
    const port1 = await freePort();
    let port2 = await freePort();
    while (port2 === port1) port2 = await freePort();
    const auArgs = (n: number, peer: string, port: number) => [
      "mssa:serve",
      "authority",
      "--place",
      "PL1",
      "--account",
      `authority:${n}`,
      "--place-key",
      placeKeyFile,
      "--peers",
      `${peer}=http://127.0.0.1:${port}`,
    ];
    const [au2, au1] = await Promise.all([up("au2", auArgs(2, a1.address, port1), port2), up("au1", auArgs(1, a2.address, port2), port1)]);
    fs.rmSync(placeKeyFile);
    // The detector: its key is made in its folder on first start, which refuses until the admin grants the role.
    const refused = await node.run(["trust:serve", "detector", "--interval", "0"], { env: envOf("detector") });
    const detectorAccount = accountIn(refused.stderr, /the detector account (0x[0-9a-fA-F]{40}) does not hold DETECTOR_ROLE/);
    await run("deployer", ["trust:grant", "--role", "detector", "--to", detectorAccount]);
    const detector = await up("detector", ["trust:serve", "detector", "--interval", "0"]);
    // The oracle: the same, with its three reporters; two of them decide a round.
    const reporters = ORACLE_REPORTERS.map((i) => devAccount(i).address).join(",");
    const refusedOracle = await node.run(["trust:serve", "oracle", "--reporters", reporters], { env: envOf("oracle") });
    const oracleAccount = accountIn(refusedOracle.stderr, /the oracle account (0x[0-9a-fA-F]{40}) does not hold ORACLE_ROLE/);
    await run("deployer", ["trust:grant", "--role", "oracle", "--to", oracleAccount]);
    const oracle = await up("oracle", ["trust:serve", "oracle", "--reporters", reporters, "--quorum", "2"]);
    const services = {
      msrp: { proc: msrp, url: msrp.url, dir: path.join(work, "msrp"), account: msrpAccount },
      rpm1: { proc: rpm1, url: rpm1.url, dir: path.join(work, "rpm1"), account: "" },
      idp: { proc: idp, url: idp.url, dir: path.join(work, "idp"), account: idpAccount },
      au1: { proc: au1, url: au1.url, dir: path.join(work, "au1"), account: a1.address },
      au2: { proc: au2, url: au2.url, dir: path.join(work, "au2"), account: a2.address },
      detector: { proc: detector, url: detector.url, dir: path.join(work, "detector"), account: detectorAccount },
      oracle: { proc: oracle, url: oracle.url, dir: path.join(work, "oracle"), account: oracleAccount },
    };
    const rpmKeys = new Keystore(path.join(work, "rpm1", "localhost", "keystore"));
    if (rpmKeys.exists("account-rpm_1")) services.rpm1.account = (rpmKeys.load("account-rpm_1") as { address: string }).address;
    return {
      node,
      work,
      ipfs,
      services,
      envOf,
      run,
      async stop() {
        for (const p of started.reverse()) await stop(p);
      },
    };
  } catch (e) {
    for (const p of started.reverse()) await stop(p);
    throw e;
  }
}
