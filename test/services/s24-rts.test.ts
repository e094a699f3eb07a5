/**
 * Red team s24-rts (outside, secrets and private links): four findings, fixed in session 24
 * (s24-fxs). Each test guards its finding, and each bites: with its fix reverted it fails.
 *
 * The RSMS paper keeps one link private from everybody but the MSRP: which pseudonyms (PIDs)
 * belong to which RN (§III.D.2 unlinkability; contracts/interfaces/IResourcePoolRegistry.sol:
 * "nothing here links two pseudonyms of one RN"). docs/deploy.md says the services' protocol seals
 * what must stay secret, "what TLS adds is the metadata". The MSRP's trust attestation
 * (POST /v1/trust/attest) and its log break that link:
 *
 * - F1: the SECOND_IDENTITY refusal names the RN's bound PID in the reply to a request for its
 *   newer PID. The error reply is plain JSON over the service's HTTP, so anybody on the network
 *   path reads "the RN behind PID_new already holds the trust identity PID_old": two pseudonyms of
 *   one RN linked, the very link rotation exists to hide. An honest RN gets there by the ordinary
 *   path the brief's "lost reply" rule covers: the MSRP bound its PID, the reply was lost (the
 *   client never stored `trustId`), it rotated, and its client's default asks for the current PID.
 * - F2: the MSRP's service log line for an attestation names the RN and the controller account
 *   ("trust attestation: <name>'s PID_k for <controller>"); the chain's EntityRegistered event (registerAttested) gives
 *   controller -> PID. So whoever reads the service log gets RN name -> its trust-identity PID
 *   (and from the same line the RN's rotation count k).
 * - F4: the MSRP's log line for a group formation names the user and the member RNs in the order
 *   GroupFormed lists their PIDs (sorted by PID since h14-red F2): a log reader maps each RN name,
 *   position by position, to its PID, and across a rotation to each of its PIDs.
 *
 * The avatar paper keeps a human's real identity with the IdP alone; offchain/services/avatars/wire.ts
 * and docs/deploy.md: "iris templates, iris samples and real identities never cross the network in
 * the clear, with or without TLS ... a relay can neither read them".
 *
 * - F3: a decryption oracle for the sealed real identity. The IssueRequest's box Enc_C(label ||
 *   enrollment) is bound (AAD) to the kind, the key and the request id, but not to the token id,
 *   which sits in the body outside it. The IdP opens the box, then checks the token against the
 *   label and refuses with TOKEN_WRONG_IDENTITY, a message that quotes the opened label. So
 *   Mallory, who holds any IdP token (her own, for her own MIT), takes Alice's issuance request
 *   off the wire before it arrives, swaps in her token id, signs the envelope with her token's
 *   key and sends it: the 403 reply spells out Alice's real identity.
 *
 * Fixes (classes, not only the instances): the box's associated data names the token id too
 * (enrolAad), so it opens for no other token; no refusal names an identity (EnrolmentBook.admit);
 * SECOND_IDENTITY names no other PID, and the RN's client keeps the PID it asked for first
 * (`trustAsked`), so a lost reply does not strand it; no MSRP log line names a party beside a
 * value the chain shows (a PID, a controller, a roster position, a flag): counts, not names.
 */
import http from "http";
import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import hre from "hardhat";
import { joinedRnsAndUser, rsmsServices, funded, tmp } from "../helpers/rsms-services";
import { requestGroupRemote } from "../../offchain/services/rsms/group-clients";
import { Keystore } from "../../offchain/storage/keystore";
import { concat, toHex } from "../../offchain/crypto/bytes";
import { joinRemote, loadRemoteRn, reauthRemote, registerRnRemote, rnClientRecord } from "../../offchain/services/rsms/clients";
import { attestTrustRemote, RESOURCE_NODE_KIND } from "../../offchain/services/rsms/attest";
import { postEnvelope, ServiceError } from "../../offchain/services/client";
import { ServiceGroupRegistry__factory, TrustManager__factory } from "../../typechain-types";
import { idpSystem, startIdp } from "../helpers/idp-services";
import { issueRemote } from "../../offchain/services/avatars/clients";
import { IDP_RECORD } from "../../offchain/services/avatars/idp-service";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { parseEnrolmentToken, tokenSigner } from "../../offchain/services/enrolment";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

