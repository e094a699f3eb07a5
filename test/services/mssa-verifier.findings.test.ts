/**
 * Open finding of an outside red team (h7-audit, session 7) on MSSA registration through the place
 * authority services. Excluded from `npm test` (docs/testing.md); run with
 * `npx hardhat test test/services/mssa-verifier.findings.test.ts`.
 *
 * Finding M4: the k-of-n approval of a registration rests on the verifying authority alone. An
 * authority approves any pending registration of a session whose key it released to the verifier,
 * for that session's user (AuthorityService.approve); it never sees the request, the verdict of
 * the document check, the commitment or the nullifier. So the operator of the verifier's account,
 * with a colluding user, records a registration that the document check refused: here the second
 * account of a person already registered at the place (the one-person-one-registration rule, the
 * nullifier, is computed and enforced by the verifier only). k-of-n then protects only against the
 * non-verifying authorities.
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { HDNodeWallet, Mnemonic, Wallet, hexlify, randomBytes } from "ethers";
import { deploySystemFixture } from "../fixtures/system";
import { Keystore } from "../../offchain/storage/keystore";
import { placeId } from "../../offchain/mssa/registration";
import { consentToRegistration } from "../../offchain/mssa/ledger";
import { AuthorityService, authorityAudience, authorityRecord } from "../../offchain/services/mssa/authority-service";
import { registerRemote, type MssaDeployment } from "../../offchain/services/mssa/clients";
import { encodeApproveRequest } from "../../offchain/services/mssa/wire";
import { Kind, Route, sealEnvelope } from "../../offchain/services/envelope";
import { accountSigner, freshId } from "../../offchain/services/common";
import { postEnvelope } from "../../offchain/services/client";
import { CredentialLedger__factory } from "../../typechain-types";

const tmp = (n: string) => fs.mkdtempSync(path.join(os.tmpdir(), `svc-${n}-`));
/** Hardhat's development accounts (the genesis authorities are accounts 1 and 2). */
const devKey = (i: number) =>
  HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase("test test test test test test test test test test test junk"), `m/44'/60'/0'/0/${i}`);

describe("findings: MSSA registration services (h7-audit)", function () {
  this.timeout(180_000);
  const PL = "PL-m4";
  const services: AuthorityService[] = [];

  after(async () => {
    for (const s of services) await s?.stop();
  });

  it("M4: a registration the verifier's document check refused is not approved by the other place authority (k-of-n holds against a malicious verifier)", async () => {
    const f = await deploySystemFixture();
    const address = f.deployment.contracts.CredentialLedger.address;
    const operator = CredentialLedger__factory.connect(address, f.msrp);
    const au = [1, 2].map((i) => devKey(i).connect(hre.ethers.provider) as unknown as Wallet);
    await (await operator.setPlace(placeId(PL), [au[0].address, au[1].address], 2)).wait();
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const dep: MssaDeployment = { chainId, ledger: CredentialLedger__factory.connect(address, hre.ethers.provider) };
    const deps = au.map((w) => {
      const dir = tmp("au");
      return {
        keystore: new Keystore(path.join(dir, "keystore"), ""),
        dir: path.join(dir, "service"),
        place: PL,
        ledger: CredentialLedger__factory.connect(address, w),
        wallet: w,
        chainId,
        peers: new Map<string, string>(),
        peerRetry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
        log: () => undefined,
      };
    });
    services[1] = new AuthorityService(deps[1]);
    const url1 = (await services[1].start({ port: 0 })).url;
    deps[0].peers.set(au[1].address.toLowerCase(), url1);
    services[0] = new AuthorityService(deps[0]);
    const url0 = (await services[0].start({ port: 0 })).url;
    const urls = [url0, url1];
    const infos = ["mail:u@example.org", "passport:P7654321"];

    // the person registers once, honestly
    const first = Wallet.createRandom().connect(hre.ethers.provider) as unknown as Wallet;
    expect(
      (await registerRemote({ urls, place: PL, user: first, infos, dep, keystore: new Keystore(tmp("u1"), "") })).outcome.granted,
    ).to.equal(true);
    // a second account of the same person: the verifier's check refuses it (the identity holds a registration)
    const second = Wallet.createRandom().connect(hre.ethers.provider) as unknown as Wallet;
    await expect(registerRemote({ urls, place: PL, user: second, infos, dep, keystore: new Keystore(tmp("u2"), "") })).to.be.rejectedWith(
      /already holds registration/,
    );
    // ... but the other authority has issued its key to `second` and released it to the verifier
    const rec1 = deps[1].keystore.load(authorityRecord(PL)) as { users: Record<string, string> };
    const session = Object.keys(rec1.users).find((s) => rec1.users[s] === second.address)!;
    expect(session, "au[1] issued a key to the second account").to.not.equal(undefined);

    // the verifier's operator (au[0]'s account) records it anyway, with a fresh nullifier and the
    // colluding user's consent, then asks au[1] to approve over the network
    const commitment = hexlify(randomBytes(32));
    const nullifier = hexlify(randomBytes(32));
    const consent = await consentToRegistration(dep.ledger, second, placeId(PL), commitment, nullifier, session);
    await (await deps[0].ledger.propose(placeId(PL), second.address, commitment, nullifier, session, consent.signature)).wait();
    const id = await dep.ledger.registrationId(placeId(PL), second.address, commitment);
    const env = sealEnvelope(
      {
        kind: Kind.Request,
        route: Route.MssaApprove,
        audience: authorityAudience(chainId, address, au[1].address, PL),
        session: freshId(),
        requestId: freshId(),
        issuedAt: Date.now(),
        inReplyTo: new Uint8Array(32),
        body: encodeApproveRequest({ session, id }),
      },
      accountSigner(au[0]),
    );
    try {
      await postEnvelope(url1, "/v1/mssa/approve", env, { attempts: 1, timeoutMs: 30_000, backoffMs: 10 });
    } catch {
      /* a refusal is the property holding */
    }
    const [granted] = await dep.ledger.access(second.address, placeId(PL));
    expect(granted, "the same person holds a second registration at the place, approved 2 of 2").to.equal(false);
  });
});
