/**
 * Session 29's review of its own speed-up of mutual authentication (issue 20), as regressions:
 * - P1: authFinish keeps the reply it finished to judge a retry (one hello, one session). It used to
 *   keep the reply's encoded bytes; session 29 kept the caller's object to skip that encoding, and a
 *   caller that reused the object afterwards (a transport's message buffer) then had its genuine
 *   resend refused and another reply answered with the first finish. Now a copy of the reply's
 *   bytes is kept (no encoding).
 * - L2: checkHello's one read (MITRegistry.avatarStanding) against a registry deployed before the
 *   view existed says so in one line (DeploymentNotFoundError), in-process and over JSON-RPC.
 * - P2: IdentityProvider computes its receipt key once; its secret must then be its own copy. A
 *   Buffer's slice() is a view, so a caller's Buffer changed later made the key it names and the
 *   key it signs with differ. Copied with Uint8Array.from.
 */
import { expect } from "chai";
import { IdentityProvider, receiptDigest } from "../../offchain/avatars/agents";
import { reasonOf, twoLoggedIn } from "../helpers/avatar-world";
import { authFinish, authHello, authRespond } from "../../offchain/avatars/protocols";
import { decodeAuthReply, encodeAuthReply } from "../../offchain/avatars/wire";
import { DeploymentNotFoundError } from "../../offchain/chain/deployments";
import { MITRegistry__factory } from "../../typechain-types";
import { schnorr } from "@noble/curves/secp256k1.js";

describe("avatars: what session 29's speed-up keeps is its own (review s29-review)", () => {
  it("P1: a caller that reuses the finished reply's object changes nothing: the genuine resend is answered, another reply refused", async () => {
    const { ctx, A, B } = await twoLoggedIn();
    const a = authHello(ctx, A, B.credential.avatarId);
    const b1 = await authRespond(ctx, B, a.hello);
    const b2 = await authRespond(ctx, B, a.hello);
    const wire1 = encodeAuthReply(b1.reply); // what the relay delivered
    const r1 = decodeAuthReply(wire1);
    await authFinish(ctx, a.state, r1);
    // the transport reuses its reply object for the next message off the wire
    Object.assign(r1, decodeAuthReply(encodeAuthReply(b2.reply)));
    const second = await reasonOf(authFinish(ctx, a.state, decodeAuthReply(encodeAuthReply(b2.reply))));
    const resend = await reasonOf(authFinish(ctx, a.state, decodeAuthReply(wire1)));
    expect({ second, resend }).to.deep.equal({ second: "INVALID_STATE", resend: "accepted" });
  });
  it("P1b: the same with the reply's bytes in a Buffer (whose slice() is a view): the finished reply is still a copy", async () => {
    const { ctx, A, B } = await twoLoggedIn();
    const a = authHello(ctx, A, B.credential.avatarId);
    const b1 = await authRespond(ctx, B, a.hello);
    const wire1 = encodeAuthReply(b1.reply);
    const r1 = decodeAuthReply(wire1);
    const confirm = Buffer.from(r1.confirm);
    await authFinish(ctx, a.state, { ...r1, confirm });
    confirm.fill(0); // the caller's buffer, reused
    expect(await reasonOf(authFinish(ctx, a.state, decodeAuthReply(wire1)))).to.equal("accepted");
  });
  it("a registry deployed before avatarStanding: one line naming the registry and `deploy --fresh`, not a raw call exception", async () => {
    const { f, ctx, A, B } = await twoLoggedIn();
    // a contract without the view (and without a fallback) stands in for an older MITRegistry
    const old = MITRegistry__factory.connect(f.deployment.contracts.CPSVerifier.address, f.msrp);
    const a = authHello(ctx, A, B.credential.avatarId);
    const err = await authRespond({ ...ctx, registry: old, platform: a.hello.platform }, B, a.hello).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(DeploymentNotFoundError);
    expect((err as Error).message).to.equal(
      `the MITRegistry at ${f.deployment.contracts.CPSVerifier.address} has no avatarStanding (deployed before session 29's contracts): \`npx hardhat deploy --fresh\` deploys the current ones`,
    );
  });
  it("the same over JSON-RPC (ethers' CALL_EXCEPTION with no revert data); any other failure of the read stays as it is", async () => {
    const { ctx, A, B } = await twoLoggedIn();
    const a = authHello(ctx, A, B.credential.avatarId);
    const failing = (e: object) =>
      ({
        target: "0x00000000000000000000000000000000000000aa",
        avatarStanding: async () => Promise.reject(e),
      }) as unknown as typeof ctx.registry;
    const respond = (e: object) =>
      authRespond({ ...ctx, registry: failing(e), platform: a.hello.platform }, B, a.hello).then(
        () => undefined,
        (x: unknown) => x,
      );
    for (const data of [null, undefined])
      expect(await respond(Object.assign(new Error("missing revert data"), { code: "CALL_EXCEPTION", data }))).to.be.instanceOf(
        DeploymentNotFoundError,
      );
    const network = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    expect(await respond(network)).to.equal(network);
    const reverted = Object.assign(new Error("execution reverted"), { code: "CALL_EXCEPTION", data: "0x12345678" });
    expect(await respond(reverted)).to.equal(reverted);
  });
  it("P2: a receipt secret given as a Buffer and changed by its caller later: the key the IdP names is still the key it signs with", () => {
    const sk = Buffer.from(schnorr.utils.randomSecretKey());
    const idp = new IdentityProvider(undefined, sk);
    void idp.receiptKey; // cached now
    sk.set(schnorr.utils.randomSecretKey());
    const h = new Uint8Array(32).fill(1);
    const r = idp.stamp(h, 5);
    expect(schnorr.verify(r.sig, receiptDigest(h, 5), idp.receiptKey), "stamp signs with the key it names").to.equal(true);
    expect(idp.checkReceipt(h, r)).to.equal(true);
  });
});
