/**
 * Prints the fixed CPS verification vector hard-coded in test/avatars/CPSVerifierGas.t.sol
 * (deterministic: fixed keys, fixed warrant and fixed chameleon-hash parameter r).
 *   npx ts-node --transpile-only scripts/cps-gas-vector.ts
 */
import * as cps from "../offchain/crypto/cps";

const bytes32 = (b: number) => new Uint8Array(32).fill(b);
const original = cps.cpsKeyGen(0x1111n);
const proxy = cps.cpsKeyGen(0x2222n);
const w: cps.Warrant = {
  irisCommitment: bytes32(0xa1),
  proxy: proxy.pk,
  avatarId: bytes32(0xb2),
  scope: cps.Scope.all,
  notBefore: 1_000,
  notAfter: 2_000,
};
const { h, r } = cps.cpsCHash(original.pk, cps.warrantDigest(w), bytes32(0xc3));
const o: cps.OriginalSignature = { h, r, sig: cps.warrantPoint(h).multiply(original.sk) };
const m: cps.ProxyMessage = { type: cps.Scope.interaction, time: 1_500, body: new TextEncoder().encode("gas vector") };
const s = cps.cpsPSign(proxy, w, o, m);
if (!cps.cpsPVerify(original.pk, w, o, m, s)) throw new Error("the vector does not verify");
const [pk, wa, ma, ra, so, sp] = cps.cpsVerifierArgs(original.pk, w, o, m, s);
console.log(JSON.stringify({ originalPk: pk, warrant: wa, message: ma, r: ra, originalSig: so, proxySig: sp }, null, 2));
