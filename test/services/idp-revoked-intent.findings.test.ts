/**
 * Open finding (red team, session 12, h12-red2; docs/specs/avatars.md, S1's fix): recovery judges a
 * journaled delegation by the avatar's on-chain *warrant* alone, and `MITRegistry.revokeDelegation`
 * ends a delegation without changing the warrant (it sets the driver to None and keeps warrantHash).
 *
 * Bob delegates to bot1 (recorded). He asks for bot2 instead; the IdP journals the intent (prev = bot1's
 * warrant) and its chain write is lost. Then bob's delegation is taken back (`avatar:revoke --avatar`,
 * the IdP's revokeDelegation: "no proxy drives my avatar"). At the IdP's next start the warrant is still
 * bot1's, so the intent is not "superseded": recovery records bob's stale delegation and bot2 drives
 * his avatar after the revocation, the owner's latest decision undone by a retry. Anyone who can drop
 * the IdP's connection to its node for one write gets this, as for S1.
 * Proposed fix: keep (warrantHash, driver, driverSerial, activeDelegation, updatedAt) as `prev`, or
 * compare `updatedAt`, which every change of the avatar's record moves.
 * Fails while recovery re-installs the delegation after the revocation.
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

describe("services/avatars: a delegation intent finished after the delegation was taken back (open finding, h12-red2)", function () {
  this.timeout(120_000);
  let svc: IdpService | undefined;
  after(async () => {
    await svc?.stop();
  });

  it("bob delegates to bot1, asks for bot2 (lost write), the delegation is revoked, the IdP restarts: no proxy drives", async () => {
    const s = await idpSystem("idp-revoked-intent");
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
    const eye = new SimulatedEye(47);
    const issue = (name: string, kind: "user" | "proxy", label: string) => issueParty(s, info, name, kind, label, eye);
    const bob = await issue("bob", "user", "Bob B.");
    const bot1 = await issue("bot1", "proxy", "bot1 operator");
    const bot2 = await issue("bot2", "proxy", "bot2 operator");
    const avatar = avatarIdOf(bob.mit!.serial, "B");
    await loginRemote({ idp: info, dep: s.dep, user: bob, sample: () => eye.capture(), avatarId: avatar, appearance: "b", retry: once });
    const delegate = (proxy: typeof bot1) =>
      delegateRemote({ idp: info, dep: s.dep, user: bob, sample: () => eye.capture(), proxy, avatarId: avatar, retry: once });
    await delegate(bot1);
    const onChain = async () => s.dep.registry.avatar(toHex(avatar));
    expect((await onChain()).driverSerial).to.equal(toHex(bot1.mit!.serial));
    failNext = true;
    const failed = await delegate(bot2).then(
      () => "delegated",
      (e: Error) => e.message,
    );
    expect(failed).to.match(/connection lost before recordDelegation/);
    // the delegation is taken back (avatar:revoke --avatar: the IdP's key)
    await (await real.revokeDelegation(await real.activeDelegation(toHex(avatar)))).wait();
    expect((await onChain()).driverSerial).to.equal("0x" + "00".repeat(32));
    await svc.stop();
    svc = new IdpService(s.deps);
    await svc.start({ port: Number(new URL(url).port) });
    const now = await onChain();
    expect(
      { driverSerial: now.driverSerial, activeDelegation: await real.activeDelegation(toHex(avatar)) },
      "recovery re-installed a delegation after it was revoked",
    ).to.deep.equal({ driverSerial: "0x" + "00".repeat(32), activeDelegation: 0n });
  });
});
