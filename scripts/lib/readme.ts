/**
 * The README as a test: its `sh` code blocks, in order, as one bash script with `set -euo pipefail`.
 *
 * Rules the README follows so that this holds:
 * - A block preceded by `<!-- readme-test: skip (reason) -->` is not run (the install commands, which
 *   the test itself is part of).
 * - A line that starts `npx hardhat node` starts the node a walkthrough talks to; the test provides
 *   that node (its URL in LOCALHOST_URL), so the line is left out.
 * - Values come from earlier commands (`--json` output read into shell variables), never placeholders.
 * - A command expected to be refused is written `cmd || test $? -eq 3`, so the script fails if it
 *   is accepted or if it fails for another reason.
 */

export type ReadmeBlock = { line: number; code: string };

const SKIP = /<!--\s*readme-test:\s*skip\b[^>]*-->\s*$/;

/** The runnable `sh` blocks of a Markdown text, with the line each starts on. */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split("\n");
  const out: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    let j = i + 1;
    while (j < lines.length && !/^```\s*$/.test(lines[j])) j++;
    if (j >= lines.length) throw new Error(`README line ${i + 1}: a code block is never closed`);
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === "") k--;
    const skipped = k >= 0 && SKIP.test(lines[k]);
    if (open[1] === "sh" && !skipped) {
      const code = lines
        .slice(i + 1, j)
        .filter((l) => !/^\s*npx hardhat node\b/.test(l))
        .join("\n");
      out.push({ line: i + 1, code });
    }
    i = j;
  }
  return out;
}

/** One bash script running every block in order; each block echoes where it starts. */
export function readmeScript(markdown: string): string {
  return [
    "set -euo pipefail",
    ...readmeBlocks(markdown).map((b) => `echo "==== README line ${b.line}" >&2\n${b.code}`),
    'echo "README: every block ran" >&2',
    "",
  ].join("\n");
}

/**
 * The walkthroughs as a one-key testnet user runs them: every command on `--network testnet` (the
 * `testnet` network of hardhat.config.ts, from RPC_URL and the one funded PRIVATE_KEY), so that no
 * signer index exists and every role signs with a key of its own. `chain:advance` stays on
 * `localhost` (a testnet has no such thing: there one waits), pointed at the same node. Blocks that
 * need a development node's unlocked accounts (the demo) are left out.
 */
export function oneKeyScript(markdown: string): string {
  const blocks = readmeBlocks(markdown).filter((b) => !/scripts\/demo\.ts/.test(b.code));
  // Off a development node `deploy` needs the genesis authorities' identity documents: the ones the
  // README's testnet section gives it (a block the tests skip: it needs a testnet).
  const documents = /^npx hardhat deploy [^\n]*--genesis-documents (\S+)/m.exec(markdown)?.[1];
  if (!documents) throw new Error("README: no `deploy --genesis-documents` for the testnet path");
  const withDocuments = (l: string) =>
    /\bnpx hardhat deploy(?=\s)/.test(l) && !/--genesis-documents\b/.test(l)
      ? l.replace(/\bnpx hardhat deploy(?=\s)/, `npx hardhat deploy --genesis-documents ${documents}`)
      : l;
  const onTestnet = (l: string) =>
    /\bnpx hardhat\b/.test(l) && !/\bchain:advance\b/.test(l) ? withDocuments(l.replace(/--network localhost\b/g, "--network testnet")) : l;
  return [
    "set -euo pipefail",
    ...blocks.map((b) => `echo "==== README line ${b.line}" >&2\n${b.code.split("\n").map(onTestnet).join("\n")}`),
    'echo "README: every block ran" >&2',
    "",
  ].join("\n");
}
