/**
 * MSSA place authorities as services, in one process against the in-process chain (the same code
 * as `mssa:serve authority`): each announces its endpoint on the CredentialLedger when it starts,
 * and finds the other there; a user finds both there too and registers at the place by collecting
 * one-time keys from both authorities over HTTP; each authority collects the other's copy of its
 * key and checks the request against the documents sealed to it (h7-audit finding M4); the
 * verifying authority proposes with the user's consent and gets the other's approval over the
 * network. Then: a second registration of the same identity is refused; a one-time key is never
 * released twice to one authority; an authority that crashes after writing a release and before
 * answering gives the same answer to the retry after a restart. The faults of issue 19: the
 * verifying authority killed between its on-chain proposal and its reply, and the approving
 * authority killed between its on-chain approval and its reply; each restarts from its own
 * folder, the user's retry completes, and the chain holds exactly one registration. The attacks on
 * the approval flow: mssa-verifier.test.ts.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { HDNodeWallet, Mnemonic, Wallet } from "ethers";
import { deploySystemFixture } from "../fixtures/system";
import { Keystore } from "../../offchain/storage/keystore";
import { placeId } from "../../offchain/mssa/registration";
import {
  AuthorityService,
  authorityAudience,
  authorityRecord,
  importPlaceKey,
  scopedSession,
} from "../../offchain/services/mssa/authority-service";
import { discoverAuthorities, registerRemote, userRecord, type MssaDeployment } from "../../offchain/services/mssa/clients";
import { encodeReleaseRequest, encodeVerifyRequest, openKey } from "../../offchain/services/mssa/wire";
import { Bits } from "../../offchain/mssa/bits";
import { Kind, Route, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { accountSigner, freshId } from "../../offchain/services/common";
import { postEnvelope } from "../../offchain/services/client";
import { onFault } from "../../offchain/services/faults";
import { anySet } from "../helpers/mssa-services";
import { mulBase, randomScalar } from "../../offchain/crypto/group";
import { AuthorityElection__factory, CredentialLedger__factory } from "../../typechain-types";

const tmp = (n: string) => fs.mkdtempSync(path.join(os.tmpdir(), `svc-${n}-`));
/** Hardhat's development accounts (the genesis authorities are accounts 1 and 2). */
const devKey = (i: number) =>
  HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase("test test test test test test test test test test test junk"), `m/44'/60'/0'/0/${i}`);

