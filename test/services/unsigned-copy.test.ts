/**
 * s23-rth F1 (H in open registration, M overall), fixed: an unsigned envelope (scheme 0) is
 * malleable: nothing signs its header fields outside the protocol body (issuedAt, session, and the
 * request id where the body does not bind it), so anyone on the path can change them. The reply
 * cache named a request by its id and refused the same id with other bytes (REQUEST_ID_REUSED), and
 * the client took that refusal as proof that its very request could never be served
 * (client.ts refusedForGood) and dropped what it kept pending. An on-path attacker who sent a copy
 * of the party's request with issuedAt moved by 1 ms ahead of it had the request SERVED under the
 * copy's bytes, and the party's own bytes refused for good: the party deleted its keys while the
 * effect stood (s19-reds R1 had closed this for account signatures only).
 *
 * The fix, both sides (docs/specs/services.md, "Unsigned requests"): the reply cache owns an
 * unsigned request by its payload (every byte but its session and issuedAt), and answers a copy
 * from the stored reply rebound to the copy's own bytes; a login and a delegation, whose body does
 * not bind the id, are keyed by their payload (payloadId); and no 409 (REQUEST_ID_REUSED included)
 * makes a client drop its pending state (test/services/client-409-red.test.ts bites that side).
 * One test per route class: an issuance (id bound by the body), a registration (the MSRP's RN; the
 * user's open registration too), a challenge-bound step (a login, id changed too).
 */
import { expect } from "chai";
import http from "http";
import { idpSystem, startIdp } from "../helpers/idp-services";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { issueRemote, loginRemote, partyRecord } from "../../offchain/services/avatars/clients";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { HEADER_BYTES } from "../../offchain/services/envelope";
import { toHex } from "../../offchain/crypto/bytes";
import fs from "fs";
import os from "os";
import path from "path";
import { rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { registerRnRemote, rnClientRecord, rnRegisterPending } from "../../offchain/services/rsms/clients";
import { registerUserRemote, userClientRecord, userRegisterPending } from "../../offchain/services/rsms/group-clients";

const RETRY = { attempts: 3, timeoutMs: 30_000, backoffMs: 10 };
const firstLine = (e: Error) => e.message.split("\n")[0];

/** Offset of issuedAt in an envelope: version, kind, route, audience, session, requestId. */
const ISSUED_AT = 1 + 1 + 1 + 32 + 16 + 16;

/** Offset of the request id. */
const REQUEST_ID = 1 + 1 + 1 + 32 + 16;

/** A copy of an envelope with issuedAt moved by `deltaMs` (unsigned envelopes only: nothing covers it), and with `newId` another id. */
function malleate(env: Buffer, deltaMs = 1n, newId = false): Buffer {
  const out = Buffer.from(env);
  out.writeBigUInt64BE(out.readBigUInt64BE(ISSUED_AT) + deltaMs, ISSUED_AT);
  if (newId) out[REQUEST_ID] ^= 0xff;
  return out;
}

/**
 * An on-path attacker in front of `target`: the first POST it sees is replaced by a malleated copy
 * (issuedAt + 1 ms), which it forwards; it then cuts the party's connection (the party sees a
 * dropped connection and retries). Everything after that is passed through unchanged.
 */
async function preempting(
  target: string,
  o: { path?: string; newId?: boolean } = {},
): Promise<{ url: string; served: number[]; close(): void }> {
  const state = { url: "", served: [] as number[], close: () => server.close() };
  let first = true;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        let body: Buffer | undefined = req.method === "POST" ? Buffer.concat(chunks) : undefined;
        const attack = req.method === "POST" && first && (!o.path || req.url === o.path);
        if (attack) {
          first = false;
          body = malleate(body!, 1n, o.newId);
        }
        const r = await fetch(new URL(req.url ?? "/", target), {
          method: req.method,
          headers: req.headers["content-type"] ? { "content-type": String(req.headers["content-type"]) } : {},
          body: body ? new Uint8Array(body) : undefined,
        });
        const out = Buffer.from(await r.arrayBuffer());
        if (req.method === "POST" && (!o.path || req.url === o.path)) state.served.push(r.status);
        if (attack) return void req.socket.destroy();
        res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/octet-stream" });
        res.end(out);
      })();
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return state;
}

