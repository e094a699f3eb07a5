/**
 * Which test files can execute a contract in this process: those whose imports reach the Hardhat
 * runtime. `hardhat coverage` (solidity-coverage) counts the lines and branches of the instrumented
 * contracts that the in-process network executes; a test file that never loads the Hardhat runtime,
 * directly or through the modules it imports, has no such network and adds nothing to the figures.
 * Under coverage only the others run (hardhat.config.ts): the full suite still runs once, in
 * `npm test`, and the coverage run takes less of CI's time.
 *
 * The reading is conservative: any import of `hardhat` or `@nomicfoundation/*` (types included)
 * counts, so does a relative import that cannot be resolved, and so does any `require`/`import()`
 * whose argument is not a string literal.
 */
import fs from "fs";
import path from "path";

// static imports and re-exports, `import("...")` and `require("...")` with a string literal
const SPEC =
  /(?:\bimport\s+(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?|\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s+from\s+|\bimport\s*\(\s*|\brequire\s*\(\s*)["'`]([^"'`]+)["'`]/g;
// a dynamic import or require of anything but a string literal: cannot be followed
const DYNAMIC = /\b(?:import|require)\s*\(\s*(?!["'`)])/g;

const RUNTIME = (spec: string) => spec === "hardhat" || spec.startsWith("hardhat/") || spec.startsWith("@nomicfoundation/");

function resolveLocal(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [base, `${base}.ts`, `${base}.js`, path.join(base, "index.ts"), path.join(base, "index.js")]) {
    try {
      if (fs.statSync(c).isFile()) return c;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/**
 * Splits test files into those whose import closure reaches the Hardhat runtime and the others.
 * @param files - paths of test files
 * @returns `chain`: the files that may execute a contract; `offChain`: those that cannot
 */
export function splitChainTests(files: string[]): { chain: string[]; offChain: string[] } {
  // per module: true if it loads the runtime itself (or cannot be followed), else the local modules it imports
  const edges = new Map<string, true | string[]>();
  const read = (file: string): true | string[] => {
    const known = edges.get(file);
    if (known !== undefined) return known;
    let out: true | string[] = [];
    let src: string | undefined;
    try {
      src = fs.readFileSync(file, "utf8");
    } catch {
      out = true;
    }
    if (src !== undefined && DYNAMIC.test(src)) out = true;
    DYNAMIC.lastIndex = 0;
    if (src !== undefined && out !== true)
      for (const m of src.matchAll(SPEC)) {
        const spec = m[1];
        if (RUNTIME(spec)) {
          out = true;
          break;
        }
        if (!spec.startsWith(".")) continue;
        const local = resolveLocal(file, spec);
        if (local === undefined) {
          out = true;
          break;
        }
        // typechain's factories need a signer, which only the runtime gives; data files import nothing
        if (local.includes(`${path.sep}typechain-types${path.sep}`) || !/\.[cm]?[jt]s$/.test(local)) continue;
        out.push(local);
      }
    edges.set(file, out);
    return out;
  };
  const reaches = (file: string): boolean => {
    const seen = new Set([file]);
    const todo = [file];
    while (todo.length) {
      const e = read(todo.pop()!);
      if (e === true) return true;
      for (const n of e) if (!seen.has(n)) (seen.add(n), todo.push(n));
    }
    return false;
  };
  const chain: string[] = [];
  const offChain: string[] = [];
  for (const f of files) (reaches(path.resolve(f)) ? chain : offChain).push(f);
  return { chain, offChain };
}
