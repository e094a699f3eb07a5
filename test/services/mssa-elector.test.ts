/**
 * One person, one elector across the network (h11-red2 M1, docs/specs/mssa.md §1.8): the place
 * authority services compute the election nullifier from the documents sealed to them, with the
 * deployment's election key (provisioned to the authorities of every place like a place key), for
 * the one registration the user asks to make her an elector (`registerRemote({ elector: true })`,
 * `mssa:register --elector`). Alice registers at PL-A as an elector with account A; at PL-B, with
 * account B and the same passport, an elector registration is refused by the authorities before
 * anything reaches the chain, and an access-only one is granted without a second elector. A service
 * without the election key makes no electors.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { HDNodeWallet, Mnemonic, Wallet, ZeroHash } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deploySystemFixture } from "../fixtures/system";
import { Keystore } from "../../offchain/storage/keystore";
import { electorNullifier, placeId } from "../../offchain/mssa/registration";
import {
  AuthorityService,
  ELECTION_KEY_RECORD,
  importElectionKey,
  importPlaceKey,
  loadElectionKey,
} from "../../offchain/services/mssa/authority-service";
import { registerRemote, type MssaDeployment } from "../../offchain/services/mssa/clients";
import { freshId } from "../../offchain/services/common";
import { decodeVerifyRequest, encodeVerifyRequest } from "../../offchain/services/mssa/wire";
import { Bits } from "../../offchain/mssa/bits";
import { mulBase, randomScalar } from "../../offchain/crypto/group";
import { AuthorityElection__factory, CredentialLedger__factory } from "../../typechain-types";

const tmp = (n: string) => fs.mkdtempSync(path.join(os.tmpdir(), `svc-${n}-`));
const devKey = (i: number) =>
  HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase("test test test test test test test test test test test junk"), `m/44'/60'/0'/0/${i}`);
const ONCE = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };
const hex32 = () => Buffer.from(freshId()).toString("hex") + Buffer.from(freshId()).toString("hex");

describe("services/mssa: one person, one elector (h11-red2 M1)", function () {
  this.timeout(180_000);
  let dep: MssaDeployment;
  let address: string;
  let electionAddress: string;
  const au = [1, 2].map((i) => devKey(i).connect(hre.ethers.provider) as unknown as Wallet);
  const services: AuthorityService[] = [];
  const electionKey = hex32();

  before(async () => {
    const f = await loadFixture(deploySystemFixture);
    address = f.deployment.contracts.CredentialLedger.address;
    electionAddress = f.deployment.contracts.AuthorityElection.address;
    dep = {
      chainId: (await hre.ethers.provider.getNetwork()).chainId,
      ledger: CredentialLedger__factory.connect(address, hre.ethers.provider),
    };
  });
  after(async () => {
    for (const s of services) await s.stop();
  });

  /** A place of the two genesis authorities (k = 2), their services, with the election key or not. */
  async function place(name: string, withElectionKey: boolean) {
    const operator = CredentialLedger__factory.connect(address, (await hre.ethers.getSigners())[0]);
    await (
      await operator.setPlace(
        placeId(name),
        au.map((w) => w.address),
        2,
      )
    ).wait();
    const placeKey = hex32();
    const urls: string[] = [];
    const deps = au.map((w) => {
      const dir = tmp(`elector-${w.address.slice(2, 8)}`);
      return {
        keystore: new Keystore(path.join(dir, "keystore"), ""),
        dir: path.join(dir, "service"),
        place: name,
        ledger: CredentialLedger__factory.connect(address, w),
        wallet: w,
        chainId: dep.chainId,
        peers: new Map<string, string>(),
        peerRetry: ONCE,
        log: () => undefined,
      };
    });
    for (const d of deps) {
      importPlaceKey(d.keystore, name, placeKey);
      if (withElectionKey) importElectionKey(d.keystore, electionKey);
      const s = new AuthorityService(d);
      urls.push((await s.start({ port: 0 })).url);
      services.push(s);
    }
    deps[0].peers.set(au[1].address.toLowerCase(), urls[1]);
    deps[1].peers.set(au[0].address.toLowerCase(), urls[0]);
    return { urls, deps };
  }

  it("elector at PL-A; at PL-B the same passport is refused as an elector (nothing on chain) and granted access only", async () => {
    const el = AuthorityElection__factory.connect(electionAddress, hre.ethers.provider);
    const A = new Wallet(Wallet.createRandom().privateKey); // no gas: she only signs
    const B = new Wallet(Wallet.createRandom().privateKey);
    const passport = "passport:UTO:E1234567";
    const a = await place("PL-A", true);
    const b = await place("PL-B", true);
    const members = await el.memberCount();
    const r = await registerRemote({
      urls: a.urls,
      place: "PL-A",
      user: A,
      infos: ["mail:a@example.org", passport],
      dep,
      keystore: new Keystore(tmp("A"), ""),
      retry: ONCE,
      elector: true,
    });
    expect(r.outcome.granted).to.equal(true);
    const e = electorNullifier(Buffer.from(electionKey, "hex"), passport);
    expect(r.verified.electorNullifier).to.equal(e);
    expect((await dep.ledger.registration(r.verified.id)).electorNullifier).to.equal(e);
    expect(await el.electorOf(e)).to.equal(A.address);
    expect(await el.memberCount()).to.equal(members + 1n);
    // B, the same person, as an elector at PL-B: refused by the authorities at verify
    const head = await dep.ledger.head();
    const ksB = new Keystore(tmp("B"), "");
    await expect(
      registerRemote({
        urls: b.urls,
        place: "PL-B",
        user: B,
        infos: ["mail:b@example.org", passport],
        dep,
        keystore: ksB,
        retry: ONCE,
        elector: true,
      }),
    ).to.be.rejectedWith(
      // names not the other account (s24-fxs: two accounts of one person linked on the wire)
      /422 ledger-refused verify: this identity is an elector already, through another account: register without --elector/,
    );
    expect(await dep.ledger.head()).to.deep.equal(head);
    expect(await el.isMember(B.address)).to.equal(false);
    // access only at PL-B: granted, no second elector
    const rb = await registerRemote({
      urls: b.urls,
      place: "PL-B",
      user: B,
      infos: ["mail:b@example.org", passport],
      dep,
      keystore: new Keystore(tmp("B2"), ""),
      retry: ONCE,
    });
    expect(rb.outcome.granted).to.equal(true);
    expect(rb.verified.electorNullifier).to.equal(ZeroHash);
    expect((await dep.ledger.access(B.address, placeId("PL-B")))[0]).to.equal(true);
    expect(await el.isMember(B.address)).to.equal(false);
    expect(await el.memberCount()).to.equal(members + 1n);
  });

  it("a service without the election key makes no electors (refused naming the key), and serves access only", async () => {
    const c = await place("PL-C", false);
    expect(loadElectionKey(c.deps[0].keystore)).to.equal(undefined);
    const u = new Wallet(Wallet.createRandom().privateKey);
    const head = await dep.ledger.head();
    await expect(
      registerRemote({
        urls: c.urls,
        place: "PL-C",
        user: u,
        infos: ["mail:c@example.org", "passport:UTO:C7777777"],
        dep,
        keystore: new Keystore(tmp("C"), ""),
        retry: ONCE,
        elector: true,
      }),
    ).to.be.rejectedWith(new RegExp(`422 unknown-session verify: this authority holds no election key \\(${ELECTION_KEY_RECORD}\\)`));
    expect(await dep.ledger.head()).to.deep.equal(head);
    const r = await registerRemote({
      urls: c.urls,
      place: "PL-C",
      user: u,
      infos: ["mail:c@example.org", "passport:UTO:C7777777"],
      dep,
      keystore: new Keystore(tmp("C2"), ""),
      retry: ONCE,
    });
    expect(r.outcome.granted).to.equal(true);
  });

  it("wire: the VerifyRequest's elector flag round-trips; a flag other than 0 or 1 is malformed", () => {
    const n = 16;
    const m = {
      session: "0x" + "11".repeat(32),
      user: "0x" + "22".repeat(20),
      En: Bits.random(n),
      U12: Bits.random(n),
      tag: new Uint8Array(32),
      salt: "0x" + "33".repeat(32),
      set: ["0x" + "44".repeat(20)],
      keyDigests: [new Uint8Array(32)],
    };
    const key = mulBase(randomScalar());
    for (const elector of [false, true])
      expect(decodeVerifyRequest(encodeVerifyRequest({ ...m, elector }, ["x"], key)).elector).to.equal(elector);
    const raw = encodeVerifyRequest({ ...m, elector: true }, ["x"], key);
    raw[32 + 20 + 2 + 2 * (n / 8) + 32 + 32] = 2; // the flag byte
    expect(() => decodeVerifyRequest(raw)).to.throw("decodeVerifyRequest: the elector flag must be 0 or 1");
  });

  it("importElectionKey: 32 bytes of hex, the same key again is a no-op, another key is refused and changes nothing", () => {
    const ks = new Keystore(tmp("ek"), "");
    expect(() => importElectionKey(ks, "abcd")).to.throw(
      RangeError,
      "importElectionKey: the election key must be 32 bytes of hex (64 characters)",
    );
    expect(ks.exists(ELECTION_KEY_RECORD)).to.equal(false);
    const k = hex32();
    expect(importElectionKey(ks, k)).to.equal(true);
    expect(importElectionKey(ks, "0x" + k.toUpperCase())).to.equal(false);
    expect(() => importElectionKey(ks, hex32())).to.throw(RangeError, /already holds another election key/);
    expect(Buffer.from(loadElectionKey(ks)!).toString("hex")).to.equal(k);
  });
});
