/**
 * h15-red2 R1, fixed: the user names a set S of at least k sitting authorities of the place, and
 * keys, releases and checks stay inside it (docs/specs/mssa.md §2.6). Attacks on what that adds:
 * a member of S that answers its key and then stops; an authority of the place that serves but does
 * not sit (left out of S by the client); one that gives the user, or a peer, another
 * key than its own (caught and named, not XORed in); a set smaller than k, naming a non-sitting
 * authority, an account that is no authority of the place, or leaving out the authority it is sent
 * to (refused, nothing written at any authority); the same session under another set (refused:
 * one key pads one request); two verify requests of one user's session at once.
 *
 * The place: the three genesis authorities (dev accounts 1-3, sitting) and account 4 (listed, not
 * sitting), k = 2; services for the three that sit.
 */
import { expect } from "chai";
import path from "path";
import hre from "hardhat";
import { Wallet } from "ethers";
import { deploySystemFixture } from "../fixtures/system";
import { tmp } from "../helpers/rsms-services";
import { anySet, devKey } from "../helpers/mssa-services";
import { relay } from "../helpers/relay";
import { Keystore } from "../../offchain/storage/keystore";
import { buildRequest, fresh32, placeId } from "../../offchain/mssa/registration";
import { encodeCredential, evenLength } from "../../offchain/mssa/credential";
import { Bits } from "../../offchain/mssa/bits";
import {
  AuthorityService,
  authorityAudience,
  authorityRecord,
  importElectionKey,
  importPlaceKey,
  scopedSession,
} from "../../offchain/services/mssa/authority-service";
import { authorityInfo, registerRemote, userRecord, type MssaDeployment } from "../../offchain/services/mssa/clients";
import {
  decodeReleaseRequest,
  decodeVerifyReply,
  decodeVerifyRequest,
  encodeKeyRequest,
  encodeReleaseRequest,
  encodeVerifyRequest,
  keyDigest,
  openKey,
} from "../../offchain/services/mssa/wire";
import { Kind, Route, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { postEnvelope } from "../../offchain/services/client";
import { onFault } from "../../offchain/services/faults";
import { accountSigner, freshId } from "../../offchain/services/common";
import { mulBase, randomScalar } from "../../offchain/crypto/group";
import { CredentialLedger__factory } from "../../typechain-types";

const once = { attempts: 1, timeoutMs: 8_000, backoffMs: 10 };
const hex32 = () => Buffer.from(freshId()).toString("hex") + Buffer.from(freshId()).toString("hex");
const fail = (p: Promise<unknown>) =>
  p.then(
    () => "accepted",
    (e: Error) => e.message.replace(/^\S+ /, "").split("\n")[0],
  );
/** A key with every bit flipped: another key of the same length. */
const flip = (k: Bits) => Bits.fromString([...k.toString()].map((c) => (c === "0" ? "1" : "0")).join(""));

describe("h15-red2 R1: the user's set S of k or more sitting authorities", function () {
  this.timeout(300_000);
  const place = "PL-h16-set";
  let dep: MssaDeployment;
  let au: Wallet[];
  let outsider: Wallet;
  let services: AuthorityService[];
  let deps: ConstructorParameters<typeof AuthorityService>[0][];
  let urls: string[];
  let chainId: bigint;
  let ledgerAddress: string;

  before(async () => {
    const f = await deploySystemFixture();
    ledgerAddress = f.deployment.contracts.CredentialLedger.address;
    const operator = CredentialLedger__factory.connect(ledgerAddress, f.msrp);
    au = [1, 2, 3, 4].map((i) => devKey(i).connect(hre.ethers.provider) as unknown as Wallet);
    outsider = devKey(5).connect(hre.ethers.provider) as unknown as Wallet;
    await (
      await operator.setPlace(
        placeId(place),
        au.map((w) => w.address),
        2,
      )
    ).wait();
    chainId = (await hre.ethers.provider.getNetwork()).chainId;
    dep = { chainId, ledger: CredentialLedger__factory.connect(ledgerAddress, hre.ethers.provider) };
    const placeKey = hex32();
    const electionKey = hex32();
    deps = au.slice(0, 3).map((w) => {
      const dir = tmp("mssa-set");
      return {
        keystore: new Keystore(path.join(dir, "keystore"), ""),
        dir: path.join(dir, "service"),
        place,
        ledger: CredentialLedger__factory.connect(ledgerAddress, w),
        wallet: w,
        chainId,
        peers: new Map<string, string>(),
        peerRetry: once,
        log: () => undefined,
      };
    });
    services = [];
    urls = [];
    for (const d of deps) {
      importPlaceKey(d.keystore, place, placeKey);
      importElectionKey(d.keystore, electionKey);
      const s = new AuthorityService(d);
      services.push(s);
      urls.push((await s.start({ port: 0 })).url);
    }
    peersTo(urls);
  });
  after(async () => {
    for (const s of services ?? []) await s.stop();
  });

  /** Each service reaches authority j at `to[j]`. */
  const peersTo = (to: string[]) => {
    for (const [i, d] of deps.entries()) for (const [j, u] of to.entries()) if (i !== j) d.peers!.set(au[j].address.toLowerCase(), u);
  };
  /** What each authority service keeps (its sealed record): a refused request changes none of it. */
  const stores = () => deps.map((d) => JSON.stringify(d.keystore.load(authorityRecord(place))));
  const req = (i: number, route: number, body: Uint8Array, signer: Wallet) =>
    sealEnvelope(
      {
        kind: Kind.Request,
        route,
        audience: authorityAudience(chainId, ledgerAddress, au[i].address, place),
        session: freshId(),
        requestId: freshId(),
        issuedAt: Date.now(),
        inReplyTo: new Uint8Array(32),
        body,
      },
      accountSigner(signer),
    );
  const user = () => new Wallet(Wallet.createRandom().privateKey);
  const register = (u: Wallet, tag: string, given = urls) =>
    registerRemote({
      urls: given,
      place,
      user: u,
      infos: [`mail:${tag}@example.org`, `passport:UTO:${tag}`],
      dep,
      keystore: new Keystore(path.join(tmp(`user-${tag}`), "keystore"), ""),
      retry: once,
    });
  /** Steps 1-4 by hand: keys of `from` for a fresh session, then a request padded with the keys of `set`. */
  const byHand = async (u: Wallet, tag: string, from: number[]) => {
    const infos = [`mail:${tag}@example.org`, `passport:UTO:${tag}`];
    const session = fresh32();
    const bits = evenLength(encodeCredential(infos)).length;
    const keys = new Map<number, Bits>();
    for (const i of from) {
      const t = randomScalar();
      const raw = await postEnvelope(
        urls[i],
        "/v1/mssa/key",
        req(i, Route.MssaKey, encodeKeyRequest({ session, user: u.address, bits, transport: mulBase(t) }), u),
        once,
      );
      keys.set(i, openKey("KEY", t, session, au[i].address, openEnvelope(raw).body));
    }
    const salt = fresh32();
    const sid = scopedSession(session, u.address);
    /** the verify request to authority i for the set `set` (indices), each key's digest as received */
    const verify = async (i: number, set: number[]) => {
      const { request } = buildRequest(
        session,
        placeId(place),
        u.address,
        infos,
        set.map((j) => keys.get(j)!),
      );
      const members = set.map((j) => au[j].address);
      const keyDigests = set.map((j) => keyDigest(keys.get(j)!, sid, au[j].address));
      const info = await authorityInfo(urls[i], place, dep);
      return req(
        i,
        Route.MssaVerify,
        encodeVerifyRequest({ ...request, salt, elector: false, set: members, keyDigests }, infos, info.channelKey),
        u,
      );
    };
    return { session, sid, verify };
  };

  it("a member that answers its key and then stops is dropped and named; the other two register alice in a fresh session, and its late answers make no second registration", async () => {
    // authority 2 as the others and the user reach it: it serves /v1/info and Step 1, then nothing
    let keyed = false;
    const released: Uint8Array[] = [];
    const down = await relay(urls[2], async (p, body) => {
      if (p === "/v1/mssa/key" && !keyed) return void (keyed = true);
      if (p === "/v1/mssa/release") released.push(decodeReleaseRequest(openEnvelope(body).body).request);
      return false;
    });
    peersTo([urls[0], urls[1], down.url]);
    try {
      const alice = user();
      const ks = new Keystore(path.join(tmp("alice-set"), "keystore"), "");
      const r = await registerRemote({
        urls: [urls[0], urls[1], down.url],
        place,
        user: alice,
        infos: ["mail:alice@example.org", "passport:UTO:SET0001"],
        dep,
        keystore: ks,
        retry: once,
      });
      expect(r.outcome.granted).to.equal(true);
      const rec = ks.load(userRecord(place, alice.address)) as { set: string[]; session: string };
      expect(rec.set).to.deep.equal([au[0].address, au[1].address]);
      // its key went to the first session only; the registration is the second
      expect(rec.session).to.equal(r.session);
      expect(keyed).to.equal(true);
      // it comes back and replays what it holds of the first session (alice's signed verify request
      // to authority 0, carried in the release requests it was sent): no second registration
      peersTo(urls);
      expect(released.length).to.be.greaterThan(0);
      const head = await dep.ledger.head();
      await fail(postEnvelope(urls[0], "/v1/mssa/verify", released[0], once));
      expect(await dep.ledger.head()).to.deep.equal(head);
      expect((await dep.ledger.access(alice.address, placeId(place)))[1]).to.equal(r.verified.id);
    } finally {
      down.close();
      peersTo(urls);
    }
  });

  it("an authority of the place that does not sit, though it serves, is left out of the set: the three that sit register alice's neighbour", async () => {
    // account 4 is listed by the place and runs a service, but holds no seat: its approval would not count
    const dir = tmp("mssa-set-d");
    const d = { ...deps[0], keystore: new Keystore(path.join(dir, "keystore"), ""), dir: path.join(dir, "service"), wallet: au[3] };
    d.ledger = CredentialLedger__factory.connect(ledgerAddress, au[3]);
    importPlaceKey(d.keystore, place, (deps[0].keystore.load(`mssa-placekey-${placeId(place).slice(2, 18)}`) as { key: string }).key);
    const svc = new AuthorityService(d);
    const url = (await svc.start({ port: 0 })).url;
    try {
      const hal = user();
      const ks = new Keystore(path.join(tmp("hal-set"), "keystore"), "");
      const r = await registerRemote({
        urls: [...urls, url],
        place,
        user: hal,
        infos: ["mail:hal@example.org", "passport:UTO:SET0009"],
        dep,
        keystore: ks,
        retry: once,
      });
      expect(r.outcome.granted).to.equal(true);
      expect((ks.load(userRecord(place, hal.address)) as { set: string[] }).set).to.deep.equal(au.slice(0, 3).map((w) => w.address));
    } finally {
      await svc.stop();
    }
  });

  it("a member that gives alice another key at Step 1 than its own is named by the others' checks and dropped, not XORed in: the two others register her", async () => {
    const lying = services[2] as unknown as { key: (b: Uint8Array) => Promise<Uint8Array>; otk: (s: string, n: number) => Bits };
    const key = lying.key.bind(lying);
    const otk = lying.otk.bind(lying);
    const refusals: string[] = [];
    const honest = services[0] as unknown as { verify: (b: Uint8Array) => Promise<Uint8Array> };
    const verify = honest.verify.bind(honest);
    lying.key = async (b) => {
      lying.otk = (s, n) => flip(otk(s, n));
      try {
        return await key(b);
      } finally {
        lying.otk = otk;
      }
    };
    honest.verify = (b) =>
      verify(b).catch((e: Error) => {
        refusals.push(e.message);
        throw e;
      });
    try {
      const bob = user();
      const r = await register(bob, "SET0002");
      expect(r.outcome.granted).to.equal(true);
      expect(
        refusals.some((m) => m.includes(`peer ${au[2].address} released another key than the one the user received from it`)),
      ).to.equal(true);
      expect((await dep.ledger.registration(r.verified.id)).approvals).to.equal(2n);
      expect(await dep.ledger.approvedBy(r.verified.id, au[2].address)).to.equal(false);
    } finally {
      delete (lying as { key?: unknown }).key;
      delete (honest as { verify?: unknown }).verify;
    }
  });

  it("a member that releases another key to its peers than the one it gave alice is named by both and dropped: the two others register her", async () => {
    const lying = services[2] as unknown as { release: (b: Uint8Array) => Promise<Uint8Array>; otk: (s: string, n: number) => Bits };
    const release = lying.release.bind(lying);
    const otk = lying.otk.bind(lying);
    lying.release = async (b) => {
      lying.otk = (s, n) => flip(otk(s, n));
      try {
        return await release(b);
      } finally {
        lying.otk = otk;
      }
    };
    try {
      const carol = user();
      const ks = new Keystore(path.join(tmp("carol-set"), "keystore"), "");
      const r = await registerRemote({
        urls,
        place,
        user: carol,
        infos: ["mail:carol@example.org", "passport:UTO:SET0003"],
        dep,
        keystore: ks,
        retry: once,
      });
      expect(r.outcome.granted).to.equal(true);
      expect((ks.load(userRecord(place, carol.address)) as { set: string[] }).set).to.deep.equal([au[0].address, au[1].address]);
      // the check of the first session at authority 0 names it (by hand: its own release lies again)
      const h = await byHand(user(), "SET0004", [0, 1, 2]);
      expect(await fail(postEnvelope(urls[0], "/v1/mssa/verify", await h.verify(0, [0, 1, 2]), once))).to.equal(
        `422 credential-mismatch verify: peer ${au[2].address} released another key than the one the user received from it`,
      );
    } finally {
      delete (lying as { release?: unknown }).release;
    }
  });

  it("a set smaller than k, naming a non-sitting authority or a non-authority, or leaving out the receiver: refused naming the set; nothing written at any authority", async () => {
    const dave = user();
    const h = await byHand(dave, "SET0005", [0, 1, 2]);
    const before = stores();
    const bad = async (members: string[]) => {
      const env = openEnvelope(await h.verify(0, [0, 1]));
      const m = decodeVerifyRequest(env.body);
      const info = await authorityInfo(urls[0], place, dep);
      return req(
        0,
        Route.MssaVerify,
        encodeVerifyRequest({ ...m, ...anySet(members) }, [`mail:SET0005@example.org`, `passport:UTO:SET0005`], info.channelKey),
        dave,
      );
    };
    const A = au.map((w) => w.address);
    const cases: [string[], string][] = [
      [[A[0]], `fewer than the place's k = 2`],
      [[A[0], A[3]], `holds ${A[3]}, which does not sit in the election`],
      [[A[0], outsider.address], `holds ${outsider.address}, not an authority of the place`],
      [[A[1], A[2]], `does not include this authority ${A[0]}`],
    ];
    for (const [members, why] of cases)
      expect(await fail(postEnvelope(urls[0], "/v1/mssa/verify", await bad(members), once)), why).to.equal(
        `422 unknown-session verify: the set the user named ${why.startsWith("fewer") ? `has ${members.length} authorities, ${why}` : why}`,
      );
    // a release carrying the user's request with such a set: refused by the releasing authority
    const carried = async (to: number, members: string[]) => {
      const env = openEnvelope(await h.verify(to, [0, 1]));
      const m = decodeVerifyRequest(env.body);
      const info = await authorityInfo(urls[to], place, dep);
      return req(
        to,
        Route.MssaVerify,
        encodeVerifyRequest({ ...m, ...anySet(members) }, [`mail:SET0005@example.org`, `passport:UTO:SET0005`], info.channelKey),
        dave,
      );
    };
    const releases: [string[], string][] = [
      [[A[0], A[1], A[3]], `release: the set the user named holds ${A[3]}, which does not sit in the election`],
      [[A[1], A[2]], `release: the set the user named does not include this authority ${A[0]}`],
      [[A[0], A[2]], `release: ${A[1]} is not in the set the user's verify request names`],
    ];
    for (const [members, why] of releases) {
      const body = encodeReleaseRequest({ session: h.sid, transport: mulBase(randomScalar()), request: await carried(1, members) });
      expect(await fail(postEnvelope(urls[0], "/v1/mssa/release", req(0, Route.MssaRelease, body, au[1]), once)), why).to.equal(
        `422 unknown-session ${why}`,
      );
    }
    expect(stores()).to.deep.equal(before);
  });

  it("the same session under another set: refused at each authority its keys went to (one key pads one request); the first set's registration goes on, one nullifier", async () => {
    const erin = user();
    const h = await byHand(erin, "SET0006", [0, 1, 2]);
    // S1 = all three: authority 0 verifies, having collected the keys of 1 and 2
    const first = decodeVerifyReply(openEnvelope(await postEnvelope(urls[0], "/v1/mssa/verify", await h.verify(0, [0, 1, 2]), once)).body);
    const before = stores();
    // S2 = {0, 1} and {1, 2} for the same session: refused, nothing written
    expect(await fail(postEnvelope(urls[1], "/v1/mssa/verify", await h.verify(1, [0, 1]), once))).to.match(
      /^422 key-reuse verify: session 0x[0-9a-f]{64} went here under another set of authorities/,
    );
    expect(await fail(postEnvelope(urls[2], "/v1/mssa/verify", await h.verify(2, [1, 2]), once))).to.match(
      /^422 key-reuse verify: session .* went here under another set/,
    );
    // authority 1 asks authority 2 for its key of the session under S2 = {1, 2}
    const body = encodeReleaseRequest({ session: h.sid, transport: mulBase(randomScalar()), request: await h.verify(1, [1, 2]) });
    expect(await fail(postEnvelope(urls[2], "/v1/mssa/release", req(2, Route.MssaRelease, body, au[1]), once))).to.match(
      /^422 key-reuse release: session .* went here under another set/,
    );
    expect(stores()).to.deep.equal(before);
    // S1 goes on: the two others verify the same registration
    for (const i of [1, 2]) {
      const r = decodeVerifyReply(openEnvelope(await postEnvelope(urls[i], "/v1/mssa/verify", await h.verify(i, [0, 1, 2]), once)).body);
      expect([r.id, r.nullifier]).to.deep.equal([first.id, first.nullifier]);
    }
  });

  it("a pending registration whose verifier is down when the user resumes goes to another member of S, which verified it: granted, one proposal", async () => {
    const gina = user();
    const ks = new Keystore(path.join(tmp("gina-set"), "keystore"), "");
    const infos = ["mail:gina@example.org", "passport:UTO:SET0008"];
    process.env.METATRUST_FAULT = "authority:after-propose";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    try {
      expect(await fail(registerRemote({ urls, place, user: gina, infos, dep, keystore: ks, retry: once }))).to.match(
        /crash at authority:after-propose/,
      );
    } finally {
      delete process.env.METATRUST_FAULT;
      onFault(undefined);
    }
    const rec = ks.load(userRecord(place, gina.address)) as { id: string; verifier: string; set: string[] };
    expect(rec.verifier).to.equal(au[0].address);
    expect(rec.set).to.deep.equal([au[0].address, au[1].address, au[2].address]);
    expect((await dep.ledger.registration(rec.id)).status).to.equal(1n);
    // the verifier is down for good (as far as the user can tell): her retry hands the session over
    const port = Number(new URL(urls[0]).port);
    await services[0].stop();
    try {
      const r = await registerRemote({ urls, place, user: gina, infos, dep, keystore: ks, retry: once });
      expect([r.resumed, r.outcome.granted, r.verified.id]).to.deep.equal([true, true, rec.id]);
      expect((ks.load(userRecord(place, gina.address)) as { verifier: string; pending: boolean }).pending).to.equal(false);
      const proposals = await dep.ledger.queryFilter(dep.ledger.filters.RegistrationProposed());
      expect(proposals.filter((e) => e.args.user === gina.address)).to.have.length(1);
    } finally {
      services[0] = new AuthorityService(deps[0]);
      urls[0] = (await services[0].start({ port })).url;
    }
  });

  it("two verify requests of one user's session at once, at every member of S: all three answer, one registration and one nullifier (no member waits on another's lock)", async () => {
    const frank = user();
    const h = await byHand(frank, "SET0007", [0, 1, 2]);
    const t0 = Date.now();
    const replies = await Promise.all(
      [0, 1, 2].map(async (i) =>
        decodeVerifyReply(openEnvelope(await postEnvelope(urls[i], "/v1/mssa/verify", await h.verify(i, [0, 1, 2]), once)).body),
      ),
    );
    expect(new Set(replies.map((r) => `${r.id}|${r.nullifier}`)).size).to.equal(1);
    expect(Date.now() - t0).to.be.lessThan(once.timeoutMs);
    // the same session again at authority 0, twice at once under another request id: refused both
    const again = await Promise.all(
      [0, 1].map(async () => fail(postEnvelope(urls[0], "/v1/mssa/verify", await h.verify(0, [0, 1, 2]), once))),
    );
    for (const x of again) expect(x).to.match(/already verified here/);
  });
});
