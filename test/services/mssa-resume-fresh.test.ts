/**
 * Session 16's final read, fixed: a registration whose consent never reached the chain (its
 * verifier failed before proposing) and whose verifier is gone when the user retries, with no other
 * member of its set S to take the session over, threw the verifier's failure at every retry instead
 * of starting a fresh session, although nothing on-chain holds the user (`registerRemote`,
 * offchain/services/mssa/clients.ts; docs/specs/mssa.md §2.6 step 7). A proposal on-chain is still
 * never abandoned that way (the same retry with the registration proposed throws, as before: the
 * place's k is raised to 2 for that case, so that a proposal is not a grant).
 *
 * The place: the genesis authorities (dev accounts 1 and 2, sitting), k = 1, a service for each.
 * The user's first attempt reaches authority 0 only (S = {0}), through a relay that drops her
 * consent (a 503: nothing proposed); then authority 0 is gone.
 */
import { expect } from "chai";
import path from "path";
import hre from "hardhat";
import { Wallet } from "ethers";
import { deploySystemFixture } from "../fixtures/system";
import { tmp } from "../helpers/rsms-services";
import { devKey } from "../helpers/mssa-services";
import { relay } from "../helpers/relay";
import { Keystore } from "../../offchain/storage/keystore";
import { placeId } from "../../offchain/mssa/registration";
import { AuthorityService, importElectionKey, importPlaceKey } from "../../offchain/services/mssa/authority-service";
import { registerRemote, userRecord, type MssaDeployment } from "../../offchain/services/mssa/clients";
import { freshId } from "../../offchain/services/common";
import { CredentialLedger__factory, type CredentialLedger } from "../../typechain-types";
import { onFault } from "../../offchain/services/faults";

const once = { attempts: 1, timeoutMs: 8_000, backoffMs: 10 };
const hex32 = () => Buffer.from(freshId()).toString("hex") + Buffer.from(freshId()).toString("hex");
const fail = (p: Promise<unknown>) =>
  p.then(
    () => "accepted",
    (e: Error) => e.message.split("\n")[0],
  );
type Rec = { id: string; session: string; verifier: string; set: string[]; pending: boolean };

describe("MSSA client: a never-proposed registration whose verifier is gone", function () {
  this.timeout(300_000);
  const place = "PL-h17-fresh";
  let dep: MssaDeployment;
  let au: Wallet[];
  let services: AuthorityService[];
  let urls: string[];
  let operator: CredentialLedger;

  before(async () => {
    const f = await deploySystemFixture();
    const address = f.deployment.contracts.CredentialLedger.address;
    operator = CredentialLedger__factory.connect(address, f.msrp);
    au = [1, 2].map((i) => devKey(i).connect(hre.ethers.provider) as unknown as Wallet);
    await (
      await operator.setPlace(
        placeId(place),
        au.map((w) => w.address),
        1,
      )
    ).wait();
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    dep = { chainId, ledger: CredentialLedger__factory.connect(address, hre.ethers.provider) };
    const [placeKey, electionKey] = [hex32(), hex32()];
    services = [];
    urls = [];
    for (const w of au) {
      const dir = tmp("mssa-fresh");
      const d = {
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
      importPlaceKey(d.keystore, place, placeKey);
      importElectionKey(d.keystore, electionKey);
      const s = new AuthorityService(d);
      services.push(s);
      urls.push((await s.start({ port: 0 })).url);
    }
  });
  after(async () => {
    for (const s of services ?? []) await s.stop();
  });

  /** The first attempt, through a relay to authority 0 that drops the consent: verified, kept, never proposed. */
  const firstAttempt = async (tag: string) => {
    const u = new Wallet(Wallet.createRandom().privateKey);
    const ks = new Keystore(path.join(tmp(`user-${tag}`), "keystore"), "");
    const infos = [`mail:${tag}@example.org`, `passport:UTO:${tag}`];
    const r0 = await relay(urls[0], async (p) => p !== "/v1/mssa/propose");
    expect(await fail(registerRemote({ urls: [r0.url], place, user: u, infos, dep, keystore: ks, retry: once }))).to.match(
      /503 .*relay: dropped/,
    );
    const rec = ks.load(userRecord(place, u.address)) as Rec;
    expect([rec.pending, rec.verifier, rec.set]).to.deep.equal([true, au[0].address, [au[0].address]]);
    return { u, ks, infos, rec, r0 };
  };
  const proposalsOf = async (who: string) =>
    (await dep.ledger.queryFilter(dep.ledger.filters.RegistrationProposed())).filter((e) => e.args.user === who);

  it("the retry starts a fresh session with the authorities that answer: granted, one proposal, the record is the new session's", async () => {
    const { u, ks, infos, rec, r0 } = await firstAttempt("FRESH001");
    expect((await dep.ledger.registration(rec.id)).status).to.equal(0n); // nothing on-chain
    r0.close(); // authority 0 is gone, as far as the user can tell; S had no other member
    const r = await registerRemote({ urls: [r0.url, urls[1]], place, user: u, infos, dep, keystore: ks, retry: once });
    expect([r.resumed, r.outcome.granted]).to.deep.equal([false, true]);
    expect(r.session).to.not.equal(rec.session);
    const now = ks.load(userRecord(place, u.address)) as Rec;
    expect([now.pending, now.session, now.verifier, now.set]).to.deep.equal([false, r.session, au[1].address, [au[1].address]]);
    expect((await dep.ledger.access(u.address, placeId(place)))[1]).to.equal(r.verified.id);
    expect(await proposalsOf(u.address)).to.have.length(1);
  });

  it("a proposal on-chain is not abandoned: with the registration pending (k = 2) and no member of S answering, the retry throws the verifier's failure and changes nothing", async () => {
    await (
      await operator.setPlace(
        placeId(place),
        au.map((w) => w.address),
        2,
      )
    ).wait();
    const u = new Wallet(Wallet.createRandom().privateKey);
    const ks = new Keystore(path.join(tmp("user-pending"), "keystore"), "");
    const infos = ["mail:pending@example.org", "passport:UTO:FRESH002"];
    const [r0, r1] = [await relay(urls[0], async () => true), await relay(urls[1], async () => true)];
    // authority 0 proposes (its approval, 1 of 2) and crashes before it asks authority 1
    process.env.METATRUST_FAULT = "authority:after-propose";
    onFault((p) => {
      throw new Error(`crash at ${p}`);
    });
    try {
      expect(await fail(registerRemote({ urls: [r0.url, r1.url], place, user: u, infos, dep, keystore: ks, retry: once }))).to.match(
        /crash at authority:after-propose/,
      );
    } finally {
      delete process.env.METATRUST_FAULT;
      onFault(undefined);
    }
    const name = userRecord(place, u.address);
    const rec = ks.load(name) as Rec;
    expect([rec.verifier, rec.set]).to.deep.equal([au[0].address, [au[0].address, au[1].address]]);
    expect((await dep.ledger.registration(rec.id)).status).to.equal(1n);
    r0.close();
    r1.close(); // neither member of S answers the user now
    const head = await dep.ledger.head();
    expect(await fail(registerRemote({ urls: [r0.url, r1.url], place, user: u, infos, dep, keystore: ks, retry: once }))).to.match(
      new RegExp(`registration ${rec.id} at ${place} waits on its verifier ${au[0].address}, whose service did not answer`),
    );
    expect(ks.load(name)).to.deep.equal(rec);
    expect(await dep.ledger.head()).to.deep.equal(head);
    expect((await dep.ledger.registration(rec.id)).status).to.equal(1n);
    expect(await proposalsOf(u.address)).to.have.length(1);
  });
});
