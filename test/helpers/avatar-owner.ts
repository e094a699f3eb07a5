/**
 * One person's MIT and her avatars, for the tests of attested avatars and their reclaim
 * (test/trust/one-avatar-reclaim.test.ts, reclaim-history.test.ts): the trust fixture's operator
 * (the IdP) issues her MIT, logs her avatars in and attests registrations; fresh funded accounts
 * play her, her squatters and her counterparties.
 */
import { ethers } from "hardhat";
import { setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { Signer } from "ethers";
import type { deployTrustFixture } from "../fixtures/trust";
import { attestRegistration } from "../../offchain/trust/ledger";
import { avatarIdOf } from "../../offchain/avatars/protocols";
import { toHex } from "../../offchain/crypto/bytes";
import { keccak256 } from "../../offchain/crypto/hash";
import { MITRegistry__factory } from "../../typechain-types";

/**
 * alice's MIT (serial and key from `prefix`), her avatars fox and owl, and the helpers around them.
 * @param prefix - names the test file's values (label(s) = keccak256(`${prefix}:${s}`))
 */
export async function avatarOwner(f: Awaited<ReturnType<typeof deployTrustFixture>>, prefix: string) {
  const label = (s: string) => keccak256(new TextEncoder().encode(`${prefix}:${s}`));
  const idp = f.msrp; // the fixture's operator holds IDP_ROLE and signs attestations
  const mit = MITRegistry__factory.connect(f.deployment.contracts.MITRegistry.address, idp);
  const serial = label("alice-serial");
  await mit.issueMIT(toHex(serial), toHex(label("alice-key")), "bafy-params");
  /** logs `avatar` in under alice's MIT for a day */
  const login = async (avatar: string) =>
    mit.recordLogin(avatar, toHex(serial), toHex(label(`w-${avatar}`)), toHex(label(`v-${avatar}`)), (await time.latest()) + 86_400);
  /** a fresh account with 100 ETH */
  const account = async () => {
    const w = ethers.Wallet.createRandom().connect(ethers.provider);
    await setBalance(w.address, 10n ** 20n);
    return w as Signer;
  };
  /** the registrar's attestation that `controller` owns `avatar`, valid for `ttl` seconds */
  const attest = async (avatar: string, controller: Signer, registrar: Signer = idp, ttl = 3600n) => {
    const deadline = BigInt(await time.latest()) + ttl;
    return { deadline, a: await attestRegistration(registrar, f.trust, avatar, "avatar", await controller.getAddress(), deadline) };
  };
  const [fox, owl] = [toHex(avatarIdOf(serial, "fox")), toHex(avatarIdOf(serial, "owl"))];
  return { idp, mit, serial, label, login, account, attest, fox, owl };
}