describe("services/mssa: place authorities as services, in-process", function () {
  this.timeout(180_000);
  const PL = "PL-svc";
  let dep: MssaDeployment;
  let au: Wallet[];
  const services: AuthorityService[] = [];
  let deps: ConstructorParameters<typeof AuthorityService>[0][] = [];
  const urls: string[] = [];
  let user: Wallet;
  const logs: string[] = [];
  const ONCE = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
  /** The registrations of `who` at the place, as the chain's events tell them. */
  const proposed = async (who: string) =>
    dep.ledger.queryFilter(dep.ledger.filters.RegistrationProposed(undefined, placeId(PL), who)).then((x) => x.length);
  const grants = async (who: string) =>
    dep.ledger.queryFilter(dep.ledger.filters.AccessGranted(undefined, placeId(PL), who)).then((x) => x.length);
  /** Stops authority i and starts it again from its own folder (keystore and service folder), at `port` (0: a new one). */
  const restart = async (i: number, port: number) => {
    await services[i].stop();
    services[i] = new AuthorityService(deps[i]);
    urls[i] = (await services[i].start({ port })).url;
  };

  before(async () => {
    const f = await deploySystemFixture();
    const address = f.deployment.contracts.CredentialLedger.address;
    const operator = CredentialLedger__factory.connect(address, f.msrp);
    const el = AuthorityElection__factory.connect(f.deployment.contracts.AuthorityElection.address, f.msrp);
    au = [1, 2].map((i) => devKey(i).connect(hre.ethers.provider) as unknown as Wallet);
    for (const w of au) expect(await el.isAuthority(w.address)).to.equal(true);
    await (await operator.setPlace(placeId(PL), [au[0].address, au[1].address], 2)).wait();
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    dep = { chainId, ledger: CredentialLedger__factory.connect(address, hre.ethers.provider) };
    const dirs = [tmp("au1"), tmp("au2")];
    const placeKey = Buffer.from(freshId()).toString("hex") + Buffer.from(freshId()).toString("hex"); // the operator's, provisioned to both
    deps = au.map((w, i) => ({
      keystore: new Keystore(path.join(dirs[i], "keystore"), ""),
      dir: path.join(dirs[i], "service"),
      place: PL,
      ledger: CredentialLedger__factory.connect(address, w),
      wallet: w,
      chainId,
      // no peers given: each finds the other at the endpoint it announced on-chain
      peerRetry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
      log: (line: string) => logs.push(line),
    }));
    for (const d of deps) importPlaceKey(d.keystore, PL, placeKey);
    services[1] = new AuthorityService(deps[1]);
    urls[1] = (await services[1].start({ port: 0 })).url;
    services[0] = new AuthorityService(deps[0]);
    urls[0] = (await services[0].start({ port: 0 })).url;
    user = Wallet.createRandom().connect(hre.ethers.provider) as unknown as Wallet;
  });

  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    for (const s of services) await s?.stop();
  });

  it("each authority announced its endpoint on-chain when it started; a restart at the same address sends nothing", async () => {
    expect(await dep.ledger.authorityEndpoints(placeId(PL))).to.deep.equal([[au[0].address, au[1].address], urls]);
    expect(await discoverAuthorities(dep, PL)).to.deep.equal(urls);
    const events = async () => (await dep.ledger.queryFilter(dep.ledger.filters.AuthorityEndpointSet(placeId(PL)))).length;
    expect(await events()).to.equal(2);
    await restart(1, Number(new URL(urls[1]).port));
    expect(await events()).to.equal(2);
    expect(logs.filter((l) => l.includes("announced on-chain"))).to.have.length(2);
  });

  it("a place whose authorities announced no endpoint: the user is told which, where, and to give --authorities; nothing is sent", async () => {
    const operator = CredentialLedger__factory.connect(String(dep.ledger.target), (await hre.ethers.getSigners())[0]);
    await (await operator.setPlace(placeId("PL-quiet"), [au[0].address, au[1].address], 2)).wait();
    // one of the two announces (the service does this on start): still not enough to register
    await (
      await CredentialLedger__factory.connect(String(dep.ledger.target), au[0]).setAuthorityEndpoint(placeId("PL-quiet"), urls[0])
    ).wait();
    const head = await dep.ledger.head();
    const ks = new Keystore(tmp("quiet"), "");
    await expect(
      registerRemote({
        place: "PL-quiet",
        user: new Wallet(Wallet.createRandom().privateKey),
        infos: ["mail:q@example.org"],
        dep,
        keystore: ks,
      }),
    ).to.be.rejectedWith(
      new RegExp(`^discoverAuthorities: the authority ${au[1].address} of PL-quiet announced no endpoint on-chain .*give --authorities`),
    );
    expect(ks.list()).to.deep.equal([]);
    expect(await dep.ledger.head()).to.deep.equal(head);
  });

  it("an authority given an identity type without a canonical form does not start: one person would have a nullifier per spelling (h12-red2 M1b)", () => {
    for (const identityType of ["mail", "idcard", "\u0440assport"])
      expect(() => new AuthorityService({ ...deps[0], identityType }), identityType).to.throw(
        RangeError,
        /^AuthorityService: identityType: ".*" is not an identity document type with a canonical form \(known: passport\)$/,
      );
    expect(() => new AuthorityService({ ...deps[0], identityType: "Passport" })).to.not.throw();
  });

  it("a user registers over HTTP (the authorities found on-chain): keys from both, verified by each, proposed by the first, approved by both on-chain", async () => {
    const ks = new Keystore(path.join(tmp("user"), "keystore"), "");
    const r = await registerRemote({ place: PL, user, infos: ["mail:u@example.org", "passport:UTO:P1234567"], dep, keystore: ks });
    expect(r.resumed).to.equal(false);
    expect(r.outcome.granted).to.equal(true);
    expect(r.outcome.approvals).to.equal(2);
    const [granted, id] = await dep.ledger.access(user.address, placeId(PL));
    expect(granted).to.equal(true);
    expect(id).to.equal(r.verified.id);
    expect((await dep.ledger.registration(id)).commitment).to.equal(r.verified.commitment);
    expect((ks.load(userRecord(PL, user.address)) as { pending: boolean }).pending).to.equal(false);
    // each authority's one-time key went once to each checking authority, and lives only in its own keystore
    const rec = (i: number) =>
      deps[i].keystore.load(authorityRecord(PL)) as { agent: { sessions: Record<string, { key: string; used: boolean; to: string[] }> } };
    const s1 = rec(0).agent.sessions[scopedSession(r.session, user.address)];
    const s2 = rec(1).agent.sessions[scopedSession(r.session, user.address)];
    const both = au.map((w) => w.address.toLowerCase());
    expect(s1.to).to.have.members(both);
    expect(s2.to).to.have.members(both);
    expect(JSON.stringify(rec(0))).to.not.include(s2.key);
    // the documents are checked, not kept
    for (const i of [0, 1]) expect(JSON.stringify(rec(i))).to.not.include("P1234567");
  });

  it("the same identity cannot register a second account at the place; nothing goes on-chain (the URLs given: they override the chain)", async () => {
    const other = new Wallet(Wallet.createRandom().privateKey);
    const before = await dep.ledger.head();
    await expect(
      registerRemote({
        urls,
        place: PL,
        user: other,
        infos: ["mail:v@example.org", "passport:UTO:P1234567"],
        dep,
        keystore: new Keystore(tmp("u2"), ""),
      }),
    ).to.be.rejectedWith(/already holds registration/);
    // nor under another spelling of the same document (case, spaces, a zero-width space, a hyphen)
    await expect(
      registerRemote({
        urls,
        place: PL,
        user: other,
        infos: ["mail:v@example.org", "Passport: uto: p 123-\u200b4567"],
        dep,
        keystore: new Keystore(tmp("u3"), ""),
      }),
    ).to.be.rejectedWith(/already holds registration/);
    expect((await dep.ledger.access(other.address, placeId(PL)))[0]).to.equal(false);
    expect(await dep.ledger.head()).to.deep.equal(before);
  });

  it("an authority that crashes after writing a release answers the other authority's retry after a restart, and never releases the key twice to it", async () => {
    // a session with a key issued by the second authority
    const session = "0x" + Buffer.from(freshId()).toString("hex") + Buffer.from(freshId()).toString("hex");
    const { encodeKeyRequest } = await import("../../offchain/services/mssa/wire");
    const u = new Wallet(Wallet.createRandom().privateKey);
    // the authorities key a session by (session, user) among themselves (h9-red F5)
    const sid = scopedSession(session, u.address);
    const aud = authorityAudience(dep.chainId, String(dep.ledger.target), au[1].address, PL);
    const req = (route: number, body: Uint8Array, signer: Wallet) =>
      sealEnvelope(
        {
          kind: Kind.Request,
          route,
          audience: aud,
          session: freshId(),
          requestId: freshId(),
          issuedAt: Date.now(),
          inReplyTo: new Uint8Array(32),
          body,
        },
        accountSigner(signer),
      );
    await postEnvelope(
      urls[1],
      "/v1/mssa/key",
      req(Route.MssaKey, encodeKeyRequest({ session, user: u.address, bits: 64, transport: mulBase(randomScalar()) }), u),
    );
    const t = randomScalar();
    // the release carries the user's verify request to the requester (h15-red2 R2, R10): 2 |En| = 64 bits
    const audTo0 = authorityAudience(dep.chainId, String(dep.ledger.target), au[0].address, PL);
    const userRequest = sealEnvelope(
      {
        kind: Kind.Request,
        route: Route.MssaVerify,
        audience: audTo0,
        session: freshId(),
        requestId: freshId(),
        issuedAt: Date.now(),
        inReplyTo: new Uint8Array(32),
        body: encodeVerifyRequest(
          {
            session,
            user: u.address,
            En: Bits.random(32),
            U12: Bits.random(32),
            tag: new Uint8Array(32),
            salt: session,
            elector: false,
            ...anySet(au.map((w) => w.address)),
          },
          ["mail:u@example.org"],
          mulBase(randomScalar()),
        ),
      },
      accountSigner(u),
    );
    const release = req(Route.MssaRelease, encodeReleaseRequest({ session: sid, transport: mulBase(t), request: userRequest }), au[0]);
    process.env.METATRUST_FAULT = "authority:after-state";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    await expect(postEnvelope(urls[1], "/v1/mssa/release", release, { attempts: 1, timeoutMs: 30_000, backoffMs: 10 })).to.be.rejectedWith(
      /500 INTERNAL crash at authority:after-state/,
    );
    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    await services[1].stop();
    services[1] = new AuthorityService(deps[1]);
    await services[1].start({ port: Number(new URL(urls[1]).port) });
    const reply = openEnvelope(await postEnvelope(urls[1], "/v1/mssa/release", release, { attempts: 3, timeoutMs: 30_000, backoffMs: 10 }));
    expect(openKey("RELEASE", t, sid, au[1].address, reply.body).length).to.equal(64);
    // a new release request for the same session: the one-time key is spent
    const again = req(
      Route.MssaRelease,
      encodeReleaseRequest({ session: sid, transport: mulBase(randomScalar()), request: userRequest }),
      au[0],
    );
    await expect(postEnvelope(urls[1], "/v1/mssa/release", again)).to.be.rejectedWith(/422 key-reuse .*already released to/);
    // and nobody but another authority of the place may ask
    const stranger = req(
      Route.MssaRelease,
      encodeReleaseRequest({ session: sid, transport: mulBase(randomScalar()), request: userRequest }),
      u,
    );
    await expect(postEnvelope(urls[1], "/v1/mssa/release", stranger)).to.be.rejectedWith(/401 BAD_SIGNATURE/);
  });
  it("the verifying authority is killed between its proposal on-chain and its reply; restarted from its folder at a new address, the user's retry completes: one registration", async () => {
    const ks = new Keystore(tmp("fault-propose"), "");
    const u = new Wallet(Wallet.createRandom().privateKey);
    const infos = ["mail:w@example.org", "passport:UTO:W7654321"];
    process.env.METATRUST_FAULT = "authority:after-propose";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    try {
      await expect(registerRemote({ place: PL, user: u, infos, dep, keystore: ks, retry: ONCE })).to.be.rejectedWith(
        /500 INTERNAL crash at authority:after-propose/,
      );
    } finally {
      delete process.env.METATRUST_FAULT;
      onFault(undefined);
    }
    // on-chain and unanswered: proposed and approved by the verifier only; the user kept her opening
    const rec = ks.load(userRecord(PL, u.address)) as { id: string; pending: boolean; session: string };
    expect(rec.pending).to.equal(true);
    const reg = await dep.ledger.registration(rec.id);
    expect([reg.status, reg.approvals]).to.deep.equal([1n, 1n]);
    // the verifier comes back from its own folder, somewhere else: it announces the new address
    const old = urls[0];
    await restart(0, 0);
    expect(urls[0]).to.not.equal(old);
    expect(await dep.ledger.authorityEndpoint(placeId(PL), au[0].address)).to.equal(urls[0]);
    // the user's retry finds it there and resumes the same registration (a fresh one would be PendingExists)
    const r = await registerRemote({ place: PL, user: u, infos, dep, keystore: ks, retry: ONCE });
    expect(r.resumed).to.equal(true);
    expect(r.session).to.equal(rec.session);
    expect(r.outcome).to.deep.equal({ id: rec.id, approvals: 2, granted: true });
    expect(await dep.ledger.access(u.address, placeId(PL))).to.deep.equal([true, rec.id]);
    expect([await proposed(u.address), await grants(u.address)]).to.deep.equal([1, 1]);
    expect((ks.load(userRecord(PL, u.address)) as { pending: boolean }).pending).to.equal(false);
    for (const d of deps) expect(fs.readdirSync(path.join(d.dir, "journal")).filter((f) => f.endsWith(".json"))).to.deep.equal([]);
  });

  it("the approving authority is killed between its approval on-chain and its reply: the verifier reads the grant on-chain and tells the user; after its restart the peer is found at its new address", async () => {
    const ks = new Keystore(tmp("fault-approve"), "");
    const u = new Wallet(Wallet.createRandom().privateKey);
    const infos = ["mail:x@example.org", "passport:UTO:X1111111"];
    process.env.METATRUST_FAULT = "authority:after-approve";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    let r;
    try {
      // the verifier's approval request gets the crash; the approval was mined, so the verifier's
      // outcome, read from the chain, is the grant (h15-red2 R1: a member that fails to answer is
      // passed by, and its failure is the user's to hear only when the registration is not granted)
      r = await registerRemote({ place: PL, user: u, infos, dep, keystore: ks, retry: ONCE });
    } finally {
      delete process.env.METATRUST_FAULT;
      onFault(undefined);
    }
    const rec = ks.load(userRecord(PL, u.address)) as { id: string; pending: boolean };
    expect(r.outcome).to.deep.equal({ id: rec.id, approvals: 2, granted: true });
    expect(rec.pending).to.equal(false);
    expect((await dep.ledger.registration(rec.id)).status).to.equal(2n);
    expect([await proposed(u.address), await grants(u.address)]).to.deep.equal([1, 1]);
    await restart(1, 0);
    // and the next registration reaches the moved authority through the chain (the verifier asks it
    // to approve there; it collects the verifier's key there)
    const v = new Wallet(Wallet.createRandom().privateKey);
    const next = await registerRemote({
      place: PL,
      user: v,
      infos: ["mail:y@example.org", "passport:UTO:Y2222222"],
      dep,
      keystore: ks,
      retry: ONCE,
    });
    expect(next.outcome.granted).to.equal(true);
  });
});
