/**
 * Red team (h9-red) against the IdP service as deployed: tracing, delegation and mutual
 * authentication over HTTP, with the IdP's own account and keystore against the in-process chain
 * (the same code as `idp:serve`).
 *
 * Claims attacked: nobody is falsely accused by a trace; an AI proxy cannot act beyond its
 * delegation in time or after its key is revoked; a revoked or expired delegation is refused.
 * The time-travelling tests run inside a chain snapshot, restored afterwards.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { ZeroHash } from "ethers";
import { takeSnapshot, time, type SnapshotRestorer } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deploySystemFixture } from "../fixtures/system";
import { idpSystem, startIdp } from "../helpers/idp-services";
import { Keystore } from "../../offchain/storage/keystore";
import { AvatarParty } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import {
  avatarIdOf,
  buildLoginResponse,
  caseHash,
  platformId,
  type AvatarCredential,
  type Evidence,
  type Side,
} from "../../offchain/avatars/protocols";
import { signedInSession } from "../helpers/interaction";
import { encodeLoginResponse } from "../../offchain/avatars/wire";
import { ChallengePurpose, decodeChallengeReply, decodeLoginAck, encodeChallengeRequest } from "../../offchain/services/avatars/wire";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { postEnvelope } from "../../offchain/services/client";
import { cpsPSign } from "../../offchain/crypto/cps";
import { keccak256 } from "../../offchain/crypto/hash";
import { toBytes, toHex } from "../../offchain/crypto/bytes";
import { IdpService } from "../../offchain/services/avatars/idp-service";
import {
  delegateRemote,
  issueRemote as issueOpen,
  loginRemote,
  mutualAuthRemote,
  stampRemote,
  traceRemote,
  type IdpDeployment,
  type IdpInfo,
} from "../../offchain/services/avatars/clients";
import { type MITRegistry } from "../../typechain-types";
import { issueEnrolmentToken } from "../../offchain/services/enrolment";

/** The IdP's keystore, for its operator's one-time enrolment tokens (`idp:enrol-token`). */
let idpKs: Keystore;
/** issueRemote with a fresh token for the label, as the IdP's operator issues one per identity. */
const issueRemote = (o: Parameters<typeof issueOpen>[0]) =>
  issueOpen({ ...o, token: o.token ?? issueEnrolmentToken(idpKs, { service: "idp", kind: o.kind, identity: o.label, ttlSec: 600 }).token });

