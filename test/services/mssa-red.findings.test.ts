/**
 * Red team (h9-red): attacks on the MSSA authority services that got through and need a design
 * decision. Each test passes when the attack is refused and fails while it gets through
 * (`npm run test:findings`; the normal run skips *.findings.test.ts).
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import { Wallet } from "ethers";
import { authorityRecord } from "../../offchain/services/mssa/authority-service";
import { encodeKeyRequest } from "../../offchain/services/mssa/wire";
import { Route } from "../../offchain/services/envelope";
import { postEnvelope } from "../../offchain/services/client";
import { mulBase, randomScalar } from "../../offchain/crypto/group";
import { startPlace, type MssaPlace } from "../helpers/mssa-services";

const once = { attempts: 1, timeoutMs: 60_000, backoffMs: 10 };
const session32 = () => Wallet.createRandom().privateKey;

describe("h9-red findings: MSSA authority services", function () {
  this.timeout(300_000);
  let P: MssaPlace;
  const WINDOW = 1000;

  before(async () => {
    // as deployed: the keystore sealed with a passphrase (scrypt on every write)
    P = await startPlace("PL-red-flood", { passphrase: "h9-red", windowMs: WINDOW });
  });
  after(async () => P?.stop());

  /**
   * F9 (MEDIUM, availability) - key requests cost an authority a sealed keystore write each and
   * are kept for ever. POST /v1/mssa/key is open to any account (a fresh one costs nothing, it
   * needs no funds), and each request adds a session with its one-time key to the authority's
   * record, which is rewritten and sealed (scrypt, ~0.1 s of CPU) before the reply. A session
   * that is never verified is never dropped, so the record, and the cost of every later write,
   * grows with the flood; the per-address rate limit (600 a minute) is the only bound, and one
   * address keeps a core busy. Refused when sessions that were keyed and never verified are
   * forgotten once twice the freshness window has passed.
   */
  it("F9: keys issued to sessions nobody verifies are forgotten after the freshness window (measured: time and record bytes per request)", async () => {
    const N = 20;
    const file = () => {
      const dir = path.join(path.dirname(P.deps[0].dir), "keystore");
      const f = fs.readdirSync(dir).find((x) => x.includes(authorityRecord(P.place)));
      return f ? fs.statSync(path.join(dir, f)).size : 0;
    };
    const size0 = file();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const u = Wallet.createRandom();
      const body = encodeKeyRequest({ session: session32(), user: u.address, bits: 2048, transport: mulBase(randomScalar()) });
      await postEnvelope(P.urls[0], "/v1/mssa/key", P.req(0, Route.MssaKey, body, u), once);
    }
    const ms = (performance.now() - t0) / N;
    const grown = (file() - size0) / N;
    console.log(`      F9: ${N} key requests from fresh accounts: ${ms.toFixed(0)} ms each, record +${grown.toFixed(0)} bytes each`);
    await new Promise((r) => setTimeout(r, 2 * WINDOW + 500));
    // one more request after the window: whatever prunes has had its chance
    const u = Wallet.createRandom();
    const body = encodeKeyRequest({ session: session32(), user: u.address, bits: 64, transport: mulBase(randomScalar()) });
    await postEnvelope(P.urls[0], "/v1/mssa/key", P.req(0, Route.MssaKey, body, u), once);
    const rec = P.deps[0].keystore.load(authorityRecord(P.place)) as { agent: { sessions: Record<string, unknown> } };
    expect(Object.keys(rec.agent.sessions).length, "unverified sessions kept after the window").to.be.at.most(1);
  });
});
