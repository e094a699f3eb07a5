/**
 * `npm run bench`: median time of every primitive of the crypto core, beside the RSMS paper's
 * Table II where it reports the same operation (BLS12-381 G1 via Miracl Core in Python, i7-10700).
 * Writes bench/results/crypto.md and crypto.json.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import * as g from "../offchain/crypto/group";
import * as h from "../offchain/crypto/hash";
import * as bls from "../offchain/crypto/bls";
import { BloomFilter } from "../offchain/crypto/bloom";
import { eciesDecrypt, eciesEncrypt } from "../offchain/crypto/ecies";
import { combineInExponent, recover, split } from "../offchain/crypto/shamir";
import { BenchCase, runCases, writeResults } from "./lib";

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
    { name: "secp256k1 point addition", fn: () => X.add(Y), paperMs: 0.027, paperRef: `${T2} ECPA` },
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

async function main(): Promise<void> {
  const rows = await runCases("crypto core", cases(), Number(process.env.BENCH_TIME_MS ?? 300));
  const intro = [
    "The RSMS paper (Table II) priced its protocols with BLS12-381 G1 operations in Python over",
    "Miracl Core on an i7-10700. metatrust runs the RSMS protocols on secp256k1 (docs/specs/crypto.md)",
    "with noble-curves in Node; the BLS12-381 rows are for the avatar protocols. 'paper / ours' > 1",
    "means we are faster; the curves differ, so the ECPSM rows compare the same protocol step, not",
    "the same curve.",
  ].join("\n");
  const files = writeResults("crypto", "Crypto core benchmarks", intro, rows);
  console.log(`\nwritten: ${files.join(", ")}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
