/**
 * h11-fix3: a client that takes any 409 as final drops what it keeps pending for its request (the
 * transport key the reply is sealed to, the request itself) and is stranded when the request had
 * in fact been served. The shape (h11-red R4, found there for one server case only): the first
 * attempt reaches the service and its reply is lost on the wire; the retry of the very same bytes
 * is answered 409 (a service whose half-done state for this request refuses it: AGENT_STATE, as
 * the MSRP's RPM enrolment did before R4's server fix; SIMULATED here by the on-path proxy below,
 * which answers the retry itself). Before the fix the client removed its pending record, so the
 * user's next run built a fresh request: the RPM's pool (created on-chain by the first request)
 * could never be enrolled again and sk_RPM, sealed to the deleted transport key, was lost; the
 * RN's name and token were spent. A 409 now drops the pending state only when it is
 * REQUEST_ID_REUSED to a signed request (s23-rth F1: for an unsigned one a copy made on the path can
 * cause it; s23-review finding 5: nobody on the path can copy a signed one): otherwise the next run
 * resends the same request, and the service's reply cache answers it.
 * Red before the fix (refusedForGood true for every 409): the pending records were gone, and the
 * next run failed for good: "422 INVALID_STATE enrolRpm: pool 2 already exists on-chain" (the RPM's
 * sk_RPM lost), "403 TOKEN_USED admit: token … was used by another request" (the RN's). The MIT
 * issuance (avatars/clients.ts issueRemote) is checked the same way (its old rule restored: the
 * party's keys, which the issued MIT names, were deleted).
 */
import { expect } from "chai";
import http from "http";
import path from "path";
import { rsmsServices, funded, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import {
  abandonRnRegister,
  abandonRpmEnrol,
  abandonStep,
  enrolRpm,
  joinRemote,
  registerRnRemote,
  rnClientRecord,
  rnRegisterPending,
  rpmEnrolPending,
} from "../../offchain/services/rsms/clients";
import { rpmServiceRecord } from "../../offchain/services/rsms/rpm-service";
import { idpSystem, startIdp } from "../helpers/idp-services";
import {
  abandonGroupRequest,
  groupRequestPending,
  registerUserRemote,
  requestGroupRemote,
  userClientRecord,
} from "../../offchain/services/rsms/group-clients";
import { abandonIssue, issueRemote, partyRecord, pendingIssue } from "../../offchain/services/avatars/clients";
import hre from "hardhat";
import { ServiceGroupRegistry__factory } from "../../typechain-types";
import { toHex } from "../../offchain/crypto/bytes";

type Step = "lose" | "409" | "409-reused" | "pass";

/**
 * An on-path proxy in front of `target` that plays `script` on successive POSTs (then passes them):
 * "lose" forwards the request and cuts the connection instead of replying (the reply is lost after
 * the service served it); "409" answers 409 AGENT_STATE itself (SIMULATED half-done server state);
 * "409-reused" answers 409 REQUEST_ID_REUSED itself (SIMULATED). GETs are forwarded.
 */
async function scripted(target: string, script: Step[]): Promise<{ url: string; posts: number; close(): void }> {
  const state = { url: "", posts: 0, close: () => server.close() };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const step: Step = req.method === "POST" ? (script[state.posts++] ?? "pass") : "pass";
        if (step === "409" || step === "409-reused") {
          res.writeHead(409, { "content-type": "application/json" });
          const reused = step === "409-reused";
          res.end(
            JSON.stringify(
              reused
                ? { error: "MESSAGE_MALFORMED", reason: "REQUEST_ID_REUSED", message: "simulated: request id used by another request" }
                : { error: "AGENT_STATE", message: "simulated: half-done state for this request" },
            ),
          );
          return;
        }
        const r = await fetch(new URL(req.url ?? "/", target), {
          method: req.method,
          headers: req.headers["content-type"] ? { "content-type": String(req.headers["content-type"]) } : {},
          body: req.method === "POST" ? Buffer.concat(chunks) : undefined,
        });
        const body = Buffer.from(await r.arrayBuffer());
        if (step === "lose") return void req.socket.destroy();
        res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/octet-stream" });
        res.end(body);
      })();
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return state;
}

