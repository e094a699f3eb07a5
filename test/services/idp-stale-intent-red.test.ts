/**
 * Red team h12-red finding S1 (MEDIUM): a login whose chain write never happened is finished by
 * recovery after a newer login of the same avatar, and takes the avatar back to the older warrant.
 *
 * The IdP journals a login (or delegation) before its `recordLogin` and finishes a pending intent
 * at start-up, or in the background when that fails (StalledIntents): it sent the write whenever
 * the chain had no login with that warrant. But the avatar may have moved on meanwhile: the user
 * logged in again (a fresh challenge, a new warrant), or delegated to another proxy, or took a
 * delegation back. Finishing the old intent then overwrote the avatar's current warrant with the
 * older one (`recordLogin` replaces the avatar's record and ends any delegation): the live session
 * is STALE_WARRANT for every peer, and for a delegation the owner's replacement of a proxy is undone
 * (the replaced proxy drives again). Anyone who can make the IdP's one chain write fail (a dropped
 * connection to its node) and wait for a restart gets this. Paper property: the avatar's current
 * warrant is the owner's latest login or delegation (§V-A; tracing relies on it).
 * Fix: the intent keeps the avatar's on-chain warrant as it was before the write; recovery sends
 * the write only if it is still that (else the intent is superseded and dropped, nothing sent).
 */
import { expect } from "chai";
import { idpSystem, issueParty } from "../helpers/idp-services";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { IdpService } from "../../offchain/services/avatars/idp-service";
import { delegateRemote, idpInfo, loginRemote } from "../../offchain/services/avatars/clients";
import type { MITRegistry } from "../../typechain-types";
import { onFault } from "../../offchain/services/faults";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("services/avatars: a login intent finished after a newer login does not take the avatar back (h12-red S1)", function () {
  this.timeout(120_000);
  let svc: IdpService | undefined;

  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    await svc?.stop();
  });

  it("bob's login fails before its chain write, he logs in again, the IdP restarts: the avatar keeps the newer warrant", async () => {
    const s = await idpSystem("idp-stale");
    svc = new IdpService(s.deps);
    const url = (await svc.start({ port: 0 })).url;
    const info = await idpInfo(url, s.dep);
    const eye = new SimulatedEye(41);
    const bob = await issueParty(s, info, "bob", "user", "Bob B.", eye);
    const avatar = avatarIdOf(bob.mit!.serial, "B");
    const login = (appearance: string) =>
      loginRemote({ idp: info, dep: s.dep, user: bob, sample: () => eye.capture(), avatarId: avatar, appearance, retry: once });
    // the first login's chain write fails after its intent is journaled (the node connection lost)
    process.env.METATRUST_FAULT = "idp:before-chain-write";
    onFault((p) => {
      throw new Error(`connection lost at ${p}`);
    });
    const failed = await login("first").then(
      () => "logged in",
      (e: Error) => e.message,
    );
    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    expect(failed).to.match(/connection lost at idp:before-chain-write/);
    // bob logs in again: a fresh challenge, a new warrant, recorded
    const second = await login("second");
    const current = async () => (await s.dep.registry.avatar(toHex(avatar))).warrantHash;
    expect(await current()).to.equal(toHex(second.ack.h));
    // the IdP restarts: recovery finds the first login's intent
    await svc.stop();
    const logs: string[] = [];
    svc = new IdpService({ ...s.deps, log: (l) => logs.push(l) });
    await svc.start({ port: Number(new URL(url).port) });
    expect(await current(), "recovery took the avatar back to the older warrant").to.equal(toHex(second.ack.h));
    expect(svc.stalledIntents()).to.deep.equal({});
    expect(
      logs.some((l) => /superseded/.test(l)),
      logs.join("\n"),
    ).to.equal(true);
  });

  it("bob's delegation to bot1 fails before its chain write, he delegates to bot2 instead, the IdP restarts: bot2 still drives", async () => {
    await svc?.stop();
    const s = await idpSystem("idp-stale-d");
    // the node connection is lost on the first recordDelegation (SIMULATED), after its intent is journaled
    const real = s.deps.registry;
    let failNext = false;
    const registry = new Proxy(real, {
      get(t, k, r) {
        if (k === "recordDelegation" && failNext) {
          failNext = false;
          return async () => {
            throw new Error("connection lost before recordDelegation");
          };
        }
        return Reflect.get(t, k, r) as unknown;
      },
    }) as MITRegistry;
    svc = new IdpService({ ...s.deps, registry });
    const url = (await svc.start({ port: 0 })).url;
    const info = await idpInfo(url, s.dep);
    const eye = new SimulatedEye(43);
    const issue = (name: string, kind: "user" | "proxy", label: string) => issueParty(s, info, name, kind, label, eye);
    const bob = await issue("bob", "user", "Bob B.");
    const bot1 = await issue("bot1", "proxy", "bot1 operator");
    const bot2 = await issue("bot2", "proxy", "bot2 operator");
    const avatar = avatarIdOf(bob.mit!.serial, "B");
    await loginRemote({ idp: info, dep: s.dep, user: bob, sample: () => eye.capture(), avatarId: avatar, appearance: "b", retry: once });
    const delegate = (proxy: typeof bot1) =>
      delegateRemote({ idp: info, dep: s.dep, user: bob, sample: () => eye.capture(), proxy, avatarId: avatar, retry: once });
    failNext = true;
    const failed = await delegate(bot1).then(
      () => "delegated",
      (e: Error) => e.message,
    );
    expect(failed).to.match(/connection lost before recordDelegation/);
    const second = await delegate(bot2);
    const onChain = async () => s.dep.registry.avatar(toHex(avatar));
    expect((await onChain()).driverSerial).to.equal(toHex(bot2.mit!.serial));
    await svc.stop();
    svc = new IdpService(s.deps);
    await svc.start({ port: Number(new URL(url).port) });
    const now = await onChain();
    expect(now.driverSerial, "recovery gave the avatar back to the proxy bob replaced").to.equal(toHex(bot2.mit!.serial));
    expect(now.warrantHash).to.equal(toHex(second.ack.h));
  });
});
