/**
 * h11-fix3: the IdP's start-up recovery threw on any intent it could not finish for another
 * reason than a refusal by the chain (the node unreachable for a moment, a dropped transaction),
 * so the IdP stayed down: no issuance, login or delegation for anyone until a restart happened to
 * succeed. Now it starts, the intent stays in the journal and is tried again in the background,
 * and only the retry of that very request waits (503). The test (in-process): the IdP crashes
 * between recordLogin and its reply (fault point `idp:after-chain-write`, the hook throws), and at
 * the restart the node fails the registry's log queries (SIMULATED: `queryFilter` throws until
 * released). Red before the fix: `start` threw "connect ECONNRESET".
 */
import { expect } from "chai";
import fs from "fs";
import path from "path";
import { idpSystem, issueParty } from "../helpers/idp-services";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { fromHex, toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { IdpService } from "../../offchain/services/avatars/idp-service";
import { idpInfo, issueRemote, loginRemote } from "../../offchain/services/avatars/clients";
import { openEnvelope } from "../../offchain/services/envelope";
import { onFault } from "../../offchain/services/faults";
import { postEnvelope } from "../../offchain/services/client";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("services/avatars: an intent whose recovery fails does not keep the IdP down", function () {
  this.timeout(120_000);
  let s: Awaited<ReturnType<typeof idpSystem>>;
  let svc: IdpService;

  after(async () => {
    onFault(undefined);
    delete process.env.METATRUST_FAULT;
    await svc?.stop();
  });

  it("the IdP restarts with a login it cannot finish yet: it issues MITs meanwhile, holds back that login's retry, and finishes it in the background", async () => {
    s = await idpSystem("idp-stalled");
    svc = new IdpService(s.deps);
    const url = (await svc.start({ port: 0 })).url;
    const info = await idpInfo(url, s.dep);
    const eye = new SimulatedEye(31);
    const bob = await issueParty(s, info, "bob", "user", "Bob B.", eye);
    const avatar = avatarIdOf(bob.mit!.serial, "B");
    process.env.METATRUST_FAULT = "idp:after-chain-write";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    const failed = await loginRemote({
      idp: info,
      dep: s.dep,
      user: bob,
      sample: () => eye.capture(),
      avatarId: avatar,
      appearance: "b",
      retry: once,
    }).then(
      () => "logged in",
      (e: Error) => e.message,
    );
    delete process.env.METATRUST_FAULT;
    onFault(undefined);
    expect(failed).to.match(/500 INTERNAL crash at idp:after-chain-write/);
    const journal = path.join(s.deps.dir, "journal");
    expect(fs.readdirSync(journal)).to.have.length(1);
    const intent = JSON.parse(fs.readFileSync(path.join(journal, fs.readdirSync(journal)[0]), "utf8")) as {
      id: string;
      data: { request: string };
    };
    const logins = async () => (await s.dep.registry.queryFilter(s.dep.registry.filters.AvatarLoggedIn(toHex(avatar)))).length;
    expect(await logins()).to.equal(1);

    // the restart, while the node fails the IdP's log queries (SIMULATED)
    const reg = s.deps.registry as unknown as { queryFilter: (...a: unknown[]) => Promise<unknown> };
    const real = reg.queryFilter.bind(reg);
    let failing = true;
    reg.queryFilter = async (...a: unknown[]) => {
      if (failing) throw new Error("connect ECONNRESET (the node, for log queries)");
      return real(...a);
    };
    const logs: string[] = [];
    try {
      await svc.stop();
      svc = new IdpService({ ...s.deps, stalledRetryMs: 100, log: (l) => logs.push(l) });
      expect((await svc.start({ port: Number(new URL(url).port) })).url).to.equal(url);
      expect(Object.keys(svc.stalledIntents())).to.deep.equal([intent.id]);
      expect(
        logs.some((l) =>
          l.startsWith(`recovery: intent ${intent.id} (recordLogin) failed, tried again in the background: connect ECONNRESET`),
        ),
      ).to.equal(true);

      // another party gets its MIT meanwhile
      const bot = await issueRemote({
        idp: info,
        dep: s.dep,
        keystore: s.client,
        name: "bot",
        kind: "proxy",
        label: "a proxy",
        token: s.token("proxy", "a proxy"),
      });
      expect(Number((await s.dep.registry.mit(toHex(bot.party.mit!.serial))).status)).to.equal(1);
      // the login's retry waits: 503, nothing recorded again
      const held = await postEnvelope(url, "/v1/login", fromHex(intent.data.request), once).then(
        () => "answered",
        (e: Error) => e.message,
      );
      expect(held).to.match(/ 503 .*still being finished/);

      // the node answers again: the background retry finishes it; the retry gets the cached acknowledgement
      failing = false;
      for (let i = 0; i < 100 && Object.keys(svc.stalledIntents()).length; i++) await new Promise((r) => setTimeout(r, 100));
      expect(svc.stalledIntents()).to.deep.equal({});
      expect(fs.readdirSync(journal)).to.have.length(0);
      const reply = await postEnvelope(url, "/v1/login", fromHex(intent.data.request), once);
      expect(openEnvelope(reply).inReplyTo).to.deep.equal(keccak256(fromHex(intent.data.request)));
      expect(await logins()).to.equal(1);
    } finally {
      reg.queryFilter = real;
    }
  });
});
