/**
 * Red team h15-red2, finding R1 (open): one authority of a place blocks every registration there,
 * whatever k is.
 *
 * docs/specs/mssa.md §5 replaces the paper's "when all the authority nodes verify" by k of the
 * place's n authorities because "all-of-n lets one authority block every registration". That holds
 * on chain only. Off chain, the user's client needs a one-time key from *every* authority of the
 * place (Step 1, `registerRemote`: "no service given for the authorities …" otherwise), sends the
 * request to every one and requires every verify reply, and each authority's `verify` collects the
 * key of every other authority of the place before it checks anything. So one authority that is
 * down, withholds its key, refuses to verify, or answers with another nullifier (the client then
 * stops: "computed another identity nullifier") stops every registration at the place, for as
 * long as it likes, with nothing on chain to show for it (no proposal, so nothing to contest or
 * revoke). The place admin's only remedy is `setPlace` without it.
 *
 * The place here has three authorities and k = 2; the two genesis authorities (sitting) serve,
 * the third (not even seated: its approvals would never count) serves nothing. Secure behaviour:
 * k serving, sitting authorities register a user; this test fails while the client and the
 * authorities need all n.
 */
import { expect } from "chai";
import path from "path";
import hre from "hardhat";
import { Wallet } from "ethers";
import { deploySystemFixture } from "../fixtures/system";
import { tmp } from "../helpers/rsms-services";
import { devKey } from "../helpers/mssa-services";
import { Keystore } from "../../offchain/storage/keystore";
import { placeId } from "../../offchain/mssa/registration";
import { AuthorityService, importElectionKey, importPlaceKey } from "../../offchain/services/mssa/authority-service";
import { registerRemote, type MssaDeployment } from "../../offchain/services/mssa/clients";
import { freshId } from "../../offchain/services/common";
import { CredentialLedger__factory } from "../../typechain-types";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
const hex32 = () => Buffer.from(freshId()).toString("hex") + Buffer.from(freshId()).toString("hex");

describe("h15-red2 R1 (open): one authority of a place of three with k = 2 blocks every registration", function () {
  this.timeout(240_000);
  const services: AuthorityService[] = [];
  after(async () => {
    for (const s of services) await s.stop();
  });

  it("the third authority serves nothing: two sitting authorities (k = 2) still register alice", async () => {
    const f = await deploySystemFixture();
    const address = f.deployment.contracts.CredentialLedger.address;
    const operator = CredentialLedger__factory.connect(address, f.msrp);
    const au = [1, 2, 3].map((i) => devKey(i).connect(hre.ethers.provider) as unknown as Wallet);
    const place = "PL-h15-block";
    await (
      await operator.setPlace(
        placeId(place),
        au.map((w) => w.address),
        2,
      )
    ).wait();
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const dep: MssaDeployment = { chainId, ledger: CredentialLedger__factory.connect(address, hre.ethers.provider) };
    const placeKey = hex32();
    const electionKey = hex32();
    const deps = au.slice(0, 2).map((w) => {
      const dir = tmp("mssa-block");
      return {
        keystore: new Keystore(path.join(dir, "keystore"), ""),
        dir: path.join(dir, "service"),
        place,
        ledger: CredentialLedger__factory.connect(address, w),
        wallet: w,
        chainId,
        peers: new Map<string, string>(),
        peerRetry: once,
        log: () => undefined,
      };
    });
    const urls: string[] = [];
    for (const d of deps) {
      importPlaceKey(d.keystore, place, placeKey);
      importElectionKey(d.keystore, electionKey);
      const s = new AuthorityService(d);
      services.push(s);
      urls.push((await s.start({ port: 0 })).url);
    }
    deps[0].peers.set(au[1].address.toLowerCase(), urls[1]);
    deps[1].peers.set(au[0].address.toLowerCase(), urls[0]);
    // set-up: k = 2 sitting authorities of the place serve (the third is not seated at all)
    const ledger = CredentialLedger__factory.connect(address, hre.ethers.provider);
    expect(Number((await ledger.place(placeId(place))).threshold)).to.equal(2);

    const alice = new Wallet(Wallet.createRandom().privateKey);
    const outcome = await registerRemote({
      urls,
      place,
      user: alice,
      infos: ["mail:alice@example.org", "passport:UTO:BLOCK1"],
      dep,
      keystore: new Keystore(path.join(tmp("alice-block"), "keystore"), ""),
      retry: once,
    }).then(
      (r) => (r.outcome.granted ? "granted" : "pending"),
      (e: Error) => e.message.split("\n")[0],
    );
    expect(outcome).to.equal("granted");
  });
});
