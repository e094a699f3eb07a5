/**
 * The avatar protocol tests' shared world: the deployed system, its MITRegistry and a fresh file
 * content store (one fixture, so loadFixture reverts to one snapshot across the files that use it),
 * `reasonOf`, the reason a protocol step refused with ("accepted" when it did not refuse), and
 * `avatarWorld` / `delegatedWorld`, the protocol tests' parties (and an avatar delegated to an AI proxy),
 * and `twoLoggedIn`, two users each driving its own avatar (mutual authentication's two sides).
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { deploySystemFixture } from "../fixtures/system";
import { MITRegistry__factory } from "../../typechain-types";
import { FileContentStore } from "../../offchain/storage/content-store";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { AvatarParty, AvatarProtocolError, IdentityProvider } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import {
  avatarIdOf,
  ChallengeBook,
  delegate,
  issueProxyMit,
  issueUserMit,
  login,
  type AvatarContext,
} from "../../offchain/avatars/protocols";

export async function avatarsFixture() {
  const sys = await deploySystemFixture();
  const registry = MITRegistry__factory.connect(sys.deployment.contracts.MITRegistry.address, sys.msrp);
  const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-avatars-")));
  return { ...sys, registry, store };
}

/** The AvatarProtocolError reason `p` rejects with, or "accepted"; any other error fails the test. */
export async function reasonOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => "accepted",
    (e: unknown) => {
      expect(e).to.be.instanceOf(AvatarProtocolError);
      return (e as AvatarProtocolError).reason;
    },
  );
}

/**
 * alice and bob (users with MITs from eyes 1 and 2), an AI proxy (ai) with its MIT, a challenge book
 * (server) and the protocols' clock: it runs with the chain's, starting just after the latest block
 * wherever the tests run before left the chain's time (the chain's next block is stamped with it);
 * `setClock(t)` sets ctx.now() to t and mines up to it (unless `mine` is false).
 */
export async function avatarWorld() {
  const f = await loadFixture(avatarsFixture);
  const idp = new IdentityProvider();
  const clock = { offset: (await time.latest()) + 1_000 - Math.floor(Date.now() / 1000) };
  const ctx = { registry: f.registry, idp, store: f.store, now: () => Math.floor(Date.now() / 1000) + clock.offset };
  await time.setNextBlockTimestamp(ctx.now());
  const alice = new AvatarParty("alice");
  const bob = new AvatarParty("bob");
  const ai = new AvatarParty("ai-1");
  const eyes = { alice: new SimulatedEye(1), bob: new SimulatedEye(2) };
  await issueUserMit(ctx, alice, "Alice Liddell", eyes.alice);
  await issueUserMit(ctx, bob, "Bob Builder", eyes.bob);
  await issueProxyMit(ctx, ai, "alice's assistant service");
  const server = new ChallengeBook();
  const setClock = async (t: number, mine = true) => {
    clock.offset += t - ctx.now();
    if (mine) await time.increaseTo(ctx.now());
  };
  return { f, ctx, idp, alice, bob, ai, eyes, server, setClock };
}

/**
 * {@link avatarWorld} with alice's avatar fox delegated to the AI proxy for an hour (d, its warrant's
 * notAfter), bob logged in as whale (lb), and with `lynx` alice's avatar lynx driven by herself
 * (logged in before bob).
 */
export async function delegatedWorld(o: { lynx?: boolean } = {}) {
  const w = await avatarWorld();
  const { ctx, server, alice, bob, ai, eyes } = w;
  const fox = avatarIdOf(alice.mit!.serial, "fox");
  await login(ctx, server, alice, eyes.alice, { avatarId: fox, appearance: "fox" });
  const lynx = o.lynx
    ? await login(ctx, server, alice, eyes.alice, { avatarId: avatarIdOf(alice.mit!.serial, "lynx"), appearance: "lynx" })
    : undefined;
  const lb = await login(ctx, server, bob, eyes.bob, { avatarId: avatarIdOf(bob.mit!.serial, "whale"), appearance: "whale" });
  const d = await delegate(ctx, server, alice, eyes.alice, ai, { avatarId: fox, ttl: 3600 });
  return { ...w, fox, lb, lynx, d, notAfter: d.credential.warrant.notAfter };
}

/**
 * alice ("fox") and bob ("whale"), each logged in as the own driver of one avatar (eyes 1711, 1712),
 * under a clock just after the chain's latest block: two sides ready for mutual authentication.
 */
export async function twoLoggedIn() {
  const f = await loadFixture(avatarsFixture);
  const offset = (await time.latest()) + 1_000 - Math.floor(Date.now() / 1000);
  const ctx: AvatarContext = {
    registry: f.registry,
    idp: new IdentityProvider(),
    store: f.store,
    now: () => Math.floor(Date.now() / 1000) + offset,
  };
  await time.setNextBlockTimestamp(ctx.now());
  const [alice, bob] = [new AvatarParty("alice"), new AvatarParty("bob")];
  const eyes = [new SimulatedEye(1711), new SimulatedEye(1712)];
  const server = new ChallengeBook();
  await issueUserMit(ctx, alice, "Alice", eyes[0]);
  await issueUserMit(ctx, bob, "Bob", eyes[1]);
  const la = await login(ctx, server, alice, eyes[0], { avatarId: avatarIdOf(alice.mit!.serial, "fox"), appearance: "fox" });
  const lb = await login(ctx, server, bob, eyes[1], { avatarId: avatarIdOf(bob.mit!.serial, "whale"), appearance: "whale" });
  return { f, ctx, A: { credential: la.credential, driver: alice }, B: { credential: lb.credential, driver: bob } };
}
