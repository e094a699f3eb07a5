/**
 * A pending MSSA registration whose verifier left the place (issue 19 leftover, session 11): the
 * verifying authority was killed between its proposal on-chain and its reply, and the place's
 * operator then removed it from the place. The user's retry used to start a fresh session, which
 * the ledger refuses (PendingExists) until the pending one is cancelled or expires (7 days). Now
 * the place's current authorities that verified the same session take it over (each approves the
 * proposal on-chain; the approval of the authority that left does not count); when none can, the
 * user cancels it on-chain and registers afresh; when she cannot (no gas), she is told which
 * registration and why, and nothing changes. And an authority removed from the place (which deletes
 * its endpoint) and added back announces its endpoint again without a restart.
 */
import { expect } from "chai";
import hre from "hardhat";
import { Wallet } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deploySystemFixture } from "../fixtures/system";
import { funded, tmp } from "../helpers/rsms-services";
import { devKey, placeDeps } from "../helpers/mssa-services";
import { Keystore } from "../../offchain/storage/keystore";
import { placeId } from "../../offchain/mssa/registration";
import { AuthorityService, authorityRecord, importPlaceKey } from "../../offchain/services/mssa/authority-service";
import { registerRemote, userRecord, type MssaDeployment } from "../../offchain/services/mssa/clients";
import { onFault } from "../../offchain/services/faults";
import { CredentialLedger__factory } from "../../typechain-types";

