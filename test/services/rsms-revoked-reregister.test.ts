/**
 * Red team s17-redB, finding B6 over the network (fixed): an RN's enrolment token named only the
 * name the RN registers under, so a revoked device (in S_RN) that obtained a token for a fresh name
 * sealed any real identity it liked and came back. An RN's token now names the real identity its
 * registration must open to (`rsms:enrol-token --rid`, TokenRecord.rid), and the MSRP refuses a
 * registration under an identity that is revoked (test/rsms/revoked-reregister.test.ts). Each
 * refusal changes nothing: the name stays free, the token stays unused.
 */
import { expect } from "chai";
import { rsmsServices, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { registerRnRemote } from "../../offchain/services/rsms/clients";
import { ServiceError } from "../../offchain/services/client";
import { MSRP_RECORD } from "../../offchain/services/rsms/msrp-service";
import { parseEnrolmentToken, tokenRecordName, type TokenRecord } from "../../offchain/services/enrolment";
import { toHex } from "../../offchain/crypto/bytes";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

async function refusal(p: Promise<unknown>): Promise<ServiceError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, "the request was served").to.be.instanceOf(ServiceError);
  return e as ServiceError;
}

describe("services/rsms red team s17-redB B6: a revoked RN registers again over the network", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  const names = () => s.msrp.msrp.summary().rns.map((r) => r.name);
  const used = (token: string) =>
    (s.msrpDeps.keystore.load(MSRP_RECORD) as { enrolment?: Record<string, unknown> }).enrolment?.[toHex(parseEnrolmentToken(token).id)];
  before(async () => {
    s = await rsmsServices({ msrpRetry: once });
  });
  after(async () => {
    await s?.stop();
  });

  it("a registration sealing another real identity than its token names is refused; the token then registers the named one", async () => {
    const token = s.enrol("fresh", "rn", 3600, "serial-fresh");
    const reg = (rid: string, dir: string) =>
      registerRnRemote({
        msrpUrl: s.msrpUrl,
        name: "fresh",
        poolId: 1,
        rid,
        token,
        keystore: new Keystore(tmp(dir), ""),
        dep: s.dep,
        retry: once,
      });
    const e = await refusal(reg("serial-made-up", "fresh-1"));
    expect(e.reason, e.message).to.equal("MSRP_REJECTED");
    expect(names()).to.not.include("fresh");
    expect(used(token), "the token is not used up").to.equal(undefined);
    await reg("serial-fresh", "fresh-2");
    expect(names()).to.include("fresh");
  });

  it("an RN in S_RN with a token for a fresh name (naming its real identity) is refused SUSPICIOUS; nothing changes", async () => {
    const old = await registerRnRemote({
      msrpUrl: s.msrpUrl,
      name: "stolen",
      poolId: 1,
      rid: "rn:stolen",
      token: s.enrol("stolen"),
      keystore: new Keystore(tmp("stolen"), ""),
      dep: s.dep,
    });
    s.msrp.msrp.flagRn(old.state.pid); // the operator revokes the device
    const token = s.enrol("stolen-2", "rn", 3600, "rn:stolen");
    const before = JSON.stringify(s.msrp.msrp.toRecord());
    const e = await refusal(
      registerRnRemote({
        msrpUrl: s.msrpUrl,
        name: "stolen-2",
        poolId: 1,
        rid: "rn:stolen",
        token,
        keystore: new Keystore(tmp("stolen-2"), ""),
        dep: s.dep,
        retry: once,
      }),
    );
    expect(e.reason, e.message).to.equal("SUSPICIOUS");
    expect(JSON.stringify(s.msrp.msrp.toRecord())).to.equal(before);
    expect(used(token)).to.equal(undefined);
  });

  it("an RN's token that names no real identity (issued before tokens did) is refused TOKEN_WRONG_IDENTITY", async () => {
    const token = s.enrol("legacy");
    const id = parseEnrolmentToken(token).id;
    const { rid, ...rec } = s.msrpDeps.keystore.load<TokenRecord>(tokenRecordName(id));
    expect(rid).to.equal("rn:legacy");
    s.msrpDeps.keystore.update(tokenRecordName(id), rec);
    const e = await refusal(
      registerRnRemote({
        msrpUrl: s.msrpUrl,
        name: "legacy",
        poolId: 1,
        rid: "rn:legacy",
        token,
        keystore: new Keystore(tmp("legacy"), ""),
        dep: s.dep,
        retry: once,
      }),
    );
    expect([e.status, e.reason], e.message).to.deep.equal([403, "TOKEN_WRONG_IDENTITY"]);
    expect(names()).to.not.include("legacy");
  });
});
