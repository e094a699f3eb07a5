/**
 * How a metatrust task fails on the command line: one line on stderr that names the flag or the
 * entity, and an exit code that says which kind of failure it was. A stack trace only with
 * `--verbose` or `--show-stack-traces`.
 *
 * | exit | meaning                                                                  |
 * |-----:|--------------------------------------------------------------------------|
 * |    1 | unexpected error (a bug: please report it with `--verbose`)              |
 * |    2 | bad input: a flag, an unknown entity or keystore record, a missing file  |
 * |    3 | refused by the protocol or by a contract (a revert, a failed check)      |
 * |    4 | chain, deployment or IPFS not reachable or not set up                    |
 *
 * In-process callers (`hre.run` in tests and scripts) still receive the original typed error: only
 * the task that the Hardhat CLI itself was asked to run is reported this way.
 *
 * Why not Hardhat's plugin-error path (throwing a HardhatPluginError): Hardhat prints it as
 * "Error in plugin …" followed by a second line ("For more info run Hardhat with
 * --show-stack-traces") and always exits 1, so it can carry neither one line nor the exit codes
 * above. The task prints its line and exits with its code itself.
 */
import {
  ErrorFragment,
  Interface,
  keccak256,
  toUtf8Bytes,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
} from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { MetatrustError, type ErrorCode } from "../../offchain/errors";

export const EXIT = { unexpected: 1, input: 2, refused: 3, unavailable: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Bad input to a task: the message names the flag (`--score`) or the entity. */
export class UsageError extends MetatrustError {
  constructor(message: string) {
    super("INVALID_PARAMETER", message);
  }
}

/**
 * A party's local name (an RN, a user, an avatar) as its keystore records hold it: 1 to 64 letters,
 * digits, '.', '_' or '-'. Checked before anything is drawn, stored or sent: a name the keystore
 * cannot hold was refused only after the chain or the MSRP had taken it (s17-redA F3, F13, F14).
 * @param task - the task's name
 * @param flag - the flag, as written (`--name`)
 * @param name - what the flag gave
 * @returns the name
 */
export function localName(task: string, flag: string, name: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name))
    throw new UsageError(
      `${task}: ${flag} "${name}" must be 1 to 64 letters, digits, '.', '_' or '-' (it names this party's keystore records)`,
    );
  return name;
}

/** The protocol refused (a check failed on valid input): the message says which check. */
export class RefusedError extends MetatrustError {
  constructor(message: string) {
    super("PROTOCOL_REJECTED", message);
  }
}

/**
 * The receipt of a contract transaction a task sent: offchain/chain/mined.ts `minedReceipt`
 * (loaded when used, as the tasks load offchain/), so a transaction the node dropped ends the
 * command with TransactionDroppedError (exit 4) naming its hash, instead of ethers' `wait()`
 * listening forever (h11-red R1c).
 * @param sent - the sent transaction (the contract call's promise)
 * @throws TransactionDroppedError; the replayed revert of a transaction mined with status 0
 */
export async function minedReceipt(sent: Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  return (await import("../../offchain/chain/mined")).minedReceipt(sent);
}

/**
 * Looks up an entity that the user named with a flag (a pool, a pseudonym, a group, a user) in an
 * agent whose lookup fails only with AgentStateError for an unknown one: that failure becomes bad
 * input (exit 2) naming the flag, as a contract's `Unknown…` error does; every other error passes.
 * @param task - the task's name
 * @param flag - the flag, as written (`--pid`)
 * @param value - what the flag gave
 * @param lookup - the lookup
 */
export function lookupNamed<T>(task: string, flag: string, value: unknown, lookup: () => T): T {
  try {
    return lookup();
  } catch (e) {
    if (e instanceof MetatrustError && e.code === "AGENT_STATE")
      throw new UsageError(`${task}: ${flag} ${String(value)}: ${firstLine(e.message).replace(/^\w+: /, "")}`);
    throw e;
  }
}

