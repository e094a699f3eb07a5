import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { Wallet } from "ethers";
import { EnvelopeError, Kind, Route, Scheme, envelopeHash, openEnvelope, sealEnvelope, sealReply } from "../../offchain/services/envelope";
import { fromHex, toHex } from "../../offchain/crypto/bytes";
import { ReplyCache } from "../../offchain/services/replies";
import { Journal, Mutex } from "../../offchain/services/journal";

const id = (n: number) => new Uint8Array(16).fill(n);
const bytes = (...xs: number[]) => Uint8Array.from(xs);

async function reasonOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(EnvelopeError);
    return (e as EnvelopeError).reason;
  }
  throw new Error("expected a refusal");
}

describe("services/replies and journal", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "svc-cache-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe("# ReplyCache.once", () => {
    it("a retry gets the same reply and the handler runs once, also in a new instance (after a restart)", async () => {
      let runs = 0;
      const c = new ReplyCache(dir);
      const h = async () => bytes(++runs, 42);
      const a = await c.once(id(1), Date.now(), bytes(1, 2), h);
      const b = await c.once(id(1), Date.now(), bytes(1, 2), h);
      const after = await new ReplyCache(dir).once(id(1), Date.now(), bytes(1, 2), h);
      expect(a).to.deep.equal(bytes(1, 42));
      expect(b).to.deep.equal(a);
      expect(after).to.deep.equal(a);
      expect(runs).to.equal(1);
    });

    it("concurrent duplicates wait for the first; the handler runs once", async () => {
      let runs = 0;
      const c = new ReplyCache(dir);
      const h = async () => {
        runs++;
        await new Promise((r) => setTimeout(r, 20));
        return bytes(7);
      };
      const out = await Promise.all([1, 2, 3].map(() => c.once(id(2), Date.now(), bytes(9), h)));
      expect(out.map((x) => x[0])).to.deep.equal([7, 7, 7]);
      expect(runs).to.equal(1);
    });

    it("refuses a reused id with other bytes (stored or in flight) and a stale or future request; runs nothing", async () => {
      let runs = 0;
      // a fixed clock: with Date.now() a request stamped now + 1001 was taken as fresh when a
      // millisecond passed before the cache read its clock (a CI flake, session 14's fresh run)
      const now = 50_000;
      const c = new ReplyCache(dir, 1000, () => now);
      const h = async () => bytes(++runs);
      await c.once(id(3), now, bytes(1), h);
      expect(await reasonOf(c.once(id(3), now, bytes(2), h))).to.equal("REQUEST_ID_REUSED");
      const slow = c.once(id(4), now, bytes(1), () => new Promise((r) => setTimeout(() => r(bytes(0)), 30)));
      expect(await reasonOf(c.once(id(4), now, bytes(2), h))).to.equal("REQUEST_ID_REUSED");
      await slow;
      expect(await reasonOf(c.once(id(5), now - 1001, bytes(1), h))).to.equal("STALE");
      expect(await reasonOf(c.once(id(5), now + 1001, bytes(1), h))).to.equal("STALE");
      // the window's edges are fresh
      expect(await c.once(id(7), now - 1000, bytes(1), h)).to.deep.equal(bytes(2));
      expect(await c.once(id(8), now + 1000, bytes(1), h)).to.deep.equal(bytes(3));
      expect(runs).to.equal(3);
    });

    it("a copy of an unsigned request (other session, issuedAt) is answered rebound to its bytes, stored or in flight; a signed one's is refused (s23-rth F1)", async () => {
      const key = new Wallet("0x" + "11".repeat(32));
      const signer = { scheme: Scheme.Ecdsa, sign: (d: Uint8Array) => fromHex(key.signingKey.sign(d).serialized) } as const;
      const audience = new Uint8Array(32).fill(7);
      const req = (at: number, session: number, sign = false) =>
        sealEnvelope(
          {
            kind: Kind.Request,
            route: Route.IdpIssue,
            audience,
            session: new Uint8Array(16).fill(session),
            requestId: id(11),
            issuedAt: at,
            inReplyTo: new Uint8Array(32),
            body: bytes(1, 2, 3),
          },
          sign ? signer : { scheme: Scheme.None },
        );
      let runs = 0;
      const c = new ReplyCache(dir).rebindWith(signer);
      const h = (r: Uint8Array) => async () => {
        runs++;
        await new Promise((ok) => setTimeout(ok, 20));
        return sealReply(openEnvelope(r), r, audience, bytes(9, 9), signer);
      };
      const now = Date.now();
      const [copy, own] = [req(now + 1, 1), req(now, 2)];
      // in flight: the copy first, the party's bytes while it runs
      const [a, b] = await Promise.all([c.once(id(11), now, copy, h(copy)), c.once(id(11), now, own, h(own))]);
      // stored: the party's bytes again
      const later = await c.once(id(11), now, own, h(own));
      for (const [reply, r] of [
        [a, copy],
        [b, own],
        [later, own],
      ] as const) {
        const e = openEnvelope(reply);
        expect(toHex(e.body)).to.equal(toHex(bytes(9, 9)));
        expect(toHex(e.inReplyTo), "bound to these bytes").to.equal(toHex(envelopeHash(r)));
        expect(toHex(e.session)).to.equal(toHex(openEnvelope(r).session));
      }
      expect(runs).to.equal(1);
      // another body under the id is refused; so is a signed request's copy (it has one encoding)
      const other = sealEnvelope({ ...openEnvelope(own), body: bytes(4) }, { scheme: Scheme.None });
      expect(await reasonOf(c.once(id(11), now, other, h(other)))).to.equal("REQUEST_ID_REUSED");
      const c2 = new ReplyCache(path.join(dir, "signed")).rebindWith(signer);
      await c2.once(id(11), now, req(now + 1, 1, true), h(req(now + 1, 1, true)));
      expect(await reasonOf(c2.once(id(11), now, req(now, 2, true), h(req(now, 2, true))))).to.equal("REQUEST_ID_REUSED");
      // without the service's key a copy is refused (which no client takes as final)
      const c3 = new ReplyCache(path.join(dir, "nokey"));
      await c3.once(id(11), now, copy, h(copy));
      expect(await reasonOf(c3.once(id(11), now, own, h(own)))).to.equal("REQUEST_ID_REUSED");
    });

    it("a failed handler stores nothing: the retry runs it again", async () => {
      const c = new ReplyCache(dir);
      let runs = 0;
      const fail = async (): Promise<Uint8Array> => {
        runs++;
        throw new Error("chain down");
      };
      await c.once(id(6), Date.now(), bytes(1), fail).catch(() => undefined);
      expect(await c.once(id(6), Date.now(), bytes(1), async () => bytes(5))).to.deep.equal(bytes(5));
      expect(runs).to.equal(1);
    });

    it("a late retry of the very bytes a stored reply answers gets it (nothing runs); a kept reply survives prune, the others do not (red-team F6)", async () => {
      let now = 10_000;
      let runs = 0;
      const c = new ReplyCache(dir, 1000, () => now);
      const h = async () => bytes(++runs);
      await c.once(id(9), now, bytes(1), h);
      await c.once(id(10), now, bytes(2), h, true);
      now += 1500; // past the window, before the prune
      expect(await c.once(id(9), 10_000, bytes(1), h)).to.deep.equal(bytes(1));
      expect(await reasonOf(c.once(id(9), 10_000, bytes(3), h))).to.equal("STALE"); // other bytes: no reply of theirs
      now += 10_000;
      expect(c.prune()).to.equal(1);
      expect(await reasonOf(c.once(id(9), 10_000, bytes(1), h))).to.equal("STALE"); // forgotten
      expect(await c.once(id(10), 10_000, bytes(2), h)).to.deep.equal(bytes(2)); // kept
      expect(runs).to.equal(2);
    });

    it("prune deletes entries older than twice the window only", async () => {
      let now = 10_000;
      const c = new ReplyCache(dir, 1000, () => now);
      await c.once(id(7), now, bytes(1), async () => bytes(1));
      now += 1500;
      await c.once(id(8), now, bytes(1), async () => bytes(2));
      now += 600;
      expect(c.prune()).to.equal(1);
      expect(fs.readdirSync(dir)).to.have.length(1);
    });
  });

  describe("# Journal and Mutex", () => {
    it("keeps intents until done, oldest first, across instances", () => {
      const j = new Journal(dir);
      j.put("a", "join", { x: 1 });
      j.put("b", "createPool", { y: 2 });
      const again = new Journal(dir).pending();
      expect(again.map((i) => [i.id, i.kind])).to.deep.equal([
        ["a", "join"],
        ["b", "createPool"],
      ]);
      j.done("a");
      expect(new Journal(dir).pending().map((i) => i.id)).to.deep.equal(["b"]);
      expect(() => j.put("../x", "k", {})).to.throw(/invalid intent id/);
    });

    it("the mutex runs jobs one at a time, in order, and a failure does not block the next", async () => {
      const m = new Mutex();
      const log: string[] = [];
      const job = (n: string, ms: number, fail = false) =>
        m.run(async () => {
          log.push(`start ${n}`);
          await new Promise((r) => setTimeout(r, ms));
          log.push(`end ${n}`);
          if (fail) throw new Error(n);
          return n;
        });
      const out = await Promise.allSettled([job("a", 20, true), job("b", 1), job("c", 5)]);
      expect(out.map((o) => o.status)).to.deep.equal(["rejected", "fulfilled", "fulfilled"]);
      expect(log).to.deep.equal(["start a", "end a", "start b", "end b", "start c", "end c"]);
    });
  });
});
