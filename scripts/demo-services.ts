/**
 * `npm run demo -- --services`: the demo's story with every server-side party in its own process
 * (scripts/lib/services-up.ts: the MSRP, the RPM of pool 1, the IdP, two place authorities, the
 * trust detector), each with its own data folder and chain account, against a `hardhat node`.
 * The clients are the tasks a user types, in client folders of their own (the RNs' and the users'): resource nodes register
 * and join over HTTP (the RPM found on-chain), a user and her AI proxy get MITs, log in, delegate,
 * authenticate and trace over HTTP (the IdP found on the MIT registry), a user registers at a
 * place with both authorities' approvals, raters rate from evidence and the detector service
 * answers with a signed report. Service groups are not yet a service: `npm run demo` shows them
 * in-process. Prints every step with its time; exits non-zero if any step fails.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { JsonRpcProvider } from "ethers";
import { startNode, type RunningNode } from "./lib/hardhat-node";
import { SERVICE_PARTIES, startServices, type Cluster } from "./lib/services-up";
import { Steps } from "./lib/steps";
import { ResourcePoolRegistry__factory } from "../typechain-types";
import { RsmsLedger } from "../offchain/protocols/rsms/ledger";
import type { Deployment as DeploymentFile } from "../offchain/chain/deployments";
import { detectRemote } from "../offchain/services/trust/clients";

/** The last JSON object a `--json` task printed. */
function lastJson(out: string): Record<string, unknown> {
  const start = out.lastIndexOf("\n{");
  return JSON.parse(start >= 0 ? out.slice(start + 1) : out) as Record<string, unknown>;
}

