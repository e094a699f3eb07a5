/**
 * `npm run bench`: median time of every primitive of the crypto core, beside the RSMS paper's
 * Table II where it reports the same operation (BLS12-381 G1 via Miracl Core in Python, i7-10700).
 * Every curve operation runs on each backend in the same run (noble, the reference, and the
 * default fast backends: libsecp256k1 through N-API, mcl-wasm), beside the raw library call (the
 * floor: the backend's own call without validation or conversion to noble points).
 * Writes bench/results/crypto.md and crypto.json.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import * as g from "../offchain/crypto/group";
import * as h from "../offchain/crypto/hash";
import * as bls from "../offchain/crypto/bls";
import { BloomFilter } from "../offchain/crypto/bloom";
import { eciesDecrypt, eciesEncrypt } from "../offchain/crypto/ecies";
import { combineInExponent, recover, split } from "../offchain/crypto/shamir";
import os from "os";
import type * as Mcl from "mcl-wasm";
import type { Secp256k1Api } from "../offchain/crypto/backend/secp256k1-native";
import { BenchCase, benchBackends, interleaved, loadNote, onBackends, runCases, writeResults } from "./lib";

const T2 = "Table II";

function cases(): BenchCase[] {
  const Fn = secp256k1.Point.Fn;
  const k = () => g.randomScalar();
  const X = g.mulBase(k());
  const Xpre = g.precompute(g.mulBase(k()));
  const Y = g.mulBase(k());
  const a = k();
  const b = k();
  const pid = h.H1(X, "RID-bench");
  const bloom = BloomFilter.init(100_000, 20);
  const items = Array.from({ length: 1024 }, (_, i) => g.encodeScalar(BigInt(i + 1) * 7919n));
  items.forEach((it) => bloom.insert(it));
  let ctr = 0;
  const sk = k();
  const PK = g.mulBase(sk);
  const msg = new Uint8Array(64);
  const ct = eciesEncrypt(PK, msg);
  const shares10 = split(a, 10, 10);
  const shares100 = split(a, 100, 100);
  const pshares10 = shares10.map((s) => ({ x: s.x, Y: g.mulBase(s.y) }));
  const P1 = bls.G1.BASE.multiply(bls.randomBlsScalar());
  const Q1 = bls.G2.BASE.multiply(bls.randomBlsScalar());
  const s1 = bls.randomBlsScalar();
  const s2 = bls.randomBlsScalar();
  const two = [
    { g1: P1.multiply(s1), g2: Q1 },
    { g1: P1.negate(), g2: Q1.multiply(s1) },
  ];
  const three = [
    { g1: P1.multiply(s1), g2: Q1 },
    { g1: P1.multiply(s2), g2: Q1 },
    { g1: P1.negate(), g2: Q1.multiply((s1 + s2) % bls.BLS_ORDER) },
  ];
  const m32 = new Uint8Array(32);
  return [
    { name: "secp256k1 k*P, fixed base (generator)", fn: () => g.mulBase(k()), paperMs: 5.64, paperRef: `${T2} ECPSM` },
    { name: "secp256k1 k*X, fixed base (precomputed X)", fn: () => g.mul(Xpre, k()), paperMs: 5.64, paperRef: `${T2} ECPSM` },
    { name: "secp256k1 k*X, variable base", fn: () => g.mul(X, k()), paperMs: 5.64, paperRef: `${T2} ECPSM` },
    { name: "secp256k1 point addition", fn: () => g.add(X, Y), paperMs: 0.027, paperRef: `${T2} ECPA` },
    { name: "Z_q modular inversion", fn: () => g.invert(a), paperMs: 0.007, paperRef: `${T2} MI` },
    { name: "Z_q modular multiplication", fn: () => g.mulMod(a, b), paperMs: 0.006, paperRef: `${T2} MM` },
    { name: "Z_q modular exponentiation", fn: () => Fn.pow(a, b), paperMs: 0.058, paperRef: `${T2} ME` },
    { name: "H1(PK_pub, RID) -> PID", fn: () => h.H1(X, "RID-bench"), paperMs: 0.005, paperRef: `${T2} HF` },
    { name: "H2(PID) -> Z_q*", fn: () => h.H2(pid), paperMs: 0.005, paperRef: `${T2} HF` },
    { name: "H3(U, PID), 32-byte mask", fn: () => h.H3(32, X, pid), paperMs: 0.005, paperRef: `${T2} HF` },
    { name: "H4(a, sk) -> Z_q*", fn: () => h.H4(a, b), paperMs: 0.005, paperRef: `${T2} HF` },
    { name: "H5(Q, PK_pub) -> Z_q*", fn: () => h.H5(X, Y), paperMs: 0.005, paperRef: `${T2} HF` },
    { name: "H6(PID, a) -> PID", fn: () => h.H6(pid, a), paperMs: 0.005, paperRef: `${T2} HF` },
    { name: "keccak256 (32 bytes)", fn: () => h.keccak256(m32) },
    { name: "Bloom insert (N=100k, lambda=20)", fn: () => bloom.insert(g.encodeScalar(BigInt(++ctr) + 10n ** 9n)) },
    { name: "Bloom check, member (N=100k, lambda=20)", fn: () => bloom.check(items[ctr++ & 1023]), paperMs: 0.024, paperRef: `${T2} BF` },
    { name: "Shamir split, t = n = 10", fn: () => split(a, 10, 10) },
    { name: "Shamir recover, t = 10", fn: () => recover(shares10, 10) },
    { name: "Shamir split, t = n = 100", fn: () => split(a, 100, 100) },
    { name: "Shamir recover, t = 100", fn: () => recover(shares100, 100) },
    { name: "Shamir in the exponent, t = 10", fn: () => combineInExponent(pshares10) },
    { name: "ECIES encrypt (64-byte message)", fn: () => eciesEncrypt(PK, msg) },
    { name: "ECIES decrypt (64-byte message)", fn: () => eciesDecrypt(sk, ct) },
    { name: "BLS12-381 one pairing e(P, Q)", fn: () => bls.pairing(P1, Q1) },
    { name: "BLS12-381 2-pair product check", fn: () => bls.pairingProductIsOne(two) },
    { name: "BLS12-381 3-pair product check", fn: () => bls.pairingProductIsOne(three) },
    { name: "BLS12-381 hash-to-curve G1", fn: () => bls.hashToG1(g.encodeScalar(k()), bls.BLS_DST.G1) },
    { name: "BLS12-381 hash-to-curve G2", fn: () => bls.hashToG2(g.encodeScalar(k()), bls.BLS_DST.G2) },
  ];
}

/** The curve operations, through offchain/crypto (validation + backend). */
function curveCases(): BenchCase[] {
  const k = () => g.randomScalar();
  const X = g.mulBase(k());
  const Y = g.mulBase(k());
  const enc = g.encodePoint(Y);
  const pts = Array.from({ length: 64 }, () => g.mulBase(k()));
  const sc = pts.map(() => k());
  const P1 = bls.hashToG1(new Uint8Array([1]), bls.BLS_DST.G1);
  const Q1 = bls.g2MulBase(bls.randomBlsScalar());
  const Q2 = bls.g2MulBase(bls.randomBlsScalar());
  const three = [
    { g1: P1, g2: bls.G2.BASE },
    { g1: P1.negate(), g2: Q1 },
    { g1: P1, g2: Q2 },
  ];
  const r128 = (1n << 127n) + 12345n;
  return [
    { name: "secp256k1 k*P (generator)", fn: () => g.mulBase(k()) },
    { name: "secp256k1 k*X (variable base)", fn: () => g.mul(X, k()) },
    { name: "secp256k1 X + Y", fn: () => g.add(X, Y) },
    { name: "secp256k1 decode (33-byte compressed)", fn: () => g.decodePoint(enc) },
    { name: "secp256k1 64-point multi-scalar product", fn: () => g.msmPublic(pts, sc) },
    { name: "BLS12-381 G1 hash to curve (RFC 9380)", fn: () => bls.hashToG1(g.encodeScalar(k()), bls.BLS_DST.G1) },
    { name: "BLS12-381 G1 128-bit multiplication", fn: () => bls.g1Mul(P1, r128) },
    { name: "BLS12-381 3-pair product (keys seen before)", fn: () => bls.pairingProductIsOne(three) },
  ];
}

