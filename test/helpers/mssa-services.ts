/**
 * Two MSSA place authorities as services in one process against the in-process chain, for the
 * red-team service tests (the same setup as test/services/mssa-services.test.ts): the genesis
 * authorities (dev accounts 1 and 2) at one place with k = 2, a shared provisioned place key,
 * each with the other as its peer; and a helper that signs request envelopes to either of them.
 */
import path from "path";
import hre from "hardhat";
import { HDNodeWallet, Mnemonic, Wallet } from "ethers";
import { deploySystemFixture } from "../fixtures/system";
import { tmp } from "./rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { placeId } from "../../offchain/mssa/registration";
import {
  AuthorityService,
  authorityAudience,
  importElectionKey,
  importPlaceKey,
  type AuthorityServiceDeps,
} from "../../offchain/services/mssa/authority-service";
import type { MssaDeployment } from "../../offchain/services/mssa/clients";
import { Kind, Route, sealEnvelope } from "../../offchain/services/envelope";
import { encodeVerifyRequest } from "../../offchain/services/mssa/wire";
import { Bits } from "../../offchain/mssa/bits";
import { mulBase, randomScalar } from "../../offchain/crypto/group";
import { accountSigner, freshId } from "../../offchain/services/common";
import { CredentialLedger__factory } from "../../typechain-types";

const freshHex = () => "0x" + Buffer.from(freshId()).toString("hex") + Buffer.from(freshId()).toString("hex");

/**
 * A set S naming `members` (h15-red2 R1) with made-up key digests, for requests that are refused or
 * only carried in a release before any key is checked.
 */
export const anySet = (members: readonly string[]) => ({ set: [...members], keyDigests: members.map(() => new Uint8Array(32)) });

/** Hardhat's development accounts (the genesis authorities are accounts 1 and 2). */
export const devKey = (i: number) =>
  HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase("test test test test test test test test test test test junk"), `m/44'/60'/0'/0/${i}`);

/** The running place: its authorities' accounts, services, dependencies and URLs. */
export type MssaPlace = {
  place: string;
  dep: MssaDeployment;
  au: Wallet[];
  services: AuthorityService[];
  deps: ConstructorParameters<typeof AuthorityService>[0][];
  urls: string[];
  /** a request envelope to authority i, signed by `signer` (a fresh session and request id, and the place's clock's time, unless given) */
  req(
    i: number,
    route: number,
    body: Uint8Array,
    signer: Wallet | HDNodeWallet,
    o?: { requestId?: Uint8Array; issuedAt?: number },
  ): Uint8Array;
  /**
   * A user's signed verify request to authority i for `session` (En `n` bits, documents sealed to a
   * throwaway key), as a release request carries it (h15-red2 R2, R10)
   */
  userVerify(i: number, user: Wallet | HDNodeWallet, session: string, n?: number): Uint8Array;
  stop(): Promise<void>;
};

/**
 * Sets `place` on-chain (by the ledger's operator, dev account 0) for `members` with k = 2, and
 * makes each member's service dependencies: a fresh folder `tmp(`${tag}-<account>`)`, a keystore
 * (unsealed unless `passphrase`), the ledger connected with its account, no peer overrides yet, one
 * attempt at a peer; and a fresh place key for the caller to provision (`importPlaceKey`).
 * @param address - the CredentialLedger
 * @param o - tag: the folders' prefix; windowMs, now, announceMs, keyPerMinute, log: as AuthorityServiceDeps (log: none by default)
 */