export async function demoServices(): Promise<number> {
  const steps = new Steps();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-demo-services-"));
  let node: RunningNode | undefined;
  let cluster: Cluster | undefined;
  console.log(`demo with every party as its own service (folders under ${work})`);
  try {
    steps.begin("1. the chain and the services (each its own process, folder and account)");
    await steps.run(
      "hardhat node",
      async () => {
        node = await startNode();
        return node.url;
      },
      true,
    );
    await steps.run(
      "deploy; MSRP, RPM 1, IdP, authorities 1-2, detector",
      async () => {
        cluster = await startServices(node!, work);
        return SERVICE_PARTIES.map((p) => `${p} ${cluster!.services[p].url.replace("http://127.0.0.1", "")}`).join(", ");
      },
      true,
    );
    const c = cluster!;
    const dep = JSON.parse(fs.readFileSync(path.join(node!.env.METATRUST_DEPLOYMENTS_DIR!, "localhost.json"), "utf8")) as DeploymentFile;
    const provider = new JsonRpcProvider(node!.url, undefined, { cacheTimeout: -1 });
    try {
      steps.begin("2. resource pools over HTTP (RSMS §IV.A): RNs register with the MSRP, join through the RPM found on-chain");
      const rns = ["edge-1", "edge-2", "edge-3"];
      for (const rn of rns)
        await steps.run(
          `register ${rn} with the MSRP`,
          async () =>
            (await c.run("edge", ["rsms:rn:register", "--name", rn, "--pool", "1", "--msrp", c.services.msrp.url])).trim().split("\n")[0],
        );
      await steps.run("the MSRP publishes pool 1's filter", async () => {
        const ledger = new RsmsLedger(ResourcePoolRegistry__factory.connect(dep.contracts.ResourcePoolRegistry.address, provider));
        for (let i = 0; i < 200; i++) {
          const epochs = (await ledger.pool(1))?.epochs ?? 0;
          if (epochs > 0) return `filter epoch ${epochs} on-chain`;
          await new Promise((r) => setTimeout(r, 250));
        }
        throw new Error("no filter epoch for pool 1 after 50 s");
      });
      for (const rn of rns)
        await steps.run(
          `${rn} joins pool 1 over the network`,
          async () => (await c.run("edge", ["rsms:join", "--rn", rn, "--pool", "1"])).trim().split("\n").slice(-1)[0],
        );

      steps.begin("3. avatars over HTTP (avatar paper): MITs, login, delegation to an AI proxy, mutual authentication, tracing");
      await steps.run("alice and bob get MITs (iris SIMULATED)", async () => {
        await c.run("alice", ["idp:issue", "--user", "alice", "--real-id", "Alice Liddell"]);
        await c.run("alice", ["idp:issue", "--user", "bob"]);
        return "enrollment sealed to the IdP's channel key";
      });
      await steps.run(
        "alice's AI proxy gets its MIT",
        async () => (await c.run("alice", ["idp:issue", "--proxy", "helper"])).trim().split("\n")[0],
      );
      await steps.run("alice logs in as fox, bob as whale", async () => {
        await c.run("alice", ["avatar:login", "--user", "alice", "--avatar", "fox"]);
        await c.run("alice", ["avatar:login", "--user", "bob", "--avatar", "whale"]);
        return "warrants recorded on the MIT registry by the IdP service";
      });
      await steps.run(
        "alice delegates fox to her proxy",
        async () =>
          (await c.run("alice", ["avatar:delegate", "--user", "alice", "--avatar", "fox", "--proxy", "helper"])).trim().split("\n")[0],
      );
      let evidence = "";
      await steps.run("fox and whale authenticate each other", async () => {
        const out = await c.run("alice", ["avatar:auth", "--a", "fox", "--b", "whale", "--json"]);
        evidence = (lastJson(out).evidence as string[])[0];
        return `platform receipts over HTTP; evidence ${path.basename(evidence)}`;
      });
      let caseId = "";
      await steps.run("a reporter asks the IdP to trace fox", async () => {
        const out = await c.run("alice", ["avatar:trace", "--evidence", evidence, "--json"]);
        const j = lastJson(out);
        caseId = String(j.caseId);
        if (JSON.stringify(j).includes("Alice Liddell")) throw new Error("the reporter saw the real identity");
        return `case #${caseId}, verdict commitment on-chain; the reporter never sees who`;
      });
      await steps.run("the IdP opens the verdict for an auditor", async () => {
        const out = await c.run("idp", ["avatar:audit", "--case", caseId]);
        const m = /opens to UID (.+) with salt/.exec(out);
        if (!m) throw new Error(`no verdict in: ${out.trim().split("\n")[0]}`);
        return `the commitment opens to UID ${m[1]} (in the IdP's folder only)`;
      });

      steps.begin("4. MSSA over HTTP: a user registers at place PL1; both authorities approve on-chain");
      await steps.run(
        "carol registers at PL1",
        async () =>
          (
            await c.run("carol", [
              "mssa:register",
              "--user",
              "carol",
              "--place",
              "PL1",
              "--authorities",
              `${c.services.au1.url},${c.services.au2.url}`,
            ])
          )
            .trim()
            .split("\n")
            .slice(-1)[0],
      );

      steps.begin("5. trust from evidence, and the detector service");
      await steps.run("ann and ben (verified), guild registered", async () => {
        await c.run("deployer", ["trust:register", "--entity", "ann", "--type", "avatar", "--verified", "--account", "ann"]);
        await c.run("deployer", ["trust:register", "--entity", "ben", "--type", "avatar", "--verified", "--account", "ben"]);
        await c.run("deployer", ["trust:register", "--entity", "guild", "--type", "organization", "--verified"]);
        return "three entities";
      });
      await steps.run("ann logs two services of guild and rates from them", async () => {
        for (const [outcome, latency] of [
          ["success", "120"],
          ["failure", "260"],
        ])
          await c.run("deployer", [
            "trust:interact",
            "--from",
            "ann",
            "--to",
            "guild",
            "--outcome",
            outcome,
            "--latency",
            latency,
            "--bound",
            "200",
          ]);
        return (await c.run("deployer", ["trust:rate", "--from", "ann", "--to", "guild"])).trim().split("\n")[0];
      });
      await steps.run("the detector service runs on request", async () => {
        const s = c.services.detector;
        const r = await detectRemote({ url: s.url, chainId: 31337n, trustManager: dep.contracts.TrustManager.address, account: s.account });
        return `report ${r.cid.slice(0, 16)}… over ${r.ratings} rating(s), signed by the detector's own key`;
      });
      console.log("\n   service groups (RSMS §IV.B) are not yet a service: `npm run demo` forms, rekeys and evicts them in-process");
    } finally {
      provider.destroy();
    }
  } catch {
    /* a critical step failed: it is in the summary */
  } finally {
    await cluster?.stop();
    await node?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  steps.summary();
  return steps.failed ? 1 : 0;
}

if (require.main === module)
  demoServices().then(
    (code) => process.exit(code),
    (e: Error) => {
      process.stderr.write(`demo: ${e.message.split("\n")[0]}\n`);
      process.exit(1);
    },
  );