/** The same operations as raw library calls: the floor of each backend. */
function floorCases(api: Secp256k1Api, mcl: typeof Mcl): Record<string, () => unknown> {
  const k32 = () => g.encodeScalar(g.randomScalar());
  const X = api.publicKeyCreate(k32(), false);
  const Y33 = api.publicKeyConvert(api.publicKeyCreate(k32(), false), true);
  const pts = Array.from({ length: 64 }, () => api.publicKeyCreate(k32(), false));
  const P = mcl.hashAndMapToG1("x");
  const Q = [mcl.hashAndMapToG2("a"), mcl.hashAndMapToG2("b")];
  const lines = [new mcl.PrecomputedG2(mcl.hashAndMapToG2("g")), ...Q.map((q) => new mcl.PrecomputedG2(q))];
  const fr = new mcl.Fr();
  fr.setByCSPRNG();
  const u = new mcl.Fp();
  u.setByCSPRNG();
  return {
    "secp256k1 k*P (generator)": () => api.publicKeyCreate(k32(), false),
    "secp256k1 k*X (variable base)": () => api.publicKeyTweakMul(X, k32(), false),
    "secp256k1 X + Y": () => api.publicKeyCombine([X, pts[0]], false),
    "secp256k1 decode (33-byte compressed)": () => api.publicKeyConvert(Y33, false),
    "secp256k1 64-point multi-scalar product": () =>
      api.publicKeyCombine(
        pts.map((p) => api.publicKeyTweakMul(p, k32(), false)),
        false,
      ),
    "BLS12-381 G1 hash to curve (RFC 9380)": () => mcl.add(u.mapToG1(), u.mapToG1()),
    "BLS12-381 G1 128-bit multiplication": () => mcl.mul(P, fr),
    "BLS12-381 3-pair product (keys seen before)": () =>
      mcl.finalExp(
        mcl.mul(
          mcl.mul(mcl.precomputedMillerLoop(P, lines[0]), mcl.precomputedMillerLoop(P, lines[1])),
          mcl.precomputedMillerLoop(P, lines[2]),
        ),
      ),
  };
}