export async function placeDeps(
  address: string,
  place: string,
  members: readonly Wallet[],
  o: {
    tag: string;
    passphrase?: string;
    windowMs?: number;
    now?: () => number;
    announceMs?: number;
    keyPerMinute?: number;
    log?: (line: string) => void;
  },
) {
  const [operator] = await hre.ethers.getSigners();
  await (
    await CredentialLedger__factory.connect(address, operator).setPlace(
      placeId(place),
      members.map((w) => w.address),
      2,
    )
  ).wait();
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const placeKey = Buffer.from(freshId()).toString("hex") + Buffer.from(freshId()).toString("hex");
  const deps: AuthorityServiceDeps[] = members.map((w) => {
    const dir = tmp(`${o.tag}-${w.address.slice(2, 8)}`);
    return {
      keystore: new Keystore(path.join(dir, "keystore"), o.passphrase ?? ""),
      dir: path.join(dir, "service"),
      place,
      ledger: CredentialLedger__factory.connect(address, w),
      wallet: w,
      chainId,
      peers: new Map<string, string>(),
      peerRetry: { attempts: 1, timeoutMs: 30_000, backoffMs: 10 },
      ...(o.windowMs ? { windowMs: o.windowMs } : {}),
      ...(o.now ? { now: o.now } : {}),
      ...(o.announceMs ? { announceMs: o.announceMs } : {}),
      ...(o.keyPerMinute ? { keyPerMinute: o.keyPerMinute } : {}),
      log: o.log ?? (() => undefined),
    };
  });
  return { chainId, placeKey, deps };
}

/**
 * Deploys the system and starts both authority services of `place`.
 * @param place - the place's name
 * @param o - passphrase: the authorities' keystore passphrase (default none: unsealed records);
 *   windowMs: their freshness window; keyPerMinute: their key route's quota per address; now: the clock both services and {@link MssaPlace.req} read
 *   (default the wall clock; a test that crosses windows moves its own instead of waiting)
 */
export async function startPlace(
  place: string,
  o: { passphrase?: string; windowMs?: number; now?: () => number; keyPerMinute?: number } = {},
): Promise<MssaPlace> {
  const now = o.now ?? Date.now;
  const f = await deploySystemFixture();
  const address = f.deployment.contracts.CredentialLedger.address;
  const au = [1, 2].map((i) => devKey(i).connect(hre.ethers.provider) as unknown as Wallet);
  const { chainId, placeKey, deps } = await placeDeps(address, place, au, { tag: "mssa-red", ...o });
  const dep: MssaDeployment = { chainId, ledger: CredentialLedger__factory.connect(address, hre.ethers.provider) };
  // the deployment's election key, at every authority: the services can make electors (h11-red2 M1)
  const electionKey = Buffer.from(freshId()).toString("hex") + Buffer.from(freshId()).toString("hex");
  for (const d of deps) {
    importPlaceKey(d.keystore, place, placeKey);
    importElectionKey(d.keystore, electionKey);
  }
  const services = deps.map((d) => new AuthorityService(d));
  const urls: string[] = [];
  for (const s of services) urls.push((await s.start({ port: 0 })).url);
  deps[0].peers!.set(au[1].address.toLowerCase(), urls[1]);
  deps[1].peers!.set(au[0].address.toLowerCase(), urls[0]);
  const req: MssaPlace["req"] = (i, route, body, signer, o = {}) =>
    sealEnvelope(
      {
        kind: Kind.Request,
        route,
        audience: authorityAudience(chainId, address, au[i].address, place),
        session: freshId(),
        requestId: o.requestId ?? freshId(),
        issuedAt: o.issuedAt ?? now(),
        inReplyTo: new Uint8Array(32),
        body,
      },
      accountSigner(signer),
    );
  const userVerify: MssaPlace["userVerify"] = (i, user, session, n = 32) =>
    req(
      i,
      Route.MssaVerify,
      encodeVerifyRequest(
        {
          session,
          user: user.address,
          En: Bits.random(n),
          U12: Bits.random(n),
          tag: new Uint8Array(32),
          salt: freshHex(),
          elector: false,
          ...anySet(au.map((w) => w.address)),
        },
        ["mail:u@example.org", "passport:UTO:U1234567"],
        mulBase(randomScalar()),
      ),
      user,
    );
  return {
    place,
    dep,
    au,
    services,
    deps,
    urls,
    req,
    userVerify,
    stop: async () => {
      for (const s of services) await s.stop();
    },
  };
}
