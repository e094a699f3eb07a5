/**
 * `npm run demo [-- --network <name>]`: the story in one process (scripts/demo.ts through
 * `hardhat run`, on the in-process network by default). `npm run demo -- --services`: the same
 * story with every server-side party as its own process against a `hardhat node`
 * (scripts/demo-services.ts).
 */
import { spawnSync } from "child_process";
import path from "path";

const argv = process.argv.slice(2);
if (argv.includes("--services")) {
  const rest = argv.filter((a) => a !== "--services");
  if (rest.length) {
    process.stderr.write(`demo: --services starts its own node and takes no other flag (got ${rest.join(" ")})\n`);
    process.exit(2);
  }
  void import("./demo-services").then((m) => m.demoServices()).then((code) => process.exit(code));
} else {
  const hardhat = path.join(__dirname, "..", "node_modules", ".bin", "hardhat");
  const r = spawnSync(hardhat, ["run", "scripts/demo.ts", ...argv], { cwd: path.join(__dirname, ".."), stdio: "inherit" });
  process.exit(r.status ?? 1);
}