async function backendTable(timeMs: number): Promise<string> {
  const b = await benchBackends();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const api = require("secp256k1/bindings") as Secp256k1Api;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mcl = require("mcl-wasm") as typeof Mcl;
  // each case list is built on its own backend (points of the right kind for it)
  const fastCases = await onBackends(b.fast, curveCases);
  const nobleCases = await onBackends(b.noble, curveCases);
  const fl = floorCases(api, mcl);
  const sets = [b.fast, b.noble, b.fast];
  const res = await interleaved(
    fastCases.map((c, i) => ({ name: c.name, fns: [c.fn, nobleCases[i].fn, fl[c.name]] })),
    ["ours", "noble", "floor"],
    3,
    timeMs,
    (v, run) => onBackends(sets[v], run),
  );
  const f = (x: number) => (x >= 1 ? x.toFixed(3) : x.toFixed(4));
  return [
    "## Backends side by side (ms, same run)",
    "",
    "Each row's three variants run back to back, three rounds; each keeps its smallest median.",
    `'ours' goes through offchain/crypto (input checks, conversion to and from noble points) on the default backends`,
    `(secp256k1: ${b.fast.group.name}, BLS12-381: ${b.fast.pairing.name}); 'noble' is the same call on @noble/curves; 'floor' is the`,
    "raw library call (libsecp256k1's N-API binding, mcl-wasm) on bytes or mcl objects.",
    "",
    "| operation | ours | noble | noble / ours | floor | ours / floor |",
    "|---|---:|---:|---:|---:|---:|",
    ...res.map(
      ({ name, ms: [o, n, fm] }) => `| ${name} | ${f(o)} | ${f(n)} | ${(n / o).toFixed(1)}x | ${f(fm)} | ${(o / fm).toFixed(2)} |`,
    ),
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg()[0];
  const timeMs = Number(process.env.BENCH_TIME_MS ?? 300);
  const side = await backendTable(timeMs);
  const rows = await runCases("crypto core", cases(), timeMs);
  const intro = [
    "The RSMS paper (Table II) priced its protocols with BLS12-381 G1 operations in Python over",
    "Miracl Core on an i7-10700. metatrust runs the RSMS protocols on secp256k1 (docs/specs/crypto.md)",
    "in Node; the BLS12-381 rows are for the avatar protocols. 'paper / ours' > 1",
    "means we are faster; the curves differ, so the ECPSM rows compare the same protocol step, not",
    "the same curve. The rows run on the default backends.",
    "",
    loadNote(loadBefore),
    "",
    side,
    "## Every primitive (default backends)",
  ].join("\n");
  const files = writeResults("crypto", "Crypto core benchmarks", intro, rows);
  console.log(`\nwritten: ${files.join(", ")}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
