/**
 * A quick end-to-end check of the crypto core and the content store, run by the demo: every
 * primitive does one real round trip and the check reports what it computed, never a constant.
 */
import { add, decodePoint, encodePoint, mul, mulBase, randomScalar } from "./crypto/group";
import { H1, H2, H3, H4, H5, H6 } from "./crypto/hash";
import { eciesDecrypt, eciesEncrypt } from "./crypto/ecies";
import { BLS_DST, G1, G2, hashToG1, hashToG2, pairingProductIsOne, randomBlsScalar } from "./crypto/bls";
import { combineInExponent, recover, split } from "./crypto/shamir";
import { BloomFilter } from "./crypto/bloom";
import { equalBytes, toBytes, toHex } from "./crypto/bytes";
import { type ContentStore, encodeJson } from "./storage/content-store";

/** One line of the self-check. */
export type CheckResult = { name: string; ok: boolean; ms: number; detail: string };

async function timed(name: string, f: () => Promise<string> | string): Promise<CheckResult> {
  const t0 = performance.now();
  try {
    const detail = await f();
    return { name, ok: true, ms: performance.now() - t0, detail };
  } catch (e) {
    return { name, ok: false, ms: performance.now() - t0, detail: (e as Error).message };
  }
}

function expect(cond: boolean, what: string): void {
  if (!cond) throw new Error(`self-check failed: ${what}`);
}

/**
 * Runs the self-check.
 * @param store - the content store to round-trip a block through
 * @returns one result per check
 */
export async function runSelfCheck(store: ContentStore): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  out.push(
    await timed("group: ECDH on secp256k1", () => {
      const a = randomScalar();
      const b = randomScalar();
      const A = decodePoint(encodePoint(mulBase(a)));
      const B = mulBase(b);
      expect(mul(A, b).equals(mul(B, a)), "b*(aP) == a*(bP)");
      return "b(aP) = a(bP), 33-byte points";
    }),
  );
  out.push(
    await timed("hash: H1..H6 domain separation", () => {
      const P = mulBase(randomScalar());
      const outs = [
        toHex(H1(P, "rid")),
        H2("x").toString(16),
        toHex(H3(32, P, "pid")),
        H4(5n).toString(16),
        H5(P, P).toString(16),
        toHex(H6("pid", 5n)),
      ];
      expect(new Set(outs).size === 6, "six distinct outputs");
      return `6 distinct outputs, H3 mask ${H3(64, P, "pid").length} bytes on demand`;
    }),
  );
  out.push(
    await timed("ecies: Enc_PK / Dec_sk", () => {
      const sk = randomScalar();
      const m = toBytes("f(x_i) for party 3");
      const c = eciesEncrypt(mulBase(sk), m, toBytes("ctx"));
      expect(equalBytes(eciesDecrypt(sk, c, toBytes("ctx")), m), "round trip");
      let rejected = false;
      try {
        eciesDecrypt(sk, c, toBytes("other ctx"));
      } catch {
        rejected = true;
      }
      expect(rejected, "wrong context rejected");
      return `round trip ok, +${c.length - m.length} bytes, wrong context rejected`;
    }),
  );
  out.push(
    await timed("shamir: 3-of-5 and in the exponent", () => {
      const s = randomScalar();
      const shares = split(s, 3, 5);
      expect(recover([shares[4], shares[1], shares[2]], 3) === s, "any 3 rebuild s");
      const Q = combineInExponent(shares.slice(0, 3).map((sh) => ({ x: sh.x, Y: mulBase(sh.y) })));
      expect(Q.equals(mulBase(s)), "sum lambda_i f(x_i)P = sP");
      return "secret rebuilt from shares 5,2,3; sum C_i = Q";
    }),
  );
  out.push(
    await timed("bloom: N=1000, lambda=10", () => {
      const f = BloomFilter.init(1000, 10);
      for (let i = 0; i < 1000; i++) f.insert(toBytes(`rn-${i}`));
      let fp = 0;
      for (let i = 0; i < 10000; i++) if (f.check(toBytes(`outsider-${i}`))) fp++;
      expect(
        [...Array(1000).keys()].every((i) => f.check(toBytes(`rn-${i}`))),
        "no false negative",
      );
      const g = BloomFilter.deserialize(f.serialize());
      expect(equalBytes(g.root(), f.root()), "serialization round trip");
      return `${f.m} bits, 0 false negatives, FPR ${(fp / 10000).toFixed(4)} (2^-10 = 0.0010)`;
    }),
  );
  out.push(
    await timed("bls12-381: e(aH, bG2) = e(abH, G2)", () => {
      const a = randomBlsScalar();
      const b = randomBlsScalar();
      const H = hashToG1(toBytes("metatrust"), BLS_DST.G1);
      hashToG2(toBytes("metatrust"), BLS_DST.G2);
      const ok = pairingProductIsOne([
        { g1: H.multiply(a), g2: G2.BASE.multiply(b) },
        { g1: H.multiply((a * b) % G1.Fn.ORDER).negate(), g2: G2.BASE },
      ]);
      expect(ok, "bilinearity");
      expect(!pairingProductIsOne([{ g1: H, g2: G2.BASE }]), "e(H, G2) != 1");
      return "bilinear, hash-to-curve G1 and G2";
    }),
  );
  out.push(
    await timed(`ipfs (${store.kind}): put / get`, async () => {
      const doc = { kind: "selfcheck", at: new Date().toISOString(), point: toHex(encodePoint(add(mulBase(2n), mulBase(3n)))) };
      const cid = await store.putJson(doc);
      const back = await store.getJson<typeof doc>(cid);
      expect(equalBytes(encodeJson(back), encodeJson(doc)), "dag-json round trip");
      return cid;
    }),
  );
  return out;
}
