/**
 * Real-node test helper: starts `hardhat node` on a free loopback port, runs Hardhat tasks and
 * scripts against it with `--network localhost` over JSON-RPC, and always stops it.
 */
import { ChildProcess, spawn, execFile } from "child_process";
import fs from "fs";
import net from "net";
import os from "os";
import path from "path";

const ROOT = path.resolve(__dirname, "../..");
const HARDHAT = path.join(ROOT, "node_modules/.bin/hardhat");

/** A running `hardhat node`. */
export type RunningNode = {
  url: string;
  port: number;
  /** Environment for child processes that talk to this node, with fresh data folders. */
  env: NodeJS.ProcessEnv;
  /** Runs `hardhat <args> --network localhost` against the node. */
  run(args: string[], opts?: { env?: NodeJS.ProcessEnv }): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
};

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a node and waits until its JSON-RPC answers.
 * @param timeoutMs - how long to wait for the start
 * @returns the node handle
 */
export async function startNode(timeoutMs = 60_000): Promise<RunningNode> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-node-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOCALHOST_URL: url,
    METATRUST_DATA_DIR: path.join(work, "data"),
    METATRUST_DEPLOYMENTS_DIR: path.join(work, "deployments"),
  };
  delete env.IPFS_API_URL;
  const child: ChildProcess = spawn(HARDHAT, ["node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: false,
  });
  let log = "";
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited early (${child.exitCode}):\n${log}`);
    try {
      const r = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`hardhat node did not start within ${timeoutMs} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const stop = async () => {
    if (child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
    });
    fs.rmSync(work, { recursive: true, force: true });
  };
  const run: RunningNode["run"] = (args, opts = {}) =>
    new Promise((resolve) => {
      execFile(
        HARDHAT,
        [...args, "--network", "localhost"],
        { cwd: ROOT, env: { ...env, ...opts.env }, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        },
      );
    });
  return { url, port, env, run, stop };
}