/** A passive relay on the network path: forwards every request to `target` and keeps every reply body. */
async function tap(target: string): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const to = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const up = http.request({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        const back: Buffer[] = [];
        r.on("data", (c: Buffer) => back.push(c));
        r.on("end", () => {
          const body = Buffer.concat(back);
          seen.push(body.toString("latin1"));
          res.writeHead(r.statusCode ?? 502, r.headers);
          res.end(body);
        });
      });
      up.on("error", () => res.destroy());
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((ok) => server.close(() => ok())) };
}

/** A relay that forwards every request to `target` and drops every POST's reply (the connection cut once it is in). */
async function dropper(target: string): Promise<{ url: string; close: () => Promise<void> }> {
  const to = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const up = http.request({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        const back: Buffer[] = [];
        r.on("data", (c: Buffer) => back.push(c));
        r.on("end", () => {
          if (req.method === "POST") return void res.destroy();
          res.writeHead(r.statusCode ?? 502, r.headers);
          res.end(Buffer.concat(back));
        });
      });
      up.on("error", () => res.destroy());
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

describe("s24-rts: the MSRP's trust attestation does not link an RN's pseudonyms", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  let tmAddress: string;

  before(async () => {
    s = await rsmsServices({ groups: true, pools: [1, 2] });
    tmAddress = s.f.deployment.contracts.TrustManager.address;
  });
  after(async () => {
    await s?.stop();
    await s?.msrp.stop();
  });

  async function joinedRn(name: string): Promise<Keystore> {
    const ks = new Keystore(tmp(`rts-${name}`), "");
    await registerRnRemote({ msrpUrl: s.msrpUrl, name, poolId: 1, rid: `rn:${name}`, token: s.enrol(name), keystore: ks, dep: s.dep });
    await s.msrp.publishDue();
    await joinRemote({ name, poolId: 1, keystore: ks, dep: s.dep, retry: once });
    return ks;
  }
  const pidOf = (ks: Keystore, name: string) => toHex(loadRemoteRn(ks, name)!.state.pid);

  it("F1 (M): after a lost attestation reply and a rotation, a request for the new PID is refused (SECOND_IDENTITY) by a reply that names no other pseudonym of the RN (a relay reads one PID only)", async () => {
    const ks = await joinedRn("w");
    const first = pidOf(ks, "w");
    // the MSRP binds `first` and answers; the reply is lost: the client never stores trustId
    const kept = ks.load(rnClientRecord("w"));
    await attestTrustRemote({
      name: "w",
      keystore: ks,
      dep: s.dep,
      trustManager: tmAddress,
      controller: (await funded()).address,
      now: await time.latest(),
      retry: once,
    });
    ks.update(rnClientRecord("w"), kept); // as if the reply had never arrived
    expect(s.msrp.msrp.trustIdOf("w")).to.equal(first);
    // the RN rotates (pool 2): its new PID is, on chain, unlinkable from the old one
    await reauthRemote({ name: "w", poolId: 2, keystore: ks, dep: s.dep, retry: once });
    const second = pidOf(ks, "w");
    expect(second).to.not.equal(first);
    // it asks again, by default (its client knows no trust identity: the current PID), through a relay
    const relay = await tap(s.msrpUrl);
    try {
      const reason = await attestTrustRemote({
        name: "w",
        keystore: ks,
        dep: s.dep,
        trustManager: tmAddress,
        controller: (await funded()).address,
        msrpUrl: relay.url,
        now: await time.latest(),
        retry: once,
      }).then(
        () => "attested",
        (e: unknown) => (e instanceof ServiceError ? e.reason : String(e)),
      );
      expect(reason).to.equal("SECOND_IDENTITY");
      // what the relay read in the clear in this one exchange
      const wire = relay.seen
        .filter((b) => b.includes("SECOND_IDENTITY"))
        .join("\n")
        .toLowerCase();
      expect(wire, "the refusal names the PID asked for").to.contain(second.slice(2).toLowerCase());
      expect(wire, "the plain-text refusal names the RN's other PID: two pseudonyms of one RN linked on the wire").to.not.contain(
        first.slice(2).toLowerCase(),
      );
    } finally {
      await relay.close();
    }
  });

  it("F1 (M): a lost attestation reply does not strand the RN: after it rotated, its default request asks for the PID it asked first (kept before sending) and is attested", async () => {
    const ks = await joinedRn("u");
    const first = pidOf(ks, "u");
    // the MSRP binds `first` and answers; a relay drops the reply (the client sees no answer)
    const drop = await dropper(s.msrpUrl);
    try {
      const lost = await attestTrustRemote({
        name: "u",
        keystore: ks,
        dep: s.dep,
        trustManager: tmAddress,
        controller: (await funded()).address,
        msrpUrl: drop.url,
        now: await time.latest(),
        retry: once,
      }).then(
        () => "answered",
        () => "lost",
      );
      expect(lost).to.equal("lost");
    } finally {
      await drop.close();
    }
    expect(s.msrp.msrp.trustIdOf("u"), "the MSRP bound it").to.equal(first);
    await reauthRemote({ name: "u", poolId: 2, keystore: ks, dep: s.dep, retry: once });
    expect(pidOf(ks, "u")).to.not.equal(first);
    const r = await attestTrustRemote({
      name: "u",
      keystore: ks,
      dep: s.dep,
      trustManager: tmAddress,
      controller: (await funded()).address,
      now: await time.latest(),
      retry: once,
    });
    expect(r.pid, "attested for its bound PID, asked for by default").to.equal(first);
    expect((ks.load(rnClientRecord("u")) as { trustId?: string }).trustId).to.equal(first);
  });

  it("F2 (M): the MSRP's attestation log line names no RN beside the controller it attested for, so the chain's EntityRegistered links no name to a PID", async () => {
    const ks = await joinedRn("v");
    const pid = pidOf(ks, "v");
    const controller = await funded();
    const from = s.msrpLog.length;
    const r = await attestTrustRemote({
      name: "v",
      keystore: ks,
      dep: s.dep,
      trustManager: tmAddress,
      controller: controller.address,
      now: await time.latest(),
      retry: once,
    });
    const tm = TrustManager__factory.connect(tmAddress, controller);
    await (await tm.registerAttested(r.pid, RESOURCE_NODE_KIND, r.deadline, r.attestation)).wait();
    // a log reader: the line that names the RN also names an account ...
    const lines = s.msrpLog.slice(from).filter((l) => l.includes("v's") || l.includes(" v ") || l.includes('"v"'));
    const accounts = lines.flatMap((l) => l.match(/0x[0-9a-fA-F]{40}/g) ?? []);
    // ... and the chain says which PID that account registered as an attested entity
    const linked: string[] = [];
    // registerAttested emits EntityRegistered(id, kind, controller): the controller is public
    const attested = await tm.queryFilter(tm.filters.EntityRegistered());
    for (const a of accounts)
      for (const ev of attested) if (ev.args.controller.toLowerCase() === a.toLowerCase()) linked.push(String(ev.args.id).toLowerCase());
    expect(s.msrpLog.length, "the service logged the attestation").to.be.greaterThan(from);
    expect(linked, `the MSRP log (${lines.join(" | ")}) links RN "v" to its pseudonym ${pid}`).to.not.include(pid.toLowerCase());
  });
});

