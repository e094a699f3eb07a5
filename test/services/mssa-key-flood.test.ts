/**
 * h9-red finding F9 (MSSA key flood), fixed by h9-fix: a key request writes nothing (the one-time
 * key is derived from the authority's secret and the scoped session), and unverified sessions
 * already stored are forgotten after twice the freshness window, at load and at every write.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import { Wallet } from "ethers";
import { AuthorityService, authorityRecord } from "../../offchain/services/mssa/authority-service";
import { encodeKeyRequest } from "../../offchain/services/mssa/wire";
import { Route } from "../../offchain/services/envelope";
import { postEnvelope } from "../../offchain/services/client";
import { mulBase, randomScalar } from "../../offchain/crypto/group";
import { startPlace, type MssaPlace } from "../helpers/mssa-services";

const once = { attempts: 1, timeoutMs: 60_000, backoffMs: 10 };
const session32 = () => Wallet.createRandom().privateKey;
/**
 * The place's clock (both services and the test's requests read it): it stands still unless the
 * test moves it, so a 1 s window neither runs out during a request on a loaded machine nor has to
 * be waited for
 */
let clock = Date.now();
const later = (ms: number) => {
  clock += ms;
};

describe("MSSA authority services: a key flood (h9-red F9)", function () {
  this.timeout(300_000);
  let P: MssaPlace;
  const WINDOW = 1000;

  before(async () => {
    // as deployed: the keystore sealed with a passphrase (scrypt on every write)
    P = await startPlace("PL-red-flood", { passphrase: "h9-red", windowMs: WINDOW, now: () => clock });
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
   * forgotten once twice the freshness window has passed. Fixed (h9-fix): the key is derived
   * (HKDF of the authority's secret seed and the scoped session) and nothing is written.
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
    later(2 * WINDOW + 500);
    // one more request after the window: whatever prunes has had its chance
    const u = Wallet.createRandom();
    const body = encodeKeyRequest({ session: session32(), user: u.address, bits: 64, transport: mulBase(randomScalar()) });
    await postEnvelope(P.urls[0], "/v1/mssa/key", P.req(0, Route.MssaKey, body, u), once);
    const rec = P.deps[0].keystore.load(authorityRecord(P.place)) as { agent: { sessions: Record<string, unknown> } };
    expect(Object.keys(rec.agent.sessions).length, "unverified sessions kept after the window").to.be.at.most(1);
    expect(grown, "record bytes per key request").to.equal(0);
  });

  it("sessions stored unverified before the fix (a key only) are forgotten after twice the window at load; a used, self-released or verified one is kept, one released to another authority only is not (h15-red2 R10)", async () => {
    const name = authorityRecord(P.place);
    const ks = P.deps[1].keystore;
    const rec = ks.load(name) as {
      agent: { sessions: Record<string, object> };
      users: Record<string, string>;
      verified: Record<string, object>;
    };
    const old = clock - 10 * WINDOW;
    const sid = (i: number) => "0x" + String(i).padStart(64, "0");
    const key = "01".repeat(32);
    Object.assign(rec.agent.sessions, {
      [sid(1)]: { key, used: false },
      [sid(2)]: { key, used: false, at: old },
      [sid(3)]: { key, used: true, at: old },
      [sid(4)]: { key, used: false, to: [P.au[0].address.toLowerCase()], at: old },
      [sid(5)]: { key, used: false, at: clock },
      [sid(6)]: { key, used: false, to: [P.au[1].address.toLowerCase()], at: old },
    });
    rec.users[sid(1)] = P.au[0].address;
    rec.users[sid(2)] = P.au[0].address;
    ks.update(name, rec);
    await P.services[1].stop();
    // loaded, pruned and saved once the service holds its folder: at its start (s23-fxops)
    const port = Number(new URL(P.urls[1]).port);
    P.services[1] = new AuthorityService(P.deps[1]);
    await P.services[1].start({ port });
    const kept = () => Object.keys((ks.load(name) as typeof rec).agent.sessions).sort();
    // loaded: sid 2 is gone (unused, never released, older than 2 windows), and sid 4 (released to
    // the other authority only: h15-red2 R10); sid 1 had no time and counts from now; sid 6 went to
    // this authority's own check (spent for the user) and stays
    expect(kept()).to.include.members([sid(1), sid(3), sid(5), sid(6)]);
    expect(kept()).to.not.include.members([sid(2)]);
    expect(kept()).to.not.include.members([sid(4)]);
    expect(Object.keys((ks.load(name) as typeof rec).users)).to.deep.equal([sid(1)]);
    // after the window, the next restart forgets sid 1 and sid 5 too
    later(2 * WINDOW + 200);
    await P.services[1].stop();
    P.services[1] = new AuthorityService(P.deps[1]);
    await P.services[1].start({ port });
    expect(kept()).to.include.members([sid(3), sid(6)]);
    expect(kept()).to.not.include.members([sid(1), sid(5)]);
  });
});
