/**
 * h9-red finding F10, settled by documentation (h9-fix): `CPSVerifier.verifyNow` is a signature
 * check only and never reads the MITRegistry, so it still accepts a proxy signature under a revoked
 * delegation. Its NatSpec (contracts/interfaces/ICPSVerifier.sol) names the registry checks an
 * on-chain consumer must add; this test runs exactly those calls against the IdP service's
 * delegation, before and after its revocation.
 */
import { expect } from "chai";
import path from "path";
import hre from "hardhat";
import { Wallet, parseEther } from "ethers";
import { deploySystemFixture } from "../fixtures/system";
import { tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { AvatarParty, IdentityProvider } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toBytes } from "../../offchain/crypto/bytes";
import { IdpService, IDP_RECORD } from "../../offchain/services/avatars/idp-service";
import { delegateRemote, idpInfo, issueRemote as issueOpen, loginRemote } from "../../offchain/services/avatars/clients";
import { Scope, cpsPSign, cpsVerifierArgs } from "../../offchain/crypto/cps";
import { CPSVerifier__factory, MITRegistry__factory } from "../../typechain-types";
import { issueEnrolmentToken } from "../../offchain/services/enrolment";

/** The IdP's keystore, for its operator's one-time enrolment tokens (`idp:enrol-token`). */
let idpKs: Keystore;
/** issueRemote with a fresh token for the label, as the IdP's operator issues one per identity. */
const issueRemote = (o: Parameters<typeof issueOpen>[0]) =>
  issueOpen({ ...o, token: o.token ?? issueEnrolmentToken(idpKs, { service: "idp", kind: o.kind, identity: o.label, ttlSec: 600 }).token });

/** The avatar id the tasks use for a name (tasks/avatar.ts). */
/** The id of the avatar `p` calls `n` (names are per owner, avatarIdOf). */
const avatar = (p: AvatarParty, n: string) => avatarIdOf(p.mit!.serial, n);

describe("CPSVerifier.verifyNow on-chain: a signature check, and the registry checks its NatSpec names (h9-red F10)", function () {
  this.timeout(240_000);
  let svc: IdpService;
  let s: Awaited<ReturnType<typeof start>>;

  async function start() {
    const f = await deploySystemFixture();
    const address = f.deployment.contracts.MITRegistry.address;
    const wallet = Wallet.createRandom().connect(hre.ethers.provider) as unknown as Wallet;
    const [funder] = await hre.ethers.getSigners();
    await (await funder.sendTransaction({ to: wallet.address, value: parseEther("10") })).wait();
    const admin = MITRegistry__factory.connect(address, f.msrp);
    await (await admin.grantRole(await admin.IDP_ROLE(), wallet.address)).wait();
    const dir = tmp("idp-f10");
    const ks = new Keystore(path.join(dir, "keystore"), "");
    idpKs = ks;
    ks.create(IDP_RECORD, new IdentityProvider().toRecord());
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const registry = MITRegistry__factory.connect(address, wallet);
    svc = new IdpService({ keystore: ks, dir: path.join(dir, "service"), registry, store: f.store, wallet, chainId, log: () => undefined });
    const url = (await svc.start({ port: 0 })).url;
    const dep = { chainId, registry: MITRegistry__factory.connect(address, hre.ethers.provider) };
    return { f, dep, registry, info: await idpInfo(url, dep), client: new Keystore(path.join(tmp("idp-f10-client"), "keystore"), "") };
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
