/**
 * `npm run demo -- --services`: the demo's story with every server-side party in its own process
 * (scripts/lib/services-up.ts: the MSRP, the RPMs of pools 1 and 2, the IdP, two place authorities,
 * the trust detector and the trust oracle), each with its own data folder and chain account, against a `hardhat node`.
 * The clients are the tasks a user types, in client folders of their own (the RNs' and the users'): resource nodes register
 * and join over HTTP (the RPM found on-chain), one re-authenticates at pool 2 through that pool's RPM, a user and her AI proxy get MITs, log in, delegate,
 * authenticate and trace over HTTP (the IdP found on the MIT registry), a user registers at a
 * place with both authorities' approvals, raters rate from evidence and the detector service
 * answers with a signed report, two reporters' observations become an oracle term on-chain; a user
 * forms a service group with two RNs through the MSRP's mailbox, raters use both RNs for eight days and rate them from
 * signed records, the detector service finds from those ratings that one of them turns on and off and flags it, and the
 * MSRP evicts it and renews the key for the rest, who then talk on the group's channel through the mailbox;
 * a dispute is opened, judged by commit and reveal, and resolved on-chain (client tasks); residents
 * register at PL1 across both authority services (each checks the request) and elect new
 * authorities (nominate, vote, elect with their own keys). Prints every step with its time; exits
 * non-zero if any step fails.
 */