const INPUT: ErrorCode[] = [
  "INVALID_POINT",
  "INVALID_SCALAR",
  "INVALID_LENGTH",
  "INVALID_PARAMETER",
  "INVALID_CID",
  "CONTENT_NOT_FOUND",
  "KEYSTORE_NOT_FOUND",
  "KEYSTORE_EXISTS",
  "KEYSTORE_WRONG_PASSPHRASE",
];
const REFUSED: ErrorCode[] = ["PROTOCOL_REJECTED", "MESSAGE_MALFORMED", "AGENT_STATE", "DECRYPTION_FAILED"];
const UNAVAILABLE: ErrorCode[] = [
  "DEPLOYMENT_NOT_FOUND",
  "NETWORK_UNSUPPORTED",
  "IPFS_UNREACHABLE",
  "KEYSTORE_LOCKED",
  "KEYSTORE_CORRUPTED",
  "SERVICE_UNREACHABLE",
];

type EthersLike = {
  code?: string;
  shortMessage?: string;
  reason?: string | null;
  revert?: { name: string; args: unknown[] } | null;
  data?: string;
  info?: { error?: { data?: unknown; message?: string } };
  error?: unknown;
  cause?: unknown;
};

/** The revert data an ethers or Hardhat error carries, if any. */
export function revertData(e: unknown, depth = 0): string | undefined {
  if (!e || typeof e !== "object" || depth > 5) return undefined;
  const x = e as EthersLike & { data?: unknown };
  if (typeof x.data === "string" && /^0x[0-9a-fA-F]{8}/.test(x.data)) return x.data;
  if (x.data && typeof x.data === "object" && typeof (x.data as { data?: unknown }).data === "string")
    return (x.data as { data: string }).data;
  return revertData(x.info?.error, depth + 1) ?? revertData(x.error, depth + 1) ?? revertData(x.cause, depth + 1);
}

