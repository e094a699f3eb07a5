/**
 * s24-rta (outside red team, traceable avatars): one test per finding, each written failing by the
 * red team and passing since its fix (s24-fxa). Ratings and impact: /work/notes/s24/s24-rta.md.
 * - R1: an issuance refusal names neither the enrolled MIT nor its iris commitment, and spends the token.
 * - R2: the platform's clock is the latest block's time + 1 (platformNow), so a receipt stamped after
 *   an end was mined dates its evidence after the end.
 * - R3: a trace verdict the chain refuses leaves no "traced" slot in the IdP's keystore.
 * - PoP (observation): an issuance request's proof of possession names that request, so one seen
 *   on the wire cannot have an MIT minted for someone else's key under another token.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { loadFixture, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { MITRegistry } from "../../typechain-types";
import { FileContentStore } from "../../offchain/storage/content-store";
import { idpSystem, startIdp } from "../helpers/idp-services";
import { avatarsFixture, reasonOf } from "../helpers/avatar-world";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { AvatarParty, IdentityProvider } from "../../offchain/avatars/agents";
import {
  ChallengeBook,
  authHello,
  authRespond,
  avatarIdOf,
  delegate,
  handshakeTranscript,
  issueProxyMit,
  issueUserMit,
  judgeTrace,
  login,
  mutualAuth,
  requestTrace,
  platformNow,
  stampEvidence,
  trace,
  tracedEvidenceKey,
  TraceStatus,
  type AvatarContext,
  type Evidence,
} from "../../offchain/avatars/protocols";
import { Scope, cpsPSign } from "../../offchain/crypto/cps";
import { issueRemote, pendingIssue, stampRemote } from "../../offchain/services/avatars/clients";
import { IssueKind, decodeIssueRequest, encodeIssueRequest } from "../../offchain/services/avatars/wire";
import { Kind, Route, audienceOf, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { parseEnrolmentToken, tokenSigner } from "../../offchain/services/enrolment";
import { postEnvelope } from "../../offchain/services/client";
import { freshId } from "../../offchain/services/common";
import { fromHex, toHex } from "../../offchain/crypto/bytes";

/**
 * alice (user) delegates her avatar fox to her AI for an hour; mallory (user, avatar mole) is the
 * AI's accomplice. Every clock, the platform's too, is the protocols' clock, as the IdP service's
 * and the tasks' are (platformNow: the latest block's time + 1).
 */
async function story() {
  const f = await loadFixture(avatarsFixture);
  const idp = new IdentityProvider();
  const clock = { t: await platformNow(ethers.provider) };
  const ctx = { registry: f.registry, idp, store: f.store, now: () => clock.t };
  const sync = async () => {
    clock.t = await platformNow(ethers.provider);
  };
  const alice = new AvatarParty("alice");
  const mallory = new AvatarParty("mallory");
  const ai = new AvatarParty("ai-1");
  const eyes = { alice: new SimulatedEye(41), mallory: new SimulatedEye(43) };
  await issueUserMit(ctx, alice, "Alice Liddell", eyes.alice);
  await issueUserMit(ctx, mallory, "Mallory Mole", eyes.mallory);
  await issueProxyMit(ctx, ai, "alice's assistant service");
  const server = new ChallengeBook();
  const fox = avatarIdOf(alice.mit!.serial, "fox");
  await login(ctx, server, alice, eyes.alice, { avatarId: fox, appearance: "fox" });
  const lm = await login(ctx, server, mallory, eyes.mallory, { avatarId: avatarIdOf(mallory.mit!.serial, "mole"), appearance: "mole" });
  const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: fox, ttl: 3600 });
  const reporter = f.registry.connect(f.others[3]);
  await sync();
  return { f, ctx, alice, mallory, ai, lm, d, reporter, sync };
}

