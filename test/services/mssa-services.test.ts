/**
 * MSSA place authorities as services, in one process against the in-process chain (the same code
 * as `mssa:serve authority`): a user registers at PL1 by collecting one-time keys from both
 * authorities over HTTP; each authority collects the other's copy of its key and checks the request
 * against the documents sealed to it (h7-audit finding M4); the verifying authority proposes with
 * the user's consent and gets the other's approval over the network. Then: a second registration
 * of the same identity is refused; a one-time key is never released twice to one authority; an
 * authority that crashes after writing a release and before answering gives the same answer to the
 * retry after a restart. The attacks on the approval flow: mssa-verifier.test.ts.
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
import { registerRemote, userRecord, type MssaDeployment } from "../../offchain/services/mssa/clients";
import { encodeReleaseRequest, openKey } from "../../offchain/services/mssa/wire";
import { Kind, Route, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { accountSigner, freshId } from "../../offchain/services/common";
import { postEnvelope } from "../../offchain/services/client";
import { onFault } from "../../offchain/services/faults";
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
      peers: new Map<string, string>(),
      peerRetry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
      log: () => undefined,
    }));
    for (const d of deps) importPlaceKey(d.keystore, PL, placeKey);
    services[1] = new AuthorityService(deps[1]);
    urls[1] = (await services[1].start({ port: 0 })).url;
    services[0] = new AuthorityService(deps[0]);
    urls[0] = (await services[0].start({ port: 0 })).url;
    // each collects the other's key of a session
    deps[0].peers.set(au[1].address.toLowerCase(), urls[1]);
    deps[1].peers.set(au[0].address.toLowerCase(), urls[0]);
    user = Wallet.createRandom().connect(hre.ethers.provider) as unknown as Wallet;
  });

  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    for (const s of services) await s?.stop();
  });

  it("a user registers over HTTP: keys from both authorities, verified by each, proposed by the first, approved by both on-chain", async () => {
    const ks = new Keystore(path.join(tmp("user"), "keystore"), "");
    const r = await registerRemote({ urls, place: PL, user, infos: ["mail:u@example.org", "passport:P1234567"], dep, keystore: ks });
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

  it("the same identity cannot register a second account at the place; nothing goes on-chain", async () => {
    const other = new Wallet(Wallet.createRandom().privateKey);
    const before = await dep.ledger.head();
    await expect(
      registerRemote({
        urls,
        place: PL,
        user: other,
        infos: ["mail:v@example.org", "passport:P1234567"],
        dep,
        keystore: new Keystore(tmp("u2"), ""),
      }),
    ).to.be.rejectedWith(/already holds registration/);
    // nor under another spelling of the same document (case, spaces, a zero-width space)
    await expect(
      registerRemote({
        urls,
        place: PL,
        user: other,
        infos: ["mail:v@example.org", "Passport: p 123\u200b4567"],
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
    const release = req(Route.MssaRelease, encodeReleaseRequest({ session: sid, bits: 64, transport: mulBase(t) }), au[0]);
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
    const again = req(Route.MssaRelease, encodeReleaseRequest({ session: sid, bits: 64, transport: mulBase(randomScalar()) }), au[0]);
    await expect(postEnvelope(urls[1], "/v1/mssa/release", again)).to.be.rejectedWith(/422 key-reuse .*already released to/);
    // and nobody but another authority of the place may ask
    const stranger = req(Route.MssaRelease, encodeReleaseRequest({ session: sid, bits: 64, transport: mulBase(randomScalar()) }), u);
    await expect(postEnvelope(urls[1], "/v1/mssa/release", stranger)).to.be.rejectedWith(/401 BAD_SIGNATURE/);
  });
});
