/**
 * Red team (session 13, h11-red's "group gas drain"): a registered user asks the MSRP service for
 * group after group, and add after add, each a transaction the MSRP pays for. The MSRP's policy
 * (offchain/services/rsms/group-quota.ts) refuses a formation or an add over the user's quota or the
 * global budget of the window with 429 QUOTA_EXCEEDED (GROUP_QUOTA / GROUP_BUDGET), one line,
 * nothing changed (no transaction, no group in the agent, no charge); a retry of an accepted
 * request is answered from the reply cache and not charged again; the user's refused request is kept
 * and goes through in the next window; the counts survive a restart.
 */
import { expect } from "chai";
import path from "path";
import hre from "hardhat";
import { randomBytes } from "@noble/hashes/utils.js";
import { msrpRequest, rsmsServices, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { equalBytes, toHex } from "../../offchain/crypto/bytes";
import { registerRnRemote, joinRemote } from "../../offchain/services/rsms/clients";
import {
  addRemote,
  localParty,
  registerUserRemote,
  requestGroupRemote,
  userClientRecord,
} from "../../offchain/services/rsms/group-clients";
import { encodeGroupRequest, groupSession } from "../../offchain/services/rsms/group-wire";
import { DEFAULT_GROUP_POLICY, GroupQuota, parseGroupPolicy } from "../../offchain/services/rsms/group-quota";
import { Route, Scheme, sealEnvelope } from "../../offchain/services/envelope";
import { ServiceError, postEnvelope } from "../../offchain/services/client";
import { ServiceGroupRegistry__factory } from "../../typechain-types";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
const policy = { perUser: 2, budget: 3, windowSec: 3600 };

describe("h13-harden: the MSRP's quota on group formations and adds (refused drain)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  const machines = new Map<string, Keystore>();
  const ks = (n: string) => machines.get(n)!;
  let now = Date.UTC(2026, 11, 3, 12, 0, 0);
  let first: Uint8Array;

  const formed = async () => {
    const reg = ServiceGroupRegistry__factory.connect(s.groupsAddress, hre.ethers.provider);
    return (await reg.queryFilter(reg.filters.GroupFormed())).length;
  };
  const agentGroups = () => Object.keys((s.msrp.msrp.toRecord() as { groups?: object }).groups ?? {}).length;
  const balance = () => hre.ethers.provider.getBalance(s.msrpWallet.address);
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => "accepted",
      (e: unknown) => (e instanceof ServiceError ? `${e.status} ${e.code} ${e.reason}` : String(e)),
    );
  /** A group request by `user`, sealed by hand (its bytes can be sent again). */
  const rawRequest = (user: string) => {
    const groupId = randomBytes(32);
    const body = encodeGroupRequest({ groupId, size: 1, user });
    return sealEnvelope(msrpRequest(s.dep, Route.GroupRequest, groupSession(groupId, 0), body), {
      scheme: Scheme.Schnorr,
      sk: localParty(ks(user), user).sk,
    });
  };

  before(async () => {
    s = await rsmsServices({ groups: true, groupPolicy: policy, clock: () => now });
    const rns = ["a", "b", "c"];
    for (const n of [...rns, "alice", "bob"]) machines.set(n, new Keystore(tmp(`q-${n}`), ""));
    for (const n of rns)
      await registerRnRemote({ msrpUrl: s.msrpUrl, name: n, poolId: 1, rid: `rn:${n}`, token: s.enrol(n), keystore: ks(n), dep: s.dep });
    expect(await s.msrp.publishDue()).to.equal(1);
    for (const n of rns) await joinRemote({ name: n, poolId: 1, keystore: ks(n), dep: s.dep });
    for (const u of ["alice", "bob"])
      await registerUserRemote({ msrpUrl: s.msrpUrl, name: u, rid: `user:${u}`, token: s.enrol(u, "user"), keystore: ks(u), dep: s.dep });
  });
  after(async () => {
    await s?.stop();
    await s?.msrp.stop();
  });

  it("a user's requests beyond its quota are refused 429 GROUP_QUOTA, and nothing changes; a retry of an accepted one is not charged again", async () => {
    first = (await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "alice", size: 1, keystore: ks("alice"), dep: s.dep })).groupId;
    const raw = rawRequest("alice");
    const reply = await postEnvelope(s.msrpUrl, "/v1/group/request", raw, once);
    expect(s.msrp.desk!.quota.used("alice")).to.deep.equal({ user: 2, total: 2 });
    // the same bytes again (its reply was lost): the same reply, not a refusal, and no second charge
    expect(equalBytes(await postEnvelope(s.msrpUrl, "/v1/group/request", raw, once), reply)).to.equal(true);
    expect(s.msrp.desk!.quota.used("alice")).to.deep.equal({ user: 2, total: 2 });

    const [groups, agent, wei] = [await formed(), agentGroups(), await balance()];
    const third = requestGroupRemote({ msrpUrl: s.msrpUrl, user: "alice", size: 1, keystore: ks("alice"), dep: s.dep, retry: once });
    const err = await third.then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(`${err?.status} ${err?.code} ${err?.reason}`).to.equal("429 QUOTA_EXCEEDED GROUP_QUOTA");
    expect(err!.message).to.match(/user "alice" has used its quota of 2 group formations and adds in this window/);
    expect(err!.message).to.match(/the request is kept/);
    expect(err!.message.split("\n")).to.have.length(1);
    // nothing changed: no transaction, no group, no charge; the request is kept for the next window
    expect([await formed(), agentGroups(), await balance()]).to.deep.equal([groups, agent, wei]);
    expect(s.msrp.desk!.quota.used("alice")).to.deep.equal({ user: 2, total: 2 });
    expect(ks("alice").exists(`${userClientRecord("alice")}-group-request`)).to.equal(true);
  });

  it("an add beyond the user's quota is refused the same way, and the group stays at its epoch", async () => {
    const epoch = (await s.dep.groups.view(first)).epoch;
    const wei = await balance();
    expect(
      await refusal(
        addRemote({ msrpUrl: s.msrpUrl, user: "alice", groupId: first, count: 1, keystore: ks("alice"), dep: s.dep, retry: once }),
      ),
    ).to.equal("429 QUOTA_EXCEEDED GROUP_QUOTA");
    expect((await s.dep.groups.view(first)).epoch).to.equal(epoch);
    expect(s.msrp.msrp.groupInfo(first).epoch).to.equal(epoch);
    expect(await balance()).to.equal(wei);
  });

  it("the global budget refuses another user once every user together spent it (429 GROUP_BUDGET)", async () => {
    await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "bob", size: 1, keystore: ks("bob"), dep: s.dep });
    const groups = await formed();
    expect(await refusal(postEnvelope(s.msrpUrl, "/v1/group/request", rawRequest("bob"), once))).to.equal(
      "429 QUOTA_EXCEEDED GROUP_BUDGET",
    );
    expect(await formed()).to.equal(groups);
    expect(s.msrp.desk!.quota.used("bob")).to.deep.equal({ user: 1, total: 3 });
  });

  it("the counts survive a restart; in the next window the kept request goes through", async () => {
    const again = new GroupQuota(path.join(s.msrpDeps.dir, "groups"), policy, () => now);
    expect(again.used("alice")).to.deep.equal({ user: 2, total: 3 });
    now += policy.windowSec * 1000;
    const groups = await formed();
    const g = await requestGroupRemote({ msrpUrl: s.msrpUrl, user: "alice", size: 1, keystore: ks("alice"), dep: s.dep, retry: once });
    expect(toHex(g.groupId)).to.have.length(66);
    expect(await formed()).to.equal(groups + 1);
    expect(ks("alice").exists(`${userClientRecord("alice")}-group-request`)).to.equal(false);
    expect(s.msrp.desk!.quota.used("alice")).to.deep.equal({ user: 1, total: 1 });
  });
});

describe("group-quota: parseGroupPolicy (rsms:serve msrp --group-quota / --group-budget / --group-window)", () => {
  it("takes a flag over the environment over the default, and names the flag or variable it refuses", () => {
    expect(parseGroupPolicy({}, {})).to.deep.equal(DEFAULT_GROUP_POLICY);
    expect(parseGroupPolicy({ perUser: 3 }, { METATRUST_GROUP_QUOTA: "5", METATRUST_GROUP_BUDGET: "7" })).to.deep.equal({
      perUser: 3,
      budget: 7,
      windowSec: DEFAULT_GROUP_POLICY.windowSec,
    });
    const refused = (f: Parameters<typeof parseGroupPolicy>[0], env: NodeJS.ProcessEnv) => {
      try {
        parseGroupPolicy(f, env);
        return "accepted";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(refused({ perUser: 0 }, {})).to.equal('--group-quota: "0" is not a positive whole number');
    expect(refused({ windowSec: 1.5 }, {})).to.equal('--group-window: "1.5" is not a positive whole number');
    expect(refused({}, { METATRUST_GROUP_BUDGET: "lots" })).to.equal('METATRUST_GROUP_BUDGET: "lots" is not a positive whole number');
  });
});
