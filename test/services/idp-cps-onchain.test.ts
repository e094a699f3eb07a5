/**
 * h9-red finding F10, settled by documentation (h9-fix): `CPSVerifier.verifyNow` is a signature
 * check only and never reads the MITRegistry, so it still accepts a proxy signature under a revoked
 * delegation. Its NatSpec (contracts/interfaces/ICPSVerifier.sol) names the registry checks an
 * on-chain consumer must add; this test runs exactly those calls against the IdP service's
 * delegation, before and after its revocation.
 */
import { expect } from "chai";
import hre from "hardhat";
import { idpSystem, startIdp } from "../helpers/idp-services";
import { Keystore } from "../../offchain/storage/keystore";
import { AvatarParty } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toBytes } from "../../offchain/crypto/bytes";
import { IdpService } from "../../offchain/services/avatars/idp-service";
import { delegateRemote, issueRemote as issueOpen, loginRemote } from "../../offchain/services/avatars/clients";
import { Scope, cpsPSign, cpsVerifierArgs } from "../../offchain/crypto/cps";
import { CPSVerifier__factory } from "../../typechain-types";
import { issueEnrolmentToken } from "../../offchain/services/enrolment";

/** The IdP's keystore, for its operator's one-time enrolment tokens (`idp:enrol-token`). */
let idpKs: Keystore;
/** issueRemote with a fresh token for the label, as the IdP's operator issues one per identity. */
const issueRemote = (o: Parameters<typeof issueOpen>[0]) =>
  issueOpen({ ...o, token: o.token ?? issueEnrolmentToken(idpKs, { service: "idp", kind: o.kind, identity: o.label, ttlSec: 600 }).token });

/** The id of the avatar `p` calls `n` (names are per owner, avatarIdOf). */
const avatar = (p: AvatarParty, n: string) => avatarIdOf(p.mit!.serial, n);

describe("CPSVerifier.verifyNow on-chain: a signature check, and the registry checks its NatSpec names (h9-red F10)", function () {
  this.timeout(240_000);
  let svc: IdpService;
  let s: Awaited<ReturnType<typeof start>>;

  async function start() {
    const sys = await idpSystem("idp-f10");
    idpKs = sys.ks;
    const up = await startIdp(sys);
    svc = up.svc;
    return { f: sys.f, dep: sys.dep, registry: sys.deps.registry, info: up.info, client: sys.client };
  }

  before(async () => {
    s = await start();
  });
  after(async () => svc?.stop());

  it("a proxy signature after its delegation is revoked: verifyNow still says true, the documented registry check says false", async () => {
    const eye = new SimulatedEye(9204);
    const erin = (
      await issueRemote({
        idp: s.info,
        dep: s.dep,
        keystore: s.client,
        name: "erin",
        kind: "user",
        label: "Erin",
        enrollment: eye.capture(),
      })
    ).party;
    const bot = (await issueRemote({ idp: s.info, dep: s.dep, keystore: s.client, name: "erin-bot", kind: "proxy", label: "ACME" })).party;
    await loginRemote({
      idp: s.info,
      dep: s.dep,
      user: erin,
      sample: () => eye.capture(),
      avatarId: avatar(erin, "erin"),
      appearance: "e",
    });
    const d = await delegateRemote({
      idp: s.info,
      dep: s.dep,
      user: erin,
      sample: () => eye.capture(),
      proxy: bot,
      avatarId: avatar(erin, "erin"),
    });
    const v = CPSVerifier__factory.connect(s.f.deployment.contracts.CPSVerifier.address, hre.ethers.provider);
    const reg = s.dep.registry;
    const signed = async (body: string) => {
      const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
      const m = { type: Scope.interaction, time: now, body: toBytes(body) };
      return cpsVerifierArgs(
        erin.keys.pk,
        d.credential.warrant,
        d.credential.o,
        m,
        cpsPSign(bot.keys, d.credential.warrant, d.credential.o, m),
      );
    };
    // what a consuming contract must require besides verifyNow (ICPSVerifier.verifyNow @dev)
    const registryCheck = async (args: Awaited<ReturnType<typeof signed>>) => {
      const [originalPk, w, , r] = args;
      const a = await reg.avatar(w.avatarId);
      const h = await v.chameleonHash(originalPk, await v.warrantDigest(w), r);
      return (await reg.isVerified(w.avatarId)) && Number(a.driver) === 2 && a.warrantHash === h;
    };
    const live = await signed("while delegated");
    expect([await v.verifyNow(...live), await registryCheck(live)]).to.deep.equal([true, true]);
    await (await s.registry.revokeDelegation(d.ack.delegationId)).wait();
    const late = await signed("after the revocation");
    expect([await v.verifyNow(...late), await registryCheck(late)]).to.deep.equal([true, false]);
  });
});