/** The exit code of an error (see the table above). */
export function exitCodeOf(e: unknown): ExitCode {
  if (e instanceof MetatrustError) {
    if (INPUT.includes(e.code)) return EXIT.input;
    if (REFUSED.includes(e.code)) return EXIT.refused;
    if (UNAVAILABLE.includes(e.code)) return EXIT.unavailable;
  }
  const x = (e ?? {}) as EthersLike & { message?: string; errorDescriptor?: { number?: number } };
  if (x.code === "ENOENT" || x.code === "EISDIR" || x.code === "EACCES") return EXIT.input; // a file named on the command line
  if (x.code === "CALL_EXCEPTION" || x.revert || revertData(e)) return EXIT.refused;
  // the chain refuses a transaction its sender cannot pay for (the message names the sender's balance)
  if (x.code === "INSUFFICIENT_FUNDS" || /insufficient funds|doesn't have enough funds/i.test(x.message ?? "")) return EXIT.refused;
  if (/reverted with|reverted without a reason|revert(ed)? with custom error|VM Exception/i.test(x.message ?? "")) return EXIT.refused;
  if (["NETWORK_ERROR", "SERVER_ERROR", "TIMEOUT", "ECONNREFUSED", "ECONNRESET", "ENOTFOUND"].includes(x.code ?? ""))
    return EXIT.unavailable;
  if (/ECONNREFUSED|Cannot connect to the network|could not detect network|fetch failed|socket hang up/i.test(x.message ?? ""))
    return EXIT.unavailable;
  if (x.errorDescriptor?.number !== undefined && x.errorDescriptor.number >= 300 && x.errorDescriptor.number < 400) return EXIT.input;
  // A plain Error thrown by a task's own validation starts with "<task>: " and names the flag.
  if (/^[a-z]+(:[a-z-]+)+: /.test(x.message ?? "")) return EXIT.input;
  return EXIT.unexpected;
}

/** How to print a decoded custom-error argument: a bytes32 that is the id of a name given on the command line says so. */
export type Names = Map<string, string>;

/**
 * How the system derives a bytes32 id from a name given on the command line. Loaded on the error
 * path only: this module is imported when Hardhat loads its configuration, on every command.
 */
function idForms(): ((name: string) => string)[] {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { entityId } = require("../../offchain/trust/ledger") as typeof import("../../offchain/trust/ledger");
  const { placeId } = require("../../offchain/mssa/registration") as typeof import("../../offchain/mssa/registration");
  /* eslint-enable @typescript-eslint/no-require-imports */
  return [
    (n) => keccak256(toUtf8Bytes(n)),
    (n) => entityId(n), // trust entities: keccak256("metatrust:entity:" + name)
    (n) => placeId(n), // MSSA places
  ];
}

/** The ids the task's string arguments stand for, by lower-case hex, each mapped to the flag that gave it. */
export function namesFromArgs(args: Record<string, unknown>): Names {
  const names: Names = new Map();
  const ID_FORMS = idForms();
  for (const [flag, v] of Object.entries(args)) {
    if (typeof v !== "string" || v === "") continue;
    const kebab = flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    for (const part of v.split(",")) {
      const p = part.trim();
      if (!p) continue;
      // the first flag that gives a name keeps it (`--entity ann --account ann`: the entity)
      for (const id of ID_FORMS) if (!names.has(id(p).toLowerCase())) names.set(id(p).toLowerCase(), `--${kebab} "${p}"`);
      if (/^0x[0-9a-fA-F]{64}$/.test(p) && !names.has(p.toLowerCase())) names.set(p.toLowerCase(), `--${kebab}`);
    }
  }
  return names;
}

function showArg(v: unknown, names: Names): string {
  if (typeof v === "string" && /^0x[0-9a-fA-F]{64}$/.test(v)) {
    const n = names.get(v.toLowerCase());
    return n ? `${n} (${v.slice(0, 10)}…)` : `${v.slice(0, 10)}…`;
  }
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return `[${v.map((x) => showArg(x, names)).join(", ")}]`;
  return String(v);
}

/** `Contract__Name` or `Name` with its arguments, entity ids replaced by the flag that named them. */
export function describeCustomError(name: string, args: readonly unknown[], inputs: readonly { name: string }[], names: Names): string {
  const [contract, error] = name.includes("__") ? name.split("__") : ["", name];
  const shown = args.map((a, i) => (inputs[i]?.name ? `${inputs[i].name} ${showArg(a, names)}` : showArg(a, names)));
  return `${contract ? `${contract} refused` : "refused"}: ${error}${shown.length ? `(${shown.join(", ")})` : ""}`;
}

let allErrors: Interface | undefined;

/** One interface with the custom errors of every compiled contract, to decode reverts from any depth. */
async function errorsInterface(hre: HardhatRuntimeEnvironment): Promise<Interface> {
  if (allErrors) return allErrors;
  const bySig = new Map<string, ErrorFragment>();
  for (const fq of await hre.artifacts.getAllFullyQualifiedNames()) {
    const { abi } = await hre.artifacts.readArtifact(fq);
    for (const f of new Interface(abi).fragments) if (ErrorFragment.isFragment(f)) bySig.set(f.format("sighash"), f);
  }
  allErrors = new Interface([...bySig.values()]);
  return allErrors;
}

/** The first line of a message, without ethers' `(action=..., data=..., ...)` tail and Hardhat's prefixes. */
export function firstLine(msg: string): string {
  return msg
    .split("\n")[0]
    .replace(/ \((action|code|transaction|data|reason|info|shortMessage)=.*$/, "")
    .replace(/^Error: /, "")
    .trim();
}

/** The one line to print for `e`, with the custom error decoded and entities named by their flags. */
export async function describeError(e: unknown, hre: HardhatRuntimeEnvironment, args: Record<string, unknown>): Promise<string> {
  const names = namesFromArgs(args);
  const data = revertData(e);
  if (data) {
    try {
      const iface = await errorsInterface(hre);
      const parsed = iface.parseError(data);
      if (parsed) return describeCustomError(parsed.name, parsed.args.toArray(), parsed.fragment.inputs, names);
    } catch {
      /* not a known custom error: fall through to the message */
    }
  }
  const x = (e ?? {}) as EthersLike & { message?: string };
  const missing = e instanceof MetatrustError && e.code === "KEYSTORE_NOT_FOUND" ? /no keystore "([^"]+)"/.exec(e.message) : null;
  if (missing) return describeMissingRecord(missing[1]) ?? firstLine((e as Error).message);
  const exists = e instanceof MetatrustError && e.code === "KEYSTORE_EXISTS" ? /keystore "([^"]+)" already exists/.exec(e.message) : null;
  if (exists) return describeExistingRecord(exists[1]) ?? firstLine((e as Error).message);
  if (e instanceof MetatrustError) {
    // our own errors say what and why; one from a helper deep down ("fromHex: expected 32 bytes")
    // is prefixed with the flag that gave the value, when one flag can have
    const msg = firstLine(e.message);
    const flag = INPUT.includes(e.code) && !/(^|\s)--[a-z]/.test(msg) ? flagOfValue(msg, args) : undefined;
    return flag ? `${flag}: ${msg}` : msg;
  }
  const fsErr = e as { code?: string; path?: string };
  if (fsErr.code === "ENOENT" && fsErr.path) {
    const flag = Object.entries(args).find(([, v]) => v === fsErr.path)?.[0];
    return `${flag ? `--${flag.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)} ` : ""}${fsErr.path}: no such file`;
  }
  if (x.revert) return describeCustomError(x.revert.name, x.revert.args, [], names);
  if (x.reason) return `refused: ${x.reason}`;
  return firstLine(x.shortMessage ?? x.message ?? String(e));
}

