/**
 * Role accounts: every role of the system (MSRP, each RPM, the IdP, each authority, the detector,
 * the oracle, each entity's controller, each voter) signs with a key of its own, not with "signer
 * number 3" of a development node.
 *
 * Where a role's key comes from, in order:
 * 1. the environment: `METATRUST_KEY_<ROLE>` (the role's name upper-cased, every other character
 *    `_`: role `rpm:1` reads `METATRUST_KEY_RPM_1`), usually from `.env` (see `.env.example`);
 * 2. the network's keystore: record `account-<role>`, a key generated on first use (sealed like
 *    every record when METATRUST_PASSPHRASE is set);
 * and on first use the funder (the network's first configured account: a development node's first
 * account, or PRIVATE_KEY on a testnet) sends it enough to pay for its transactions. So the
 * walkthroughs need one funded key, on a development node or on a testnet.
 *
 * An account given on the command line is a role name (`alice`, `rpm:1`), an address, or, on
 * development nodes only, the index of one of the node's unlocked accounts. A role name that has no
 * key here (environment, keystore, or a development node's fixed account) is refused, naming the
 * flag, before anything is written or sent (s22-redo R1: a typo made and funded a key), except by
 * the few tasks whose job is to make an account (`AccountUse.create`: tasks/lib/context.ts, README "Accounts and roles").
 *
 * The deployment's own roles have fixed names: `detector` and `oracle` (TrustManager), and
 * `authority:1` .. `authority:<seats>` (round 0 of the AuthorityElection), `rpm:<pool>` (a pool's
 * RPM). On a development node, such a role without a key of its own (environment or keystore) is
 * the node's unlocked account of a fixed index (devRoleSigner), so that tests, the demo and the
 * walkthroughs name the same accounts. Anywhere else it gets a generated key like any role. The MSRP,
 * the IdP and the MSSA election's registrar and arbiter are the roles `msrp`, `idp`, `registrar` and
 * `arbiter` (keys of their own everywhere, granted their roles by the `deploy` task; `detector` is
 * also the election's detector); the admin is the deployer (the one funded key): docs/specs/trust.md §3.
 */
import { Wallet, getAddress, isAddress, parseEther, type Provider, type Signer } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { MetatrustError } from "../errors";
import type { Keystore } from "../storage/keystore";
import { ChainWallet } from "./sender";
import { minedReceipt } from "./mined";
import { onChainReset } from "./reset";

/** A role name: letters, digits and `:._-`, starting with a letter. */
const ROLE = /^[A-Za-z][A-Za-z0-9:._-]{0,63}$/;

/** An account given on the command line that names no account this process can sign for. */
export class UnknownAccountError extends MetatrustError {
  constructor(message: string) {
    super("INVALID_PARAMETER", message);
  }
}

/** A role name that has no key here, given where the caller may not make one (s22-redo R1). */
export class NoKeyForRoleError extends UnknownAccountError {}

/**
 * Development nodes only: the unlocked account that plays a deployment role that has no key of
 * its own. The TrustManager's detector and oracle are the last accounts, which nothing else uses.
 * @param role - a role name
 * @returns the signer index, or undefined for a role that gets a key of its own
 */
export function devRoleSigner(role: string): number | undefined {
  const fixed: Record<string, number> = { detector: 18, oracle: 19 };
  if (role in fixed) return fixed[role];
  const m = /^(authority|rpm):([1-9][0-9]?)$/.exec(role);
  // round 0's authorities are accounts 1..seats; a pool's RPM is the account of its number
  return m ? Number(m[2]) : undefined;
}