/** A black hole on the network path: keeps every request body and answers 503 (the request "lost"). */
async function sink(): Promise<{ url: string; bodies: Buffer[]; close: () => Promise<void> }> {
  const bodies: Buffer[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "POST") bodies.push(Buffer.concat(chunks));
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "UNAVAILABLE", message: "down" }));
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, bodies, close: () => new Promise((ok) => server.close(() => ok())) };
}

describe("s24-rts: the IdP's issuance never echoes the sealed real identity", function () {
  this.timeout(300_000);

  it("F3 (H): Alice's sealed issuance request moved under Mallory's own token does not open (400 MALFORMED), and the refusal spells out nothing of Alice's; nothing changes", async () => {
    const sys = await idpSystem("rts-idp");
    const { svc, info } = await startIdp(sys);
    try {
      const alice = "Alice Liddell, b. 1852-05-04, passport 093117442";
      // Alice's request leaves her machine and is taken off the wire (it never reaches the IdP)
      const wire = await sink();
      await issueRemote({
        idp: { ...info, url: wire.url },
        dep: sys.dep,
        keystore: new Keystore(tmp("rts-alice"), ""),
        name: "alice",
        kind: "user",
        label: alice,
        enrollment: new SimulatedEye(777).capture(),
        token: sys.token("user", alice),
        retry: once,
      }).catch(() => undefined);
      await wire.close();
      expect(wire.bodies.length).to.equal(1);
      const captured = openEnvelope(new Uint8Array(wire.bodies[0]));
      expect(Buffer.from(captured.body).toString("latin1")).to.not.contain(alice); // sealed on the wire, as documented
      // Mallory holds a token for her own MIT (any enrolling user does)
      const mallory = sys.token("user", "Mallory");
      const before = JSON.stringify(sys.ks.load(IDP_RECORD));
      const forged = sealEnvelope(
        {
          kind: captured.kind,
          route: captured.route,
          audience: captured.audience,
          session: captured.session,
          requestId: captured.requestId, // the box's AAD names it: kept
          issuedAt: Date.now(),
          inReplyTo: captured.inReplyTo,
          body: concat(parseEnrolmentToken(mallory).id, captured.body.subarray(16)), // her token id, Alice's box
        },
        tokenSigner(mallory, "idp"),
      );
      const e = await postEnvelope(info.url, "/v1/mit/issue", forged, once).then(
        () => undefined,
        (x: unknown) => x as ServiceError,
      );
      expect(e, "the forged request was served").to.be.instanceOf(ServiceError);
      // the box is bound to Alice's token id: it does not open for Mallory's (before the fix: 403
      // TOKEN_WRONG_IDENTITY, the IdP had opened Alice's box and compared it with Mallory's token)
      expect([e!.status, e!.reason], e!.message).to.deep.equal([400, "MALFORMED"]);
      expect(JSON.stringify(sys.ks.load(IDP_RECORD))).to.equal(before); // nothing changed
      expect(e!.message, "the refusal Mallory reads quotes the identity sealed in Alice's box").to.not.contain(alice);
    } finally {
      await svc.stop();
    }
  });
});

