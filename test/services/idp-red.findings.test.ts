/**
 * Red team (h9-red): attacks on the IdP service as deployed that got through and need a design
 * decision. Each test passes when the attack is refused and fails while it gets through
 * (`npm run test:findings`; the normal run skips *.findings.test.ts).
 */
import { expect } from "chai";
import path from "path";
import hre from "hardhat";
import { Wallet, parseEther } from "ethers";
import { deploySystemFixture } from "../fixtures/system";
import { tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { IdentityProvider } from "../../offchain/avatars/agents";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { keccak256 } from "../../offchain/crypto/hash";
import { toBytes, toHex } from "../../offchain/crypto/bytes";
import { IdpService, IDP_RECORD } from "../../offchain/services/avatars/idp-service";
import { delegateRemote, idpInfo, issueRemote as issueOpen, loginRemote } from "../../offchain/services/avatars/clients";
import { MITRegistry__factory } from "../../typechain-types";
import { issueEnrolmentToken } from "../../offchain/services/enrolment";

/** The IdP's keystore, for its operator's one-time enrolment tokens (`idp:enrol-token`). */
let idpKs: Keystore;
/** issueRemote with a fresh token for the label, as the IdP's operator issues one per identity. */
const issueRemote = (o: Parameters<typeof issueOpen>[0]) =>
  issueOpen({ ...o, token: o.token ?? issueEnrolmentToken(idpKs, { service: "idp", kind: o.kind, identity: o.label, ttlSec: 600 }).token });

/** The avatar id the tasks use for a name (tasks/avatar.ts). */
const avatar = (n: string) => keccak256(toBytes(`metatrust:avatar:${n}`));

describe("h9-red findings: the IdP service", function () {
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
    const dir = tmp("idp-red-f");
    const ks = new Keystore(path.join(dir, "keystore"), "");
    idpKs = ks;
    ks.create(IDP_RECORD, new IdentityProvider().toRecord());
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const registry = MITRegistry__factory.connect(address, wallet);
    svc = new IdpService({ keystore: ks, dir: path.join(dir, "service"), registry, store: f.store, wallet, chainId, log: () => undefined });
    const url = (await svc.start({ port: 0 })).url;
    const dep = { chainId, registry: MITRegistry__factory.connect(address, hre.ethers.provider) };
    return { f, dep, registry, info: await idpInfo(url, dep), client: new Keystore(path.join(tmp("idp-red-f-client"), "keystore"), "") };
  }

  before(async () => {
    s = await start();
  });
  after(async () => svc?.stop());

  /**
   * F6 (MEDIUM, privacy) - the label an AI proxy's MIT is issued under is sealed to the IdP on the
   * wire ("the real identity (the proxy's operator) travels in the same box", services/avatars/wire.ts),
   * and then published in the clear: the MIT's parameters on IPFS read "AI proxy of <label>". A
   * user who runs her own proxy (`avatar:mit --proxy … --operator "Alice A."`) and delegates her
   * avatar to it is named to everyone: avatar -> AvatarDelegated(proxySerial) on-chain -> the
   * proxy MIT's paramsCid -> "AI proxy of Alice A.". Tracing, which the paper reserves to the IdP,
   * is then public. Refused when the label sealed on the wire is not in the MIT's public parameters.
   */
  it("F6: the operator label sealed to the IdP does not appear in the proxy MIT's public parameters (IPFS)", async () => {
    const eye = new SimulatedEye(9201);
    const alice = (
      await issueRemote({
        idp: s.info,
        dep: s.dep,
        keystore: s.client,
        name: "alice",
        kind: "user",
        label: "Alice A.",
        enrollment: eye.capture(),
      })
    ).party;
    const bot = (await issueRemote({ idp: s.info, dep: s.dep, keystore: s.client, name: "alice-bot", kind: "proxy", label: "Alice A." }))
      .party;
    await loginRemote({ idp: s.info, dep: s.dep, user: alice, sample: () => eye.capture(), avatarId: avatar("fox"), appearance: "fox" });
    await delegateRemote({ idp: s.info, dep: s.dep, user: alice, sample: () => eye.capture(), proxy: bot, avatarId: avatar("fox") });
    // what anybody reads: the avatar's driver on-chain, its MIT, the MIT's parameters on IPFS
    const driver = (await s.dep.registry.avatar(toHex(avatar("fox")))).driverSerial;
    const published = JSON.stringify(await s.f.store.getJson((await s.dep.registry.mit(driver)).paramsCid));
    expect(published).to.not.include("Alice A.");
  });

  /**
   * F7 (LOW) - avatar names are first come, first served, for ever. The tasks derive an avatar id
   * from its public name (keccak256("metatrust:avatar:" ‖ name)) and the first login of an id makes
   * its caller the owner (MITRegistry.recordLogin); any MIT holder can claim any number of names
   * before their users do (or, on-path without TLS, hold a user's first login, read the avatar id
   * and log in first). The name's user is then refused NotOwner with no recourse (no transfer or
   * release). Refused when alice's login to the avatar she names "alice" succeeds after bob has
   * logged in to the avatar named "alice" (for example if ids were derived per owner).
   */
  it("F7: bob logging in first to the avatar named 'alice' does not lock alice out of it", async () => {
    const eyes = { carol: new SimulatedEye(9202), dave: new SimulatedEye(9203) };
    const issue = async (name: string, eye: SimulatedEye) =>
      (await issueRemote({ idp: s.info, dep: s.dep, keystore: s.client, name, kind: "user", label: name, enrollment: eye.capture() }))
        .party;
    const carol = await issue("carol", eyes.carol);
    const dave = await issue("dave", eyes.dave);
    await loginRemote({
      idp: s.info,
      dep: s.dep,
      user: dave,
      sample: () => eyes.dave.capture(),
      avatarId: avatar("carol"),
      appearance: "squat",
    });
    const outcome = await loginRemote({
      idp: s.info,
      dep: s.dep,
      user: carol,
      sample: () => eyes.carol.capture(),
      avatarId: avatar("carol"),
      appearance: "carol",
      retry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
    }).then(
      () => "logged in",
      (e: Error) => e.message.split("\n")[0],
    );
    expect(outcome).to.equal("logged in");
  });
});
