/**
 * Registration needs an operator's one-time enrolment token (issue 19, red-team finding F5,
 * fixed). Before the fix, anyone who could reach the MSRP registered RNs and users under any
 * identity it claimed, and anyone who could reach the IdP got MITs. Now the operator of each
 * service issues a token for one named identity with an expiry (`rsms:enrol-token`,
 * `idp:enrol-token`); the registrant signs its request envelope with the token's key
 * (offchain/services/enrolment.ts). Each attack names the attacker and its capability, and checks
 * the refusal and that nothing changed.
 */
import fs from "fs";
import path from "path";
import { expect } from "chai";
import { rsmsServices, tmp } from "../helpers/rsms-services";
import { idpSystem, startIdp } from "../helpers/idp-services";
import { Keystore } from "../../offchain/storage/keystore";
import { Msrp } from "../../offchain/rsms/msrp";
import { Role } from "../../offchain/rsms/messages";
import { decodePoint, mulBase, randomScalar } from "../../offchain/crypto/group";
import { fromHex, toHex } from "../../offchain/crypto/bytes";
import { MsrpService, MSRP_RECORD } from "../../offchain/services/rsms/msrp-service";
import { registerRnRemote } from "../../offchain/services/rsms/clients";
import { registerUserRemote } from "../../offchain/services/rsms/group-clients";
import { encodeRnRegister, openRnCreds, registrationBinding } from "../../offchain/services/rsms/wire";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope, type EnvelopeSigner } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { postEnvelope, ServiceError } from "../../offchain/services/client";
import {
  EnrolmentBook,
  issueEnrolmentToken,
  newEnrolmentToken,
  parseEnrolmentToken,
  tokenSigner,
  tokenRecordName,
} from "../../offchain/services/enrolment";
import { IdpService, IDP_RECORD } from "../../offchain/services/avatars/idp-service";
import { idpInfo, issueRemote, type IdpDeployment } from "../../offchain/services/avatars/clients";
import { SimulatedEye } from "../../offchain/avatars/iris";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

/** The refusal a promise ends in (fails the test if it resolves). */
async function refusal(p: Promise<unknown>): Promise<ServiceError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, "the request was served").to.be.instanceOf(ServiceError);
  return e as ServiceError;
}

