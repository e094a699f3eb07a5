/**
 * Re-authentication over the network (RSMS §IV.A.2.b; issue 19): an RN joined at pool 1 moves to
 * pool 2 through pool 2's RPM service, which forwards to the MSRP service; the MSRP records
 * (PID_{k+1}, H4(a'_{k+1})) with kind 2. Retries, a relay to another pool, a replay after the move
 * and a crash of the MSRP between its on-chain write and its reply.
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import { rsmsServices } from "../helpers/rsms-services";
import { toHex } from "../../offchain/crypto/bytes";
import { MsrpService } from "../../offchain/services/rsms/msrp-service";
import { joinRemote, loadRemoteRn, reauthRemote, registerRnRemote } from "../../offchain/services/rsms/clients";
import { Kind, Route, Scheme, audienceOf, openEnvelope, sealEnvelope } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { onFault } from "../../offchain/services/faults";
import { ServiceError, postEnvelope } from "../../offchain/services/client";
import { RsmsRejectedError } from "../../offchain/rsms/errors";
import { expectRejects } from "../helpers/errors";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("services/rsms: re-authentication at another pool over HTTP", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  let msrp: MsrpService;

  before(async () => {
    s = await rsmsServices({ pools: [1, 2], msrpRetry: once });
    msrp = s.msrp;
    for (const n of ["a", "b", "c"])
      await registerRnRemote({ msrpUrl: s.msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: s.enrol(n), keystore: s.client, dep: s.dep });
    expect(await msrp.publishDue()).to.equal(1);
    for (const n of ["a", "b", "c"]) await joinRemote({ name: n, poolId: 1, keystore: s.client, dep: s.dep });
  });
  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    await s?.stop();
    await msrp?.stop();
  });

  it("an RN moves to pool 2 and back: each step on-chain with kind 2, the MSRP and the RN at PID_{k+1}; a retry answers from the chain", async () => {
    const pid0 = loadRemoteRn(s.client, "a")!.state.pid;
    const before = await s.dep.ledger.joinCount();
    const r = await reauthRemote({ name: "a", poolId: 2, keystore: s.client, dep: s.dep });
    expect([r.rn.state.k, r.rn.state.pool, r.resumed]).to.deep.equal([1, 2, false]);
    const rec = await s.dep.ledger.recordOf(r.rn.state.pid);
    expect([rec.poolId, rec.kind]).to.deep.equal([2, 2]);
    expect(toHex(r.rn.state.pid)).to.not.equal(toHex(pid0));
    expect(await s.dep.ledger.joinCount()).to.equal(before + 1);
    const m = msrp.msrp.summary().rns.find((x) => x.name === "a")!;
    expect([m.k, m.pid]).to.deep.equal([1, toHex(r.rn.state.pid)]);
    expect(msrp.msrp.trace(r.rn.state.pid)).to.include({ name: "a" });
    // the same request, in a fresh envelope (a reply lost after the write): answered from the chain, nothing written
    const again = await postEnvelope(s.rpms.get(2)!.url, "/v1/reauth", r.request);
    expect(toHex(again)).to.equal(toHex(r.reply!));
    expect(await s.dep.ledger.joinCount()).to.equal(before + 1);
    // and back to pool 1, as PID_2
    const back = await reauthRemote({ name: "a", poolId: 1, keystore: s.client, dep: s.dep });
    expect([back.rn.state.k, back.rn.state.pool]).to.deep.equal([2, 1]);
    expect((await s.dep.ledger.recordOf(back.rn.state.pid)).poolId).to.equal(1);
    // no forward left behind at either RPM
    for (const p of [1, 2]) {
      const dir = path.join(s.rpms.get(p)!.dir, "service", "forwards");
      expect(fs.existsSync(dir) ? fs.readdirSync(dir) : []).to.deep.equal([]);
    }
  });

  it("a move to the pool it is at is refused; a relay to another pool's RPM is refused; a replay of the step is answered without a write", async () => {
    await expectRejects(
      () => reauthRemote({ name: "b", poolId: 1, keystore: s.client, dep: s.dep }),
      RsmsRejectedError,
      "PROTOCOL_REJECTED",
      /^reauthRemote: "b" is already at pool 1$/,
    );
    const rn = loadRemoteRn(s.client, "b")!;
    const pool2 = (await s.dep.ledger.pool(2))!;
    // another encryption of the same step (PID_1 and a'_1 are functions of b's secrets)
    const { request: sameStep } = rn.buildReauthRequest({ poolId: 2, pkRpm: pool2.pkRpm, pidRpm: pool2.pidRpm });
    const moved = await reauthRemote({ name: "b", poolId: 2, keystore: s.client, dep: s.dep });
    const count = await s.dep.ledger.joinCount();
    const to = (pool: number, body: Uint8Array) =>
      sealEnvelope(
        {
          kind: Kind.Request,
          route: Route.Reauth,
          audience: audienceOf(s.dep.chainId, s.dep.registry, `rpm:${pool}`),
          session: freshId(),
          requestId: freshId(),
          issuedAt: Date.now(),
          inReplyTo: new Uint8Array(32),
          body,
        },
        { scheme: Scheme.None },
      );
    const status = (p: Promise<unknown>) =>
      p.then(
        () => 200,
        (e: unknown) => (e as ServiceError).status,
      );
    // the RN's envelope for pool 2, relayed to pool 1's RPM: addressed to another service
    expect(await status(postEnvelope(s.rpms.get(1)!.url, "/v1/reauth", moved.request, once))).to.equal(421);
    // the request itself, re-enveloped for pool 1: sealed to pool 2's key, pool 1 cannot open it
    expect(await status(postEnvelope(s.rpms.get(1)!.url, "/v1/reauth", to(1, openEnvelope(moved.request).body), once))).to.be.within(
      400,
      499,
    );
    // the same step again at pool 2 (a retry after a lost reply): the chain's answer, the same A, nothing written
    const replay = openEnvelope(await postEnvelope(s.rpms.get(2)!.url, "/v1/reauth", to(2, sameStep), once));
    expect(toHex(replay.body)).to.equal(toHex(openEnvelope(moved.reply!).body));
    expect(await s.dep.ledger.joinCount()).to.equal(count);
    expect(msrp.msrp.summary().rns.find((x) => x.name === "b")!.k).to.equal(1);
  });

  it("the MSRP crashes between its on-chain write and its reply: after a restart the RN's retry completes, once", async () => {
    process.env.METATRUST_FAULT = "msrp:after-chain-write";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    const failed = await reauthRemote({ name: "c", poolId: 2, keystore: s.client, dep: s.dep, retry: once }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(failed?.message).to.match(/ 502 UPSTREAM_UNAVAILABLE/);
    expect(loadRemoteRn(s.client, "c")!.state.k).to.equal(0); // the RN has not moved: its request is kept
    expect(msrp.msrp.summary().rns.find((x) => x.name === "c")!.k).to.equal(0);
    const count = await s.dep.ledger.joinCount();
    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    await msrp.stop();
    msrp = new MsrpService(s.msrpDeps);
    await msrp.start({ port: Number(new URL(s.msrpUrl).port) });
    expect(msrp.msrp.summary().rns.find((x) => x.name === "c")!.k).to.equal(1);
    const r = await reauthRemote({
      name: "c",
      poolId: 2,
      keystore: s.client,
      dep: s.dep,
      retry: { attempts: 3, timeoutMs: 30_000, backoffMs: 10 },
    });
    expect([r.resumed, r.rn.state.k, r.rn.state.pool]).to.deep.equal([true, 1, 2]);
    expect(await s.dep.ledger.joinCount()).to.equal(count);
    expect((await s.dep.ledger.recordOf(r.rn.state.pid)).kind).to.equal(2);
  });
});
