/**
 * Red team h12-red2 finding A1 (MEDIUM, fixed in session 13; docs/specs/avatars.md "Recovery judges
 * the whole record"): a revoked delegation revived by recovery.
 *
 * S1's fix judged a journaled login or delegation intent by the avatar's on-chain *warrant* alone,
 * and `MITRegistry.revokeDelegation` ends a delegation without changing the warrant (it sets the
 * driver to None and keeps warrantHash). Bob delegates to bot1 (recorded), asks for bot2 instead;
 * the IdP journals the intent and its chain write is lost. Then bob's delegation is taken back
 * (`avatar:revoke --avatar`). At the IdP's next start the warrant was still bot1's, so the intent
 * was not "superseded": recovery recorded bob's stale delegation and bot2 drove his avatar after the
 * revocation. Anyone who can drop the IdP's connection to its node for one write got this.
 *
 * Guard: the intent keeps the avatar's whole record (owner, driver serial, driver, updatedAt,
 * notAfter, warrant, VID commitment) and its active delegation id; recovery sends the write only if
 * all of it is exactly as it was. The cases: the delegation intent after a revocation (the
 * finding), a login intent after a revocation (the same class: the warrant stayed, the record
 * moved), and a record that moved with updatedAt unchanged (two writes in one block, SIMULATED by
 * the registry's view): comparing updatedAt alone would not do.
 */
import { expect } from "chai";
import { idpSystem, issueParty } from "../helpers/idp-services";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { IdpService } from "../../offchain/services/avatars/idp-service";
import { delegateRemote, idpInfo, loginRemote } from "../../offchain/services/avatars/clients";
import type { MITRegistry } from "../../typechain-types";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
const ZERO = "0x" + "00".repeat(32);