/**
 * The flag (`--pid 0x12`) whose value a helper's message is about: the one flag whose value the
 * message quotes, or else the one flag with a 0x-hex value when the message is about hex or bytes.
 */
export function flagOfValue(msg: string, args: Record<string, unknown>): string | undefined {
  const kebab = (f: string) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const given = Object.entries(args).filter(([k, v]) => k !== "json" && (typeof v === "string" || typeof v === "number"));
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const quoted = given.filter(([, v]) => new RegExp(`(^|[\\s"'(])${esc(String(v))}($|[\\s"',):])`).test(msg.replace(/^[\w.]+: /, "")));
  if (quoted.length === 1) return `${kebab(quoted[0][0])} ${quoted[0][1]}`;
  const hex = given.filter(([, v]) => typeof v === "string" && /^0x/i.test(v));
  if (hex.length === 1 && /hex|bytes/i.test(msg)) return `${kebab(hex[0][0])} ${hex[0][1]}`;
  return undefined;
}

/** What a missing keystore record means, and the command that creates it. */
const MISSING: [RegExp, (m: RegExpMatchArray) => string][] = [
  [/^rsms-msrp$/, () => "no MSRP on this network yet: run `npx hardhat rsms:setup` first"],
  [/^rsms-rpm-(\d+)$/, (m) => `pool ${m[1]} has no RPM yet: run \`npx hardhat rsms:rpm:register --pool ${m[1]}\``],
  [/^rsms-rn-(.+)$/, (m) => `no resource node "${m[1]}": register it with \`npx hardhat rsms:rn:register --name ${m[1]} --pool <n>\``],
  [/^rsms-party-(.+)$/, (m) => `no RSMS party "${m[1]}" (resource node or user) is registered on this network`],
  [/^avatar-idp$/, () => "no identity provider on this network yet: run `npx hardhat idp:setup` first"],
  [/^avatar-party-(.+)$/, (m) => `no user or proxy "${m[1]}": issue one with \`npx hardhat idp:issue --user ${m[1]}\` (or --proxy)`],
  [/^avatar-cred-(.+)$/, (m) => `no avatar "${m[1]}" has been logged in on this network: run \`npx hardhat avatar:login\` first`],
];