const RETRY = { attempts: 2, timeoutMs: 30_000, backoffMs: 10 };
const firstLine = (e: Error) => e.message.split("\n")[0];

describe("h11-fix3: a client keeps its pending request on a 409 that does not prove it can never succeed", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;

  before(async () => {
    s = await rsmsServices({ pools: [1], groups: true });
  });
  after(async () => {
    await s?.stop();
    await s?.msrp.stop();
  });

  it("an RPM enrolment: reply lost, retry 409: the pending enrolment is kept and the next run gets the pool's keys", async () => {
    const proxy = await scripted(s.msrpUrl, ["lose", "409"]);
    const wallet = await funded();
    const ks = new Keystore(path.join(tmp("rpm-409"), "keystore"), "");
    const args = { msrpUrl: proxy.url, poolId: 2, rid: "rpm-409", wallet, keystore: ks, dep: s.dep, retry: RETRY };
    try {
      const first = await enrolRpm(args).then(
        () => "enrolled",
        (e: Error) => firstLine(e),
      );
      expect(ks.exists(`${rpmServiceRecord(2)}-enrol`), "the pending enrolment (its transport key)").to.equal(true);
      expect(first).to.match(/409 .*simulated: half-done state.*kept/);
      expect((await s.dep.ledger.pool(2))?.rpm, "the first attempt was served: the pool is on-chain").to.equal(wallet.address);
      const rec = await enrolRpm(args);
      expect(rec.poolId).to.equal(2);
      expect(ks.exists(`${rpmServiceRecord(2)}-enrol`)).to.equal(false);
      expect(ks.exists(rpmServiceRecord(2))).to.equal(true);
      expect(proxy.posts, "one request, sent three times").to.equal(3);
    } finally {
      proxy.close();
    }
  });

  it("an RN registration: reply lost, retry 409: the pending registration is kept and the next run gets the RN's keys", async () => {
    const proxy = await scripted(s.msrpUrl, ["lose", "409"]);
    const ks = new Keystore(path.join(tmp("rn-409"), "keystore"), "");
    const args = {
      msrpUrl: proxy.url,
      name: "rn-409",
      poolId: 1,
      rid: "rn:rn-409",
      token: s.enrol("rn-409"),
      keystore: ks,
      dep: s.dep,
      retry: RETRY,
    };
    try {
      const first = await registerRnRemote(args).then(
        () => "registered",
        (e: Error) => firstLine(e),
      );
      expect(ks.exists("rsms-rn-rn-409-register"), "the pending registration (its transport key)").to.equal(true);
      expect(first).to.match(/409 .*kept/);
      const rn = await registerRnRemote(args);
      expect(rn.state.name).to.equal("rn-409");
      expect(ks.exists(rnClientRecord("rn-409"))).to.equal(true);
      expect(ks.exists("rsms-rn-rn-409-register")).to.equal(false);
    } finally {
      proxy.close();
    }
  });

  it("an RN's join: the MSRP's reply to the RPM's forward lost, then 409: the RPM and the RN keep their pending state, and the next run joins once", async () => {
    await registerRnRemote({
      msrpUrl: s.msrpUrl,
      name: "rn-j",
      poolId: 1,
      rid: "rn:rn-j",
      token: s.enrol("rn-j"),
      keystore: s.client,
      dep: s.dep,
    });
    expect(await s.msrp.publishDue()).to.equal(1);
    const proxy = await scripted(s.msrpUrl, ["lose", "409"]);
    // the RPM reaches the MSRP through the proxy (its record's msrpUrl; test-only)
    const rec = (s.rpm as unknown as { rec: { msrpUrl: string } }).rec;
    const msrpUrl = rec.msrpUrl;
    rec.msrpUrl = proxy.url;
    const count = await s.dep.ledger.joinCount();
    try {
      const first = await joinRemote({ name: "rn-j", poolId: 1, keystore: s.client, dep: s.dep, retry: RETRY }).then(
        () => "joined",
        (e: Error) => firstLine(e),
      );
      expect(s.client.exists("rsms-rn-rn-j-join"), "the RN's pending join").to.equal(true);
      expect(first).to.match(/409 .*forward is kept.*\(the request is kept/);
      expect(await s.dep.ledger.joinCount(), "the first forward was served").to.equal(count + 1);
      // h13-harden: --abandon sees the join on-chain and drops nothing
      expect(
        await abandonStep({ name: "rn-j", poolId: 1, keystore: s.client, dep: s.dep, retry: RETRY }, "join").then(
          () => "dropped",
          firstLine,
        ),
      ).to.match(
        /^rsms:join --rn rn-j --abandon: the request took effect \(PID 0x[0-9a-f]{64} is recorded on-chain\); rsms-rn-rn-j-join kept: run without --abandon to finish it$/,
      );
      expect(s.client.exists("rsms-rn-rn-j-join")).to.equal(true);
      const r = await joinRemote({ name: "rn-j", poolId: 1, keystore: s.client, dep: s.dep, retry: RETRY });
      expect(r.resumed).to.equal(true);
      expect(r.rn.state.joined).to.equal(true);
      expect(s.client.exists("rsms-rn-rn-j-join")).to.equal(false);
      expect(await s.dep.ledger.joinCount()).to.equal(count + 1);
    } finally {
      rec.msrpUrl = msrpUrl;
      proxy.close();
    }
  });

  it("a user's registration (service groups): reply lost, retry 409: sk_User's transport key is kept and the next run gets her keys", async () => {
    const proxy = await scripted(s.msrpUrl, ["lose", "409"]);
    const ks = new Keystore(path.join(tmp("user-409"), "keystore"), "");
    const args = {
      msrpUrl: proxy.url,
      name: "carol",
      rid: "user:carol",
      token: s.enrol("carol", "user"),
      keystore: ks,
      dep: s.dep,
      retry: RETRY,
    };
    try {
      const first = await registerUserRemote(args).then(
        () => "registered",
        (e: Error) => firstLine(e),
      );
      expect(ks.exists(`${userClientRecord("carol")}-register`), "the pending registration (its transport key)").to.equal(true);
      expect(first).to.match(/409 .*kept/);
      const r = await registerUserRemote(args);
      expect(toHex(r.pid)).to.equal(toHex(s.msrp.msrp.userCredentials("carol").pid));
      expect(ks.exists(userClientRecord("carol"))).to.equal(true);
      expect(ks.exists(`${userClientRecord("carol")}-register`)).to.equal(false);
    } finally {
      proxy.close();
    }
  });

  it("a 409 REQUEST_ID_REUSED to a signed request is final (s23-review finding 5): the pending registration is dropped, the next run starts afresh", async () => {
    // the RN's registration is signed by its enrolment token's key: nobody on the path can make a
    // copy of it under its id, so the refusal says these very bytes will never be served (an
    // unsigned request's REQUEST_ID_REUSED is kept: test/services/client-signed-409.test.ts)
    const proxy = await scripted(s.msrpUrl, ["409-reused"]);
    const ks = new Keystore(path.join(tmp("rn-reused"), "keystore"), "");
    const args = {
      msrpUrl: proxy.url,
      name: "rn-reused",
      poolId: 1,
      rid: "rn:rn-reused",
      token: s.enrol("rn-reused"),
      keystore: ks,
      dep: s.dep,
      retry: RETRY,
    };
    try {
      const first = await registerRnRemote(args).then(
        () => "registered",
        (e: Error) => firstLine(e),
      );
      expect(first).to.match(/409 REQUEST_ID_REUSED/);
      expect(first).to.not.match(/kept/);
      expect(ks.exists("rsms-rn-rn-reused-register")).to.equal(false);
      const r = await registerRnRemote({ ...args, msrpUrl: s.msrpUrl });
      expect(r.state.name).to.equal("rn-reused");
      expect(ks.exists(rnClientRecord("rn-reused"))).to.equal(true);
      expect(ks.exists("rsms-rn-rn-reused-register")).to.equal(false);
    } finally {
      proxy.close();
    }
  });
});