import fs from "fs";
import os from "os";
import path from "path";
import { JsonRpcProvider, Wallet, formatUnits } from "ethers";
import { startNode, type RunningNode } from "./lib/hardhat-node";
import { ORACLE_REPORTERS, SERVICE_PARTIES, devAccount, startServices, type Cluster } from "./lib/services-up";
import { registerResidents, runElection } from "./lib/mssa-election";
import { Steps } from "./lib/steps";
import {
  AuthorityElection__factory,
  CredentialLedger__factory,
  ResourcePoolRegistry__factory,
  ServiceGroupRegistry__factory,
  TrustManager__factory,
} from "../typechain-types";
import { RsmsLedger } from "../offchain/rsms/ledger";
import { fromHex } from "../offchain/crypto/bytes";
import type { Deployment as DeploymentFile } from "../offchain/chain/deployments";
import { detectRemote, observeRemote } from "../offchain/services/trust/clients";
import { entityId } from "../offchain/trust/ledger";
import { FileContentStore } from "../offchain/storage/content-store";
import { rateDays } from "./lib/service-ratings";

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
      "deploy; MSRP, RPMs 1-2, IdP, authorities 1-2, detector, oracle",
      async () => {
        cluster = await startServices(node!, work);
        return SERVICE_PARTIES.map((p) => `${p} ${cluster!.services[p].url.replace("http://127.0.0.1", "")}`).join(", ");
      },
      true,
    );
    const c = cluster!;
    const dep = JSON.parse(fs.readFileSync(path.join(node!.env.METATRUST_DEPLOYMENTS_DIR!, "localhost.json"), "utf8")) as DeploymentFile;
    const provider = new JsonRpcProvider(node!.url, undefined, { cacheTimeout: -1, batchStallTime: 0 });
    try {
      steps.begin("2. resource pools over HTTP (RSMS §IV.A): RNs register with the MSRP, join through the RPM found on-chain");
      const rns = ["edge-1", "edge-2", "edge-3"];
      // the operator's one-time enrolment token (F5): issued in the service's own folder, handed over out of band
      const tokenOf = async (party: "msrp" | "idp", args: string[]) =>
        (await c.run(party, [party === "msrp" ? "rsms:enrol-token" : "idp:enrol-token", ...args])).trim().split("\n").slice(-1)[0];
      const tokens = new Map<string, string>();
      await steps.run("the MSRP's operator issues each RN a one-time enrolment token", async () => {
        for (const rn of rns) tokens.set(rn, await tokenOf("msrp", ["--rn", rn, "--ttl", "1h"]));
        return `${rns.length} tokens; the MSRP keeps only their public verifiers`;
      });
      for (const rn of rns)
        await steps.run(
          `register ${rn} with the MSRP`,
          async () =>
            (
              await c.run("edge", [
                "rsms:rn:register",
                "--name",
                rn,
                "--pool",
                "1",
                "--msrp",
                c.services.msrp.url,
                "--token",
                tokens.get(rn)!,
              ])
            )
              .trim()
              .split("\n")[0],
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
      const pidOf = new Map<string, string>();
      for (const rn of rns)
        await steps.run(`${rn} joins pool 1 over the network`, async () => {
          const line = (await c.run("edge", ["rsms:join", "--rn", rn, "--pool", "1"])).trim().split("\n").slice(-1)[0];
          const m = / as (0x[0-9a-f]{64})/.exec(line);
          if (m) pidOf.set(m[1], rn);
          return line;
        });

      await steps.run("edge-3 re-authenticates at pool 2 through pool 2's RPM (found on-chain)", async () => {
        const line = (await c.run("edge", ["rsms:reauth", "--rn", "edge-3", "--to-pool", "2"])).trim().split("\n").slice(-1)[0];
        const m = / as PID_\d+ (0x[0-9a-f]{64})/.exec(line);
        if (!m) throw new Error(`no new PID in: ${line}`);
        const rec = await new RsmsLedger(
          ResourcePoolRegistry__factory.connect(dep.contracts.ResourcePoolRegistry.address, provider),
        ).recordOf(fromHex(m[1], 32));
        if (rec.poolId !== 2 || rec.kind !== 2) throw new Error(`the chain records pool ${rec.poolId}, kind ${rec.kind}`);
        for (const [p, n] of [...pidOf]) if (n === "edge-3") pidOf.delete(p);
        pidOf.set(m[1], "edge-3");
        return `${line}; on-chain: pool 2, kind 2 (re-authentication)`;
      });

      steps.begin("3. avatars over HTTP (avatar paper): MITs, login, delegation to an AI proxy, mutual authentication, tracing");
      await steps.run("the IdP's operator issues enrolment tokens for alice, bob and alice's AI proxy", async () => {
        tokens.set("alice-mit", await tokenOf("idp", ["--user", "Alice Liddell"]));
        tokens.set("bob-mit", await tokenOf("idp", ["--user", "real identity of bob"]));
        tokens.set("helper-mit", await tokenOf("idp", ["--proxy", "metaverse AI service"]));
        return "each for one real identity (or operator), single use, 1 h";
      });
      await steps.run("alice and bob get MITs (iris SIMULATED)", async () => {
        await c.run("alice", ["idp:issue", "--user", "alice", "--real-id", "Alice Liddell", "--token", tokens.get("alice-mit")!]);
        await c.run("alice", ["idp:issue", "--user", "bob", "--token", tokens.get("bob-mit")!]);
        return "enrollment sealed to the IdP's channel key";
      });
      await steps.run(
        "alice's AI proxy gets its MIT",
        async () => (await c.run("alice", ["idp:issue", "--proxy", "helper", "--token", tokens.get("helper-mit")!])).trim().split("\n")[0],
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
        async () => (await c.run("carol", ["mssa:register", "--user", "carol", "--place", "PL1"])).trim().split("\n").slice(-1)[0],
      );

      steps.begin("5. trust from evidence, the detector and the oracle services");
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

      await steps.run("two reporters observe O(ann, guild); the oracle service writes their median (Eq. 46)", async () => {
        const s = c.services.oracle;
        const ep = { url: s.url, chainId: 31337n, trustManager: dep.contracts.TrustManager.address, account: s.account };
        const tmRead = TrustManager__factory.connect(dep.contracts.TrustManager.address, provider);
        const [from, to] = [entityId("ann"), entityId("guild")];
        // the eras observed: the two ids' generations as the reporters observe them
        const eras: [number, number] = [Number(await tmRead.generationOf(from)), Number(await tmRead.generationOf(to))];
        const pair = { from, to, round: 1, eras };
        await observeRemote(ep, devAccount(ORACLE_REPORTERS[0]), { ...pair, value: 2n * 10n ** 17n });
        const r = await observeRemote(ep, devAccount(ORACLE_REPORTERS[1]), { ...pair, value: 4n * 10n ** 17n });
        const tm = TrustManager__factory.connect(dep.contracts.TrustManager.address, provider);
        const on = (await tm.pairOf(pair.from, pair.to)).oracle;
        const tx = r.decision?.tx ? await provider.getTransaction(r.decision.tx) : null;
        if (!tx || tx.from !== s.account) throw new Error("the oracle's write is not from its own account");
        return `median of 0.2 and 0.4: ${formatUnits(on, 18)} on-chain, from the oracle's own account`;
      });

      steps.begin("6. service groups over HTTP (RSMS §IV.B): formation through the MSRP's mailbox, eviction of a flagged RN, a new key");
      const msrpUrl = c.services.msrp.url;
      await steps.run("the MSRP's operator issues alice a user token; she registers with the MSRP as a user", async () => {
        const token = await tokenOf("msrp", ["--user", "alice"]);
        return (await c.run("alice", ["rsms:user:register", "--name", "alice", "--msrp", msrpUrl, "--token", token])).trim().split("\n")[0];
      });
      const groups = ServiceGroupRegistry__factory.connect(dep.contracts.ServiceGroupRegistry.address, provider);
      let gid = "";
      let members: string[] = [];
      await steps.run("alice requests a 2-RN group; she and its RNs agree on the key through the mailbox", async () => {
        const user = c.run("alice", ["group:request", "--user", "alice", "--size", "2"]);
        // the RNs learn of the group from the chain (GroupFormed lists their PIDs), then take part
        let formed;
        for (let i = 0; i < 400 && !formed; i++) {
          formed = (await groups.queryFilter(groups.filters.GroupFormed()))[0];
          if (!formed) await Promise.race([new Promise((r) => setTimeout(r, 250)), user]);
        }
        if (!formed) throw new Error("no group on-chain after 100 s");
        gid = formed.args.groupId;
        members = formed.args.members.map((p: string) => pidOf.get(p.toLowerCase()) ?? p);
        const outs = await Promise.all([user, ...members.map((m) => c.run("edge", ["group:join", "--party", m]))]);
        const prints = outs.map((o) => /key fingerprint (0x[0-9a-f]+)/.exec(o)?.[1]);
        if (prints.some((p) => !p) || new Set(prints).size !== 1) throw new Error(`the parties disagree: ${prints.join(", ")}`);
        return `group ${gid.slice(0, 10)}… of alice, ${members.join(", ")}: the same epoch-0 key (fingerprint ${prints[0]}) at all three`;
      });
      const victim = members[1] ?? "";
      const victimPid = [...pidOf].find(([, n]) => n === victim)?.[0] ?? "";
      // The group's RNs in the trust layer (their PIDs, attested by the MSRP; the operator controls
      // them and signs their receipts), and three raters with keys of their own who use both RNs for
      // eight days. The victim's services fail on days 2-3 and 6-7: the raters' records say so, and
      // nothing else does. Whether that is an attack is the detector service's call alone.
      const raters = [4, 5, 6].map((i, k) => ({ name: `rater-${k + 1}`, index: i }));
      await steps.run(
        `the group's RNs (attested by the MSRP over the network) and three raters registered in the trust layer`,
        async () => {
          // each RN signs (PID, controller, deadline) with sk_RN from its own folder; the MSRP answers with
          // the EIP-712 attestation the TrustManager takes; the controller (the node's first account) registers it
          const controller = devAccount(0).address;
          for (const [pid, name] of [...pidOf].filter(([, n]) => members.includes(n))) {
            const att = JSON.parse(await c.run("edge", ["rsms:attest", "--rn", name, "--controller", controller, "--json"])) as {
              pid: string;
              deadline: number;
              attestation: string;
            };
            if (att.pid.toLowerCase() !== pid.toLowerCase()) throw new Error(`the MSRP attested ${att.pid}, not ${pid} (${name})`);
            const reg = ["trust:register", "--entity", pid, "--type", "resource-node", "--attestation", att.attestation];
            await c.run("deployer", [...reg, "--deadline", String(att.deadline)]);
          }
          for (const r of raters)
            await c.run("deployer", ["trust:register", "--entity", r.name, "--type", "avatar", "--verified", "--account", String(r.index)]);
          return `${members.join(", ")} (PIDs, identity verified by their pool join); ${raters.map((r) => r.name).join(", ")} (verified avatars, each with an account of its own)`;
        },
      );
      await steps.run(
        `the raters use both RNs for 8 days and rate them from signed records (${victim} fails on days 2-3 and 6-7)`,
        async () => {
          const fast = new JsonRpcProvider(node!.url, undefined, { cacheTimeout: -1, pollingInterval: 100, batchStallTime: 0 });
          try {
            const tm = TrustManager__factory.connect(dep.contracts.TrustManager.address, fast);
            const r = await rateDays({
              tm,
              store: new FileContentStore(c.ipfs),
              raters: raters.map((x) => ({ name: x.name, signer: new Wallet(devAccount(x.index).privateKey, fast) })),
              providers: members.map((m) => {
                const pid = [...pidOf].find(([, n]) => n === m)![0];
                return { id: pid, bad: (day: number) => m === victim && [2, 3, 6, 7].includes(day) };
              }),
              controller: new Wallet(devAccount(0).privateKey, fast),
              days: 8,
              advance: async (seconds) => {
                await fast.send("evm_increaseTime", [seconds]);
                await fast.send("evm_mine", []);
              },
            });
            return `${r.ratings} evidence-backed ratings on-chain, record sets on IPFS; ${(r.gas / BigInt(r.ratings)).toLocaleString("en-US")} gas a rating`;
          } finally {
            fast.destroy();
          }
        },
      );
      await steps.run(`the detector service reads the ratings and flags ${victim} on-chain by itself`, async () => {
        const s = c.services.detector;
        const r = await detectRemote({ url: s.url, chainId: 31337n, trustManager: dep.contracts.TrustManager.address, account: s.account });
        const tm = TrustManager__factory.connect(dep.contracts.TrustManager.address, provider);
        const flags = (await tm.entity(victimPid)).flags;
        if ((flags & (1n << 1n)) === 0n)
          throw new Error(`the detector did not flag ${victim} on-off (${r.detections} detection(s), report ${r.cid})`);
        const logs = await tm.queryFilter(tm.filters.EntityFlagged(victimPid));
        const tx = await provider.getTransaction(logs[logs.length - 1].transactionHash);
        if (tx?.from !== s.account) throw new Error("the flag is not from the detector's own account");
        const others = members.filter((m) => m !== victim);
        for (const m of others)
          if ((await tm.entity([...pidOf].find(([, n]) => n === m)![0])).flags & 0x7fn) throw new Error(`the detector also flagged ${m}`);
        return `on-off flag on ${victim} from the detector's own account, report ${r.cid.slice(0, 16)}… over ${r.ratings} rating(s); ${others.join(", ")} not flagged`;
      });
      let added = "";
      await steps.run(`the MSRP's flag sync evicts it by itself: a fresh RN in, a new key (RSMS step c.1)`, async () => {
        // no one asks: the MSRP's flag sync (every 10 s) puts the flagged RN in S_RN and makes the
        // group's key update itself (rsms:serve msrp --auto-evict, on by default)
        let rekeyed;
        for (let i = 0; i < 480 && !rekeyed; i++) {
          rekeyed = (await groups.queryFilter(groups.filters.GroupRekeyed(gid, 1)))[0];
          if (!rekeyed) await new Promise((r) => setTimeout(r, 250));
        }
        if (!rekeyed) throw new Error("the MSRP made no key update within 120 s of the flag");
        const evicted = (await groups.queryFilter(groups.filters.MemberEvicted(gid))).map((e) => pidOf.get(e.args.pid) ?? e.args.pid);
        const joined = (await groups.queryFilter(groups.filters.MemberAdded(gid))).filter((e) => Number(e.args.epoch) === 1);
        added = joined[0] ? (pidOf.get(joined[0].args.pid) ?? joined[0].args.pid) : "";
        if (evicted.join() !== victim) throw new Error(`the update evicted ${evicted.join(", ") || "nobody"}, not ${victim}`);
        return `group ${gid.slice(0, 10)}…: epoch 1 on-chain; evicted ${victim}; added ${added || "none"} (alice asked nothing)`;
      });
      await steps.run("alice, the remaining RN and the newcomer open the new key; the evicted RN cannot", async () => {
        const stay = [members[0], added].filter(Boolean);
        const outs = await Promise.all([
          c.run("alice", ["group:join", "--party", "alice", "--group", gid]),
          ...stay.map((m) => c.run("edge", ["group:join", "--party", m, "--group", gid])),
        ]);
        const prints = outs.map((o) => /epoch 1, .*key fingerprint (0x[0-9a-f]+)/.exec(o)?.[1]);
        if (prints.some((p) => !p) || new Set(prints).size !== 1) throw new Error(`the parties disagree: ${prints.join(", ")}`);
        const refused = await c.run("edge", ["group:join", "--party", victim, "--group", gid]).then(
          () => "",
          (e: Error) => e.message,
        );
        if (!/NOT_A_MEMBER|not a party/.test(refused)) throw new Error(`the evicted RN was not refused: ${refused || "it read the key"}`);
        return `epoch 1 key (fingerprint ${prints[0]}) at alice, ${stay.join(", ")}; ${victim} refused by the mailbox, and the key is sealed to the others' keys only`;
      });

      await steps.run("alice talks to the group on the new key through the MSRP's mailbox; the newcomer reads it", async () => {
        const sent = (await c.run("alice", ["group:send", "--group", gid, "--from", "alice", "--msg", "render the lake scene"])).trim();
        const read = await c.run("edge", ["group:read", "--group", gid, "--party", added]);
        if (!read.includes('"render the lake scene"')) throw new Error(`${added} did not read it: ${read.trim().split("\n")[0]}`);
        return `${sent
          .split("\n")[0]
          .replace(/ \(epoch/, " (epoch")
          .replace(/ at http\S+/, "")}; ${added} opened it with the epoch-1 key`;
      });

      steps.begin("7. a dispute on-chain (disputes paper): ann claims eve broke an agreement; cat and dan judge by commit and reveal");
      const court = (args: string[]) => c.run("deployer", args);
      await steps.run("eve registered; cat and dan (verified) registered 7,200 blocks before", async () => {
        await court(["trust:register", "--entity", "eve", "--type", "avatar", "--account", "eve"]);
        for (const v of ["cat", "dan"]) await court(["trust:register", "--entity", v, "--type", "avatar", "--account", v, "--verified"]);
        await court(["chain:advance", "--blocks", "7201"]);
        return "three entities, each controlled by an account of its own";
      });
      let disputeId = "";
      await steps.run("ann opens the dispute with her evidence on IPFS", async () => {
        const log = path.join(work, "eve.log");
        fs.writeFileSync(log, "eve's avatar left the agreed scene unfinished\n");
        const out = await court([
          "dispute:open",
          "--claimant",
          "ann",
          "--respondent",
          "eve",
          "--nature",
          "service",
          "--evidence",
          log,
          "--json",
        ]);
        disputeId = String(lastJson(out).id);
        return out.trim().split("\n")[0];
      });
      await steps.run("cat and dan commit, then reveal", async () => {
        for (const v of ["cat", "dan"]) await court(["dispute:commit", "--id", disputeId, "--voter", v, "--choice", "0"]);
        await court(["chain:advance", "--seconds", "3601"]);
        for (const v of ["cat", "dan"]) await court(["dispute:reveal", "--id", disputeId, "--voter", v]);
        return "two sealed votes, opened after the commit deadline";
      });
      await steps.run("the dispute is resolved after the appeal window", async () => {
        await court(["chain:advance", "--seconds", "7201"]);
        return (await court(["dispute:resolve", "--id", disputeId])).trim().split("\n")[0];
      });

      steps.begin("8. an MSSA authority election: residents register across both authority services, then nominate, vote, elect");
      // the residents are clients with their own keys (the node's accounts 12-18); receipts asked for often
      const fast = new JsonRpcProvider(node!.url, undefined, { cacheTimeout: -1, pollingInterval: 100, batchStallTime: 0 });
      try {
        const election = AuthorityElection__factory.connect(dep.contracts.AuthorityElection.address, fast);
        const mssaDep = { chainId: 31337n, ledger: CredentialLedger__factory.connect(dep.contracts.CredentialLedger.address, fast) };
        const residents = [12, 13, 14, 15, 16, 17, 18].map((i) => new Wallet(devAccount(i).privateKey, fast));
        let voters: Wallet[] = [];
        await steps.run("residents register at PL1 over HTTP (each authority checks; both approve)", async () => {
          const r = await registerResidents({
            place: "PL1",
            dep: mssaDep,
            election,
            residents,
            dir: path.join(work, "residents"),
          });
          voters = residents.slice(0, r.registered);
          return `${r.registered} registered; the electorate has M = ${r.members} members`;
        });
        await steps.run("round: nominations, Borda ballots, the top m sit", async () => {
          const out = await runElection({
            election,
            voters,
            advance: async (seconds) => {
              await fast.send("evm_increaseTime", [seconds]);
              await fast.send("evm_mine", []);
            },
          });
          return `round ${out.round}: ${out.candidates.length} candidates, Borda [${out.scores.join(", ")}]; ${out.seated.length} new authorities sit`;
        });
      } finally {
        fast.destroy();
      }
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
