// @ts-check
/**
 * Hardhat's global flags written before the task name (`npx hardhat --netwrk localhost deploy`).
 *
 * Hardhat 2 parses them in its CLI's `main()` before it loads any configuration, so no code of this
 * project (hardhat.config.ts, tasks/lib/cli.ts) has run yet when it refuses one: it prints
 * `Error HH304` over several lines and exits 1. `scripts/patch-hardhat-cli.cjs` (run by
 * `postinstall`) makes Hardhat's CLI call {@link checkGlobalFlags} first, which prints one line that
 * names the flag and exits 2 (bad input), like every other argument error (tasks/lib/cli.ts). The
 * file is plain CommonJS because it runs before Hardhat registers TypeScript.
 */

/**
 * Edit distance (insertions, deletions, substitutions), for "did you mean".
 * @param {string} a
 * @param {string} b
 * @returns {number}
 */
function distance(a, b) {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The one line for an error Hardhat raised while parsing the global flags, or undefined when it is
 * not an argument error (Hardhat then reports it as before).
 * @param {{ errorDescriptor?: { number?: number }, messageArguments?: Record<string, unknown>, message?: string }} e - the HardhatError
 * @param {string[]} globalFlags - Hardhat's global flags, as written (`--network`)
 * @returns {string | undefined}
 */
function globalFlagLine(e, globalFlags) {
  const n = e?.errorDescriptor?.number;
  if (n === undefined || n < 300 || n >= 400) return undefined;
  const args = e.messageArguments ?? {};
  const help = "`npx hardhat help` lists them; a task's own flags go after the task name";
  if (n === 304) {
    const flag = String(args.argument);
    let near;
    let best = Math.max(2, Math.floor(flag.length / 4)) + 1;
    for (const g of globalFlags) {
      const d = distance(flag, g);
      if (d < best) [near, best] = [g, d];
    }
    return `${flag} is not one of Hardhat's global flags${near ? `; did you mean ${near}?` : ""} (${help})`;
  }
  if (n === 306) return `${args.param} needs a value (${help})`;
  if (n === 309) return `${args.param} is given twice`;
  if (n === 301) {
    /** @type {Record<string, string>} */
    const what = { int: "a whole number (0 or more)", float: "a number", boolean: "true or false", string: "a string" };
    const flag = `--${String(args.name).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    return `${flag} "${args.value}" is not ${what[String(args.type)] ?? `a ${args.type}`}`;
  }
  return `${String(e.message ?? "")
    .split("\n")[0]
    .replace(/^HH\d+: /, "")} (${help})`;
}

/**
 * Parses the global flags as Hardhat is about to; on an argument error prints one line on stderr and
 * exits 2. Returns without effect otherwise (Hardhat then parses them itself).
 * @param {{ parseHardhatArguments(defs: Record<string, unknown>, env: unknown, argv: string[]): unknown }} parser - Hardhat's ArgumentsParser
 * @param {Record<string, unknown>} defs - HARDHAT_PARAM_DEFINITIONS
 * @param {unknown} env - the global flags set through HARDHAT_* environment variables
 * @param {string[]} argv - the command line after `hardhat`
 */
function checkGlobalFlags(parser, defs, env, argv) {
  try {
    parser.parseHardhatArguments(defs, env, argv);
  } catch (e) {
    const flags = Object.keys(defs).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    const line = globalFlagLine(/** @type {any} */ (e), flags);
    if (line === undefined) return;
    console.error(line);
    process.exit(2);
  }
}

module.exports = { checkGlobalFlags, globalFlagLine };