/** What an existing keystore record means, when a command would create it again. */
const EXISTING: [RegExp, (m: RegExpMatchArray) => string][] = [
  [/^rsms-msrp$/, () => "this network already has an MSRP (its keys are never overwritten); go on with `rsms:rpm:register`"],
  [/^rsms-rpm-(\d+)$/, (m) => `pool ${m[1]} already has an RPM (its keys are never overwritten)`],
  [/^avatar-idp$/, () => "this network already has an identity provider (its keys are never overwritten); go on with `idp:issue`"],
];

/** An existing keystore record named as the entity it stands for. */
export function describeExistingRecord(record: string): string | undefined {
  for (const [re, say] of EXISTING) {
    const m = record.match(re);
    if (m) return say(m);
  }
  return undefined;
}

/** A missing keystore record named as the entity it stands for, with the command that creates it. */
export function describeMissingRecord(record: string): string | undefined {
  for (const [re, say] of MISSING) {
    const m = record.match(re);
    if (m) return say(m);
  }
  return undefined;
}

const BUG_HINT = "this looks like a bug: run again with --verbose and report the output";

/** What a network's URL is, for a hint (the in-process network has none). */
function networkUrl(hre: HardhatRuntimeEnvironment): string | undefined {
  const cfg = hre.network.config as { url?: string };
  return cfg.url;
}

/**
 * The hint after an "unavailable" failure (exit 4): it names what could not be reached, the chain
 * (with its URL), IPFS, a service or an explorer, and what to do about that one.
 * @param e - the error
 * @param line - the one line already printed for it
 * @param hre - the runtime (network name and URL)
 */
export function unavailableHint(e: unknown, line: string, hre: HardhatRuntimeEnvironment): string | undefined {
  const code = e instanceof MetatrustError ? e.code : undefined;
  const net = hre.network.name;
  if (code === "IPFS_UNREACHABLE")
    return `IPFS is not reachable: is the kubo daemon at IPFS_API_URL (${process.env.IPFS_API_URL ?? "unset"}) running?`;
  if (code === "SERVICE_UNREACHABLE") return "the service named above is not reachable: is it running, and is the URL right?";
  if (e && typeof e === "object" && "outcomes" in e)
    return "an explorer (Sourcify or Etherscan) refused or was not reached for the contracts named; the chain was not the problem";
  if (code === "DEPLOYMENT_NOT_FOUND" || code === "KEYSTORE_LOCKED" || code === "KEYSTORE_CORRUPTED" || code === "NETWORK_UNSUPPORTED")
    return undefined; // the message already says what to do
  const url = networkUrl(hre);
  // an HTTP endpoint other than the chain's (an explorer, a kubo daemon, a service): name it
  const other = /\bhttps?:\/\/[^\s"')]+/.exec(line)?.[0];
  if (other && (!url || !other.startsWith(url))) return `${other} is not reachable; the chain was not the problem`;
  const cause = (e as { cause?: { address?: string; port?: number } } | undefined)?.cause;
  if (cause?.address && url && !url.includes(`${cause.address}:${cause.port ?? ""}`))
    return `${cause.address}:${cause.port ?? "?"} is not reachable; the chain was not the problem`;
  if (net === "localhost") return `the chain at ${url} is not reachable: is \`npx hardhat node\` running (LOCALHOST_URL moves it)?`;
  if (url) return `the chain of --network ${net} at ${url} is not reachable: check RPC_URL`;
  return undefined;
}

let depth = 0;

/** JSON of a task's result: bigints as decimal strings, byte arrays as 0x-hex, undefined as null. */
export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_k, v: unknown) => {
    if (typeof v === "bigint") return v.toString();
    if (v instanceof Uint8Array) return "0x" + Buffer.from(v).toString("hex");
    if (v instanceof Map) return Object.fromEntries(v);
    if (v instanceof Set) return [...v];
    return v;
  });
}