describe("h13-harden: --abandon drops a kept request only when the chain and the service say it did not take effect", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
  const formed = async () => {
    const reg = ServiceGroupRegistry__factory.connect(s.groupsAddress, hre.ethers.provider);
    return (await reg.queryFilter(reg.filters.GroupFormed())).length;
  };

  before(async () => {
    s = await rsmsServices({ pools: [1], groups: true });
  });
  after(async () => {
    await s?.stop();
    await s?.msrp.stop();
  });

  it("a genuine lasting 409 (a group the MSRP cannot staff) comes back on every run with the same bytes; --abandon drops it after the MSRP refuses it again, no group on-chain", async () => {
    const ks = new Keystore(path.join(tmp("abandon-group"), "keystore"), "");
    await registerUserRemote({
      msrpUrl: s.msrpUrl,
      name: "dave",
      rid: "user:dave",
      token: s.enrol("dave", "user"),
      keystore: ks,
      dep: s.dep,
    });
    const args = { msrpUrl: s.msrpUrl, user: "dave", size: 5, keystore: ks, dep: s.dep, retry: once };
    const groups = await formed();
    const runs: string[] = [];
    const kept = () => (ks.load(groupRequestPending("dave")) as { envelope: string }).envelope;
    const sent: string[] = [];
    for (let i = 0; i < 2; i++) {
      runs.push(await requestGroupRemote(args).then(() => "formed", firstLine));
      sent.push(kept());
    }
    expect(sent[1], "the same request bytes each run").to.equal(sent[0]);
    expect(runs[0]).to.match(/409 .*5 RNs requested, only 0 have joined.*kept/);
    expect(runs[1]).to.equal(runs[0]);
    expect(ks.exists(groupRequestPending("dave")), "stuck: kept after every run").to.equal(true);
    const line = await abandonGroupRequest(args);
    expect(line).to.match(
      /^group:request --user dave --abandon: the service refused the kept request \(.*409 .*only 0 have joined[^)]*\) and it is not in effect; rsms-user-dave-group-request dropped$/,
    );
    expect(ks.exists(groupRequestPending("dave"))).to.equal(false);
    expect(await formed()).to.equal(groups);
    expect(await abandonGroupRequest(args).then(() => "dropped again", firstLine)).to.equal(
      "group:request --user dave --abandon: no pending request in this folder (rsms-user-dave-group-request)",
    );
  });

  it("a kept request that took effect (its reply lost) is not dropped: unreachable, nothing is confirmed; reached, it is completed", async () => {
    const proxy = await scripted(s.msrpUrl, ["lose"]);
    const ks = new Keystore(path.join(tmp("abandon-rn"), "keystore"), "");
    const args = {
      msrpUrl: proxy.url,
      name: "rn-ab",
      poolId: 1,
      rid: "rn:rn-ab",
      token: s.enrol("rn-ab"),
      keystore: ks,
      dep: s.dep,
      retry: once,
    };
    try {
      expect(await registerRnRemote(args).then(() => "registered", firstLine)).to.match(/not reachable/);
      expect(ks.exists(rnRegisterPending("rn-ab"))).to.equal(true);
      const down = await abandonRnRegister({ ...args, msrpUrl: "http://127.0.0.1:9" }).then(() => "dropped", firstLine);
      expect(down).to.match(
        /^rsms:rn:register --name rn-ab --abandon: could not confirm with the service that the request did not take effect \(.*not reachable.*\); rsms-rn-rn-ab-register kept$/,
      );
      expect(ks.exists(rnRegisterPending("rn-ab"))).to.equal(true);
      expect(await abandonRnRegister(args).then(() => "dropped", firstLine)).to.equal(
        "rsms:rn:register --name rn-ab --abandon: the service answered the kept request: it took effect and is completed now",
      );
      expect(ks.exists(rnClientRecord("rn-ab")), "the RN's keys, from the MSRP's cached reply").to.equal(true);
      expect(ks.exists(rnRegisterPending("rn-ab"))).to.equal(false);
    } finally {
      proxy.close();
    }
  });

  it("an RPM enrolment whose pool is on-chain with this account, answered 409 (SIMULATED half-done state): refused naming the pool, nothing resent or dropped", async () => {
    const proxy = await scripted(s.msrpUrl, ["lose", "409", "409"]);
    const wallet = await funded();
    const ks = new Keystore(path.join(tmp("abandon-rpm"), "keystore"), "");
    const args = { msrpUrl: proxy.url, poolId: 3, rid: "rpm-ab", wallet, keystore: ks, dep: s.dep, retry: RETRY };
    try {
      expect(await enrolRpm(args).then(() => "enrolled", firstLine)).to.match(/409 .*kept/);
      expect(await abandonRpmEnrol(args).then(() => "dropped", firstLine)).to.equal(
        "rsms:rpm:enrol --pool 3 --abandon: the request took effect (pool 3 is on-chain with this account); rsms-rpm-3-enrol kept: run without --abandon to finish it",
      );
      expect(proxy.posts, "nothing resent").to.equal(2);
      expect(ks.exists(rpmEnrolPending(3))).to.equal(true);
      expect((await enrolRpm({ ...args, msrpUrl: s.msrpUrl })).poolId).to.equal(3);
    } finally {
      proxy.close();
    }
  });
});

