// @ts-check
/**
 * `postinstall`: makes Hardhat's CLI report a bad global flag written before the task name in one
 * line with exit code 2 (scripts/lib/global-flags.cjs says why this needs Hardhat's CLI itself).
 * It inserts one guarded call into node_modules/hardhat/internal/cli/cli.js, right after Hardhat
 * creates its ArgumentsParser and before it parses the global flags. Idempotent; when Hardhat's
 * code no longer has the anchor (another version), it says so and changes nothing: the CLI then
 * reports these errors as Hardhat does (test/tasks.cli.test.ts fails on it).
 *
 * Why not patch-package: one anchored line does not need a dependency and a diff file that breaks
 * on every Hardhat release; the inserted call is guarded, so a missing helper changes nothing.
 */
const fs = require("fs");
const path = require("path");

const MARK = "/* metatrust: scripts/patch-hardhat-cli.cjs */";
const ANCHOR = "const argumentsParser = new ArgumentsParser_1.ArgumentsParser();";

/**
 * Patches the CLI file.
 * @param {string} cliFile - Hardhat's internal/cli/cli.js
 * @param {string} helper - scripts/lib/global-flags.cjs
 * @returns {"patched" | "already" | "no anchor"}
 */
function patch(cliFile, helper) {
  const src = fs.readFileSync(cliFile, "utf8");
  if (src.includes(MARK)) return "already";
  if (src.split(ANCHOR).length !== 2) return "no anchor";
  const rel = path.relative(path.dirname(cliFile), helper).split(path.sep).join("/");
  const call =
    `${MARK} try { require(${JSON.stringify(rel.startsWith(".") ? rel : `./${rel}`)}).checkGlobalFlags(argumentsParser, ` +
    `hardhat_params_1.HARDHAT_PARAM_DEFINITIONS, envVariableArguments, process.argv.slice(2)); } catch (e) { if (e && e.code !== "MODULE_NOT_FOUND") throw e; }`;
  // A new file renamed over the old one: a node_modules whose files are hard links shared with other
  // checkouts (cp -al) keeps theirs unchanged.
  const tmp = `${cliFile}.metatrust-${process.pid}`;
  fs.writeFileSync(tmp, src.replace(ANCHOR, `${ANCHOR}\n        ${call}`), { mode: fs.statSync(cliFile).mode });
  fs.renameSync(tmp, cliFile);
  return "patched";
}

if (require.main === module) {
  const root = path.resolve(__dirname, "..");
  let cliFile;
  try {
    cliFile = require.resolve("hardhat/internal/cli/cli.js", { paths: [root] });
  } catch {
    console.warn("patch-hardhat-cli: hardhat is not installed; nothing to patch");
  }
  if (cliFile) {
    const r = patch(cliFile, path.join(root, "scripts", "lib", "global-flags.cjs"));
    if (r === "no anchor")
      console.warn(`patch-hardhat-cli: ${cliFile} has no "${ANCHOR}"; a bad global flag keeps Hardhat's own error (exit 1)`);
  }
}

module.exports = { patch, MARK };
