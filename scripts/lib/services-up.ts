/**
 * Every server-side party of metatrust as its own OS process against one `hardhat node`: the
 * MSRP, the RPMs of pools 1 and 2, the IdP, the two place authorities of PL1, the trust detector
 * and the trust oracle. Each has its own data folder (keystore, journal, reply cache) and its own
 * chain account, started through the same tasks a user types (`rsms:serve`, `idp:serve`,
 * `mssa:serve`, `trust:serve`), after the same setup and grants (README, "as services"). Once the
 * MSRP is up (the RPMs enrol with it), the others start side by side. Used by `npm run services`
 * (start them all for development), by `npm run demo -- --services` and by the services e2e test.
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
export const SERVICE_PARTIES = ["msrp", "rpm1", "rpm2", "idp", "au1", "au2", "detector", "oracle"] as const;

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
  const up = async (party: ServiceParty, args: string[]) => {
    // port 0: the service binds any free port and prints it (nothing can take it in between)
    const p = await serve([...args, "--port", "0"], envOf(party));
    started.push(p);
    say(`${party.padEnd(8)} ${p.url}`);
    return p;
  };
  try {
    say("deploying");
    // The deployment's election key, generated before `deploy` as the operator does (README, docs/deploy.md
    // step 7): `deploy --election-key` imports it and computes the genesis authorities' election
    // nullifiers with it, and every place's authorities get the same file (mssa:serve checks it
    // against the record's check value), so a genesis authority's person is one elector here too.
    const electionKeyFile = path.join(work, "election.key");
    fs.writeFileSync(electionKeyFile, randomBytes(32).toString("hex"), { mode: 0o600 });
    await run("deployer", ["deploy", "--election-key", electionKeyFile]);
    const accountIn = (out: string, what: RegExp) => {
      const m = what.exec(out);
      if (!m) throw new Error(`no account in: ${out.trim().split("\n")[0]}`);
      return m[1];
    };
    // The MSRP: its own key (rsms:setup in its folder), granted MSRP_ROLE by the deployer.
    const msrpAccount = accountIn(await run("msrp", ["rsms:setup", "--interval", "2"]), /MSRP service account (0x[0-9a-fA-F]{40})/);
    await run("deployer", ["rsms:msrp:grant", "--to", msrpAccount]);
    const msrp = await up("msrp", ["rsms:serve", "msrp", "--admit-rpm", "any", "--tick", "500"]);
    // The others need only the MSRP (the RPMs enrol with it) and the deployer's grants: they start
    // side by side, each in its own folder (the node numbers the deployer's transactions).
    const rpmUp = async (pool: number) => {
      // an RPM enrols with the MSRP over HTTP, then announces its endpoint on-chain
      await run(`rpm${pool}`, ["rsms:rpm:enrol", "--pool", String(pool), "--msrp", msrp.url]);
      return up(`rpm${pool}` as ServiceParty, ["rsms:serve", "rpm", "--pool", String(pool)]);
    };
    const idpUp = async () => {
      // the IdP: its own key, granted IDP_ROLE; it announces its endpoint on the MIT registry
      const account = accountIn(await run("idp", ["idp:setup"]), /IdP service account (0x[0-9a-fA-F]{40})/);
      await run("deployer", ["idp:grant", "--to", account]);
      return { proc: await up("idp", ["idp:serve"]), account };
    };
    const authoritiesUp = async () => {
      // The place PL1 and its two authorities (the node's accounts 1 and 2), each with its own key
      // only, and the place key the place's operator hands to both (a file here, deleted once both
      // imported it), and the deployment's election key likewise (one for every place: it makes one
      // elector per person, docs/specs/mssa.md §1.8). Each authority checks every registration itself, so each is the other's peer:
      // each announces its endpoint on the CredentialLedger when it starts and finds the other there.
      await run("deployer", ["mssa:place", "--name", "PL1", "--authorities", `${a1.address},${a2.address}`]);
      const placeKeyFile = path.join(work, "pl1.placekey");
      fs.writeFileSync(placeKeyFile, randomBytes(32).toString("hex"), { mode: 0o600 });
      const auArgs = (n: number) => [
        "mssa:serve",
        "authority",
        "--place",
        "PL1",
        "--account",
        `authority:${n}`,
        "--place-key",
        placeKeyFile,
        "--election-key",
        electionKeyFile,
      ];
      try {
        const [au2, au1] = await Promise.all([up("au2", auArgs(2)), up("au1", auArgs(1))]);
        return { au1, au2 };
      } finally {
        fs.rmSync(placeKeyFile, { force: true });
        fs.rmSync(electionKeyFile, { force: true });
      }
    };
    const trustUp = async (role: "detector" | "oracle", args: string[]) => {
      // its key is made in its folder on first start, which refuses until the admin grants the role
      const refused = await node.run(["trust:serve", role, ...args], { env: envOf(role) });
      const account = accountIn(
        refused.stderr,
        new RegExp(`the ${role} account (0x[0-9a-fA-F]{40}) does not hold ${role.toUpperCase()}_ROLE`),
      );
      await run("deployer", ["trust:grant", "--role", role, "--to", account]);
      return { proc: await up(role, ["trust:serve", role, ...args]), account };
    };
    const reporters = ORACLE_REPORTERS.map((i) => devAccount(i).address).join(",");
    const all = await Promise.allSettled([
      rpmUp(1),
      rpmUp(2),
      idpUp(),
      authoritiesUp(),
      // the detector runs when asked; the oracle's three reporters, two of whom decide a round
      trustUp("detector", ["--interval", "0"]),
      trustUp("oracle", ["--reporters", reporters, "--quorum", "2"]),
    ]);
    const failed = all.find((x): x is PromiseRejectedResult => x.status === "rejected");
    if (failed) throw failed.reason;
    const [rpm1, rpm2, idp, au, detector, oracle] = all.map((x) => (x as PromiseFulfilledResult<unknown>).value) as [
      Proc,
      Proc,
      { proc: Proc; account: string },
      { au1: Proc; au2: Proc },
      { proc: Proc; account: string },
      { proc: Proc; account: string },
    ];
    const services = {
      msrp: { proc: msrp, url: msrp.url, dir: path.join(work, "msrp"), account: msrpAccount },
      rpm1: { proc: rpm1, url: rpm1.url, dir: path.join(work, "rpm1"), account: "" },
      rpm2: { proc: rpm2, url: rpm2.url, dir: path.join(work, "rpm2"), account: "" },
      idp: { proc: idp.proc, url: idp.proc.url, dir: path.join(work, "idp"), account: idp.account },
      au1: { proc: au.au1, url: au.au1.url, dir: path.join(work, "au1"), account: a1.address },
      au2: { proc: au.au2, url: au.au2.url, dir: path.join(work, "au2"), account: a2.address },
      detector: { proc: detector.proc, url: detector.proc.url, dir: path.join(work, "detector"), account: detector.account },
      oracle: { proc: oracle.proc, url: oracle.proc.url, dir: path.join(work, "oracle"), account: oracle.account },
    };
    for (const pool of [1, 2] as const) {
      const rpmKeys = new Keystore(path.join(work, `rpm${pool}`, "localhost", "keystore"));
      if (rpmKeys.exists(`account-rpm_${pool}`))
        services[`rpm${pool}`].account = (rpmKeys.load(`account-rpm_${pool}`) as { address: string }).address;
    }
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