/** The id of the avatar `p` calls `n` (names are per owner: avatarIdOf, h9-red F7). */
const avatarOf = (p: AvatarParty, n: string) => avatarIdOf(p.mit!.serial, `h9-red:${n}`);
const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("h9-red: the IdP service attacked over its wire (tracing, delegation, mutual authentication)", function () {
  this.timeout(300_000);
  let svc: IdpService;
  let info: IdpInfo;
  let dep: IdpDeployment;
  let idpRegistry: MITRegistry;
  let reporter: MITRegistry;
  let client: Keystore;
  let snap: SnapshotRestorer;
  let svcDir: string;
  let store: Awaited<ReturnType<typeof deploySystemFixture>>["store"];
  const eye = { alice: new SimulatedEye(9101), bob: new SimulatedEye(9102) };
  let alice: AvatarParty, bob: AvatarParty;

  before(async () => {
    snap = await takeSnapshot();
    const sys = await idpSystem("idp-red");
    store = sys.f.store;
    idpKs = sys.ks;
    idpRegistry = sys.deps.registry;
    svcDir = sys.deps.dir;
    dep = sys.dep;
    reporter = dep.registry.connect((await hre.ethers.getSigners())[1]);
    ({ svc, info } = await startIdp(sys));
    client = sys.client;
    alice = (
      await issueRemote({ idp: info, dep, keystore: client, name: "alice", kind: "user", label: "Alice", enrollment: eye.alice.capture() })
    ).party;
    bob = (await issueRemote({ idp: info, dep, keystore: client, name: "bob", kind: "user", label: "Bob", enrollment: eye.bob.capture() }))
      .party;
  });

  after(async () => {
    await svc?.stop();
    await snap?.restore();
  });

  const proxy = async (name: string) =>
    (await issueRemote({ idp: info, dep, keystore: client, name, kind: "proxy", label: `${name} operator` })).party;
  /**
   * The reporter of the sessions with the avatar of `c` (h11-red2 V1: interaction evidence needs
   * one): bob's avatar driven by a bot he delegated to now, for 30 days, so that its warrant covers
   * every time the tests date a message of `c` at (its delegation begins after c's warrant).
   */
  const reporters = new Map<string, Side>();
  const reporterOf = async (c: AvatarCredential): Promise<Side> => {
    const key = toHex(c.avatarId);
    const known = reporters.get(key);
    if (known) return known;
    const name = `R-${reporters.size}`;
    const bot = await proxy(`reporter-${reporters.size}`);
    await loginRemote({ idp: info, dep, user: bob, sample: () => eye.bob.capture(), avatarId: avatarOf(bob, name), appearance: name });
    const credential = (
      await delegateRemote({ idp: info, dep, user: bob, sample: () => eye.bob.capture(), proxy: bot, avatarId: avatarOf(bob, name) })
    ).credential;
    reporters.set(key, { credential, driver: bot });
    return reporters.get(key)!;
  };
  const delegated = async (name: string, bot: AvatarParty) => {
    await loginRemote({
      idp: info,
      dep,
      user: alice,
      sample: () => eye.alice.capture(),
      avatarId: avatarOf(alice, name),
      appearance: name,
    });
    const c = (
      await delegateRemote({ idp: info, dep, user: alice, sample: () => eye.alice.capture(), proxy: bot, avatarId: avatarOf(alice, name) })
    ).credential;
    await reporterOf(c);
    return c;
  };
  /** What the driver signs in a session with the reporter (an "interaction"), shown to the platform for its receipt. */
  const signed = async (c: AvatarCredential, driver: AvatarParty, msgTime: number, what: string): Promise<Evidence> =>
    stampRemote({
      idp: info,
      dep,
      evidence: signedInSession(
        { credential: c, signer: driver, platform: platformId(String(dep.registry.target), info.receiptKey) },
        await reporterOf(c),
        what,
        msgTime,
      ),
    });
  const traceOutcome = async (e: Evidence): Promise<string> =>
    traceRemote({ idp: info, dep, reporter, evidence: e, retry: once }).then(
      () => "traced",
      (err: Error) => (/NOT_DRIVER/.test(err.message) ? "refused: NOT_DRIVER" : err.message.split("\n")[0]),
    );
  const chainNow = async () => (await hre.ethers.provider.getBlock("latest"))!.timestamp;

  it("an expired delegation (never revoked): what the proxy signs afterwards, backdated into the warrant and stamped after notAfter, does not trace to the owner; evidence stamped in time still does", async () => {
    const bot = await proxy("bot-exp");
    const c = await delegated("EXP", bot);
    const inTime = await signed(c, bot, await chainNow(), "in time");
    await time.increaseTo(c.warrant.notAfter + 60);
    expect(await dep.registry.isVerified(toHex(c.avatarId))).to.equal(false); // the chain knows it ended
    // the proxy acts a minute after its delegation ended, dating its message to the last valid second
    const late = await signed(c, bot, c.warrant.notAfter, "after the end");
    expect(late.receipt!.time).to.be.greaterThan(c.warrant.notAfter);
    expect({ inTime: await traceOutcome(inTime), late: await traceOutcome(late) }).to.deep.equal({
      inTime: "traced",
      late: "refused: NOT_DRIVER",
    });
  });

  it("a delegation revoked after it expired: the platform's receipt between notAfter and the revocation does not make the owner answerable", async () => {
    const bot = await proxy("bot-exp2");
    const c = await delegated("EXP2", bot);
    await time.increaseTo(c.warrant.notAfter + 3600);
    const late = await signed(c, bot, c.warrant.notAfter - 5, "after the end, before the revocation");
    // alice logs in again: the chain ends the (expired) delegation now
    await loginRemote({
      idp: info,
      dep,
      user: alice,
      sample: () => eye.alice.capture(),
      avatarId: avatarOf(alice, "EXP2"),
      appearance: "again",
    });
    const id = await dep.registry.queryFilter(dep.registry.filters.AvatarDelegated(undefined, toHex(c.avatarId)));
    const d = await dep.registry.delegation(id[id.length - 1].args.delegationId);
    // stamped before the block that revoked it: dated no later than that block (the platform's clock
    // is the earliest time of the next block, platformNow: equal when the login's block was the next)
    expect(Number(d.revokedAt)).to.be.at.least(late.receipt!.time);
    expect(late.receipt!.time).to.be.greaterThan(c.warrant.notAfter);
    expect(await traceOutcome(late)).to.equal("refused: NOT_DRIVER");
  });

  it("a proxy key reported stolen (its MIT revoked, the delegation still on record): messages the platform first saw after the revocation do not trace to the owner; earlier ones do", async () => {
    const bot = await proxy("bot-stolen");
    const c = await delegated("STOLEN", bot);
    const before = await signed(c, bot, await chainNow(), "before the theft was reported");
    await (await idpRegistry.revokeMIT(toHex(bot.mit!.serial))).wait();
    await time.increase(30);
    expect(await dep.registry.isVerified(toHex(c.avatarId))).to.equal(false);
    expect(Number(await dep.registry.activeDelegation(toHex(c.avatarId)))).to.not.equal(0); // not ended on-chain
    const thief = await signed(c, bot, await chainNow(), "the thief, after the revocation");
    expect({ before: await traceOutcome(before), thief: await traceOutcome(thief) }).to.deep.equal({
      before: "traced",
      thief: "refused: NOT_DRIVER",
    });
  });

  it("a user's key reported stolen (her MIT revoked): what the thief signs under her login warrant after the revocation does not trace to her", async () => {
    const carolEye = new SimulatedEye(9103);
    const carol = (
      await issueRemote({ idp: info, dep, keystore: client, name: "carol", kind: "user", label: "Carol", enrollment: carolEye.capture() })
    ).party;
    const c = (
      await loginRemote({ idp: info, dep, user: carol, sample: () => carolEye.capture(), avatarId: avatarOf(carol, "C"), appearance: "c" })
    ).credential;
    await reporterOf(c); // the session's reporter, before carol signs
    const before = await signed(c, carol, await chainNow(), "carol herself");
    await (await idpRegistry.revokeMIT(toHex(carol.mit!.serial))).wait();
    await time.increase(30);
    const thief = await signed(c, carol, await chainNow(), "the thief, after the revocation");
    expect({ before: await traceOutcome(before), thief: await traceOutcome(thief) }).to.deep.equal({
      before: "traced",
      thief: "refused: NOT_DRIVER",
    });
  });

  it("refused: mutual authentication with a revoked delegation or a proxy whose MIT is revoked (the control authenticates)", async () => {
    // bob logs in afresh: his warrant is valid for a day from the chain's clock
    const b = (
      await loginRemote({ idp: info, dep, user: bob, sample: () => eye.bob.capture(), avatarId: avatarOf(bob, "B-auth"), appearance: "b" })
    ).credential;
    const authAt = async (c: AvatarCredential, driver: AvatarParty) => {
      const t = await chainNow();
      return mutualAuthRemote({
        idp: info,
        dep,
        A: { credential: c, driver },
        B: { credential: b, driver: bob },
        now: () => t,
        retry: once,
      })
        .then(() => "authenticated")
        .catch((e: Error) => e.message.split("\n")[0]);
    };
    const fresh = async (tag: string) => {
      const bot = await proxy(`bot-auth-${tag}`);
      return { bot, c: await delegated(`AUTH-${tag}`, bot) };
    };
    const live = await fresh("live");
    expect(await authAt(live.c, live.bot)).to.equal("authenticated");
    const revoked = await fresh("revoked");
    await (await idpRegistry.revokeDelegation(await dep.registry.activeDelegation(toHex(revoked.c.avatarId)))).wait();
    expect(await authAt(revoked.c, revoked.bot)).to.match(/no driver on-chain/);
    const stolen = await fresh("stolen");
    await (await idpRegistry.revokeMIT(toHex(stolen.bot.mit!.serial))).wait();
    expect(await authAt(stolen.c, stolen.bot)).to.match(/driver's MIT is revoked/);
  });

  it("a login to an avatar another user owns is refused as the client's fault (422 NOT_OWNER, not 500: the client does not retry it); no intent is left in the journal", async () => {
    const daveEye = new SimulatedEye(9104);
    const dave = (
      await issueRemote({ idp: info, dep, keystore: client, name: "dave", kind: "user", label: "Dave", enrollment: daveEye.capture() })
    ).party;
    // dave logs in first to his avatar "OWNED" and owns it; then alice claims it
    const outcome = await loginRemote({
      idp: info,
      dep,
      user: dave,
      sample: () => daveEye.capture(),
      avatarId: avatarOf(dave, "OWNED"),
      appearance: "dave",
      retry: once,
    }).then(
      () => "logged in (setup)",
      (e: Error) => e.message.replace(/^\S+ /, "").split("\n")[0],
    );
    expect(outcome).to.equal("logged in (setup)");
    const again = await loginRemote({
      idp: info,
      dep,
      user: alice,
      sample: () => eye.alice.capture(),
      avatarId: avatarOf(dave, "OWNED"),
      appearance: "alice",
      retry: once,
    }).then(
      () => "logged in",
      (e: Error) => e.message.replace(/^\S+ /, "").split("\n")[0],
    );
    expect(again).to.match(/^422 NOT_OWNER/);
    expect(fs.readdirSync(path.join(svcDir, "journal")).filter((f) => f.endsWith(".json"))).to.deep.equal([]);
  });

  it("a relay that re-sends alice's login under its own request id gets alice's login recorded once (no second effect); alice's own copy is then answered with the same acknowledgement (s23-rth F1: it was refused STALE_CHALLENGE)", async () => {
    const audience = audienceOf(dep.chainId, String(dep.registry.target), "idp");
    const session = freshId();
    const env = (route: number, body: Uint8Array) =>
      sealEnvelope(
        { kind: Kind.Request, route, audience, session, requestId: freshId(), issuedAt: Date.now(), inReplyTo: new Uint8Array(32), body },
        { scheme: Scheme.None },
      );
    const c = decodeChallengeReply(
      openEnvelope(
        await postEnvelope(info.url, "/v1/challenge", env(Route.IdpChallenge, encodeChallengeRequest(ChallengePurpose.login)), once),
      ).body,
    );
    const id = avatarOf(alice, "RELAY");
    const r = buildLoginResponse({ idp: info }, alice, eye.alice.capture(), c.challenge, id, keccak256(toBytes("VID:relay")), c.time);
    const alices = env(Route.IdpLogin, encodeLoginResponse(r));
    const relays = env(Route.IdpLogin, encodeLoginResponse(r)); // the same body, the relay's request id
    const ack = decodeLoginAck(openEnvelope(await postEnvelope(info.url, "/v1/login", relays, once)).body);
    expect(toHex(ack.serial)).to.equal(toHex(alice.mit!.serial));
    const mine = decodeLoginAck(openEnvelope(await postEnvelope(info.url, "/v1/login", alices, once)).body);
    expect(toHex(mine.h)).to.equal(toHex(ack.h));
    expect(await dep.registry.queryFilter(dep.registry.filters.AvatarLoggedIn(toHex(id)))).to.have.length(1);
  });

  it("bogus trace cases: the reporter pays more gas to open one than the IdP pays to reject it (measured)", async () => {
    const bot = await proxy("bot-spam");
    const c = await delegated("SPAM", bot);
    const good = await signed(c, bot, await chainNow(), "spam");
    const bogus = { ...good, proxySig: cpsPSign(bot.keys, c.warrant, c.o, { ...good.message, body: toBytes("other") }) };
    const filed = await (await reporter.requestTrace(toHex(bogus.avatarId), toHex(caseHash(bogus)))).wait();
    const caseId = (await dep.registry.queryFilter(dep.registry.filters.TraceRequested()))
      .map((l) => l.args.caseId)
      .reduce((a, b) => (b > a ? b : a));
    const out = await traceRemote({ idp: info, dep, reporter, evidence: bogus, caseId, retry: once }).then(
      () => "traced",
      (e: Error) => e.message.replace(/^\S+ /, "").split("\n")[0],
    );
    expect(out).to.match(/^422 BAD_SIGNATURE/);
    const verdict = (await dep.registry.queryFilter(dep.registry.filters.TraceVerdict(caseId)))[0];
    const idpGas = (await verdict.getTransactionReceipt()).gasUsed;
    console.log(`      requestTrace ${filed!.gasUsed} gas (reporter), recordVerdict(rejected) ${idpGas} gas (IdP)`);
    expect(filed!.gasUsed).to.be.greaterThan(idpGas);
    expect(Number((await dep.registry.traceCase(caseId)).status)).to.equal(3);
  });

  it("a delegation the chain would refuse (the owner's own MIT as the proxy) is refused as the client's fault (422, not a 500 the client retries); nothing journaled", async () => {
    await loginRemote({
      idp: info,
      dep,
      user: alice,
      sample: () => eye.alice.capture(),
      avatarId: avatarOf(alice, "SELF"),
      appearance: "self",
    });
    const out = await delegateRemote({
      idp: info,
      dep,
      user: alice,
      sample: () => eye.alice.capture(),
      proxy: alice,
      avatarId: avatarOf(alice, "SELF"),
      retry: once,
    }).then(
      () => "delegated",
      (e: Error) => e.message.replace(/^\S+ /, "").split("\n")[0],
    );
    expect(out).to.match(/^422 /);
    expect(fs.readdirSync(path.join(svcDir, "journal")).filter((f) => f.endsWith(".json"))).to.deep.equal([]);
  });

  /**
   * F12 (MEDIUM, cost) - proxy MIT issuance is open and the IdP pays for it. POST /v1/mit/issue
   * with kind "proxy" needs only a key the client draws and its proof of possession: no enrolment,
   * no iris, no account. Each request costs the IdP's account an issueMIT transaction (measured
   * below: 141,254 gas with the CID string) and an IPFS object; a client at the rate limit (600 a
   * minute from one address) makes the IdP spend ~85M gas a minute. Fixed: every issuance,
   * proxy or user, names a one-time enrolment token (`idp:enrol-token --proxy`); without one it is refused (401) before anything is minted.
   */
  it("F12: an unauthenticated client cannot have the IdP mint proxy MITs on-chain at the IdP's expense", async () => {
    const before = (await dep.registry.queryFilter(dep.registry.filters.MitIssued())).length;
    const gas: bigint[] = [];
    const N = 5;
    let refused = 0;
    for (let i = 0; i < N; i++) {
      const why = await issueOpen({ idp: info, dep, keystore: client, name: `spam-${i}`, kind: "proxy", label: "spam" }).then(
        () => "minted",
        (e: Error) => e.message,
      );
      if (/401 TOKEN_REQUIRED/.test(why)) refused++;
    }
    const logs = (await dep.registry.queryFilter(dep.registry.filters.MitIssued())).slice(before);
    for (const l of logs) gas.push((await l.getTransactionReceipt()).gasUsed);
    if (gas.length) console.log(`       ${gas.length} proxy MITs minted for an anonymous client, ${gas[0]} gas each (paid by the IdP)`);
    expect(refused).to.equal(N);
  });

  /**
   * F6 (MEDIUM, privacy; h9-red) - the label an AI proxy's MIT is issued under is sealed to the
   * IdP on the wire and was then published in the clear: the MIT's parameters on IPFS read "AI
   * proxy of <label>". A user who runs her own proxy under her name and delegates her avatar to
   * it was named to everyone: avatar -> AvatarDelegated(proxySerial) on-chain -> the proxy MIT's
   * paramsCid -> "AI proxy of Alice A.". Fixed: the operator stays with the IdP; the description
   * is "AI proxy 0x…" (the UID's first bytes), as a user's is "user 0x…".
   */
  it("F6: the operator label sealed to the IdP does not appear in the proxy MIT's public parameters (IPFS)", async () => {
    const carolEye = new SimulatedEye(9201);
    const carol = (
      await issueRemote({
        idp: info,
        dep,
        keystore: client,
        name: "carol-f6",
        kind: "user",
        label: "Carol C.",
        enrollment: carolEye.capture(),
      })
    ).party;
    const bot = (await issueRemote({ idp: info, dep, keystore: client, name: "carol-f6-bot", kind: "proxy", label: "Carol C." })).party;
    const id = avatarIdOf(carol.mit!.serial, "fox");
    await loginRemote({ idp: info, dep, user: carol, sample: () => carolEye.capture(), avatarId: id, appearance: "fox" });
    await delegateRemote({ idp: info, dep, user: carol, sample: () => carolEye.capture(), proxy: bot, avatarId: id });
    // what anybody reads: the avatar's driver on-chain, its MIT, the MIT's parameters on IPFS
    const driver = (await dep.registry.avatar(toHex(id))).driverSerial;
    expect(driver).to.equal(toHex(bot.mit!.serial));
    const published = JSON.stringify(await store.getJson((await dep.registry.mit(driver)).paramsCid));
    expect(published).to.include('"kind":"proxy"');
    expect(published).to.not.include("Carol C.");
    expect(bot.mit!.description).to.match(/^AI proxy 0x[0-9a-f]{8}$/);
  });

  /**
   * F7 (LOW; h9-red) - avatar names were first come, first served, for ever: the id was
   * keccak256("metatrust:avatar:" || name) and the first login of an id made its caller the owner,
   * so any MIT holder could claim any number of names before their users did (or, on-path without
   * TLS, read a user's first login and log in first). Fixed: ids are per owner
   * (avatarIdOf(serial, name) opens with the owner's tag) and the IdP records a first login only
   * for an id in the user's own namespace.
   */
  it("F7: eve logging in first to erin's avatar 'erin' does not lock erin out of it (names are per owner); eve may have her own 'erin'", async () => {
    const eyes = { erin: new SimulatedEye(9202), eve: new SimulatedEye(9203) };
    const issue = async (name: string, e: SimulatedEye) =>
      (await issueRemote({ idp: info, dep, keystore: client, name, kind: "user", label: name, enrollment: e.capture() })).party;
    const erin = await issue("erin", eyes.erin);
    const eve = await issue("eve", eyes.eve);
    const loginAs = (user: AvatarParty, e: SimulatedEye, id: Uint8Array) =>
      loginRemote({ idp: info, dep, user, sample: () => e.capture(), avatarId: id, appearance: user.name, retry: once }).then(
        () => "logged in",
        (err: Error) => err.message.replace(/^\S+ /, "").split("\n")[0],
      );
    const erins = avatarIdOf(erin.mit!.serial, "erin");
    const journal = () => fs.readdirSync(path.join(svcDir, "journal")).filter((f) => f.endsWith(".json"));
    expect(await loginAs(eve, eyes.eve, erins)).to.match(/^422 NOT_OWNER .*not one of the user's/);
    expect((await dep.registry.avatar(toHex(erins))).owner).to.equal(ZeroHash);
    expect(journal()).to.deep.equal([]);
    expect(await loginAs(erin, eyes.erin, erins)).to.equal("logged in");
    expect((await dep.registry.avatar(toHex(erins))).owner).to.equal(toHex(erin.mit!.serial));
    const evesOwn = avatarIdOf(eve.mit!.serial, "erin");
    expect(toHex(evesOwn)).to.not.equal(toHex(erins));
    expect(await loginAs(eve, eyes.eve, evesOwn)).to.equal("logged in");
    // the old scheme's id (a bare name hash) is in nobody's namespace: nobody claims it
    expect(await loginAs(eve, eyes.eve, keccak256(toBytes("metatrust:avatar:erin")))).to.match(/^422 NOT_OWNER/);
  });
});
