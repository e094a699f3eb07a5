/** Runs a README script (scripts/lib/readme.ts) in bash, printing each block's start as progress. */
import { spawn } from "child_process";
import fs from "fs";
import os from "os";
import path from "path";

const ROOT = path.resolve(__dirname, "..", "..");

/**
 * @param script - the bash script
 * @param env - the environment (the node's URL and data folders)
 * @returns the exit code and everything the script printed
 */
export function runReadmeScript(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-readme-")), "readme.sh");
  fs.writeFileSync(file, script);
  return new Promise((resolve) => {
    const child = spawn("bash", [file], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => {
      out += d;
      const s = String(d);
      if (s.startsWith("==== README line")) process.stderr.write(`      ${s.trim()}\n`); // progress
    });
    child.on("exit", (code) => resolve({ code, out }));
  });
}
