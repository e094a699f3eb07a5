import { expect } from "chai";
import {
  evidenceFromJson,
  evidenceToJson,
  originalFromJson,
  originalToJson,
  warrantFromJson,
  warrantToJson,
} from "../../offchain/avatars/codec";
import type { Evidence } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { cpsKeyGen, cpsOSign, cpsPSign, cpsPVerify, encodePk, encodeSig, Scope, Warrant } from "../../offchain/crypto/cps";
import { InvalidLengthError } from "../../offchain/errors";
import { expectThrows } from "../helpers/errors";

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe("avatars/codec (JSON of warrants, original signatures and evidence)", () => {
  const owner = cpsKeyGen(123456789n);
  const proxy = cpsKeyGen(987654321n);
  const warrant: Warrant = {
    irisCommitment: bytes(32, 1),
    proxy: proxy.pk,
    avatarId: bytes(32, 2),
    scope: Scope.challenge | Scope.interaction,
    notBefore: 1_700_000_000,
    notAfter: 1_700_086_400,
  };
  const o = cpsOSign(owner, warrant);
  const message = { type: Scope.interaction, time: 1_700_000_100, body: bytes(5, 3) };
  const e: Evidence = {
    avatarId: warrant.avatarId,
    ownerSerial: bytes(32, 4),
    ownerPk: owner.pk,
    driverSerial: bytes(32, 5),
    warrant,
    o,
    message,
    proxySig: cpsPSign(proxy, warrant, o, message),
  };

  it("writes hex strings, compressed points and plain numbers", () => {
    const w = warrantToJson(warrant);
    expect(w).to.deep.equal({
      irisCommitment: toHex(warrant.irisCommitment),
      proxy: toHex(encodePk(proxy.pk)),
      avatarId: toHex(warrant.avatarId),
      scope: 6,
      notBefore: 1_700_000_000,
      notAfter: 1_700_086_400,
    });
    expect(w.proxy).to.have.length(2 + 2 * 96);
    expect(originalToJson(o)).to.deep.equal({ h: toHex(o.h), r: toHex(o.r), sig: toHex(encodeSig(o.sig)) });
    expect(evidenceToJson(e)).to.deep.equal({
      version: 2,
      avatarId: toHex(e.avatarId),
      ownerSerial: toHex(e.ownerSerial),
      ownerPk: toHex(encodePk(owner.pk)),
      driverSerial: toHex(e.driverSerial),
      warrant: w,
      o: originalToJson(o),
      message: { type: 4, time: 1_700_000_100, body: toHex(message.body) },
      proxySig: toHex(encodeSig(e.proxySig)),
    });
  });

  it("reads back through JSON text exactly what it wrote, and the signatures still verify", () => {
    const back = evidenceFromJson(JSON.parse(JSON.stringify(evidenceToJson(e))));
    expect(back.avatarId).to.deep.equal(e.avatarId);
    expect(back.ownerSerial).to.deep.equal(e.ownerSerial);
    expect(back.driverSerial).to.deep.equal(e.driverSerial);
    expect(back.ownerPk.equals(e.ownerPk)).to.equal(true);
    expect(back.proxySig.equals(e.proxySig)).to.equal(true);
    expect(back.message).to.deep.equal(e.message);
    expect(back.o.h).to.deep.equal(o.h);
    expect(back.o.r).to.deep.equal(o.r);
    expect(back.o.sig.equals(o.sig)).to.equal(true);
    const { proxy: p, ...rest } = back.warrant;
    const { proxy: p0, ...rest0 } = warrant;
    expect(rest).to.deep.equal(rest0);
    expect(p.equals(p0)).to.equal(true);
    expect(cpsPVerify(back.ownerPk, back.warrant, back.o, back.message, back.proxySig)).to.equal(true);
    expect(warrantToJson(warrantFromJson(warrantToJson(warrant)))).to.deep.equal(warrantToJson(warrant));
    expect(originalToJson(originalFromJson(originalToJson(o)))).to.deep.equal(originalToJson(o));
  });

  it("refuses fields of the wrong length", () => {
    const j = evidenceToJson(e);
    const cut = (h: unknown) => String(h).slice(0, -2);
    const w = j.warrant as Record<string, unknown>;
    const oj = j.o as Record<string, unknown>;
    for (const [bad, n, got] of [
      [{ ...j, avatarId: cut(j.avatarId) }, 32, 31],
      [{ ...j, ownerSerial: cut(j.ownerSerial) }, 32, 31],
      [{ ...j, driverSerial: cut(j.driverSerial) }, 32, 31],
      [{ ...j, ownerPk: cut(j.ownerPk) }, 96, 95],
      [{ ...j, proxySig: cut(j.proxySig) }, 48, 47],
      [{ ...j, warrant: { ...w, irisCommitment: cut(w.irisCommitment) } }, 32, 31],
      [{ ...j, warrant: { ...w, avatarId: cut(w.avatarId) } }, 32, 31],
      [{ ...j, warrant: { ...w, proxy: cut(w.proxy) } }, 96, 95],
      [{ ...j, o: { ...oj, h: cut(oj.h) } }, 32, 31],
      [{ ...j, o: { ...oj, r: cut(oj.r) } }, 32, 31],
      [{ ...j, o: { ...oj, sig: cut(oj.sig) } }, 48, 47],
    ] as const)
      expectThrows(
        () => evidenceFromJson(bad),
        InvalidLengthError,
        "INVALID_LENGTH",
        new RegExp(`^fromHex: expected ${n} bytes, got ${got}$`),
      );
  });
});
