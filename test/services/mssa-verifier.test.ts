/**
 * Attacks on the k-of-n approval of an MSSA registration across the place authority services
 * (h7-audit finding M4, fixed in session 8; docs/specs/mssa.md §2.6).
 *
 * M4: an authority used to approve any pending registration of a session whose key it had released
 * to the verifier, for that session's user; it never saw the request, the documents, the commitment
 * or the nullifier. The verifier's operator with a colluding user recorded what the document check
 * refused (a second registration of one person) and every approved registration enrols an elector:
 * one verifier minted Sybil electors. Now every authority checks the request against the documents
 * sealed to it, computes commitment, nullifier and registration id itself, and approves only that
 * registration. The tests below name the attacker and what it tries; each asserts the refusal and
 * that nothing changed on-chain.
 */
import { expect } from "chai";
import type { Bits } from "../../offchain/mssa/bits";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { HDNodeWallet, Mnemonic, Wallet, ZeroHash, hexlify, randomBytes } from "ethers";
import { deploySystemFixture } from "../fixtures/system";
import { Keystore } from "../../offchain/storage/keystore";
import { buildRequest, fresh32, placeId } from "../../offchain/mssa/registration";
import { consentToRegistration } from "../../offchain/mssa/ledger";
import { commitment as commitmentOf, encodeCredential, evenLength } from "../../offchain/mssa/credential";
import {
  AuthorityService,
  authorityAudience,
  authorityRecord,
  importPlaceKey,
  placeKeyRecord,
  scopedSession,
} from "../../offchain/services/mssa/authority-service";
import { authorityInfo, registerRemote, type MssaDeployment } from "../../offchain/services/mssa/clients";
import {
  decodeOutcome,
  decodeVerifyReply,
  encodeApproveRequest,
  encodeKeyRequest,
  encodeVerifyRequest,
  keyDigest,
  openKey,
} from "../../offchain/services/mssa/wire";
import { Kind, Route, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { accountSigner, freshId } from "../../offchain/services/common";
import { postEnvelope } from "../../offchain/services/client";
import { mulBase, randomScalar } from "../../offchain/crypto/group";
import { CredentialLedger__factory, type CredentialLedger } from "../../typechain-types";

const tmp = (n: string) => fs.mkdtempSync(path.join(os.tmpdir(), `svc-${n}-`));
/** Hardhat's development accounts (the genesis authorities are accounts 1 and 2). */
const devKey = (i: number) =>
  HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase("test test test test test test test test test test test junk"), `m/44'/60'/0'/0/${i}`);
const ONCE = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
const hex32 = () => hexlify(randomBytes(32));