describe("registration needs an operator's one-time enrolment token (F5, fixed)", function () {
  this.timeout(300_000);

  describe("# the MSRP (RNs and users)", () => {
    let s: Awaited<ReturnType<typeof rsmsServices>>;
    before(async () => {
      s = await rsmsServices({ groups: true });
    });
    after(async () => {
      await s?.stop();
      await s?.msrp.stop();
    });

    const names = () => s.msrp.msrp.summary().rns.map((r) => r.name);
    const users = () => s.msrp.msrp.summary().users.map((u) => u.name);
    const record = () => s.msrpDeps.keystore.load(MSRP_RECORD) as { enrolment?: Record<string, { body: string }> };
    const audience = () => audienceOf(s.dep.chainId, s.dep.registry, "msrp");

    /** A registration request for an RN, built by hand: its body and the envelope signed by `signer`. */
    function rnRequest(name: string, tokenId: Uint8Array, signer: EnvelopeSigner, t = randomScalar()) {
      const transport = mulBase(t);
      const registration = Msrp.registrationRequest(
        decodePoint(s.msrp.msrp.pkPubBytes),
        Role.RN,
        1,
        `rn:${name}`,
        registrationBinding("RN", name, transport),
      );
      const body = encodeRnRegister({ tokenId, name, registration, transport });
      const fields = {
        kind: Kind.Request,
        route: Route.RnRegister,
        audience: audience(),
        session: freshId(),
        requestId: freshId(),
        issuedAt: Date.now(),
        inReplyTo: new Uint8Array(32),
        body,
      };
      return { body, fields, t, env: sealEnvelope(fields, signer) };
    }
    const post = (env: Uint8Array, route = "/v1/rn/register") => postEnvelope(s.msrpUrl, route, env, once);

    it("a stranger's RN registrations under identities it made up are refused (401 TOKEN_REQUIRED); nothing is registered", async () => {
      const stranger = new Keystore(tmp("stranger"), "");
      const before = names();
      for (let i = 0; i < 3; i++) {
        const e = await refusal(
          registerRnRemote({ msrpUrl: s.msrpUrl, name: `sybil-${i}`, poolId: 1, rid: `made-up ${i}`, keystore: stranger, dep: s.dep }),
        );
        expect([e.status, e.reason]).to.deep.equal([401, "TOKEN_REQUIRED"]);
      }
      const u = await refusal(registerUserRemote({ msrpUrl: s.msrpUrl, name: "sybil-user", rid: "x", keystore: stranger, dep: s.dep }));
      expect([u.status, u.reason]).to.deep.equal([401, "TOKEN_REQUIRED"]);
      expect(names()).to.deep.equal(before);
      expect(users()).to.not.include("sybil-user");
    });

    it("an RN with its operator's token registers; the MSRP's keystore keeps the token's use, never its secret", async () => {
      const token = s.enrol("rn-a");
      const ks = new Keystore(tmp("rn-a"), "");
      const rn = await registerRnRemote({ msrpUrl: s.msrpUrl, name: "rn-a", poolId: 1, rid: "rn:rn-a", token, keystore: ks, dep: s.dep });
      expect(names()).to.include("rn-a");
      expect(toHex(rn.state.pid)).to.equal(s.msrp.msrp.summary().rns.find((r) => r.name === "rn-a")!.pid);
      const { id, secret } = parseEnrolmentToken(token);
      // the use is in the MSRP's own record (the same atomic write as the registration)
      expect(record().enrolment?.[toHex(id)]).to.not.equal(undefined);
      const dir = path.dirname(s.msrpDeps.keystore.file(MSRP_RECORD));
      for (const f of fs.readdirSync(dir)) expect(fs.readFileSync(path.join(dir, f), "utf8")).to.not.include(toHex(secret).slice(2));
      // and the client forgot the token once registered
      expect(ks.exists("rsms-rn-rn-a-register")).to.equal(false);
    });

    it("a guesser with the token's id and a wrong secret is refused (401 BAD_SIGNATURE); the token stays usable by its holder", async () => {
      const token = s.enrol("rn-b");
      const forged = token.slice(0, -64) + "00".repeat(32);
      const before = names();
      const e = await refusal(
        registerRnRemote({
          msrpUrl: s.msrpUrl,
          name: "rn-b",
          poolId: 1,
          rid: "x",
          token: forged,
          keystore: new Keystore(tmp("g"), ""),
          dep: s.dep,
        }),
      );
      expect([e.status, e.reason]).to.deep.equal([401, "BAD_SIGNATURE"]);
      expect(names()).to.deep.equal(before);
      expect(record().enrolment?.[toHex(parseEnrolmentToken(token).id)]).to.equal(undefined);
      await registerRnRemote({
        msrpUrl: s.msrpUrl,
        name: "rn-b",
        poolId: 1,
        rid: "rn:rn-b",
        token,
        keystore: new Keystore(tmp("b"), ""),
        dep: s.dep,
      });
      expect(names()).to.include("rn-b");
    });

    it("a token this MSRP never issued is refused (403 TOKEN_UNKNOWN); nothing changes", async () => {
      const { token } = newEnrolmentToken({
        service: "msrp",
        kind: "rn",
        identity: "rn-c",
        rid: "x",
        ttlSec: 600,
        now: Math.floor(Date.now() / 1000),
      });
      const before = names();
      const e = await refusal(
        registerRnRemote({
          msrpUrl: s.msrpUrl,
          name: "rn-c",
          poolId: 1,
          rid: "x",
          token,
          keystore: new Keystore(tmp("c"), ""),
          dep: s.dep,
        }),
      );
      expect([e.status, e.reason]).to.deep.equal([403, "TOKEN_UNKNOWN"]);
      expect(names()).to.deep.equal(before);
    });

    it("an expired token is refused (403 TOKEN_EXPIRED); nothing changes", async () => {
      const { token } = issueEnrolmentToken(s.msrpDeps.keystore, {
        service: "msrp",
        kind: "rn",
        identity: "rn-d",
        rid: "x",
        ttlSec: 60,
        now: Math.floor(Date.now() / 1000) - 120,
      });
      const before = names();
      const e = await refusal(
        registerRnRemote({
          msrpUrl: s.msrpUrl,
          name: "rn-d",
          poolId: 1,
          rid: "x",
          token,
          keystore: new Keystore(tmp("d"), ""),
          dep: s.dep,
        }),
      );
      expect([e.status, e.reason]).to.deep.equal([403, "TOKEN_EXPIRED"]);
      expect(names()).to.deep.equal(before);
      expect(record().enrolment?.[toHex(parseEnrolmentToken(token).id)]).to.equal(undefined);
    });

    it("a thief replays a used token for a second identity (403 TOKEN_WRONG_IDENTITY) or for the same name with its own keys (403 TOKEN_USED); nothing changes", async () => {
      const token = s.enrol("rn-e");
      await registerRnRemote({
        msrpUrl: s.msrpUrl,
        name: "rn-e",
        poolId: 1,
        rid: "rn:rn-e",
        token,
        keystore: new Keystore(tmp("e"), ""),
        dep: s.dep,
      });
      const before = names();
      const kept = JSON.stringify(record().enrolment);
      const other = await refusal(
        registerRnRemote({
          msrpUrl: s.msrpUrl,
          name: "rn-e2",
          poolId: 1,
          rid: "x",
          token,
          keystore: new Keystore(tmp("e2"), ""),
          dep: s.dep,
        }),
      );
      expect([other.status, other.reason]).to.deep.equal([403, "TOKEN_WRONG_IDENTITY"]);
      // the same name from another machine: another transport key, so another request
      const same = await refusal(
        registerRnRemote({
          msrpUrl: s.msrpUrl,
          name: "rn-e",
          poolId: 1,
          rid: "rn:rn-e",
          token,
          keystore: new Keystore(tmp("e3"), ""),
          dep: s.dep,
        }),
      );
      expect([same.status, same.reason]).to.deep.equal([403, "TOKEN_USED"]);
      // an RN's token does not register a user of that name either
      const user = await refusal(
        registerUserRemote({ msrpUrl: s.msrpUrl, name: "rn-e", rid: "x", token, keystore: new Keystore(tmp("e4"), ""), dep: s.dep }),
      );
      expect([user.status, user.reason]).to.deep.equal([403, "TOKEN_WRONG_IDENTITY"]);
      expect(names()).to.deep.equal(before);
      expect(users()).to.not.include("rn-e");
      expect(JSON.stringify(record().enrolment)).to.equal(kept);
    });

    it("a relay moves a signed registration to another request (its own transport key, another route or another MSRP): refused, nothing changes", async () => {
      const token = s.enrol("rn-f");
      const { id } = parseEnrolmentToken(token);
      const signed = rnRequest("rn-f", id, tokenSigner(token, "msrp"));
      // the relay's own transport key in the body, the victim's signature kept
      const mine = rnRequest("rn-f", id, { scheme: Scheme.None });
      const resigned = new Uint8Array([
        ...sealEnvelope(mine.fields, { scheme: Scheme.Schnorr, sk: 1n }).slice(0, -65),
        ...openEnvelope(signed.env).sig,
      ]);
      const before = names();
      const a = await refusal(post(resigned));
      expect([a.status, a.reason]).to.deep.equal([401, "BAD_SIGNATURE"]);
      // the same envelope at the user route
      const b = await refusal(post(signed.env, "/v1/user/register"));
      expect(b.status).to.be.within(400, 499);
      // the same body signed for another deployment's MSRP
      const elsewhere = sealEnvelope(
        { ...signed.fields, audience: audienceOf(s.dep.chainId, "0x" + "11".repeat(20), "msrp") },
        tokenSigner(token, "msrp"),
      );
      const c = await refusal(post(elsewhere));
      expect(c.status).to.equal(421);
      // a token key for the IdP does not sign for the MSRP
      const d = await refusal(post(rnRequest("rn-f", id, tokenSigner(token, "idp")).env));
      expect([d.status, d.reason]).to.deep.equal([401, "BAD_SIGNATURE"]);
      expect(names()).to.deep.equal(before);
      expect(record().enrolment?.[toHex(id)]).to.equal(undefined);
      // the holder's own request still goes through
      await post(signed.env);
      expect(names()).to.include("rn-f");
    });

    it("a retry of the same request (same envelope, or the same body re-signed in a fresh one) gets the same keys: one registration, one token use", async () => {
      const token = s.enrol("rn-g");
      const { id } = parseEnrolmentToken(token);
      const r = rnRequest("rn-g", id, tokenSigner(token, "msrp"));
      const pending = s.msrp.msrp.summary().pending[1] ?? 0;
      const first = await post(r.env);
      expect(toHex(await post(r.env))).to.equal(toHex(first));
      const use = record().enrolment?.[toHex(id)];
      // a late retry: the same body in a fresh envelope (new request id), signed again with the token
      const fresh = sealEnvelope({ ...r.fields, requestId: freshId(), issuedAt: Date.now() }, tokenSigner(token, "msrp"));
      const again = await post(fresh);
      const keys = (reply: Uint8Array, req: Uint8Array) =>
        openRnCreds(openEnvelope(reply).body, r.t, 1, openEnvelope(req).requestId).secrets;
      expect(keys(again, fresh)).to.deep.equal(keys(first, r.env));
      expect(s.msrp.msrp.summary().rns.filter((x) => x.name === "rn-g")).to.have.length(1);
      expect(s.msrp.msrp.summary().pending[1]).to.equal(pending + 1);
      expect(record().enrolment?.[toHex(id)]).to.deep.equal(use);
    });

    it("a user registers with a user token; the used token survives a restart of the MSRP (it is in the MSRP's record)", async () => {
      const token = s.enrol("carol", "user");
      await registerUserRemote({
        msrpUrl: s.msrpUrl,
        name: "carol",
        rid: "Carol",
        token,
        keystore: new Keystore(tmp("carol"), ""),
        dep: s.dep,
      });
      expect(users()).to.include("carol");
      await s.msrp.stop();
      s.msrp = new MsrpService(s.msrpDeps);
      await s.msrp.start({ port: Number(new URL(s.msrpUrl).port) });
      // the HTTP client's pooled connection to the stopped server fails once: let it fail here
      await fetch(new URL("/v1/info", s.msrpUrl)).catch(() => undefined);
      const e = await refusal(
        registerUserRemote({
          msrpUrl: s.msrpUrl,
          name: "carol",
          rid: "Carol",
          token,
          keystore: new Keystore(tmp("carol2"), ""),
          dep: s.dep,
          retry: { attempts: 3, timeoutMs: 30_000, backoffMs: 50 },
        }),
      );
      expect([e.status, e.reason], e.message).to.deep.equal([403, "TOKEN_USED"]);
    });

    it("the token's verifier is a record of its own, written once by the operator's step", () => {
      const { token, record: rec } = issueEnrolmentToken(s.msrpDeps.keystore, {
        service: "msrp",
        kind: "rn",
        identity: "z",
        rid: "rn:z",
        ttlSec: 60,
      });
      expect(s.msrpDeps.keystore.load(tokenRecordName(rec.id))).to.deep.equal(rec);
      expect(JSON.stringify(rec)).to.not.include(token.split(".")[2]);
      expect(() =>
        issueEnrolmentToken(s.msrpDeps.keystore, { service: "msrp", kind: "rn", identity: "z", rid: "rn:z", ttlSec: 0 }),
      ).to.throw(/lifetime/);
    });
  });

  describe("# the IdP (MITs)", () => {
    let svc: IdpService;
    let ks: Keystore;
    let info: Awaited<ReturnType<typeof idpInfo>>;
    let dep: IdpDeployment;
    const client = () => new Keystore(path.join(tmp("client"), "keystore"), "");
    before(async () => {
      const sys = await idpSystem();
      ks = sys.ks;
      dep = sys.dep;
      ({ svc, info } = await startIdp(sys));
    });
    after(async () => {
      await svc?.stop();
    });
    const issued = async () => (await dep.registry.queryFilter(dep.registry.filters.MitIssued())).length;
    const enrolled = () => (ks.load(IDP_RECORD) as { users: unknown[] }).users.length;
    const tok = (kind: "user" | "proxy", identity: string, ttlSec = 600, now?: number) =>
      issueEnrolmentToken(ks, { service: "idp", kind, identity, ttlSec, ...(now ? { now } : {}) }).token;
    const user = (label: string, token?: string, eye = new SimulatedEye(Math.floor(Math.random() * 1e6))) =>
      issueRemote({
        idp: info,
        dep,
        keystore: client(),
        name: "u",
        kind: "user",
        label,
        enrollment: eye.capture(),
        retry: once,
        ...(token ? { token } : {}),
      });

    it("a stranger gets no MIT without a token (401), nor with another identity's (403), an expired one (403) or a proxy's token (403); nothing on-chain or enrolled", async () => {
      const [n, e] = [await issued(), enrolled()];
      expect((await refusal(user("Mallory"))).status).to.equal(401);
      expect((await refusal(user("Mallory", tok("user", "Alice")))).reason).to.equal("TOKEN_WRONG_IDENTITY");
      expect((await refusal(user("Mallory", tok("user", "Mallory", 60, Math.floor(Date.now() / 1000) - 120)))).reason).to.equal(
        "TOKEN_EXPIRED",
      );
      expect((await refusal(user("Mallory", tok("proxy", "Mallory")))).reason).to.equal("TOKEN_WRONG_IDENTITY");
      const forged = tok("user", "Mallory").slice(0, -64) + "ab".repeat(32);
      expect((await refusal(user("Mallory", forged))).reason).to.equal("BAD_SIGNATURE");
      expect([await issued(), enrolled()]).to.deep.equal([n, e]);
    });

    it("a user with her token gets her MIT once: a retry of the same bytes gets the same reply, another request with the used token is refused (403 TOKEN_USED)", async () => {
      const token = tok("user", "Alice A.");
      const n = await issued();
      const ksA = client();
      const eye = new SimulatedEye(4242);
      const a = await issueRemote({
        idp: info,
        dep,
        keystore: ksA,
        name: "alice",
        kind: "user",
        label: "Alice A.",
        enrollment: eye.capture(),
        token,
      });
      expect(await issued()).to.equal(n + 1);
      const use = (ks.load(IDP_RECORD) as { enrolment: Record<string, unknown> }).enrolment[toHex(parseEnrolmentToken(token).id)];
      expect(use).to.not.equal(undefined);
      const e = await refusal(user("Alice A.", token, new SimulatedEye(4343)));
      expect([e.status, e.reason]).to.deep.equal([403, "TOKEN_USED"]);
      expect(await issued()).to.equal(n + 1);
      expect(a.party.mit).to.not.equal(undefined);
      // the book itself: the same body is admitted again, however late
      const book = new EnrolmentBook({ [toHex(parseEnrolmentToken(token).id)]: use as { body: string; at: number } });
      expect(book.usedBy(fromHex(toHex(parseEnrolmentToken(token).id)))).to.deep.equal(use);
    });
  });
});
