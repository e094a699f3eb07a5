/**
 * One hello, one session (session 17's threat model of mutual authentication: reorder and
 * duplicate). A relay that hands alice's hello to bob twice gets two replies from bob (each with
 * its own ephemeral key and nonce, so two transcripts). Before, the initiator's state was not
 * spent: alice finished both, signing two transcripts, so bob held two sessions with alice and
 * two sets of evidence about her while she had opened one. Now the first reply that verifies
 * spends the hello: a retry of that very reply gets the same answer (a retry has no second
 * effect), any other reply is refused (INVALID_STATE) before anything is signed.
 */
import { expect } from "chai";
import { reasonOf, twoLoggedIn } from "../helpers/avatar-world";
import { authComplete, authFinish, authHello, authRespond } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { decodeAuthReply, encodeAuthReply } from "../../offchain/avatars/wire";

describe("avatars: one hello, one session (a hello duplicated by a relay)", () => {
  it("alice finishes the first of bob's two replies to her one hello; the second is refused, a retry of the first gets the same finish", async () => {
    const { ctx, A, B } = await twoLoggedIn();

    const a = authHello(ctx, A, B.credential.avatarId);
    const b1 = await authRespond(ctx, B, a.hello); // the relay delivers alice's hello ...
    const b2 = await authRespond(ctx, B, a.hello); // ... twice
    const f1 = await authFinish(ctx, a.state, b1.reply);
    expect(toHex((await authComplete(ctx, b1.state, f1.finish)).key)).to.equal(toHex(f1.key));
    // the second reply: alice does not sign a second transcript, so bob has no second session
    expect(await reasonOf(authFinish(ctx, a.state, b2.reply))).to.equal("INVALID_STATE");
    // a retry of the first reply (a lost message 3) gets the same finish, no new signature
    const again = await authFinish(ctx, a.state, b1.reply);
    expect(toHex(again.key)).to.equal(toHex(f1.key));
    expect(toHex(again.finish.confirm)).to.equal(toHex(f1.finish.confirm));
    expect(again.finish.proxySig.equals(f1.finish.proxySig)).to.equal(true);
    // the same reply as a relay delivers it again: its wire bytes, decoded anew (another object)
    const resent = await authFinish(ctx, a.state, decodeAuthReply(encodeAuthReply(b1.reply)));
    expect(toHex(resent.finish.confirm)).to.equal(toHex(f1.finish.confirm));
    expect(resent.finish.proxySig.equals(f1.finish.proxySig)).to.equal(true);
    // and a copy of it with one byte changed (its confirmation tag) is another reply: refused
    const bytes = encodeAuthReply(b1.reply);
    bytes[bytes.length - 1] ^= 1;
    expect(await reasonOf(authFinish(ctx, a.state, decodeAuthReply(bytes)))).to.equal("INVALID_STATE");
  });
});