describe("services/mssa: a malicious verifying authority cannot mint registrations (h7-audit M4)", function () {
  this.timeout(240_000);
  const PL = "PL-m4";
  const services: AuthorityService[] = [];
  let deps: ConstructorParameters<typeof AuthorityService>[0][];
  let au: Wallet[];
  let dep: MssaDeployment;
  let urls: string[];
  let address: string;
  let chainId: bigint;

  before(async () => {
    const f = await deploySystemFixture();
    address = f.deployment.contracts.CredentialLedger.address;
    const operator = CredentialLedger__factory.connect(address, f.msrp);
    au = [1, 2].map((i) => devKey(i).connect(hre.ethers.provider) as unknown as Wallet);
    await (await operator.setPlace(placeId(PL), [au[0].address, au[1].address], 2)).wait();
    chainId = (await hre.ethers.provider.getNetwork()).chainId;
    dep = { chainId, ledger: CredentialLedger__factory.connect(address, hre.ethers.provider) };
    // the place key, provisioned to both authorities by the place's operator (a keystore record)
    const placeKey = hex32().slice(2);
    deps = au.map((w) => {
      const dir = tmp("au");
      const keystore = new Keystore(path.join(dir, "keystore"), "");
      keystore.create(placeKeyRecord(PL), { key: placeKey });
      return {
        keystore,
        dir: path.join(dir, "service"),
        place: PL,
        ledger: CredentialLedger__factory.connect(address, w),
        wallet: w,
        chainId,
        peers: new Map<string, string>(),
        peerRetry: ONCE,
        log: () => undefined,
      };
    });
    services[1] = new AuthorityService(deps[1]);
    const url1 = (await services[1].start({ port: 0 })).url;
    services[0] = new AuthorityService(deps[0]);
    const url0 = (await services[0].start({ port: 0 })).url;
    deps[0].peers!.set(au[1].address.toLowerCase(), url1);
    deps[1].peers!.set(au[0].address.toLowerCase(), url0);
    urls = [url0, url1];
  });

  after(async () => {
    for (const s of services) await s?.stop();
  });

  const user = () => Wallet.createRandom().connect(hre.ethers.provider) as unknown as Wallet;
  /** An envelope to authority `to` on `route`, signed by `from`. */
  const envelope = (to: Wallet, route: number, body: Uint8Array, from: Wallet) =>
    sealEnvelope(
      {
        kind: Kind.Request,
        route,
        audience: authorityAudience(chainId, address, to.address, PL),
        session: freshId(),
        requestId: freshId(),
        issuedAt: Date.now(),
        inReplyTo: new Uint8Array(32),
        body,
      },
      accountSigner(from),
    );
  /** The verifier's operator (au[0]'s account) asks au[1] to approve `id` for `session`. */
  const askApprove = (session: string, id: string) =>
    postEnvelope(urls[1], "/v1/mssa/approve", envelope(au[1], Route.MssaApprove, encodeApproveRequest({ session, id }), au[0]), ONCE);
  /** The verifier's operator records a registration with the colluding user's consent (and election nullifier `e`). */
  const proposeAsVerifier = async (u: Wallet, commitment: string, nullifier: string, session: string, e = ZeroHash) => {
    const consent = await consentToRegistration(dep.ledger, u, placeId(PL), commitment, nullifier, session, e);
    await (
      await deps[0].ledger.propose(placeId(PL), u.address, commitment, nullifier, e, session, consent.deadline, consent.signature)
    ).wait();
    return dep.ledger.registrationId(placeId(PL), u.address, commitment);
  };
  /** A user's Steps 1-4 by hand: keys from both authorities, the request checked by `checkers`. */
  const keysAndChecks = async (u: Wallet, infos: string[], checkers: number[]) => {
    const session = fresh32();
    const bits = evenLength(encodeCredential(infos)).length;
    const keys: Bits[] = [];
    for (const i of [0, 1]) {
      const t = randomScalar();
      const env = envelope(au[i], Route.MssaKey, encodeKeyRequest({ session, user: u.address, bits, transport: mulBase(t) }), u);
      keys.push(openKey("KEY", t, session, au[i].address, openEnvelope(await postEnvelope(urls[i], "/v1/mssa/key", env, ONCE)).body));
    }
    const { request } = buildRequest(session, placeId(PL), u.address, infos, keys);
    const salt = fresh32();
    const replies = [];
    for (const i of checkers) {
      const info = await authorityInfo(urls[i], PL, dep);
      // S: both authorities, each key's digest as received (h15-red2 R1)
      const set = [au[0].address, au[1].address];
      const keyDigests = set.map((a, j) => keyDigest(keys[j], scopedSession(session, u.address), a));
      const env = envelope(
        au[i],
        Route.MssaVerify,
        encodeVerifyRequest({ ...request, salt, elector: false, set, keyDigests }, infos, info.channelKey),
        u,
      );
      replies.push(decodeVerifyReply(openEnvelope(await postEnvelope(urls[i], "/v1/mssa/verify", env, ONCE)).body));
    }
    // what the authorities key the session by among themselves (approve requests name it)
    return { session, sid: scopedSession(session, u.address), request, salt, replies };
  };
  const state = async (ledger: CredentialLedger, id: string) => {
    const r = await ledger.registration(id);
    return { status: Number(r.status), approvals: Number(r.approvals) };
  };

  it("M4: a registration the verifier's document check refused is not approved by the other place authority (k-of-n holds against a malicious verifier)", async () => {
    const infos = ["mail:u@example.org", "passport:UTO:P7654321"];
    // the person registers once, honestly
    const first = user();
    expect(
      (await registerRemote({ urls, place: PL, user: first, infos, dep, keystore: new Keystore(tmp("u1"), "") })).outcome.granted,
    ).to.equal(true);
    // a second account of the same person: the check refuses it (the identity holds a registration)
    const second = user();
    await expect(registerRemote({ urls, place: PL, user: second, infos, dep, keystore: new Keystore(tmp("u2"), "") })).to.be.rejectedWith(
      /already holds registration/,
    );
    // ... but the verifier checked `second`'s session, with the other authority's key of it (a
    // key request writes nothing since h9-fix F9: the session is found where it advanced)
    const rec0 = deps[0].keystore.load(authorityRecord(PL)) as { users: Record<string, string> };
    const session = Object.keys(rec0.users).find((s) => rec0.users[s] === second.address)!;
    expect(session, "au[0] checked the second account's session").to.not.equal(undefined);

    // the verifier's operator (au[0]'s account) records it anyway, with a fresh nullifier and the
    // colluding user's consent, then asks au[1] to approve over the network
    const id = await proposeAsVerifier(second, hex32(), hex32(), session);
    try {
      await askApprove(session, id);
    } catch {
      /* a refusal is the property holding */
    }
    const [granted] = await dep.ledger.access(second.address, placeId(PL));
    expect(granted, "the same person holds a second registration at the place, approved 2 of 2").to.equal(false);
    expect(await state(dep.ledger, id)).to.deep.equal({ status: 1, approvals: 1 });
  });

  it("the colluding user sends the other authority the true documents: its own check refuses the duplicate, and it approves nothing", async () => {
    const infos = ["mail:w@example.org", "passport:UTO:P7654321"]; // the identity of the M4 test, already registered
    const sybil = user();
    await expect(keysAndChecks(sybil, infos, [1])).to.be.rejectedWith(/422 credential-mismatch .*already holds registration/);
    const rec1 = deps[1].keystore.load(authorityRecord(PL)) as { users: Record<string, string> };
    const session = Object.keys(rec1.users).find((s) => rec1.users[s] === sybil.address)!;
    const id = await proposeAsVerifier(sybil, hex32(), hex32(), session);
    await expect(askApprove(session, id)).to.be.rejectedWith(/422 unknown-session approve: this authority did not verify session/);
    expect(await state(dep.ledger, id)).to.deep.equal({ status: 1, approvals: 1 });
  });

  it("a client that skips its own check sends a look-alike passport number: the authority refuses it at verify, naming the document, before it collects or spends a key (h12-red2 M1b)", async () => {
    const u = user();
    const head = await dep.ledger.head();
    type Rec = { users: Record<string, string>; agent: { sessions: Record<string, { used: boolean; to?: string[] }> } };
    const rec = (i: number) => deps[i].keystore.load(authorityRecord(PL)) as Rec;
    const before = [0, 1].map((i) => Object.keys(rec(i).agent.sessions));
    await expect(keysAndChecks(u, ["mail:l@example.org", "passport:UTO:\u04251234567"], [1])).to.be.rejectedWith(
      /422 credential-mismatch identity document passport: U\+0425 \(character 5 after "passport:"\) is not an ASCII letter or digit/,
    );
    expect(Object.values(rec(1).users), "the refused session was recorded as checked").to.not.include(u.address);
    for (const i of [0, 1]) {
      // a key issued to this user's session (Step 1; derived, recorded once it advances) is neither used nor released
      const fresh = Object.entries(rec(i).agent.sessions).filter(([sid]) => !before[i].includes(sid));
      expect(
        fresh.filter(([, k]) => k.used || (k.to ?? []).length > 0).map(([sid]) => sid),
        `authority ${i}'s key was spent on a refused document`,
      ).to.deep.equal([]);
    }
    expect(await dep.ledger.head()).to.deep.equal(head);
  });

  it("the verifier proposes the checked commitment under another nullifier (the person could register again): refused", async () => {
    const u = user();
    const { session, sid, replies } = await keysAndChecks(u, ["mail:x@example.org", "passport:UTO:Q1111111"], [1]);
    const checked = replies[0];
    // the right commitment (so the right id) but a fresh nullifier, with the user's consent
    const id = await proposeAsVerifier(u, checked.commitment, hex32(), session);
    expect(id).to.equal(checked.id);
    await expect(askApprove(sid, id)).to.be.rejectedWith(
      /422 unknown-session approve: registration .* carries nullifier .*not the one this authority computed/,
    );
    expect(await state(dep.ledger, id)).to.deep.equal({ status: 1, approvals: 1 });
    expect((await dep.ledger.access(u.address, placeId(PL)))[0]).to.equal(false);
  });

  it("h11-red2 M1: the verifier attaches an election nullifier the other authority did not compute (an access-only check): refused", async () => {
    const u = user();
    const { session, sid, replies } = await keysAndChecks(u, ["mail:e@example.org", "passport:UTO:E9999999"], [1]);
    const checked = replies[0];
    expect(checked.electorNullifier).to.equal(ZeroHash); // checked for access only
    // the right registration, but made an elector under an e of the colluders' choosing
    const id = await proposeAsVerifier(u, checked.commitment, checked.nullifier, session, hex32());
    await expect(askApprove(sid, id)).to.be.rejectedWith(
      /422 unknown-session approve: registration .* carries election nullifier .*not the one this authority computed \(0x0{64}\)/,
    );
    expect(await state(dep.ledger, id)).to.deep.equal({ status: 1, approvals: 1 });
  });

  it("the verifier alters the proposal (another commitment for the user of a checked session, another user's registration): refused", async () => {
    const a = user();
    const { session, sid, replies } = await keysAndChecks(a, ["mail:a@example.org", "passport:UTO:R2222222"], [1]);
    // another commitment (a salt of the verifier's) under the checked nullifier: another registration id
    const altered = await proposeAsVerifier(a, hex32(), replies[0].nullifier, session);
    await expect(askApprove(sid, altered)).to.be.rejectedWith(
      /422 unknown-session approve: registration .* is not the one this authority verified/,
    );
    expect(await state(dep.ledger, altered)).to.deep.equal({ status: 1, approvals: 1 });
    // a registration of user b, approved under user a's checked session
    const b = user();
    const idB = await proposeAsVerifier(b, hex32(), hex32(), fresh32());
    await expect(askApprove(sid, idB)).to.be.rejectedWith(
      /422 unknown-session approve: registration .* is not the one this authority verified/,
    );
    expect(await state(dep.ledger, idB)).to.deep.equal({ status: 1, approvals: 1 });
  });

  it("an approval replayed, repeated or asked by a stranger changes nothing; the honest registration still completes", async () => {
    const u = user();
    const { session, sid, replies } = await keysAndChecks(u, ["mail:r@example.org", "passport:UTO:S3333333"], [0, 1]);
    expect(replies[0]).to.deep.equal(replies[1]); // both authorities computed the same registration
    const id = await proposeAsVerifier(u, replies[0].commitment, replies[0].nullifier, session);
    // a stranger (the user itself) asks au[1] to approve: not an authority of the place
    const stranger = envelope(au[1], Route.MssaApprove, encodeApproveRequest({ session: sid, id }), u);
    await expect(postEnvelope(urls[1], "/v1/mssa/approve", stranger, ONCE)).to.be.rejectedWith(
      /401 BAD_SIGNATURE .*not by another authority/,
    );
    expect(await state(dep.ledger, id)).to.deep.equal({ status: 1, approvals: 1 });
    // the honest approval, then its replay (the same bytes) and a fresh request for the same approval
    const env = envelope(au[1], Route.MssaApprove, encodeApproveRequest({ session: sid, id }), au[0]);
    const reply = await postEnvelope(urls[1], "/v1/mssa/approve", env, ONCE);
    expect(decodeOutcome(openEnvelope(reply).body)).to.deep.equal({ id, approvals: 2, granted: true });
    const head = await dep.ledger.head();
    expect(await postEnvelope(urls[1], "/v1/mssa/approve", env, ONCE)).to.deep.equal(reply);
    expect(decodeOutcome(openEnvelope(await askApprove(sid, id)).body)).to.deep.equal({ id, approvals: 2, granted: true });
    expect(await dep.ledger.head()).to.deep.equal(head);
    expect(await state(dep.ledger, id)).to.deep.equal({ status: 2, approvals: 2 });
  });

  it("an authority that front-runs the proposal with the user's consent leaves the verifier to approve: the registration completes", async () => {
    const u = user();
    const { session, replies } = await keysAndChecks(u, ["mail:f@example.org", "passport:UTO:T4444444"], [0, 1]);
    const v = replies[0];
    const consent = await consentToRegistration(dep.ledger, u, placeId(PL), v.commitment, v.nullifier, session);
    // au[1] saw the consent (in the mempool) and proposes first: its approval
    await (
      await deps[1].ledger.propose(
        placeId(PL),
        u.address,
        v.commitment,
        v.nullifier,
        ZeroHash,
        session,
        consent.deadline,
        consent.signature,
      )
    ).wait();
    const { encodeProposeRequest } = await import("../../offchain/services/mssa/wire");
    const env = envelope(
      au[0],
      Route.MssaPropose,
      encodeProposeRequest({ session, deadline: consent.deadline, signature: consent.signature }),
      u,
    );
    const out = decodeOutcome(openEnvelope(await postEnvelope(urls[0], "/v1/mssa/propose", env, ONCE)).body);
    expect(out).to.deep.equal({ id: v.id, approvals: 2, granted: true });
    expect(await dep.ledger.approvedBy(v.id, au[0].address)).to.equal(true);
  });

  it("s21-cdl: the consent's deadline travels with it: another deadline than the one signed is a bad signature, an expired consent is refused naming it; nothing is proposed; in time it registers", async () => {
    const u = user();
    const { session, replies } = await keysAndChecks(u, ["mail:g@example.org", "passport:UTO:T5555555"], [0, 1]);
    const v = replies[0];
    const { encodeProposeRequest } = await import("../../offchain/services/mssa/wire");
    const proposeWith = (deadline: bigint, signature: string) =>
      postEnvelope(
        urls[0],
        "/v1/mssa/propose",
        envelope(au[0], Route.MssaPropose, encodeProposeRequest({ session, deadline, signature }), u),
        ONCE,
      ).then(
        () => "accepted",
        (e: Error) => e.message.split("\n")[0],
      );
    const consent = await consentToRegistration(dep.ledger, u, placeId(PL), v.commitment, v.nullifier, session, ZeroHash, 60);
    // a relay (or the verifier's own client code) moves the deadline the user signed: not her signature
    expect(await proposeWith(consent.deadline + 3600n, consent.signature)).to.match(/BAD_SIGNATURE.*not signed by/);
    expect(await state(dep.ledger, v.id)).to.deep.equal({ status: 0, approvals: 0 });
    // the consent as signed, after its deadline: refused (the ledger would revert ConsentExpired)
    await hre.network.provider.send("evm_increaseTime", [120]);
    await hre.network.provider.send("evm_mine", []);
    expect(await proposeWith(consent.deadline, consent.signature)).to.match(
      new RegExp(`ledger-refused propose: the consent of ${u.address} to session ${session} expired at ${consent.deadline} `),
    );
    expect(await state(dep.ledger, v.id)).to.deep.equal({ status: 0, approvals: 0 });
    // a fresh consent (default deadline, 7 days) to the same session registers
    const fresh = await consentToRegistration(dep.ledger, u, placeId(PL), v.commitment, v.nullifier, session);
    expect(await proposeWith(fresh.deadline, fresh.signature)).to.equal("accepted");
    expect((await dep.ledger.access(u.address, placeId(PL))).granted).to.equal(true);
  });

  it("authorities with different place keys: the user sees two nullifiers for one identity and stops before anything goes on-chain", async () => {
    const d = deps[1];
    const other = new Keystore(path.join(tmp("au-other"), "keystore"), "");
    // au[1] restarted on a keystore whose place key is another one (its channel key is new too)
    other.create(placeKeyRecord(PL), { key: hex32().slice(2) });
    await services[1].stop();
    services[1] = new AuthorityService({ ...d, keystore: other, dir: path.join(tmp("au-other"), "service") });
    await services[1].start({ port: Number(new URL(urls[1]).port) });
    try {
      const u = user();
      const before = await dep.ledger.head();
      await expect(
        registerRemote({
          urls,
          place: PL,
          user: u,
          infos: ["mail:k@example.org", "passport:UTO:K5555555"],
          dep,
          keystore: new Keystore(tmp("uk"), ""),
        }),
      ).to.be.rejectedWith(/computed another identity nullifier .*do not hold the same place key/);
      expect(await dep.ledger.head()).to.deep.equal(before);
      expect((await dep.ledger.access(u.address, placeId(PL)))[0]).to.equal(false);
    } finally {
      await services[1].stop();
      services[1] = new AuthorityService(d);
      await services[1].start({ port: Number(new URL(urls[1]).port) });
    }
  });

  it("a service without a provisioned place key refuses to start; the key is imported once and never replaced", () => {
    const ks = new Keystore(path.join(tmp("au-nokey"), "keystore"), "");
    expect(() => new AuthorityService({ ...deps[0], keystore: ks })).to.throw(/holds no place key for PL-m4 .*provisions one/);
    expect(ks.exists(placeKeyRecord(PL))).to.equal(false);
    const key = hex32();
    expect(() => importPlaceKey(ks, PL, "abcd")).to.throw(/must be 32 bytes of hex/);
    expect(importPlaceKey(ks, PL, key)).to.equal(true);
    expect(importPlaceKey(ks, PL, key.toUpperCase().replace("0X", "0x"))).to.equal(false);
    expect(() => importPlaceKey(ks, PL, hex32())).to.throw(/already holds another place key/);
    expect((ks.load(placeKeyRecord(PL)) as { key: string }).key).to.equal(key.slice(2));
  });

  it("the commitment every authority computes opens to the user's U12 and salt", async () => {
    const u = user();
    const { request, salt, replies } = await keysAndChecks(u, ["mail:o@example.org", "passport:UTO:U6666666"], [0, 1]);
    for (const r of replies) expect(r.commitment).to.equal(commitmentOf(placeId(PL), u.address, request.U12, salt));
  });
});