const ONCE = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("services/mssa: a pending registration whose verifier left the place", function () {
  this.timeout(180_000);
  let dep: MssaDeployment;
  let au: Wallet[];
  let address: string;
  const services: AuthorityService[] = [];

  before(async () => {
    const f = await loadFixture(deploySystemFixture);
    address = f.deployment.contracts.CredentialLedger.address;
    au = [1, 2, 3].map((i) => devKey(i).connect(hre.ethers.provider) as unknown as Wallet);
    dep = {
      chainId: (await hre.ethers.provider.getNetwork()).chainId,
      ledger: CredentialLedger__factory.connect(address, hre.ethers.provider),
    };
  });
  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    for (const s of services) await s.stop();
  });

  const operator = async () => CredentialLedger__factory.connect(address, (await hre.ethers.getSigners())[0]);
  const proposed = async (place: string, who: string) =>
    (await dep.ledger.queryFilter(dep.ledger.filters.RegistrationProposed(undefined, placeId(place), who))).length;

  /**
   * A place of `n` authorities (k = 2), their services, and a registration of a fresh user left
   * pending by the verifier's crash after its proposal; then the operator removes the verifier
   * (authority 0) from the place (the others stay; k = 1 when one is left).
   */
  async function pendingWithVerifierGone(place: string, user: Wallet, n = 2) {
    const { deps, services: mine } = await placeWithServices(place, undefined, n);
    const ks = new Keystore(tmp("left-user"), "");
    const infos = [`mail:${place}@example.org`, `passport:UTO:${place}`];
    process.env.METATRUST_FAULT = "authority:after-propose";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    try {
      await expect(registerRemote({ place, user, infos, dep, keystore: ks, retry: ONCE })).to.be.rejectedWith(
        /crash at authority:after-propose/,
      );
    } finally {
      delete process.env.METATRUST_FAULT;
      onFault(undefined);
    }
    const rec = ks.load(userRecord(place, user.address)) as { id: string; session: string; verifier: string; pending: boolean };
    expect([rec.pending, rec.verifier]).to.deep.equal([true, au[0].address]);
    expect((await dep.ledger.registration(rec.id)).status).to.equal(1n);
    const rest = au.slice(1, n).map((w) => w.address);
    await (await (await operator()).setPlace(placeId(place), rest, Math.min(2, rest.length))).wait();
    return { ks, infos, rec, deps, services: mine };
  }

  /** A place of the first `n` authorities (k = 2) and their services (checking their endpoint every `announceMs` when given). */
  async function placeWithServices(place: string, announceMs?: number, n = 2) {
    const logs: string[] = [];
    const { placeKey, deps } = await placeDeps(address, place, au.slice(0, n), {
      tag: "left",
      ...(announceMs ? { announceMs } : {}),
      log: (line: string) => void logs.push(line),
    });
    const mine: AuthorityService[] = [];
    const urls: string[] = [];
    for (const d of deps) {
      importPlaceKey(d.keystore, place, placeKey);
      const s = new AuthorityService(d);
      urls.push((await s.start({ port: 0 })).url);
      mine.push(s);
      services.push(s);
    }
    return { deps, services: mine, urls, logs };
  }

  it("the place's remaining authority, which verified the same session, takes it over: the same registration is granted, no second proposal", async () => {
    const u = new Wallet(Wallet.createRandom().privateKey); // no gas: she only signs
    const { ks, infos, rec } = await pendingWithVerifierGone("PL-left-1", u);
    const r = await registerRemote({ place: "PL-left-1", user: u, infos, dep, keystore: ks, retry: ONCE });
    expect([r.resumed, r.session, r.outcome.id, r.outcome.granted]).to.deep.equal([true, rec.session, rec.id, true]);
    expect(await dep.ledger.access(u.address, placeId("PL-left-1"))).to.deep.equal([true, rec.id]);
    expect(await proposed("PL-left-1", u.address)).to.equal(1);
    expect((ks.load(userRecord("PL-left-1", u.address)) as { pending: boolean }).pending).to.equal(false);
  });

  it("when no current authority verified that session, the user cancels it on-chain and registers afresh: one grant", async () => {
    const u = await funded();
    const { ks, infos, rec, deps, services: mine } = await pendingWithVerifierGone("PL-left-2", u);
    // authority 1 forgets the session (as an authority that joined the place since would not know it)
    await mine[1].stop();
    const a1 = deps[1].keystore.load(authorityRecord("PL-left-2")) as { verified: Record<string, unknown> };
    deps[1].keystore.update(authorityRecord("PL-left-2"), { ...a1, verified: {} });
    const restarted = new AuthorityService(deps[1]);
    await restarted.start({ port: 0 });
    services.push(restarted);
    const r = await registerRemote({ place: "PL-left-2", user: u, infos, dep, keystore: ks, retry: ONCE });
    expect([r.resumed, r.outcome.granted]).to.deep.equal([false, true]);
    expect(r.session).to.not.equal(rec.session);
    expect((await dep.ledger.registration(rec.id)).status).to.equal(4n); // Cancelled, by its user
    expect(await dep.ledger.access(u.address, placeId("PL-left-2"))).to.deep.equal([true, r.verified.id]);
    expect(await proposed("PL-left-2", u.address)).to.equal(2);
  });

  it("when she cannot cancel it either (no gas), she is told which registration and why; nothing changes", async () => {
    const u = new Wallet(Wallet.createRandom().privateKey);
    const { ks, infos, rec, deps, services: mine } = await pendingWithVerifierGone("PL-left-3", u);
    await mine[1].stop();
    const a1 = deps[1].keystore.load(authorityRecord("PL-left-3")) as { verified: Record<string, unknown> };
    deps[1].keystore.update(authorityRecord("PL-left-3"), { ...a1, verified: {} });
    const restarted = new AuthorityService(deps[1]);
    await restarted.start({ port: 0 });
    services.push(restarted);
    const head = await dep.ledger.head();
    const before = JSON.stringify(ks.load(userRecord("PL-left-3", u.address)));
    await expect(registerRemote({ place: "PL-left-3", user: u, infos, dep, keystore: ks, retry: ONCE })).to.be.rejectedWith(
      new RegExp(
        `^registerRemote: registration ${rec.id} at PL-left-3 is pending under ${au[0].address}, no longer a sitting authority of the place`,
      ),
    );
    expect((await dep.ledger.registration(rec.id)).status).to.equal(1n);
    expect(await dep.ledger.head()).to.deep.equal(head);
    expect(JSON.stringify(ks.load(userRecord("PL-left-3", u.address)))).to.equal(before);
    expect(await proposed("PL-left-3", u.address)).to.equal(1);
  });

  it("an authority removed from the place and added back announces its endpoint again, without a restart; nothing is sent while it is out", async () => {
    const { urls, logs } = await placeWithServices("PL-back", 100);
    const endpoint = () => dep.ledger.authorityEndpoint(placeId("PL-back"), au[0].address);
    const sent = async () =>
      (await dep.ledger.queryFilter(dep.ledger.filters.AuthorityEndpointSet(placeId("PL-back"), au[0].address))).length;
    expect(await endpoint()).to.equal(urls[0]);
    const started = logs.length; // the two announcements at start
    await (await (await operator()).setPlace(placeId("PL-back"), [au[1].address], 1)).wait();
    expect(await endpoint()).to.equal(""); // removed: the ledger deleted it
    const before = await sent();
    await new Promise((r) => setTimeout(r, 500)); // five checks while it is out
    expect(await sent()).to.equal(before);
    expect(logs.slice(started), "while out, it tries nothing").to.deep.equal([]);
    await (await (await operator()).setPlace(placeId("PL-back"), [au[0].address, au[1].address], 2)).wait();
    for (let i = 0; i < 100 && (await endpoint()) !== urls[0]; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await endpoint()).to.equal(urls[0]);
    expect(await sent()).to.equal(before + 1);
    expect(logs.slice(started).filter((l) => /endpoint/.test(l))).to.deep.equal([
      `place PL-back: endpoint ${urls[0]} announced on-chain again (back in the place)`,
    ]);
    // users find it again: a registration at the place (both authorities, k = 2) goes through
    const u = new Wallet(Wallet.createRandom().privateKey);
    const r = await registerRemote({
      place: "PL-back",
      user: u,
      infos: ["mail:back@example.org", "passport:UTO:BACK"],
      dep,
      keystore: new Keystore(tmp("back-user"), ""),
      retry: ONCE,
    });
    expect([r.outcome.granted, r.outcome.approvals]).to.deep.equal([true, 2]);
  });

  it("the endpoint check reads membership and endpoint at one block: a removal mined between its reads, or before its send, sends nothing and reports nothing", async () => {
    // the interleaving of session 13's flake, injected: the operator's removal is mined while the
    // check is between its membership read and its endpoint read (then between its reads and its send)
    const { deps, services: mine, urls, logs } = await placeWithServices("PL-race");
    const ledger = deps[0].ledger as unknown as Record<string, unknown>;
    const remove = async () => (await (await operator()).setPlace(placeId("PL-race"), [au[1].address], 1)).wait();
    const addBack = async () => (await (await operator()).setPlace(placeId("PL-race"), [au[0].address, au[1].address], 2)).wait();
    const endpointOf = ledger.authorityEndpoint as (...a: unknown[]) => Promise<string>;
    const started = logs.length;
    ledger.authorityEndpoint = async (...a: unknown[]) => {
      await remove();
      return endpointOf(...a);
    };
    try {
      expect(await mine[0].reannounce().catch((e: Error) => e.message.split("\n")[0])).to.equal(false);
    } finally {
      delete ledger.authorityEndpoint;
    }
    expect(await dep.ledger.authorityEndpoint(placeId("PL-race"), au[0].address)).to.equal("");
    // back in the place, its endpoint gone: the next check would send; the removal is mined first
    await addBack();
    const setEndpoint = ledger.setAuthorityEndpoint as (...a: unknown[]) => Promise<unknown>;
    ledger.setAuthorityEndpoint = async (...a: unknown[]) => {
      await remove();
      return setEndpoint(...a);
    };
    try {
      expect(await mine[0].reannounce().catch((e: Error) => e.message.split("\n")[0])).to.equal(false);
    } finally {
      delete ledger.setAuthorityEndpoint;
    }
    expect(logs.slice(started), "nothing reported: the refusal was the removal's").to.deep.equal([]);
    // and with nothing in between, back in the place, it announces again
    await addBack();
    expect(await mine[0].reannounce()).to.equal(true);
    expect(await dep.ledger.authorityEndpoint(placeId("PL-race"), au[0].address)).to.equal(urls[0]);
  });

  it("with three authorities (k = 2), the first remaining one completes it: it asks the other while the approval of the one that left does not count", async () => {
    const u = new Wallet(Wallet.createRandom().privateKey);
    const { ks, infos, rec } = await pendingWithVerifierGone("PL-left-4", u, 3);
    const r = await registerRemote({ place: "PL-left-4", user: u, infos, dep, keystore: ks, retry: ONCE });
    expect([r.resumed, r.outcome.id, r.outcome.granted, r.outcome.approvals]).to.deep.equal([true, rec.id, true, 3]);
    // granted through the first remaining authority: it did not stop at 2 approvals, one of them stale
    expect((ks.load(userRecord("PL-left-4", u.address)) as { verifier: string }).verifier).to.equal(au[1].address);
    const stale = await dep.ledger.queryFilter(dep.ledger.filters.ApprovalsStale(rec.id));
    expect(stale.map((e) => [Number(e.args[1]), Number(e.args[2])])).to.deep.equal([[2, 1]]);
  });
});
