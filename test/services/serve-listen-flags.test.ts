/**
 * s17-redA F17-F19: a service that cannot listen as its flags ask ends with a line that names no
 * flag, or the wrong party:
 *
 * - F17 `--port` already in use (a second start, another program): exit 1, "listen EADDRINUSE …
 *   (this looks like a bug: run again with --verbose and report the output)";
 * - F18 `--host` that does not resolve (999.1.1.1): exit 4, "getaddrinfo ENOTFOUND 999.1.1.1 (the
 *   chain at http://… is not reachable: is `npx hardhat node` running …?)": it blames the chain;
 * - F19 `--tls-key` a file that is not a PEM key: exit 1, "refused: no start line (this looks like a
 *   bug …)".
 *
 * Charter: bad input gets one line that names the flag (exit 2).
 */
import { expect } from "chai";
import fs from "fs";
import net from "net";
import path from "path";
import hre from "hardhat";
import { describeError, exitCodeOf, EXIT } from "../../tasks/lib/cli";
import { useTaskSandbox } from "../helpers/tasks";

/** The task's rejection, or a failure if it is still serving after 60 s. */
async function refusal(args: Record<string, unknown>): Promise<Error> {
  const run = hre.run("rsms:serve", args).then(
    () => new Error("rsms:serve returned"),
    (e: Error) => e,
  );
  const late = new Promise<Error>((resolve) => setTimeout(() => resolve(new Error("rsms:serve is serving")), 60_000).unref());
  const e = await Promise.race([run, late]);
  if (/rsms:serve (returned|is serving)/.test(e.message)) process.kill(process.pid, "SIGTERM"); // stops a service that started
  return e;
}

describe("rsms:serve: a flag it cannot listen with is named (s17-redA F17-F19)", function () {
  this.timeout(180_000);
  const dir = useTaskSandbox("metatrust-redA-listen-");
  const base = {
    role: "msrp",
    host: "127.0.0.1",
    port: 0,
    bodyLimit: 16 * 1024,
    rateLimit: 600,
    admitRpm: "any",
    tick: 1000,
    flagSync: 10_000,
    openRegistration: false,
  };

  before(async () => {
    await hre.run("rsms:setup", { capacity: 8, lambda: 16, interval: 3600, ttl: 3600 });
  });

  it("F17: --port in use: exit 2, one line naming --port", async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const args = { ...base, port };
      const e = await refusal(args);
      const line = await describeError(e, hre, args);
      expect(line).to.contain("--port");
      expect(exitCodeOf(e)).to.equal(EXIT.input, line);
    } finally {
      blocker.close();
    }
  });

  it("F18: --host that does not resolve: exit 2, one line naming --host, not the chain", async () => {
    const args = { ...base, host: "999.1.1.1" };
    const e = await refusal(args);
    const line = await describeError(e, hre, args);
    expect(line).to.contain("--host");
    expect(line).to.not.contain("chain");
    expect(exitCodeOf(e)).to.equal(EXIT.input, line);
  });

  it("F19: --tls-key that is not a PEM key: exit 2, one line naming --tls-key", async () => {
    const key = path.join(dir(), "not-a-key.pem");
    fs.writeFileSync(key, "hello\n");
    const args = { ...base, tlsKey: key, tlsCert: key };
    const e = await refusal(args);
    const line = await describeError(e, hre, args);
    expect(line).to.contain("--tls-key");
    expect(exitCodeOf(e)).to.equal(EXIT.input, line);
  });

  it("--auto-evict neither on nor off (session 19): exit 2, one line naming --auto-evict", async () => {
    const args = { ...base, autoEvict: "maybe" };
    const e = await refusal(args);
    const line = await describeError(e, hre, args);
    expect(line).to.contain("--auto-evict maybe is not `on` or `off`");
    expect(exitCodeOf(e)).to.equal(EXIT.input, line);
  });

  it("connection limits (s23-rth F5): a bad --max-connections-per-address or --headers-timeout is named, exit 2", async () => {
    for (const [extra, flag] of [
      [{ maxConnectionsPerAddress: 0 }, "--max-connections-per-address"],
      [{ maxConnections: 10, maxConnectionsPerAddress: 20 }, "--max-connections-per-address 20 is above --max-connections 10"],
      [{ headersTimeout: 5 }, "--headers-timeout"],
    ] as const) {
      const args = { ...base, ...extra };
      const e = await refusal(args);
      const line = await describeError(e, hre, args);
      expect(line).to.contain(flag);
      expect(exitCodeOf(e)).to.equal(EXIT.input, line);
    }
  });
});