/** The environment variable that holds a role's private key. */
export function roleEnvVar(role: string): string {
  return `METATRUST_KEY_${role.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** The keystore record of a generated role key. */
export function roleRecord(role: string): string {
  return `account-${role.replace(/[^A-Za-z0-9._-]/g, "_")}`;
}

/** What a role's key costs to keep funded: the top-up target on development chains and elsewhere. */
export function fundingTarget(network: string, env: NodeJS.ProcessEnv = process.env): bigint {
  if (env.METATRUST_FUND_WEI !== undefined) {
    if (!/^\d+$/.test(env.METATRUST_FUND_WEI))
      throw new UnknownAccountError(`METATRUST_FUND_WEI must be an integer number of wei, got "${env.METATRUST_FUND_WEI}"`);
    return BigInt(env.METATRUST_FUND_WEI);
  }
  return network === "hardhat" || network === "localhost" ? parseEther("10") : parseEther("0.01");
}

/** How a command-line account is used: the flag that named it, and whether a new role name may get a key. */
export type AccountUse = {
  /** The flag that named the account, as written (`--account`), for the refusal. */
  flag?: string;
  /**
   * Generate a key for a role name that has none (default true here, for the deployment's own roles;
   * the tasks resolve with false except where making the account is their job: tasks/lib/context.ts).
   */
  create?: boolean;
  /** Top the key up from the funder when low (default true); false for a key that only signs off-chain (a consent). */
  fund?: boolean;
};

export type RoleAccounts = {
  /** The signer of a role, created (and funded) on first use. */
  role(role: string): Promise<Signer>;
  /**
   * The role's own key (environment or keystore, generated and funded on first use), never a
   * development node's unlocked account: for a party that must hold its key, such as a service
   * process signing its replies.
   */
  key(role: string, use?: AccountUse): Promise<Wallet>;
  /** A role name, an address, or (development nodes) a signer index, as a signer. */
  signer(account: string, use?: AccountUse): Promise<Signer>;
  /** The address of an account given as `signer` takes it; sends nothing (a new role's key is generated, not funded). */
  address(account: string, use?: AccountUse): Promise<string>;
  /** Whether a role name has a key here (environment, keystore, or a development node's fixed account): nothing is written. */
  known(role: string): boolean;
  /**
   * Before a transaction that carries `value` (a dispute deposit, an appeal fee): tops `address`
   * up from the funder to `value` plus the usual gas budget. Sends nothing when it holds enough.
   */
  topUp(address: string, value: bigint): Promise<void>;
};

/** The last funding transfer started for each runtime, keyed by its network (each task run gets a proxy of the runtime; see `fund` in `roleAccounts`). */
const fundingQueue = new WeakMap<object, Promise<void>>();

/**
 * How long a balance found sufficient is trusted without asking again (ms): a role that signs
 * many transactions in one process (a service, a benchmark) costs one eth_getBalance a minute,
 * not one per transaction. A payment (`topUp` with a value) always checks.
 */
export const FUNDED_RECHECK_MS = 60_000;

/** The address of each environment key (a public-key computation each), per process. */
const envKeyAddress = new Map<string, string>();

/** Per keystore folder: the role records read so far, by address. */
const recordKeys = new Map<string, Map<string, { record: string; key: string }>>();

/** Per provider: the wallet of each key (see `walletOf` in `roleAccounts`). */
const wallets = new WeakMap<object, Map<string, ChainWallet>>();

/** Per runtime (keyed by its network: each task run gets a proxy of the runtime): when each address was last found (or made) funded. */
let fundedAt = new WeakMap<object, Map<string, number>>();
// a balance seen before the chain was reset under this process says nothing now (s27-review L3)
onChainReset(() => {
  fundedAt = new WeakMap();
});

/**
 * Addresses as given, checksummed (`getAddress`): what isAddress + getAddress answer, remembered
 * per process (each costs a keccak in JavaScript; a step resolves its operator's address every
 * time: issue 20). An address that is not one is not remembered. At most CHECKSUMS_KEPT entries.
 */
const checksums = new Map<string, string>();
const CHECKSUMS_KEPT = 1024;

/** The checksummed address `account` spells, or undefined when it is not an address (ethers' isAddress). */
export function checksummedAddress(account: string): string | undefined {
  const hit = checksums.get(account);
  if (hit !== undefined) return hit;
  if (!isAddress(account)) return undefined;
  const a = getAddress(account);
  if (checksums.size >= CHECKSUMS_KEPT) checksums.clear();
  checksums.set(account, a);
  return a;
}

/** Per network (each task run gets a proxy of the runtime, keyed by its network): hardhat-ethers' provider. */
const ethersProviders = new WeakMap<object, HardhatRuntimeEnvironment["ethers"]["provider"]>();

/**
 * `hre.ethers.provider`, looked up once per network and process. \`hre.ethers\` is Hardhat's lazy
 * object, whose every property read builds an Error's stack trace (a guard against a Web3.js
 * loading loop, hardhat/internal/util/lazy.js), source-mapped under ts-node: about 0.1-0.2 ms
 * per read here, on each task step's path (issue 20). The provider is created once with the lazy
 * object, so the one kept is the one every later read would give.
 */
export function ethersProvider(hre: HardhatRuntimeEnvironment): HardhatRuntimeEnvironment["ethers"]["provider"] {
  let p = ethersProviders.get(hre.network);
  if (!p) ethersProviders.set(hre.network, (p = hre.ethers.provider));
  return p;
}

/**
 * The role accounts of one network.
 * @param hre - the runtime (its provider and configured accounts)
 * @param keystore - the network's keystore (where generated role keys live)
 * @param env - the environment (role keys, funding target)
 */
export function roleAccounts(hre: HardhatRuntimeEnvironment, keystore: Keystore, env: NodeJS.ProcessEnv = process.env): RoleAccounts {
  const provider = ethersProvider(hre) as unknown as Provider;
  const dev = hre.network.name === "hardhat" || hre.network.name === "localhost";

  const keyOf = (role: string, create: boolean, flag?: string): string | undefined => {
    if (!ROLE.test(role))
      throw new UnknownAccountError(
        `${flag ? `${flag} ` : ""}"${role}" is not a role name (letters, digits and :._-, starting with a letter), an address${dev ? " or a signer index" : ""}`,
      );
    const fromEnv = env[roleEnvVar(role)];
    if (fromEnv) {
      if (!/^(0x)?[0-9a-fA-F]{64}$/.test(fromEnv)) throw new UnknownAccountError(`${roleEnvVar(role)} is not a 32-byte hex private key`);
      return fromEnv.startsWith("0x") ? fromEnv : `0x${fromEnv}`;
    }
    const rec = roleRecord(role);
    if (keystore.exists(rec)) return (keystore.load(rec) as { privateKey: string }).privateKey;
    if (!create) return undefined;
    const w = Wallet.createRandom();
    keystore.create(rec, { role, address: w.address, privateKey: w.privateKey });
    return w.privateKey;
  };

  // One funding transfer at a time per runtime: a funder that signs locally (a testnet key) numbers
  // its transactions from the node's count, so two transfers started together would share a nonce
  // (`Promise.all` over approvers' signers did, and the second was refused with "nonce too low").
  const fund = (address: string, value = 0n): Promise<void> => {
    const prev = fundingQueue.get(hre.network) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => fundNow(address, value));
    fundingQueue.set(hre.network, next);
    return next;
  };
  const fundNow = async (address: string, value: bigint) => {
    let seen = fundedAt.get(hre.network);
    if (!seen) fundedAt.set(hre.network, (seen = new Map()));
    const last = seen.get(address);
    if (value === 0n && last !== undefined && performance.now() - last < FUNDED_RECHECK_MS) return;
    const target = fundingTarget(hre.network.name, env) + value;
    const have = await provider.getBalance(address);
    if (value === 0n ? have * 2n >= target : have >= target) {
      // topped up when below half the target (or below what a payment needs)
      if (value === 0n) seen.set(address, performance.now());
      return;
    }
    const [funder] = await hre.ethers.getSigners();
    if (!funder)
      throw new UnknownAccountError(`no funded account on ${hre.network.name}: set PRIVATE_KEY (testnet) or start a development node`);
    const tx = await funder.sendTransaction({ to: address, value: target - have });
    await minedReceipt(tx);
    if (value === 0n) seen.set(address, performance.now());
  };

  /** A development node's unlocked account that plays `name`, when it has no key of its own. */
  const devSigner = async (name: string): Promise<Signer | undefined> => {
    const i = devRoleSigner(name);
    if (!dev || i === undefined || env[roleEnvVar(name)] || keystore.exists(roleRecord(name))) return undefined;
    return (await hre.ethers.getSigners())[i];
  };

  const known = (name: string): boolean =>
    ROLE.test(name) && (!!env[roleEnvVar(name)] || keystore.exists(roleRecord(name)) || (dev && devRoleSigner(name) !== undefined));

  /**
   * Refuses a role name that has no key here when the caller may not make one (s22-redo R1): checked
   * before any keystore write or funding transfer, so a mistyped name changes nothing.
   */
  const mayUse = (name: string, use: AccountUse | undefined) => {
    if (use?.create !== false) return;
    keyOf(name, false, use.flag); // a malformed name: refused naming the flag
    if (known(name)) return;
    throw new NoKeyForRoleError(
      `${use.flag ?? "account"} "${name}" is no account here: no key for role ${name} (${roleEnvVar(name)} or keystore record ${roleRecord(name)}), and not an address${dev ? " or a signer index" : ""}`,
    );
  };

  const role = async (name: string, use?: AccountUse): Promise<Signer> => {
    mayUse(name, use);
    const d = await devSigner(name);
    if (d) return d;
    const w = walletOf(keyOf(name, true)!);
    if (use?.fund !== false) await fund(w.address);
    return w;
  };

  /**
   * The private key (configured or generated) whose address this is, if any. The addresses of
   * environment keys and of the keystore's records are remembered per process (a key's address
   * costs a public-key computation, a record a file read): a lookup reads only a record it has
   * not seen before.
   */
  const keyByAddress = (address: string): string | undefined => {
    // A record read before, still there: its key (an address has one key, wherever it is kept).
    // Listing the environment costs more than the whole lookup, so it comes second.
    let known = recordKeys.get(keystore.dir);
    if (!known) recordKeys.set(keystore.dir, (known = new Map()));
    const hit = known.get(address);
    if (hit && keystore.exists(hit.record)) return hit.key;
    for (const [k, v] of Object.entries(env))
      if (k.startsWith("METATRUST_KEY_") && v && /^(0x)?[0-9a-fA-F]{64}$/.test(v)) {
        const key = v.startsWith("0x") ? v : `0x${v}`;
        let a = envKeyAddress.get(key);
        if (a === undefined) envKeyAddress.set(key, (a = new Wallet(key).address));
        if (a === address) return key;
      }
    for (const rec of keystore.list().filter((n) => n.startsWith("account-"))) {
      if ([...known.values()].some((x) => x.record === rec)) continue; // read before: not this address
      const r = keystore.load(rec) as { address?: string; privateKey?: string };
      if (!r.address || !r.privateKey) continue;
      known.set(getAddress(r.address), { record: rec, key: r.privateKey });
      if (getAddress(r.address) === address) return r.privateKey;
    }
    return undefined;
  };

  /** One wallet per key and provider, so its address is computed once (a public-key multiplication). */
  const walletOf = (key: string): ChainWallet => {
    let byKey = wallets.get(provider);
    if (!byKey) wallets.set(provider, (byKey = new Map()));
    let w = byKey.get(key);
    if (!w) byKey.set(key, (w = new ChainWallet(key, provider)));
    return w;
  };

  const signer = async (account: string, use?: AccountUse): Promise<Signer> => {
    const named = use?.flag ? `${use.flag} ` : "account ";
    if (/^\d+$/.test(account)) {
      const signers = await hre.ethers.getSigners();
      const i = Number(account);
      if (!dev)
        throw new UnknownAccountError(
          `${named}"${account}": signer indices exist only on development nodes; give a role name or an address`,
        );
      if (i >= signers.length) throw new UnknownAccountError(`${named}"${account}" is not a signer index in [0, ${signers.length})`);
      return signers[i];
    }
    const address = checksummedAddress(account);
    if (address !== undefined) {
      const key = keyByAddress(address);
      if (key) {
        if (use?.fund !== false) await fund(address);
        return walletOf(key);
      }
      const s = (await hre.ethers.getSigners()).find((x) => x.address === address);
      if (s) return s;
      throw new UnknownAccountError(
        `${named}${address}: no key for it here (not a role key in the keystore or the environment, not one of the network's accounts)`,
      );
    }
    return role(account, use);
  };

  // Resolving an address sends nothing: a command that is then refused leaves the chain as it was
  // (a new role's key is kept, and funded when it first signs).
  const address = async (account: string, use?: AccountUse): Promise<string> => {
    if (/^\d+$/.test(account) || checksummedAddress(account) !== undefined) return (await signer(account, use)).getAddress();
    mayUse(account, use);
    const d = await devSigner(account);
    if (d) return d.getAddress();
    return new Wallet(keyOf(account, true)!).address;
  };

  const key = async (name: string, use?: AccountUse): Promise<Wallet> => {
    const held = keyOf(name, use?.create !== false, use?.flag);
    if (held === undefined)
      throw new NoKeyForRoleError(
        `${use?.flag ?? "account"} "${name}" is no key here: set ${roleEnvVar(name)}, or keep it as keystore record ${roleRecord(name)}`,
      );
    const w = walletOf(held);
    if (use?.fund !== false) await fund(w.address);
    return w;
  };

  const topUp = async (address: string, value: bigint) => {
    const [funder] = await hre.ethers.getSigners();
    if (funder && getAddress(address) === funder.address) return; // the funder pays for itself
    await fund(getAddress(address), value);
  };

  return { role, key, signer, address, known, topUp };
}