describe("s24-rts: the IdP's token refusal names no identity", function () {
  this.timeout(300_000);

  it("F3 (H) class: a token issued for another identity is refused (403 TOKEN_WRONG_IDENTITY) by a message that names neither identity; nothing changes", async () => {
    const sys = await idpSystem("rts-idp-mixup");
    const { svc, info } = await startIdp(sys);
    try {
      const alice = "Alice Liddell, b. 1852-05-04, passport 093117442";
      const enrolled = "Alice Pleasance Liddell, passport 093117443"; // the operator's typo: the token names another identity
      const before = JSON.stringify(sys.ks.load(IDP_RECORD));
      const e = await issueRemote({
        idp: info,
        dep: sys.dep,
        keystore: new Keystore(tmp("rts-alice-mixup"), ""),
        name: "alice",
        kind: "user",
        label: alice,
        enrollment: new SimulatedEye(778).capture(),
        token: sys.token("user", enrolled),
        retry: once,
      }).then(
        () => undefined,
        (x: unknown) => x as ServiceError,
      );
      expect(e, "refused").to.be.instanceOf(ServiceError);
      expect([e!.status, e!.reason], e!.message).to.deep.equal([403, "TOKEN_WRONG_IDENTITY"]);
      expect(e!.message, "the reply quotes the identity the box holds").to.not.contain("Liddell");
      expect(JSON.stringify(sys.ks.load(IDP_RECORD))).to.equal(before);
    } finally {
      await svc.stop();
    }
  });
});

describe("s24-rts: the MSRP's group log names no member", function () {
  this.timeout(300_000);

  it("F4 (M): a reader of the MSRP's log and the chain maps no RN name of a group to its PID (the formation line counts the members)", async () => {
    const s = await rsmsServices({ groups: true });
    try {
      const rns = ["rn-x", "rn-y", "rn-z"];
      const ks = await joinedRnsAndUser(s, rns, "carol", "rts4");
      const pidOf = (n: string) => toHex(loadRemoteRn(ks.get(n)!, n)!.state.pid).toLowerCase();
      const from = s.msrpLog.length;
      await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "carol", size: rns.length, keystore: ks.get("carol")!, dep: s.dep });
      // ---- the reader: the service log and the GroupFormed event
      const groups = ServiceGroupRegistry__factory.connect(await s.f.groups.getAddress(), hre.ethers.provider);
      const [formed] = await groups.queryFilter(groups.filters.GroupFormed(), 0, "latest");
      const roster = formed.args.members.map((m) => m.toLowerCase());
      const line = s.msrpLog.slice(from).find((l) => l.includes(String(formed.args.groupId).slice(0, 10)));
      expect(s.msrpLog.length, "the service logged the formation").to.be.greaterThan(from);
      const named = line ? (/ with (.*)$/.exec(line)?.[1] ?? "").split(", ") : [];
      const linked = rns.filter((n) => named.indexOf(n) >= 0 && roster[named.indexOf(n)] === pidOf(n));
      expect(linked, `the MSRP log ("${line}") and GroupFormed link these RNs to their PIDs`).to.deep.equal([]);
    } finally {
      await s.stop();
      await s.msrp.stop();
    }
  });
});
