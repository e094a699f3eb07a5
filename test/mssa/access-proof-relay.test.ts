/**
 * s20-redm F4 (severity L), fixed: the access proof of docs/specs/mssa.md §2.7 names its verifier.
 *
 * Attack: the user proves her access to place PL to M (any service of the place she logs in to, or a
 * site posing as one). M, talking to the honest verifier V at the same time, takes V's fresh nonce,
 * hands it to the user as its own challenge, and forwards her signature (and the commitment's
 * opening, which she showed M too) to V. The challenge was `accessChallenge(place, nonce, chainId,
 * ledger)` signed with EIP-191 `personal_sign`, naming no audience: V's check passed and M was "the
 * user" at V (a relay, not a replay: the nonce is fresh for V).
 *
 * Fix (class: every signed challenge names its audience and purpose): the proof is EIP-712 typed data
 * `Access(place, nonce, verifier)` under the domain ("metatrust MSSA access", "1", chain id, ledger),
 * and a verifier recovers it against its own account (`accessSigner(…, self)`): a proof made for M
 * recovers another address at V. The cases below also pin the other fields of the class: another
 * place, nonce, chain or ledger recovers someone else, and the same fields signed as a plain message
 * (or as another typed-data purpose) do not pass as an access proof.
 */
import { expect } from "chai";
import { Wallet, type Signer } from "ethers";
import { accessChallenge, accessSigner, fresh32, placeId, proveAccess } from "../../offchain/mssa/registration";

describe("MSSA access proof: names its verifier (s20-redm F4)", () => {
  const place = placeId("PL1");
  const chainId = 31337n;
  let user: Signer & { address: string };
  let M: string;
  let V: string;
  let ledger: string;

  beforeEach(() => {
    user = Wallet.createRandom();
    M = Wallet.createRandom().address;
    V = Wallet.createRandom().address;
    ledger = Wallet.createRandom().address;
  });

  it("a proof the user made for verifier M does not pass at verifier V", async () => {
    const nonceOfV = fresh32(); // V's fresh challenge, which M hands to the user as its own
    const sig = await proveAccess(user, place, nonceOfV, chainId, ledger, M);
    expect(accessSigner(sig, place, nonceOfV, chainId, ledger, M), "the proof verifies where it was meant to").to.equal(user.address);
    expect(accessSigner(sig, place, nonceOfV, chainId, ledger, V), "M relayed the user's proof to V and passed as her").to.not.equal(
      user.address,
    );
  });

  it("another place, nonce, chain or ledger recovers someone else", async () => {
    const nonce = fresh32();
    const sig = await proveAccess(user, place, nonce, chainId, ledger, V);
    expect(accessSigner(sig, place, nonce, chainId, ledger, V)).to.equal(user.address);
    expect(accessSigner(sig, placeId("PL2"), nonce, chainId, ledger, V), "place").to.not.equal(user.address);
    expect(accessSigner(sig, place, fresh32(), chainId, ledger, V), "nonce").to.not.equal(user.address);
    expect(accessSigner(sig, place, nonce, 1n, ledger, V), "chain").to.not.equal(user.address);
    expect(accessSigner(sig, place, nonce, chainId, Wallet.createRandom().address, V), "ledger").to.not.equal(user.address);
  });

  it("names its purpose: the same fields signed as a plain message or under another domain do not pass", async () => {
    const nonce = fresh32();
    const c = accessChallenge(place, nonce, chainId, ledger, V);
    expect(c.message.verifier, "the challenge names the verifier").to.equal(V);
    // what a phishing page could collect as a plain message
    const plain = await user.signMessage(`metatrust MSSA access\nplace: ${place}\nnonce: ${nonce}\nchain: ${chainId}\nverifier: ${V}`);
    expect(accessSigner(plain, place, nonce, chainId, ledger, V), "a personal_sign message passed").to.not.equal(user.address);
    // the same struct under another domain name (another purpose)
    const other = await user.signTypedData({ ...c.domain, name: "another purpose" }, c.types, c.message);
    expect(accessSigner(other, place, nonce, chainId, ledger, V), "another domain passed").to.not.equal(user.address);
  });
});
