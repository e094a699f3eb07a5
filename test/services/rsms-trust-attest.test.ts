/**
 * An RN's trust registration over the network (issue 19): the MSRP service attests that a PID
 * belongs to a registered RN when the RN asks with its long-term key sk_RN, so that the RN's
 * operator registers the PID in the TrustManager from its own account (`registerAttested`),
 * without the deployer's folder. Attacks: a stranger's key, another RN's PID, an expired or a
 * too-distant deadline, a PID not on-chain; a retry gets the same attestation.
 */
import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { rsmsServices, funded, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { toHex } from "../../offchain/crypto/bytes";
import { randomScalar } from "../../offchain/crypto/group";
import { joinRemote, loadRemoteRn, registerRnRemote } from "../../offchain/services/rsms/clients";
import { attestTrustRemote, encodeAttestRequest, MAX_ATTEST_TTL_SEC, RESOURCE_NODE_KIND } from "../../offchain/services/rsms/attest";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { postEnvelope, ServiceError } from "../../offchain/services/client";
import { TrustManager__factory } from "../../typechain-types";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("services/rsms: the MSRP attests an RN's PID for its trust registration", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  const ks = new Map<string, Keystore>();
  let tmAddress: string;

  before(async () => {
    s = await rsmsServices({ groups: true });
    tmAddress = s.f.deployment.contracts.TrustManager.address;
    for (const n of ["a", "b", "c"]) {
      ks.set(n, new Keystore(tmp(`rn-${n}`), ""));
      await registerRnRemote({
        msrpUrl: s.msrpUrl,
        name: n,
        poolId: 1,
        rid: `rn:${n}`,
        token: s.enrol(n),
        keystore: ks.get(n)!,
        dep: s.dep,
      });
    }
    await s.msrp.publishDue();
    for (const n of ["a", "b"]) await joinRemote({ name: n, poolId: 1, keystore: ks.get(n)!, dep: s.dep });
    // the chain's clock two days ahead of the wall clock (a development chain after chain:advance):
    // deadlines count from block.timestamp, which the TrustManager checks
    await time.increase(2 * 86_400);
    chainNow = await time.latest();
  });
  after(async () => {
    await s?.stop();
    await s?.msrp.stop();
  });

  const rn = (n: string) => loadRemoteRn(ks.get(n)!, n)!;
  let chainNow = 0;
  const now = () => chainNow;
  /** A request built by hand: (PID, controller, deadline) in an envelope signed by `sk`. */
  function request(pid: Uint8Array, controller: string, deadline: number, sk: bigint) {
    const fields = {
      kind: Kind.Request,
      route: Route.TrustAttest,
      audience: audienceOf(s.dep.chainId, s.dep.registry, "msrp"),
      session: freshId(),
      requestId: freshId(),
      issuedAt: Date.now(),
      inReplyTo: new Uint8Array(32),
      body: encodeAttestRequest({ pid, controller, deadline }),
    };
    return { fields, env: sealEnvelope(fields, { scheme: Scheme.Schnorr, sk }) };
  }
  const post = (env: Uint8Array) => postEnvelope(s.msrpUrl, "/v1/trust/attest", env, once);
  async function refusal(p: Promise<unknown>): Promise<ServiceError> {
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e, "the MSRP attested").to.be.instanceOf(ServiceError);
    return e as ServiceError;
  }

  it("an RN asks with sk_RN; its operator registers the PID in the TrustManager from its own account, verified", async () => {
    const operator = await funded();
    const r = await attestTrustRemote({
      name: "a",
      keystore: ks.get("a")!,
      dep: s.dep,
      trustManager: tmAddress,
      controller: operator.address,
      now: await time.latest(),
    });
    expect(r.pid).to.equal(toHex(rn("a").state.pid));
    const tm = TrustManager__factory.connect(tmAddress, operator);
    await (await tm.registerAttested(r.pid, RESOURCE_NODE_KIND, r.deadline, r.attestation)).wait();
    const e = await tm.entity(r.pid);
    expect(e.controller).to.equal(operator.address);
    expect(Number(e.kind)).to.equal(RESOURCE_NODE_KIND);
    // the attestation names its controller: anyone else presenting it is refused by the contract
    const thief = await funded();
    const r2 = await attestTrustRemote({
      name: "b",
      keystore: ks.get("b")!,
      dep: s.dep,
      trustManager: tmAddress,
      controller: operator.address,
      now: await time.latest(),
    });
    await expect(TrustManager__factory.connect(tmAddress, thief).registerAttested(r2.pid, RESOURCE_NODE_KIND, r2.deadline, r2.attestation))
      .to.be.reverted;
  });

  it("a stranger's key (not sk_RN) gets nothing (401)", async () => {
    const e = await refusal(post(request(rn("a").state.pid, (await funded()).address, now() + 600, randomScalar()).env));
    expect([e.status, e.reason]).to.deep.equal([401, "BAD_SIGNATURE"]);
  });

  it("an RN asking for another RN's PID gets nothing (401): the MSRP checks the key of the PID's owner", async () => {
    const e = await refusal(post(request(rn("b").state.pid, (await funded()).address, now() + 600, rn("a").state.sk).env));
    expect([e.status, e.reason]).to.deep.equal([401, "BAD_SIGNATURE"]);
    // nor for a PID the MSRP never issued
    const u = await refusal(post(request(new Uint8Array(32).fill(7), (await funded()).address, now() + 600, rn("a").state.sk).env));
    expect([u.status, u.reason]).to.deep.equal([422, "UNKNOWN_PID"]);
  });

  it("an expired or too distant deadline, or a PID with no join on-chain, is refused (422)", async () => {
    const c = (await funded()).address;
    const expired = await refusal(post(request(rn("b").state.pid, c, now() - 1, rn("b").state.sk).env));
    expect([expired.status, expired.reason]).to.deep.equal([422, "DEADLINE_EXPIRED"]);
    const far = await refusal(post(request(rn("b").state.pid, c, now() + MAX_ATTEST_TTL_SEC + 600, rn("b").state.sk).env));
    expect([far.status, far.reason]).to.deep.equal([422, "DEADLINE_TOO_FAR"]);
    // c registered but never joined: its PID_0 has no join record, so the TrustManager would not verify it
    const notJoined = await refusal(post(request(rn("c").state.pid, c, now() + 600, rn("c").state.sk).env));
    expect([notJoined.status, notJoined.reason]).to.deep.equal([422, "NOT_JOINED"]);
  });

  it("a retry (the same envelope, or the same request in a fresh one) gets the same attestation", async () => {
    const c = (await funded()).address;
    const r = request(rn("b").state.pid, c, now() + 900, rn("b").state.sk);
    const first = await post(r.env);
    expect(toHex(await post(r.env))).to.equal(toHex(first));
    const fresh = sealEnvelope(
      { ...r.fields, requestId: freshId(), issuedAt: Date.now() },
      { scheme: Scheme.Schnorr, sk: rn("b").state.sk },
    );
    expect(toHex(openEnvelope(await post(fresh)).body)).to.equal(toHex(openEnvelope(first).body));
  });
});