describe("services/avatars: recovery sends a journaled intent only onto the record it was journaled on (h12-red2 A1)", function () {
  this.timeout(180_000);
  let svc: IdpService | undefined;
  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
  });

  /**
   * An IdP whose next call of `fail` (recordLogin or recordDelegation) is lost (SIMULATED: the node
   * connection drops after the intent is journaled), bob (logged in, his avatar delegated to bot1),
   * and bot2.
   */
  async function bobDelegatedToBot1(name: string, seed: number) {
    const s = await idpSystem(name);
    const real = s.deps.registry;
    let fail: string | undefined;
    const registry = new Proxy(real, {
      get(t, k, r) {
        if (k === fail) {
          fail = undefined;
          return async () => {
            throw new Error(`connection lost before ${String(k)}`);
          };
        }
        return Reflect.get(t, k, r) as unknown;
      },
    }) as MITRegistry;
    svc = new IdpService({ ...s.deps, registry });
    const url = (await svc.start({ port: 0 })).url;
    const info = await idpInfo(url, s.dep);
    const eye = new SimulatedEye(seed);
    const issue = (who: string, kind: "user" | "proxy", label: string) => issueParty(s, info, who, kind, label, eye);
    const bob = await issue("bob", "user", "Bob B.");
    const bot1 = await issue("bot1", "proxy", "bot1 operator");
    const bot2 = await issue("bot2", "proxy", "bot2 operator");
    const avatar = avatarIdOf(bob.mit!.serial, "B");
    const login = (appearance: string) =>
      loginRemote({ idp: info, dep: s.dep, user: bob, sample: () => eye.capture(), avatarId: avatar, appearance, retry: once });
    const delegate = (proxy: typeof bot1) =>
      delegateRemote({ idp: info, dep: s.dep, user: bob, sample: () => eye.capture(), proxy, avatarId: avatar, retry: once });
    await login("b");
    await delegate(bot1);
    const onChain = async () => s.dep.registry.avatar(toHex(avatar));
    expect((await onChain()).driverSerial).to.equal(toHex(bot1.mit!.serial));
    /** the next `what` is lost after its intent is journaled; the caller's error message */
    const lose = async (what: "recordLogin" | "recordDelegation", run: () => Promise<unknown>) => {
      fail = what;
      return run().then(
        () => "done",
        (e: Error) => e.message,
      );
    };
    /** the delegation taken back (avatar:revoke --avatar: the IdP's key) */
    const revoke = async () => (await real.revokeDelegation(await real.activeDelegation(toHex(avatar)))).wait();
    /** the IdP restarts (recovery runs before it serves), with `registry` in place of the real one if given */
    const restart = async (reg: MITRegistry = real) => {
      await svc!.stop();
      const logs: string[] = [];
      svc = new IdpService({ ...s.deps, registry: reg, log: (l) => logs.push(l) });
      await svc.start({ port: Number(new URL(url).port) });
      return logs;
    };
    return { s, real, bob, bot1, bot2, avatar, login, delegate, onChain, lose, revoke, restart };
  }

  it("bob delegates to bot1, asks for bot2 (lost write), the delegation is revoked, the IdP restarts: no proxy drives", async () => {
    const t = await bobDelegatedToBot1("idp-revoked-intent", 47);
    expect(await t.lose("recordDelegation", () => t.delegate(t.bot2))).to.match(/connection lost before recordDelegation/);
    await t.revoke();
    expect((await t.onChain()).driverSerial).to.equal(ZERO);
    const logs = await t.restart();
    const now = await t.onChain();
    expect(
      { driverSerial: now.driverSerial, activeDelegation: await t.real.activeDelegation(toHex(t.avatar)) },
      "recovery re-installed a delegation after it was revoked",
    ).to.deep.equal({ driverSerial: ZERO, activeDelegation: 0n });
    expect(svc!.stalledIntents()).to.deep.equal({});
    expect(
      logs.some((l) => /recordDelegation .* superseded/.test(l)),
      logs.join("\n"),
    ).to.equal(true);
  });

  it("bob's login while bot1 drives is lost, the delegation is revoked, the IdP restarts: the stale login is dropped, nothing sent", async () => {
    const t = await bobDelegatedToBot1("idp-revoked-login", 53);
    const before = await t.onChain();
    expect(await t.lose("recordLogin", () => t.login("again"))).to.match(/connection lost before recordLogin/);
    await t.revoke();
    const revoked = await t.onChain();
    // the warrant stayed bot1's delegation's: S1's check saw nothing
    expect(revoked.warrantHash).to.equal(before.warrantHash);
    const logs = await t.restart();
    const now = await t.onChain();
    expect(
      { driver: now.driver, driverSerial: now.driverSerial, warrantHash: now.warrantHash, updatedAt: now.updatedAt },
      "recovery sent a login journaled before the revocation",
    ).to.deep.equal({ driver: revoked.driver, driverSerial: ZERO, warrantHash: revoked.warrantHash, updatedAt: revoked.updatedAt });
    expect(
      logs.some((l) => /recordLogin .* superseded/.test(l)),
      logs.join("\n"),
    ).to.equal(true);
    // bob logs in afresh: his own new decision is recorded
    await t.login("fresh");
    expect((await t.onChain()).driverSerial).to.equal(toHex(t.bob.mit!.serial));
  });

  it("the record moved but its updatedAt did not (two writes in one block, SIMULATED): the intent is dropped all the same", async () => {
    const t = await bobDelegatedToBot1("idp-same-block", 59);
    const journaled = await t.onChain();
    expect(await t.lose("recordDelegation", () => t.delegate(t.bot2))).to.match(/connection lost before recordDelegation/);
    await t.revoke();
    // the registry's view reports the revoked record with the updatedAt it had when the intent was
    // journaled, as a revocation mined in the same block as the last change would leave it
    const real = t.real;
    const sameBlock = new Proxy(real, {
      get(o, k, r) {
        if (k === "avatar")
          return async (id: string) => {
            const a = await real.avatar(id);
            return {
              owner: a.owner,
              driverSerial: a.driverSerial,
              driver: a.driver,
              updatedAt: journaled.updatedAt,
              notAfter: a.notAfter,
              warrantHash: a.warrantHash,
              vidCommitment: a.vidCommitment,
            };
          };
        return Reflect.get(o, k, r) as unknown;
      },
    }) as MITRegistry;
    expect((await sameBlock.avatar(toHex(t.avatar))).updatedAt).to.equal(journaled.updatedAt);
    const logs = await t.restart(sameBlock);
    expect((await t.onChain()).driverSerial, "recovery re-installed the revoked delegation").to.equal(ZERO);
    expect(
      logs.some((l) => /superseded/.test(l)),
      logs.join("\n"),
    ).to.equal(true);
  });
});
