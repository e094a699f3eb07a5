/**
 * The IdP service in one process against the in-process chain, for the service tests: the system
 * deployed, an IdP account of its own (funded, holding IDP_ROLE), the IdP's keystore and folder, and
 * a client's keystore in a folder of its own. The same code as `idp:serve`.
 */
import path from "path";
import hre from "hardhat";
import { funded, tmp } from "./rsms-services";
import { deploySystemFixture } from "../fixtures/system";
import { Keystore } from "../../offchain/storage/keystore";
import { IdentityProvider } from "../../offchain/avatars/agents";
import { IdpService, IDP_RECORD, type IdpServiceDeps } from "../../offchain/services/avatars/idp-service";
import { idpInfo, issueRemote, type IdpDeployment, type IdpInfo } from "../../offchain/services/avatars/clients";
import type { SimulatedEye } from "../../offchain/avatars/iris";
import { issueEnrolmentToken } from "../../offchain/services/enrolment";
import { MITRegistry__factory } from "../../typechain-types";

/**
 * Deploys the system and prepares an IdP: its account, keystore (with a fresh IdP record) and the
 * service's dependencies; nothing is started.
 * @param name - the folders' prefix
 */
export async function idpSystem(name = "idp") {
  const f = await deploySystemFixture();
  const address = f.deployment.contracts.MITRegistry.address;
  const admin = MITRegistry__factory.connect(address, f.msrp);
  const wallet = await funded();
  await (await admin.grantRole(await admin.IDP_ROLE(), wallet.address)).wait();
  const dirs = { idp: tmp(name), client: tmp(`${name}-client`) };
  const ks = new Keystore(path.join(dirs.idp, "keystore"), "");
  ks.create(IDP_RECORD, new IdentityProvider().toRecord());
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const deps: IdpServiceDeps = {
    keystore: ks,
    dir: path.join(dirs.idp, "service"),
    registry: MITRegistry__factory.connect(address, wallet),
    court: f.deployment.contracts.DisputeResolution.address,
    store: f.store,
    wallet,
    chainId,
    log: () => undefined,
  };
  const dep: IdpDeployment = { chainId, registry: MITRegistry__factory.connect(address, hre.ethers.provider) };
  const client = new Keystore(path.join(dirs.client, "keystore"), "");
  return {
    f,
    deps,
    dep,
    dirs,
    ks,
    client,
    wallet,
    /** the IdP operator's step: a one-time enrolment token for a user's real identity or a proxy's operator (idp:enrol-token) */
    token: (kind: "user" | "proxy", identity: string, ttlSec = 600) =>
      issueEnrolmentToken(ks, { service: "idp", kind, identity, ttlSec }).token,
  };
}

/**
 * Starts the IdP service of `s` on a free loopback port.
 * @param extra - service options beside the system's (e.g. windowMs)
 * @returns the service, its URL and its checked `/v1/info`
 */
export async function startIdp(s: Awaited<ReturnType<typeof idpSystem>>, extra: Partial<IdpServiceDeps> = {}) {
  const svc = new IdpService({ ...s.deps, ...extra });
  const url = (await svc.start({ port: 0 })).url;
  return { svc, url, info: await idpInfo(url, s.dep) };
}

/**
 * A party gets its MIT from the running IdP of `s` over HTTP, with the operator's enrolment token
 * for `label`; a user enrols the eye's capture (SIMULATED sensor).
 * @returns the party, as `issueRemote` keeps it in the client's keystore
 */
export async function issueParty(
  s: Awaited<ReturnType<typeof idpSystem>>,
  info: IdpInfo,
  name: string,
  kind: "user" | "proxy",
  label: string,
  eye?: SimulatedEye,
) {
  if (kind === "user" && !eye) throw new Error("issueParty: a user enrols an eye");
  const enrollment = kind === "user" ? { enrollment: eye!.capture() } : {};
  return (await issueRemote({ idp: info, dep: s.dep, keystore: s.client, name, kind, label, ...enrollment, token: s.token(kind, label) }))
    .party;
}
