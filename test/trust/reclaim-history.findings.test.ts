/**
 * Open finding (red team, session 12, h12-red2; docs/specs/trust.md §6, reclaimAvatar): a reclaimed
 * avatar keeps the squatter's rating record. `reclaimAvatar` (and registerAttested's reclaim of a
 * squat) resets the entity (controller, reputation 0, no flags) but not what the id did while the
 * squatter controlled it: its outgoing pairs (`trustStore[X][*]`, which others' effective trust reads,
 * and the epoch marker that refuses the owner's own rating of that target this epoch) and its
 * `TrustStored` history, which the detection pipeline reads from block 0 by entity id
 * (`TrustLedger.ratings(0)`, pipeline.ts) with no cut at `EntityReclaimed`.
 *
 * Attack (squat, then false accusation): the squatter registers alice's further avatar owl while it
 * is not logged in, rates honest providers 0 as owl (bad-mouthing), and lets alice reclaim it. The
 * flags the detector gave owl are cleared by the reclaim, but the next detector run reads the
 * squatter's ratings as owl's and flags alice's avatar again for them; until then others' trust
 * stores carry the squatter's values in owl's name.
 * Proposed fix: the entity's history starts at its last (re)registration: TrustLedger.ratings and the
 * pipeline drop an id's ratings (given and received) before its last EntityRegistered/EntityReclaimed,
 * and the contract keys pairs by (id, registration generation) or clears the reclaimed id's pairs.
 * Shown here: the squatter's rating is owl's after the reclaim, in the pipeline's input and in the
 * on-chain pair. Not shown end-to-end: a detector run that flags owl for it (it needs a world large
 * enough for z >= 4). Fails while the squatter's rating is still owl's after the reclaim.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { Signer } from "ethers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import * as F from "../../offchain/trust/fixed";
import { attestRegistration, TrustLedger } from "../../offchain/trust/ledger";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { MITRegistry__factory } from "../../typechain-types";

const label = (s: string) => keccak256(new TextEncoder().encode(`reclaim-history:${s}`));

async function fixture() {
  const f = await deployTrustFixture();
  const idp = f.msrp; // the fixture's operator holds IDP_ROLE and signs attestations
  const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, idp);
  const serial = label("alice-serial");
  await mit.issueMIT(toHex(serial), toHex(label("alice-key")), "bafy-params");
  const login = async (avatar: string) =>
    mit.recordLogin(avatar, toHex(serial), toHex(label(`w-${avatar}`)), toHex(label(`v-${avatar}`)), (await time.latest()) + 86_400);
  const account = async () => {
    const w = ethers.Wallet.createRandom().connect(ethers.provider);
    await setBalance(w.address, 10n ** 20n);
    return w as Signer;
  };
  const withAttestation = async (avatar: string, controller: Signer) => {
    const deadline = BigInt(await time.latest()) + 3600n;
    return { deadline, a: await attestRegistration(idp, f.trust, avatar, "avatar", await controller.getAddress(), deadline) };
  };
  const [fox, owl] = [toHex(avatarIdOf(serial, "fox")), toHex(avatarIdOf(serial, "owl"))];
  return { ...f, login, account, withAttestation, fox, owl };
}

describe("reclaimAvatar: the reclaimed avatar's rating record (open finding, h12-red2)", () => {
  it("a squatter's bad-mouthing as alice's owl stays owl's after alice reclaims it", async () => {
    const f = await loadFixture(fixture);
    const alice = await f.account();
    await f.login(f.fox);
    const fa = await f.withAttestation(f.fox, alice);
    await f.trust.connect(alice).registerAttested(f.fox, Kind.Avatar, fa.deadline, fa.a);
    // an honest provider
    const provider = await f.account();
    await f.trust.connect(provider).register(id("provider"), Kind.Organization);
    // the squatter registers owl while it is not logged in, and bad-mouths the provider as owl
    const squatter = await f.account();
    await f.trust.connect(squatter).register(f.owl, Kind.Avatar);
    await new TrustLedger(f.trust.connect(squatter)).rate(f.owl, id("provider"), F.packFactors(Array(6).fill(0)));
    // alice logs owl in and takes it back
    await f.login(f.owl);
    const ra = await f.withAttestation(f.owl, alice);
    await expect(f.trust.connect(alice).reclaimAvatar(f.owl, ra.deadline, ra.a)).to.emit(f.trust, "EntityReclaimed");
    expect((await f.trust.entity(f.owl)).controller).to.equal(await alice.getAddress());
    // what the pipeline reads (TrustLedger.ratings from block 0) and what others' trust reads
    const history = (await new TrustLedger(f.trust.connect(f.detector)).ratings(0)).filter((r) => r.from === f.owl);
    const pair = await f.trust.pairOf(f.owl, id("provider"));
    expect(
      { ratingsByOwl: history.length, pairRatings: pair.ratings },
      "alice's reclaimed owl carries the squatter's rating of the provider",
    ).to.deep.equal({ ratingsByOwl: 0, pairRatings: 0n });
  });
});
