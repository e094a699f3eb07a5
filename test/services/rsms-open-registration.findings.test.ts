/**
 * Red team (h8-redrsms), finding F5, severity MEDIUM (open): anyone who can reach the MSRP
 * registers RNs and users under any real identity it claims.
 *
 * `POST /v1/rn/register` and `/v1/user/register` are unsigned (the newcomer has no key yet) and
 * the MSRP service checks nothing about the sealed RID: the service's comment says the MSRP checks
 * it "out of band", but no code does, and unlike RPMs (`--admit-rpm`) there is no admission list.
 * A stranger registers as many RNs as the rate limit lets it (Sybil RNs that the MSRP allocates
 * into service groups, each under a made-up or someone else's identity, so tracing leads nowhere
 * or to an innocent), and as many users, each of whom can make the MSRP pay gas for group
 * formations. The test passes when an MSRP refuses a registrant it has not admitted; it fails
 * today because no such admission exists. The fix needs a decision (an admission list of RIDs, a
 * one-time registration token issued out of band, or a signature by an identity provider).
 */
import { expect } from "chai";
import path from "path";
import hre from "hardhat";
import { deploySystemFixture } from "../fixtures/system";
import { funded, tmp } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { RsmsLedger } from "../../offchain/rsms/ledger";
import { Msrp } from "../../offchain/rsms/msrp";
import { MsrpService, MSRP_RECORD } from "../../offchain/services/rsms/msrp-service";
import { enrolRpm, registerRnRemote, type Deployment } from "../../offchain/services/rsms/clients";
import { ResourcePoolRegistry__factory } from "../../typechain-types";

describe("red team F5 (MEDIUM, open): registration is open to anyone under any identity", function () {
  this.timeout(300_000);

  it("a stranger's RN registrations under identities it made up are refused", async () => {
    const f = await deploySystemFixture();
    const address = await f.registry.getAddress();
    const msrpWallet = await funded();
    await (await f.registry.grantRole(await f.registry.MSRP_ROLE(), msrpWallet.address)).wait();
    const msrpKs = new Keystore(path.join(tmp("msrp"), "keystore"), "");
    msrpKs.create(MSRP_RECORD, Msrp.setup({ capacity: 8, lambda: 16, intervalSec: 0, ttlSec: 3600 }).toRecord());
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const dep: Deployment = {
      chainId,
      registry: address,
      ledger: new RsmsLedger(ResourcePoolRegistry__factory.connect(address, hre.ethers.provider)),
    };
    const rpmWallet = await funded();
    const msrp = new MsrpService({
      keystore: msrpKs,
      dir: tmp("msrp-svc"),
      ledger: new RsmsLedger(ResourcePoolRegistry__factory.connect(address, msrpWallet)),
      store: f.store,
      wallet: msrpWallet,
      chainId,
      registry: address,
      // the operator admits exactly one RPM; it admits no stranger
      admission: new Map([[1, rpmWallet.address.toLowerCase()]]),
      log: () => undefined,
    });
    const msrpUrl = (await msrp.start({ port: 0 })).url;
    try {
      await enrolRpm({ msrpUrl, poolId: 1, rid: "rpm-1", wallet: rpmWallet, keystore: new Keystore(tmp("rpm"), ""), dep });
      const stranger = new Keystore(tmp("stranger"), "");
      let accepted = 0;
      for (let i = 0; i < 5; i++)
        await registerRnRemote({ msrpUrl, name: `sybil-${i}`, poolId: 1, rid: `made-up identity ${i}`, keystore: stranger, dep })
          .then(() => accepted++)
          .catch(() => undefined);
      expect(accepted, `the MSRP registered ${accepted} RNs for a client it never admitted`).to.equal(0);
    } finally {
      await msrp.stop();
    }
  });
});