/** mallory (initiator) and alice's AI (responder) make a handshake dated `at`, skipping the checks an honest side runs. */
async function colludedEvidence(s: Awaited<ReturnType<typeof story>>, at: number): Promise<Evidence> {
  const { ctx, mallory, ai, lm, d } = s;
  const a = authHello(ctx, { credential: lm.credential, driver: mallory }, d.credential.avatarId);
  const b = await authRespond({ ...ctx, now: () => at }, { credential: d.credential, driver: ai }, a.hello);
  const t = handshakeTranscript(a.hello, b.reply.hello);
  const msg = { type: Scope.challenge, time: at, body: t };
  const peer = b.reply.hello;
  return {
    avatarId: peer.avatarId,
    ownerSerial: peer.ownerSerial,
    ownerPk: peer.ownerPk,
    driverSerial: peer.driverSerial,
    warrant: peer.warrant,
    o: peer.o,
    message: msg,
    proxySig: b.reply.proxySig,
    handshake: {
      accusedInitiated: false,
      accusedEphemeral: peer.ephemeral,
      accusedNonce: peer.nonce,
      reporter: a.hello,
      reporterSig: cpsPSign(mallory.keys, lm.credential.warrant, lm.credential.o, msg),
    },
  };
}

describe("s24-rta findings (traceable avatars)", function () {
  this.timeout(180_000);

  describe("R1: the MIT issuance refusal is an iris -> MIT serial oracle (a trace without a verdict)", () => {
    it("an enrolment-token holder who presents a victim's iris learns only 'already enrolled', and the refusal spends the token: a second iris is refused TOKEN_USED; the operator's log names the MIT", async () => {
      const s = await idpSystem("s24rta-r1");
      const logged: string[] = [];
      const { svc, info } = await startIdp(s, { log: (l) => logged.push(l) });
      try {
        // two honest users enrol
        const eyes = { alice: new SimulatedEye(31), bob: new SimulatedEye(32) };
        const issue = (name: string, label: string, enrollment: Uint8Array, token?: string) =>
          issueRemote({
            idp: info,
            dep: s.dep,
            keystore: s.client,
            name,
            kind: "user",
            label,
            enrollment,
            token: token ?? s.token("user", label),
          });
        const alice = (await issue("alice", "Alice A.", eyes.alice.capture())).party;
        const bob = (await issue("bob", "Bob B.", eyes.bob.capture())).party;
        // mallory holds ONE enrolment token (for herself) and captures of alice's and bob's eyes
        // (an iris photographed at a distance); she sends them as her own enrolment
        const token = s.token("user", "Mallory M.");
        const leaked: string[] = [];
        for (const [name, eye] of [
          ["m1", eyes.alice],
          ["m2", eyes.bob],
        ] as const) {
          const err = await issue(name, "Mallory M.", eye.capture(), token).then(
            () => undefined,
            (e: Error) => e,
          );
          expect(err, "the enrolment is refused").to.be.instanceOf(Error);
          leaked.push(err!.message);
        }
        // the first probe: "already enrolled", naming nobody
        expect(leaked[0]).to.match(/this iris is already enrolled for an MIT; one person, one MIT/);
        // one token, one probe: the refusal spent it, so the second iris is not even matched
        expect(leaked[1]).to.match(/TOKEN_USED|was used by another request/);
        expect(leaked[1]).to.not.match(/enrolled/i);
        // what a refusal must not say: whose MIT (the serial names every avatar of hers on-chain:
        // AvatarLoggedIn.owner, the avatar ids' owner tag), nor her iris commitment (in every warrant)
        for (const m of leaked)
          for (const p of [alice, bob]) {
            expect(m).to.not.include(toHex(p.mit!.serial).slice(2), "the refusal names the victim's MIT serial");
            expect(m).to.not.include(toHex(p.irisCommitment!).slice(2), "the refusal names the victim's iris commitment");
          }
        // the operator learns which MIT the eye is enrolled for (its log), and nothing was issued to mallory
        expect(logged.some((l) => l.includes(toHex(alice.mit!.serial)) && /enrolled/.test(l))).to.equal(true);
        const users = svc.idp.toRecord().users as { realId: string }[];
        expect(users.map((u) => u.realId)).to.deep.equal(["Alice A.", "Bob B."]);
      } finally {
        await svc.stop();
      }
    });
  });

  describe("PoP (observation): the issuance request's proof of possession travelled unbound to the request", () => {
    it("mallory, who saw the proof in the bot's issuance request, puts it with the bot's key in a request under her own proxy token: refused (POSSESSION), no MIT minted", async () => {
      const s = await idpSystem("s24rta-pop");
      const { svc, info } = await startIdp(s);
      try {
        // the bot's operator's request, as issueRemote builds it, seen on the wire (here: kept by
        // the client because the IdP it was sent to did not answer)
        const bot = issueRemote({
          idp: { ...info, url: "http://127.0.0.1:9" },
          dep: s.dep,
          keystore: s.client,
          name: "bot",
          kind: "proxy",
          label: "ACME AI",
          token: s.token("proxy", "ACME AI"),
          retry: { attempts: 1, timeoutMs: 5_000, backoffMs: 10 },
        });
        await expect(bot).to.be.rejected;
        const seen = decodeIssueRequest(openEnvelope(fromHex(String(s.client.load(pendingIssue("bot")).envelope))).body);
        // mallory's own request: the bot's key and proof, her own label, token and request id
        const token = s.token("proxy", "Mallory Ops");
        const requestId = freshId();
        const audience = audienceOf(s.dep.chainId, String(s.dep.registry.target), "idp");
        const body = encodeIssueRequest({
          kind: IssueKind.proxy,
          pk: seen.pk,
          possession: seen.possession,
          label: "Mallory Ops",
          channelKey: info.channelKey,
          requestId,
          tokenId: parseEnrolmentToken(token).id,
        });
        const env = sealEnvelope(
          {
            kind: Kind.Request,
            route: Route.IdpIssue,
            audience,
            session: freshId(),
            requestId,
            issuedAt: Date.now(),
            inReplyTo: new Uint8Array(32),
            body,
          },
          tokenSigner(token, "idp"),
        );
        const minted = async () => (await s.dep.registry.queryFilter(s.dep.registry.filters.MitIssued())).length;
        const n = await minted();
        const out = await postEnvelope(info.url, "/v1/mit/issue", env, { attempts: 1, timeoutMs: 30_000, backoffMs: 10 }).then(
          () => "issued",
          (e: Error) => e.message,
        );
        expect(out).to.match(/POSSESSION|proof of possession does not verify/);
        expect(await minted()).to.equal(n);
      } finally {
        await svc.stop();
      }
    });
  });

  describe("R2: a receipt stamped after the end, in the end's own block second, still dates the evidence before it (false accusation)", () => {
    /** Two ends of alice's answerability for her AI, each the block time of the transaction that ends it. */
    const ENDS: [string, (s: Awaited<ReturnType<typeof story>>) => Promise<unknown>][] = [
      ["alice has the IdP revoke the delegation", (s) => s.f.registry.revokeDelegation(s.d.delegationId).then((t) => t.wait())],
      [
        "the IdP revokes alice's MIT (her key reported stolen)",
        (s) => s.f.registry.revokeMIT(toHex(s.alice.mit!.serial)).then((t) => t.wait()),
      ],
    ];
    for (const [what, end] of ENDS) {
      it(`${what}; seeing it mined, her AI and mallory make a handshake dated 60 s AFTER it and have it stamped before the next block: alice is not traced`, async () => {
        const s = await story();
        await end(s);
        const endedAt = await time.latest();
        expect(await s.f.registry.isVerified(toHex(s.d.credential.avatarId))).to.equal(false); // honest peers refuse fox now
        await s.sync(); // the platform's clock: the earliest time of the block after the one that ended the delegation
        // made after the end, dated after it (within CHALLENGE_TTL of the receipt), stamped now
        const e = stampEvidence(s.ctx, await colludedEvidence(s, endedAt + 60));
        expect(e.receipt!.time).to.equal(endedAt + 1);
        expect(e.message.time).to.be.greaterThan(endedAt);
        // the AI acted after its authority ended, openly dated after it: alice must not answer for it
        expect(await reasonOf(trace(s.ctx, s.reporter, e))).to.equal("NOT_DRIVER");
      });
      it(`${what}; evidence stamped just before it was mined (the platform's clock then is the end's block time at most) still traces to alice`, async () => {
        const s = await story();
        await s.sync();
        const e = stampEvidence(s.ctx, await colludedEvidence(s, (await time.latest()) + 1));
        await end(s);
        const endedAt = await time.latest();
        expect(e.receipt!.time).to.be.at.most(endedAt); // stamped before the end was mined: the receipt's time is no later than its block's
        await s.sync();
        expect(await reasonOf(trace(s.ctx, s.reporter, e))).to.equal("accepted");
      });
    }

    it("the IdP service's receipt, made before the next block, carries the latest block's time + 1", async () => {
      const s = await story();
      const made = await colludedEvidence(s, (await time.latest()) + 1);
      // without its session (stamped by any platform): the receipt's clock is all this checks
      const e: Evidence = { ...made, handshake: undefined };
      const sys = await idpSystem("s24rta-r2");
      const { svc, info } = await startIdp(sys);
      try {
        await (await sys.f.msrp.sendTransaction({ to: sys.f.msrp.address, value: 0n })).wait(); // a block ends something
        const minedAt = await time.latest();
        const stamped = await stampRemote({ idp: info, dep: sys.dep, evidence: e });
        expect(stamped.receipt!.time).to.equal(minedAt + 1);
      } finally {
        await svc.stop();
      }
    });
  });

  describe("R3: a reporter's trace whose verdict the chain refuses still marks the evidence traced in the IdP's keystore", () => {
    /** A registry whose COURT_ROLE is a contract the test speaks for (as court-duplicate-trace.test.ts does). */
    async function courtFixture() {
      const [idpAccount, ...others] = await ethers.getSigners();
      const registry = (await (await ethers.getContractFactory("MITRegistry")).deploy(idpAccount.address)) as unknown as MITRegistry;
      const stand = await (await ethers.getContractFactory("BloomFilterMock")).deploy();
      await registry.grantRole(await registry.COURT_ROLE(), await stand.getAddress());
      const court = await ethers.getImpersonatedSigner(await stand.getAddress());
      await setBalance(court.address, 10n ** 20n);
      const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-s24rta-")));
      return { registry, court, store, others };
    }

    /** alice's AI and bob authenticate; e is bob's evidence about alice's avatar, and bob (the claimant) reports it. */
    async function evidenceStory() {
      const f = await loadFixture(courtFixture);
      const idp = new IdentityProvider();
      let clock = (await time.latest()) + 1;
      const ctx: AvatarContext = { registry: f.registry, idp, store: f.store, now: () => clock };
      const sync = async () => {
        clock = (await time.latest()) + 1;
      };
      const eyes = { alice: new SimulatedEye(351), bob: new SimulatedEye(352) };
      const alice = new AvatarParty("alice");
      const bob = new AvatarParty("bob");
      const ai = new AvatarParty("alice-ai");
      await issueUserMit(ctx, alice, "Alice Liddell", eyes.alice);
      await issueUserMit(ctx, bob, "Bob Builder", eyes.bob);
      await issueProxyMit(ctx, ai, "alice's assistant");
      const server = new ChallengeBook();
      await sync();
      await login(ctx, server, alice, eyes.alice, { avatarId: avatarIdOf(alice.mit!.serial, "fox"), appearance: "fox" });
      await sync();
      const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarIdOf(bob.mit!.serial, "whale"), appearance: "whale" });
      await sync();
      const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: avatarIdOf(alice.mit!.serial, "fox") });
      await sync();
      const e = (await mutualAuth(ctx, { credential: d.credential, driver: ai }, { credential: lb.credential, driver: bob }))
        .evidenceAboutA;
      const claimant = f.others[3];
      return { f, idp, ctx, e, claimant, reporter: f.registry.connect(claimant), key: tracedEvidenceKey(e) };
    }
    const slotsJson = (idp: IdentityProvider, key: Uint8Array) =>
      JSON.stringify([idp.tracedCasesOf(key), idp.tracingCasesOf(key)], (_k, v) => (typeof v === "bigint" ? v.toString() : v));

    it("the claimant's dispute claims the case between the IdP's read and its recordVerdict: the write reverts, and the keystore keeps no 'traced in case #N' (nor the verdict's opening), so after the court dismisses N a reporter's case on the evidence is traced", async () => {
      const { f, idp, ctx, e, claimant, reporter, key } = await evidenceStory();
      // bob files the case, and opens his dispute on it; the IdP judges the case meanwhile (anyone
      // may post the evidence to /v1/trace: alice, who holds the same evidence, does) and its
      // recordVerdict is mined after the court's bindCase
      const first = (await requestTrace(reporter, e)).caseId;
      const saved: string[] = [];
      const racing: AvatarContext = {
        ...ctx,
        beforeSend: async (step) => {
          if (step.kind === "recordVerdict")
            await (await f.registry.connect(f.court).bindCase(first, 1n, claimant.address, toHex(e.avatarId))).wait();
        },
        afterSend: (_step, outcome) => {
          saved.push(outcome);
        },
      };
      const before = slotsJson(idp, key);
      const verdicts = JSON.stringify(idp.toRecord().verdicts);
      await expect(judgeTrace(racing, first, e)).to.be.rejected; // the chain refuses the verdict (AwaitingCourt)
      expect(Number((await f.registry.traceCase(first)).status)).to.equal(TraceStatus.AwaitingCourt);
      // a refused write changes nothing in the IdP's record, and the caller is told to save it again
      expect(slotsJson(idp, key)).to.equal(before, "the keystore records a trace the chain refused");
      expect(JSON.stringify(idp.toRecord().verdicts)).to.equal(verdicts, "the opening of a verdict never recorded is kept");
      expect(saved).to.deep.equal(["refused"]);
      // the court dismisses bob's claim: case N is closed untraced
      await (await f.registry.connect(f.court).courtRuling(first, 1n, false)).wait();
      expect(Number((await f.registry.traceCase(first)).status)).to.equal(TraceStatus.Dismissed);
      // ...so bob's own (reporter's) case on the evidence, never traced, is judged
      const second = (await requestTrace(reporter, e)).caseId;
      await judgeTrace(ctx, second, e);
      expect(Number((await f.registry.traceCase(second)).status)).to.equal(TraceStatus.InteractionTraced);
      expect(idp.tracedCasesOf(key).reporter).to.equal(second);
    });

    it("a retry refused only because the first send was mined meanwhile (its reply lost) keeps the slot final: the chain shows the case traced (s24-review M)", async () => {
      const { f, idp, ctx, e, reporter, key } = await evidenceStory();
      const first = (await requestTrace(reporter, e)).caseId;
      // the first send leaves, but its caller sees a node error and no receipt: the slot stays pending
      // (the transaction is held here, as a node's pool holds it, and mined during the retry)
      let held: Parameters<typeof f.registry.recordVerdict> | undefined;
      const lost: AvatarContext = {
        ...ctx,
        registry: new Proxy(f.registry, {
          get(t, k) {
            if (k === "recordVerdict")
              return async (...a: Parameters<typeof f.registry.recordVerdict>) => {
                held = a;
                throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
              };
            const v = Reflect.get(t, k, t) as unknown;
            return typeof v === "function" ? (v as (...x: unknown[]) => unknown).bind(t) : v;
          },
        }),
      };
      await expect(judgeTrace(lost, first, e)).to.be.rejectedWith(/socket hang up/);
      expect(idp.tracingCasesOf(key).reporter, "pending after the lost reply").to.equal(first);
      // the retry of the same case reads it Open and sends again; the first send is mined just before
      // it, so the chain refuses the retry's
      const outcomes: string[] = [];
      const retry: AvatarContext = {
        ...ctx,
        beforeSend: async () => void (await (await f.registry.recordVerdict(...held!)).wait()),
        afterSend: (_s, o) => void outcomes.push(o),
      };
      await expect(judgeTrace(retry, first, e)).to.be.rejected;
      expect(outcomes).to.deep.equal(["refused"]);
      expect(Number((await f.registry.traceCase(first)).status)).to.equal(TraceStatus.InteractionTraced);
      // the slot is final, not dropped: another reporter's case on the evidence is a duplicate
      expect(idp.tracedCasesOf(key).reporter, "the traced case's slot was dropped").to.equal(first);
      const second = (await requestTrace(reporter, e)).caseId;
      await expect(judgeTrace(ctx, second, e)).to.be.rejectedWith(/traced already in case/);
    });

    it("a keystore written before the fix (the slot final before the refused write) is healed: the slot's case is not traced on-chain (dismissed), so a reporter's case on the evidence is traced", async () => {
      const { f, idp, ctx, e, claimant, reporter, key } = await evidenceStory();
      const first = (await requestTrace(reporter, e)).caseId;
      await (await f.registry.connect(f.court).bindCase(first, 1n, claimant.address, toHex(e.avatarId))).wait();
      // what the old judgeTrace left after its write was refused: "traced in case #first"
      idp.recordTraced(key, first, "reporter");
      const restored = IdentityProvider.fromRecord(idp.toRecord());
      const ctx2: AvatarContext = { ...ctx, idp: restored };
      await (await f.registry.connect(f.court).courtRuling(first, 1n, false)).wait(); // dismissed
      const second = (await requestTrace(reporter, e)).caseId;
      await judgeTrace(ctx2, second, e);
      expect(Number((await f.registry.traceCase(second)).status)).to.equal(TraceStatus.InteractionTraced);
      expect(slotsJson(restored, key)).to.equal(JSON.stringify([{ reporter: second.toString() }, {}]));
    });

    it("crash-safety: the slot saved before the write is pending; after a crash the chain's status decides it (mined: final; never sent: that case is rerun first; refused since: dropped)", async () => {
      const { f, idp, ctx, e, claimant, reporter, key } = await evidenceStory();
      // (a) killed after saving, before sending: the keystore holds case A pending, A stays Open
      const A = (await requestTrace(reporter, e)).caseId;
      let kept: Record<string, unknown> = {};
      const crashBefore: AvatarContext = {
        ...ctx,
        beforeSend: () => {
          kept = idp.toRecord();
          throw new Error("killed");
        },
      };
      await expect(judgeTrace(crashBefore, A, e)).to.be.rejectedWith("killed");
      const restarted = IdentityProvider.fromRecord(kept);
      expect(restarted.tracingCasesOf(key).reporter).to.equal(A);
      expect(restarted.tracedCasesOf(key).reporter).to.equal(undefined);
      const ctx2: AvatarContext = { ...ctx, idp: restarted };
      // another reporter's case B on the same evidence waits for A (its write might yet land)...
      const B = (await requestTrace(f.registry.connect(f.others[4]), e)).caseId;
      expect(await reasonOf(judgeTrace(ctx2, B, e))).to.equal("DUPLICATE_EVIDENCE");
      expect(Number((await f.registry.traceCase(B)).status)).to.equal(TraceStatus.Open);
      // ...A's rerun traces it, and B is then a duplicate of A, named
      await judgeTrace(ctx2, A, e);
      expect(restarted.tracedCasesOf(key).reporter).to.equal(A);
      expect(slotsJson(restarted, key)).to.equal(JSON.stringify([{ reporter: A.toString() }, {}]));
      await expect(judgeTrace(ctx2, B, e)).to.be.rejectedWith(`traced already in case #${A}`);
      // (b) killed after the write was mined, before the final save: the record still says pending
      const C = (await requestTrace(reporter, e)).caseId;
      await (await f.registry.connect(f.court).bindCase(C, 2n, claimant.address, toHex(e.avatarId))).wait();
      await (await f.registry.connect(f.court).courtRuling(C, 2n, true)).wait(); // upheld: the court's slot
      let pendingRecord: Record<string, unknown> = {};
      await judgeTrace({ ...ctx2, afterSend: () => undefined, beforeSend: () => void (pendingRecord = restarted.toRecord()) }, C, e);
      expect(Number((await f.registry.traceCase(C)).status)).to.equal(TraceStatus.CourtTraced);
      const again = IdentityProvider.fromRecord(pendingRecord);
      expect(again.tracingCasesOf(key).court).to.equal(C);
      // a later court case on the evidence reads C's status: mined, so C is final and the new case a duplicate
      const D = (await requestTrace(reporter, e)).caseId;
      await (await f.registry.connect(f.court).bindCase(D, 3n, claimant.address, toHex(e.avatarId))).wait();
      await (await f.registry.connect(f.court).courtRuling(D, 3n, true)).wait();
      expect(await reasonOf(judgeTrace({ ...ctx2, idp: again }, D, e))).to.equal("DUPLICATE_EVIDENCE");
      expect(again.tracedCasesOf(key).court).to.equal(C);
      expect(again.tracingCasesOf(key).court).to.equal(undefined);
    });
  });
});