/** Whether the Hardhat CLI was asked to run `task` itself (not a test, a script or another task). */
function isCliTask(task: string): boolean {
  if (depth > 0) return false;
  const argv = process.argv.slice(2);
  return argv.includes(task) && !argv.includes("test") && !argv.includes("run") && !argv.includes("coverage");
}

/**
 * Wraps the action of each named task so that, when the CLI runs it, a failure prints one line and
 * exits with its code (see the table above), and a task whose state must outlive the command is
 * refused on the in-process network (`worksInProcess` names the tasks that are fine there). Call after every task is defined; `isOurs` picks the tasks.
 */
export function installCliErrors(isOurs: (task: string) => boolean, worksInProcess: (task: string) => boolean = () => true): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { HardhatContext } = require("hardhat/internal/context") as typeof import("hardhat/internal/context");
  const defs = HardhatContext.getHardhatContext().tasksDSL.getTaskDefinitions();
  for (const [name, def] of Object.entries(defs)) {
    if (def.isSubtask || !isOurs(name)) continue;
    const action = def.action;
    if (!("json" in def.paramDefinitions)) def.addFlag("json", "print the result as one JSON document on stdout (progress goes to stderr)");
    def.setAction(async (taskArgs, hre, runSuper) => {
      const top = isCliTask(name);
      const json = (taskArgs as { json?: boolean }).json === true;
      const log = console.log;
      if (json) console.log = (...xs: unknown[]) => console.error(...xs);
      depth++;
      try {
        if (top && hre.network.name === "hardhat" && !worksInProcess(name))
          throw new UsageError(
            `${name}: the in-process "hardhat" network forgets its chain when this command ends, so a later command could not use what it does; start \`npx hardhat node\` and add --network localhost (or run \`npm run demo\`)`,
          );
        const result = await action(taskArgs, hre, runSuper);
        if (json) process.stdout.write(toJson(result) + "\n");
        return result;
      } catch (e) {
        if (!top) throw e;
        const line = await describeError(e, hre, taskArgs as Record<string, unknown>).catch(() => firstLine(String(e)));
        // a contract that does not know the entity a flag named: bad input, not a refusal
        const code = /refused: (Unknown[A-Z]\w*|\w*NotFound|\w*DoesNotExist)\(/.test(line) ? EXIT.input : exitCodeOf(e);
        const verbose = hre.hardhatArguments.verbose || hre.hardhatArguments.showStackTraces;
        const body = line.startsWith(`${name}: `) ? line.slice(name.length + 2) : line;
        const hint = code === EXIT.unexpected ? BUG_HINT : code === EXIT.unavailable ? unavailableHint(e, line, hre) : undefined;
        console.error(`${name}: ${body}${!verbose && hint ? ` (${hint})` : ""}`);
        if (verbose) console.error(e);
        process.exit(code);
      } finally {
        depth--;
        console.log = log;
      }
    });
  }
}

/** Edit distance (for "did you mean"): insertions, deletions and substitutions. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** The closest of `names` to `word`, if it is close (a typo). */
function closest(word: string, names: string[]): string | undefined {
  let best: string | undefined;
  let d = Math.max(2, Math.floor(word.length / 4)) + 1;
  for (const n of names) {
    const k = distance(word, n);
    if (k < d) [best, d] = [n, k];
  }
  return best;
}

type ParamDefs = Record<string, { isFlag?: boolean }>;
type TaskDefs = Record<string, { isSubtask?: boolean; paramDefinitions: ParamDefs }>;

/**
 * Checks the command line the way Hardhat will parse it, before Hardhat does, for one of our
 * tasks: an unknown flag, a missing value, a value of the wrong type, a repeated flag, an unknown
 * task of our families, or a network that is not configured. Hardhat itself reports these as
 * `Error HH3xx` over several lines and exits 1; a metatrust task reports them as one line that
 * names the flag and what to do, with exit code 2 (bad input).
 * @param argv - the command line after `hardhat` (process.argv.slice(2))
 * @param tasks - Hardhat's task definitions
 * @param networks - the configured network names
 * @param isOurs - picks our tasks (and task families, for an unknown task)
 * @returns the one line to print, or undefined when the command line is fine (or not ours)
 */
