/**
 * ECDSA signing on the secp256k1 backend (issue 20): ChainWallet's key (BackendSigningKey,
 * offchain/chain/sender.ts) signs through libsecp256k1 by default and noble when it cannot load.
 * Both must give byte for byte the signature of ethers' own SigningKey (its bundled noble, RFC 6979,
 * low s): on random keys and digests, on edge digests (0, q - 1, q, q + 1, 2^256 - 1, which RFC
 * 6979 reduces mod q), and through whole transactions, messages and typed data.
 */
import { expect } from "chai";
import { randomBytes } from "crypto";
import { SigningKey, Transaction, Wallet, getBytes, hexlify, toBeHex } from "ethers";
import * as backend from "../../offchain/crypto/backend";
import type { GroupBackend } from "../../offchain/crypto/backend";
import { ORDER } from "../../offchain/crypto/group";
import { BackendSigningKey, ChainWallet } from "../../offchain/chain/sender";

/** A secret key in [1, q) from the CSPRNG. */
function randomKey(): string {
  for (;;) {
    const k = BigInt(hexlify(randomBytes(32)));
    if (k > 0n && k < ORDER) return toBeHex(k, 32);
  }
}

const EDGE_DIGESTS = [0n, 1n, ORDER - 1n, ORDER, ORDER + 1n, 2n ** 256n - 1n].map((x) => toBeHex(x, 32));
const EDGE_KEYS = [1n, 2n, ORDER - 1n, ORDER / 2n].map((x) => toBeHex(x, 32));

describe("chain/sender: ECDSA on the secp256k1 backend, byte-identical to ethers' SigningKey", () => {
  const backends: [string, () => GroupBackend][] = [
    ["native (libsecp256k1)", () => backend.chooseGroupBackend("native", undefined, (l) => expect.fail(`libsecp256k1 did not load: ${l}`))],
    ["noble (the fallback)", () => backend.nobleGroup],
  ];
  for (const [name, pick] of backends) {
    describe(`# ${name}`, () => {
      let before: ReturnType<typeof backend.useBackends>;
      beforeEach(() => {
        before = backend.useBackends({ group: pick() });
        expect(backend.groupBackend().name).to.equal(name.split(" ")[0]);
      });
      afterEach(() => backend.useBackends(before));

      it("the same (r, s, v) as SigningKey.sign on 120 random keys and digests, and on edge keys and digests", () => {
        const cases: [string, string][] = [];
        for (let i = 0; i < 120; i++) cases.push([randomKey(), hexlify(randomBytes(32))]);
        for (const k of EDGE_KEYS) for (const d of EDGE_DIGESTS) cases.push([k, d]);
        for (const [k, d] of cases) {
          const want = new SigningKey(k).sign(d);
          const got = new BackendSigningKey(k).sign(d);
          expect(got.serialized, `key ${k}, digest ${d}`).to.equal(want.serialized);
          // the backend's raw answer: r || s and the recovery bit
          const raw = backend.groupBackend().ecdsaSign(getBytes(d), getBytes(k));
          expect(hexlify(raw.signature)).to.equal(want.r + want.s.slice(2));
          expect(raw.recovery).to.equal(want.yParity);
          expect(SigningKey.recoverPublicKey(d, got)).to.equal(new SigningKey(k).publicKey);
        }
      });

      it("ChainWallet signs transactions, messages and typed data as ethers' Wallet does", async () => {
        const key = randomKey();
        const ours = new ChainWallet(key);
        const theirs = new Wallet(key);
        expect(ours.signingKey).to.be.instanceOf(BackendSigningKey);
        expect(ours.address).to.equal(theirs.address);
        const txs = [
          {
            to: theirs.address,
            value: 1n,
            nonce: 7,
            gasLimit: 21_000n,
            chainId: 31337n,
            maxFeePerGas: 10n ** 9n,
            maxPriorityFeePerGas: 1n,
            type: 2,
          },
          { to: theirs.address, data: "0x12345678", nonce: 0, gasLimit: 100_000n, chainId: 1n, gasPrice: 5n, type: 0 },
        ];
        for (const tx of txs) {
          const signed = await ours.signTransaction(tx);
          expect(signed).to.equal(await theirs.signTransaction(tx));
          expect(Transaction.from(signed).from).to.equal(theirs.address);
        }
        expect(await ours.signMessage("metatrust")).to.equal(await theirs.signMessage("metatrust"));
        const domain = { name: "metatrust", version: "1", chainId: 31337, verifyingContract: theirs.address };
        const types = { Rate: [{ name: "score", type: "uint256" }] };
        expect(await ours.signTypedData(domain, types, { score: 9 })).to.equal(await theirs.signTypedData(domain, types, { score: 9 }));
        // connect keeps the backend key; a key without 0x is accepted as Wallet accepts it
        expect(ours.connect(null).signingKey).to.equal(ours.signingKey);
        expect(new ChainWallet(key.slice(2)).address).to.equal(theirs.address);
      });

      it("a digest of another length is refused as SigningKey refuses it", () => {
        const k = new BackendSigningKey(randomKey());
        expect(() => k.sign("0x1234")).to.throw(/invalid digest length/);
      });
    });
  }
});