describe("h11-fix3: an MIT issuance keeps its pending request (the party's keys) on a 409 that does not prove it can never succeed", function () {
  this.timeout(120_000);

  it("reply lost, retry 409: the party's keys are kept and the next run gets the MIT drawn for them", async () => {
    const s = await idpSystem("idp-409");
    const { svc, info } = await startIdp(s);
    const proxy = await scripted(info.url, ["lose", "409"]);
    const args = {
      idp: { ...info, url: proxy.url },
      dep: s.dep,
      keystore: s.client,
      name: "bot",
      kind: "proxy" as const,
      label: "a proxy",
      token: s.token("proxy", "a proxy"),
      retry: RETRY,
    };
    try {
      const first = await issueRemote(args).then(
        () => "issued",
        (e: Error) => firstLine(e),
      );
      expect(s.client.exists("avatar-party-bot-issue"), "the pending issuance (the party's keys)").to.equal(true);
      expect(first).to.match(/409 .*kept/);
      const r = await issueRemote(args);
      expect(r.resumed).to.equal(true);
      expect(Number((await s.dep.registry.mit(toHex(r.party.mit!.serial))).status)).to.equal(1);
      expect(s.client.exists(partyRecord("bot"))).to.equal(true);
      expect(s.client.exists("avatar-party-bot-issue")).to.equal(false);
    } finally {
      proxy.close();
      await svc.stop();
    }
  });

  it("h13-harden: --abandon of an issuance whose MIT is on-chain for its key (reply lost, then 409) is refused, nothing dropped", async () => {
    const s = await idpSystem("idp-abandon");
    const { svc, info } = await startIdp(s);
    const proxy = await scripted(info.url, ["lose", "409", "409"]);
    const args = {
      idp: { ...info, url: proxy.url },
      dep: s.dep,
      keystore: s.client,
      name: "bot2",
      kind: "proxy" as const,
      label: "a second proxy",
      token: s.token("proxy", "a second proxy"),
      retry: RETRY,
    };
    try {
      expect(await issueRemote(args).then(() => "issued", firstLine)).to.match(/409 .*kept/);
      expect(await abandonIssue(args).then(() => "dropped", firstLine)).to.match(
        /^idp:issue --proxy bot2 --abandon: the request took effect \(MIT 0x[0-9a-f]{64} is on-chain for this key\); avatar-party-bot2-issue kept: run without --abandon to finish it$/,
      );
      expect(s.client.exists(pendingIssue("bot2"))).to.equal(true);
    } finally {
      proxy.close();
      await svc.stop();
    }
  });
});