export function cliArgumentError(
  argv: string[],
  tasks: TaskDefs,
  networks: string[],
  isOurs: (task: string) => boolean,
): string | undefined {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { ArgumentsParser } = require("hardhat/internal/cli/ArgumentsParser") as typeof import("hardhat/internal/cli/ArgumentsParser");
  const { HARDHAT_PARAM_DEFINITIONS } = require("hardhat/internal/core/params/hardhat-params") as {
    HARDHAT_PARAM_DEFINITIONS: Parameters<InstanceType<typeof ArgumentsParser>["parseHardhatArguments"]>[0];
  };
  const { HardhatError } = require("hardhat/internal/core/errors") as typeof import("hardhat/internal/core/errors");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const parser = new ArgumentsParser();
  let parsed: ReturnType<typeof parser.parseHardhatArguments>;
  try {
    parsed = parser.parseHardhatArguments(HARDHAT_PARAM_DEFINITIONS, {} as never, argv);
  } catch {
    return undefined; // a global flag before the task: scripts/lib/global-flags.cjs reported it before the configuration loaded
  }
  const { hardhatArguments, allUnparsedCLAs } = parsed;
  const name = allUnparsedCLAs[0];
  if (name === undefined || hardhatArguments.help || name === "help") return undefined;
  const def = tasks[name];
  const ours = Object.keys(tasks).filter((t) => !tasks[t].isSubtask && isOurs(t));
  if (def === undefined) {
    if (!isOurs(name) && !/^[a-z]+:/.test(name)) return undefined;
    if (!isOurs(name) && !ours.some((t) => t.split(":")[0] === name.split(":")[0])) return undefined;
    const near = closest(name, ours);
    return `${name}: no such task${near ? `; did you mean ${near}?` : ""} (\`npx hardhat help\` lists every task)`;
  }
  if (def.isSubtask || !isOurs(name)) return undefined;
  const help = `\`npx hardhat help ${name}\` lists its flags`;
  if (hardhatArguments.network !== undefined && !networks.includes(hardhatArguments.network))
    return `${name}: --network ${hardhatArguments.network} is not configured here (configured: ${networks.join(", ")})${
      hardhatArguments.network === "testnet" ? "; testnet needs RPC_URL and PRIVATE_KEY (environment or .env, see .env.example)" : ""
    }`;
  try {
    parser.parseTaskArguments(def as never, allUnparsedCLAs.slice(1));
    return undefined;
  } catch (e) {
    if (!HardhatError.isHardhatError(e)) throw e;
    const n = e.errorDescriptor.number;
    const args = (e as { messageArguments?: Record<string, string> }).messageArguments ?? {};
    const kebab = (p: string) => `--${p.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    if (n === 305) {
      const flags = Object.keys(def.paramDefinitions).map(kebab);
      const near = closest(String(args.param), flags);
      return `${name}: ${args.param} is not a flag of ${name}${near ? `; did you mean ${near}?` : ""} (${help})`;
    }
    if (n === 306)
      return `${name}: ${args.param} ${allUnparsedCLAs.includes(String(args.param)) ? "needs a value" : "is required"} (${help})`;
    if (n === 301) {
      const what: Record<string, string> = {
        int: "a whole number (0 or more)",
        bigint: "a whole number (0 or more)",
        float: "a number",
        boolean: "true or false",
        json: "JSON",
        inputFile: "a readable file",
      };
      return `${name}: ${kebab(String(args.name))} "${args.value}" is not ${what[String(args.type)] ?? `a ${args.type}`}`;
    }
    if (n === 309) return `${name}: ${args.param} is given twice`;
    if (n === 307) return `${name}: the ${args.param} argument is missing (${help})`;
    if (n === 308) return `${name}: unexpected argument "${args.argument}" (${help})`;
    return `${name}: ${firstLine(e.message.replace(/^HH\d+: /, ""))} (${help})`;
  }
}

/**
 * Makes Hardhat's own argument errors of our tasks one line with exit code 2 (see cliArgumentError):
 * checked when the configuration is resolved, which Hardhat does after reading the global flags and
 * before parsing the task's. Only when this process is the Hardhat CLI.
 */
export function installCliArgumentCheck(isOurs: (task: string) => boolean): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { extendConfig } = require("hardhat/config") as typeof import("hardhat/config");
  const { HardhatContext } = require("hardhat/internal/context") as typeof import("hardhat/internal/context");
  /* eslint-enable @typescript-eslint/no-require-imports */
  if (!/hardhat[\\/]internal[\\/]cli[\\/](bootstrap|cli)\.js$/.test(require.main?.filename ?? "")) return;
  extendConfig((config) => {
    const tasks = HardhatContext.getHardhatContext().tasksDSL.getTaskDefinitions() as unknown as TaskDefs;
    const line = cliArgumentError(process.argv.slice(2), tasks, Object.keys(config.networks), isOurs);
    if (line === undefined) return;
    console.error(line);
    process.exit(EXIT.input);
  });
}

/**
 * A flag that numbers something (a dispute `--id`, a pool, `--days`, a capacity): a whole number in
 * [min, max], refused in one line naming the flag before it reaches ethers or BigInt (which answered
 * "value out-of-bounds (argument=\"id\" …)" or "Cannot convert abc to a BigInt": s22-redo R4). The
 * one parser every task uses for such a flag.
 * @param task - the task, for the message
 * @param flag - the flag, as written (`--id`)
 * @param value - what the flag gave (a Hardhat `types.int` number or a string)
 * @param min - the least value (default 1)
 * @param max - the greatest value (default Number.MAX_SAFE_INTEGER)
 * @throws UsageError naming the flag and the value
 */
export function parseWhole(task: string, flag: string, value: unknown, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === "number" ? value : typeof value === "string" && /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range =
      max === Number.MAX_SAFE_INTEGER
        ? min === 1
          ? "a positive integer"
          : `an integer of at least ${min}`
        : `an integer from ${min} to ${max.toLocaleString("en-US")}`;
    throw new UsageError(`${task}: ${flag} must be ${range}, got ${String(value)}`);
  }
  return n;
}

/**
 * A flag that gives a 32-byte value in hex (a pseudonym `--pid`): 0x and 64 hex digits, refused in
 * one line naming the flag ("fromHex: …" named none: s22-redo R4).
 * @returns the bytes
 * @throws UsageError naming the flag and the value
 */
export function parseHex32(task: string, flag: string, value: string): Uint8Array {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value))
    throw new UsageError(`${task}: ${flag} must be 32 bytes of 0x-hex (0x and 64 hex digits), got "${value}"`);
  return Uint8Array.from(Buffer.from(value.slice(2), "hex"));
}

/**
 * A `--case` flag's value as a trace case id (1 to 20 digits, no leading zero).
 * @param task - the task, for the message
 * @throws UsageError naming the flag and the value
 */
export function parseCaseId(task: string, value: string): bigint {
  if (!/^[1-9][0-9]{0,19}$/.test(value)) throw new UsageError(`${task}: --case must be a trace case id (1, 2, ...), got "${value}"`);
  return BigInt(value);
}

/**
 * A `--scale` flag's value: comma-separated network sizes, each a whole number of nodes from 20 to `max`.
 * @returns the sizes in the order given
 * @throws UsageError naming the flag and the first size that is not one
 */
export function parseScale(value: string, max: number): number[] {
  const sizes = value.split(",").map((x) => x.trim());
  for (const x of sizes)
    if (!/^[1-9][0-9]*$/.test(x) || Number(x) < 20 || Number(x) > max)
      throw new UsageError(
        `--scale: "${x}" is not a network size (a whole number of nodes, 20 to ${max.toLocaleString("en-US")}, comma-separated)`,
      );
  return sizes.map(Number);
}