describe("unsigned requests: a copy made on the path (another issuedAt, session or id) is the party's own request (s23-rth F1)", function () {
  this.timeout(180_000);

  it("IdP issuance (open registration): the copy is served, and the party's own request gets that MIT (before: 409 REQUEST_ID_REUSED, keys dropped, eye locked out)", async () => {
    expect(HEADER_BYTES).to.equal(ISSUED_AT + 8 + 32 + 4); // the layout this test edits
    const s = await idpSystem("rth-f1");
    const { svc, info } = await startIdp(s, { openRegistration: true });
    const proxy = await preempting(info.url);
    const eye = new SimulatedEye(231);
    const args = {
      dep: s.dep,
      keystore: s.client,
      name: "alice",
      kind: "user" as const,
      label: "real identity of alice",
      retry: RETRY,
    };
    try {
      const first = await issueRemote({ ...args, idp: { ...info, url: proxy.url }, enrollment: eye.capture() }).then(
        () => "issued",
        (e: Error) => firstLine(e),
      );
      // what happened on the wire: the copy was served (200), the party's own bytes refused (409)
      expect(proxy.served[0], `the malleated copy: ${first}`).to.equal(200);
      // The fix must keep the party able to hold the MIT drawn for its key: either the first run
      // succeeds (the copy's effect is the party's), or it keeps the pending issuance (the keys)
      // and the next run gets the MIT. Before the fix: the first run fails "409 REQUEST_ID_REUSED",
      // the keys are deleted, and the next run (new keys, same eye) is refused DUPLICATE_IDENTITY.
      if (first !== "issued") {
        expect(s.client.exists("avatar-party-alice-issue"), `the party's keys after "${first}"`).to.equal(true);
        const again = await issueRemote({ ...args, idp: info, enrollment: eye.capture() });
        expect(Number((await s.dep.registry.mit(toHex(again.party.mit!.serial))).status)).to.equal(1);
      }
      expect(s.client.exists(partyRecord("alice"))).to.equal(true);
    } finally {
      proxy.close();
      await svc.stop();
    }
  });

  it("IdP login (challenge-bound; the copy also changes the id): one login recorded, the party's own request answered", async () => {
    const s = await idpSystem("fx-f1-login");
    const { svc, info } = await startIdp(s, { openRegistration: true });
    const eye = new SimulatedEye(232);
    const proxy = await preempting(info.url, { path: "/v1/login", newId: true });
    try {
      const { party } = await issueRemote({
        dep: s.dep,
        keystore: s.client,
        name: "bob",
        kind: "user",
        label: "real identity of bob",
        idp: info,
        enrollment: eye.capture(),
        retry: RETRY,
      });
      const avatarId = avatarIdOf(party.mit!.serial, "B");
      const logins = async () => (await s.dep.registry.queryFilter(s.dep.registry.filters.AvatarLoggedIn(toHex(avatarId)))).length;
      const r = await loginRemote({
        idp: { ...info, url: proxy.url },
        dep: s.dep,
        user: party,
        sample: () => eye.capture(),
        avatarId,
        appearance: "b",
        retry: RETRY,
      });
      expect(proxy.served[0], "the copy under another id").to.equal(200);
      expect(toHex(r.ack.avatarId)).to.equal(toHex(avatarId));
      // before the fix: the party's own bytes found the challenge spent by the copy, the client
      // started over with a new challenge, and a second login went on-chain
      expect(await logins(), "logins recorded").to.equal(1);
    } finally {
      proxy.close();
      await svc.stop();
    }
  });
});

describe("unsigned requests: the MSRP's open registration of an RN (s23-rth F1b)", function () {
  this.timeout(180_000);

  it("the registration is made under the copy's bytes, and the RN's own request gets its credentials (before: transport key dropped, name lost)", async () => {
    const m = await rsmsServices({ pools: [1], openRegistration: true });
    const proxy = await preempting(m.msrpUrl);
    const ks = new Keystore(path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rth-f1b-")), "keystore"), "");
    const args = { name: "edge-9", poolId: 1, rid: "RN 9", keystore: ks, dep: m.dep, retry: RETRY };
    try {
      const first = await registerRnRemote({ ...args, msrpUrl: proxy.url }).then(
        () => "registered",
        (e: Error) => firstLine(e),
      );
      expect(proxy.served[0], `the malleated copy: ${first}`).to.equal(200);
      if (first !== "registered") {
        expect(ks.exists(rnRegisterPending("edge-9")), `the RN's pending registration after "${first}"`).to.equal(true);
        await registerRnRemote({ ...args, msrpUrl: m.msrpUrl });
      }
      expect(ks.exists(rnClientRecord("edge-9"))).to.equal(true);
    } finally {
      proxy.close();
      await m.stop();
      await m.msrp.stop();
    }
  });

  it("a user's open registration (service groups): the copy is served, and the user's own request gets the same keys (before: 409 REQUEST_ID_REUSED)", async () => {
    const m = await rsmsServices({ pools: [1], openRegistration: true, groups: true });
    const proxy = await preempting(m.msrpUrl, { path: "/v1/user/register" });
    const ks = new Keystore(path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fx-f1u-")), "keystore"), "");
    const args = { name: "dora", rid: "user:dora", keystore: ks, dep: m.dep, retry: RETRY };
    try {
      const first = await registerUserRemote({ ...args, msrpUrl: proxy.url }).then(
        (r) => toHex(r.pid),
        (e: Error) => firstLine(e),
      );
      expect(proxy.served[0], `the copy: ${first}`).to.equal(200);
      expect(first).to.equal(toHex(m.msrp.msrp.userCredentials("dora").pid));
      expect(ks.exists(userClientRecord("dora"))).to.equal(true);
      expect(ks.exists(userRegisterPending("dora"))).to.equal(false);
    } finally {
      proxy.close();
      await m.stop();
      await m.msrp.stop();
    }
  });
});
