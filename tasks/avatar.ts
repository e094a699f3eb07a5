/**
 * Avatar tasks (the avatar paper). The IdP, users and AI proxies keep their keys in the network's
 * keystore; the iris sensor is SIMULATED (a seeded eye per user). Each task runs one protocol in
 * process between the agents and records the result on-chain, or, with `--idp <url>` or in a data
 * folder that has no IdP of its own, talks to the IdP service (`idp:serve`, tasks/services.ts)
 * found at that URL or from the MIT registry (offchain/services/avatars/clients.ts).
 */
import { RefusedError, UsageError, firstLine, localName, minedReceipt, parseCaseId } from "./lib/cli";
import fs from "fs";
import path from "path";
import { task } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

async function avatarContext(hre: HardhatRuntimeEnvironment) {
  const [
    { localState, deployedAddress, operatorSigner },
    agents,
    protocols,
    codec,
    iris,
    { MITRegistry__factory },
    bytes,
    hash,
    { sameStamp },
    { withIdpRecord, IDP_RECORD },
  ] = await Promise.all([
    import("./lib/context"),
    import("../offchain/avatars/agents"),
    import("../offchain/avatars/protocols"),
    import("../offchain/avatars/codec"),
    import("../offchain/avatars/iris"),
    import("../typechain-types"),
    import("../offchain/crypto/bytes"),
    import("../offchain/crypto/hash"),
    import("../offchain/storage/keystore"),
    import("./lib/idp-record"),
  ]);
  const local = localState(hre);
  const ks = local.keystore;
  // The IdP's own folder signs as the IdP the deployment names; a folder without an IdP (a user's,
  // a proxy's, a reporter's, or one about to run idp:setup) talks to the IdP service, and what it
  // sends itself (a reporter's trace request) it sends from the network's first account.
  const runner = ks.exists("avatar-idp") ? await operatorSigner(hre, "idp") : ((await hre.ethers.getSigners())[0] ?? hre.ethers.provider);
  const registry = MITRegistry__factory.connect(await deployedAddress(hre, "MITRegistry"), runner);
  // The IdP's record is written only while this run holds the IdP's folder (tasks/lib/idp-record.ts,
  // s22-redo R8/R9: a whole write by a run that loaded it unguarded lost another's enrolment), and
  // only over the stamp it was loaded at, keeping the fields it does not own (the service's used tokens).
  let held = false;
  let loaded: ReturnType<typeof ks.loadStamped> | undefined;
  /** Runs `run` holding the IdP's folder: waits for another command's hold, refuses beside a live idp:serve. */
  const holdIdp = <T>(task: string, run: () => Promise<T>): Promise<T> =>
    withIdpRecord(task, local.dir, async () => {
      held = true;
      try {
        return await run();
      } finally {
        held = false;
      }
    });
  /** Writes `idp` over the record it was loaded from; `also` runs first, only if the check passed. */
  const saveIdp = (task: string, idp: InstanceType<typeof agents.IdentityProvider>, also: () => void = () => undefined) => {
    if (!held) throw new Error(`${task}: writes ${IDP_RECORD} without holding the IdP's folder`);
    if (loaded && !sameStamp(loaded.stamp, ks.stamp(IDP_RECORD)))
      throw new RefusedError(
        `${task}: the IdP's record changed meanwhile (a writer that holds no folder lock wrote ${IDP_RECORD}): nothing of this run was kept; run again`,
      );
    also();
    ks.update(IDP_RECORD, { ...loaded?.data, ...idp.toRecord() });
    loaded = ks.loadStamped(IDP_RECORD);
  };
  const loadIdp = async (): Promise<InstanceType<typeof agents.IdentityProvider>> => {
    loaded = ks.loadStamped(IDP_RECORD);
    const idp = agents.IdentityProvider.fromRecord(loaded.data);
    // a keystore from before platform receipts: keep the receipt key drawn now, or receipts made
    // in this invocation would not verify in the next (written holding the folder, as any write)
    if (loaded.data.receiptSk === undefined) {
      if (!held) return holdIdp("avatar (the IdP's receipt key)", loadIdp);
      saveIdp("avatar", idp);
    }
    return idp;
  };
  const party = (name: string) => agents.AvatarParty.fromRecord(ks.load(`avatar-party-${name}`));
  const saveParty = (p: InstanceType<typeof agents.AvatarParty>) =>
    (ks.exists(`avatar-party-${p.name}`) ? ks.update : ks.create).call(ks, `avatar-party-${p.name}`, p.toRecord());
  // SIMULATED: each user's eye is seeded from its name, so captures in separate invocations come from one eye.
  const eyeOf = (name: string) =>
    new iris.SimulatedEye(Number(BigInt(bytes.toHex(hash.keccak256(new TextEncoder().encode(`eye:${name}`))).slice(0, 10))));
  // names are per owner (h9-red F7): the id of `name` opens with its owner's tag, so no other
  // user can take it; two owners may each have an avatar "fox"
  const avatarId = (owner: InstanceType<typeof agents.AvatarParty>, name: string) => {
    if (!owner.mit) throw new UsageError(`avatar: ${owner.name} has no MIT (run idp:issue first)`);
    return protocols.avatarIdOf(owner.mit.serial, name);
  };
  // the platform's clock (the latest block's time + 1, the earliest the next block can have: s24-rta R2)
  const now = () => protocols.platformNow(hre.ethers.provider);
  const ctx = async (): Promise<import("../offchain/avatars/protocols").AvatarContext> => {
    const t = await now();
    return { registry, idp: await loadIdp(), store: local.store, now: () => t };
  };
  // A credential is kept per avatar id (s17-redA F15): `avatar-cred-id-<id>`, the id being
  // avatarIdOf(owner's MIT serial, name), so alice's fox and bob's fox are two records. A record
  // kept before that, `avatar-cred-<name>` (one per name), is still read as its owner's; the next
  // login or delegation of that owner's avatar writes the new record and removes it. (The two
  // namespaces are disjoint: a name is at most 64 characters, "id-" and 64 hex digits are 67.)
  type CredRecord = {
    avatar: string;
    owner: string;
    driver: string;
    id?: string;
    warrant: Parameters<typeof codec.warrantFromJson>[0];
    o: Parameters<typeof codec.originalFromJson>[0];
  };
  const credName = (id: Uint8Array) => `avatar-cred-id-${bytes.toHex(id).slice(2)}`;
  const legacyCred = (avatar: string) => `avatar-cred-${avatar}`;
  const saveCred = (
    avatar: string,
    c: {
      owner: InstanceType<typeof agents.AvatarParty>;
      driver: { name: string };
      warrant: Parameters<typeof codec.warrantToJson>[0];
      o: Parameters<typeof codec.originalToJson>[0];
    },
  ) => {
    const id = avatarId(c.owner, avatar);
    const rec = credName(id);
    (ks.exists(rec) ? ks.update : ks.create).call(ks, rec, {
      avatar,
      owner: c.owner.name,
      driver: c.driver.name,
      id: bytes.toHex(id),
      warrant: codec.warrantToJson(c.warrant),
      o: codec.originalToJson(c.o),
    });
    // migrated: the old record of this owner's avatar goes once the new one is kept (another
    // owner's old record of the same name stays hers)
    const old = legacyCred(avatar);
    if (ks.exists(old) && (ks.load(old) as CredRecord).owner === c.owner.name) ks.remove(old);
  };
  /**
   * The credential an avatar reference names: `owner/name`, or a bare `name` when one owner's
   * avatar of that name has a credential in this folder (two owners' are refused, naming both).
   */
  const findCred = (task: string, flag: string, ref: string): CredRecord => {
    const slash = ref.indexOf("/");
    const owner = slash < 0 ? undefined : ref.slice(0, slash);
    const name = slash < 0 ? ref : ref.slice(slash + 1);
    if ((owner !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(owner)) || !/^[A-Za-z0-9._-]{1,64}$/.test(name))
      throw new UsageError(
        `${task}: ${flag} "${ref}" is not an avatar (its name, or owner/name: 1 to 64 letters, digits, '.', '_' or '-' each)`,
      );
    const held = new Map<string, CredRecord>(); // owner -> its credential of `name`
    for (const n of ks.list()) {
      if (!n.startsWith("avatar-cred-id-") && n !== legacyCred(name)) continue;
      const r = ks.load(n) as CredRecord;
      if (r.avatar !== name || (owner !== undefined && r.owner !== owner)) continue;
      if (!held.has(r.owner) || r.id !== undefined) held.set(r.owner, r); // the new record over an old one
    }
    if (held.size === 0)
      throw new RefusedError(
        `${task}: ${flag} ${ref}: no credential of ${owner === undefined ? `an avatar "${name}"` : `${owner}'s avatar "${name}"`} in this folder: run \`npx hardhat avatar:login --user ${owner ?? "<owner>"} --avatar ${name}\` first`,
      );
    if (held.size > 1)
      throw new UsageError(
        `${task}: ${flag} ${ref} names avatars of ${[...held.keys()].sort().join(" and ")} in this folder (names are per owner): give owner/name, e.g. ${[...held.keys()].sort()[0]}/${name}`,
      );
    return [...held.values()][0];
  };
  const loadCred = (task: string, flag: string, ref: string) => {
    const r = findCred(task, flag, ref);
    const warrant = codec.warrantFromJson(r.warrant);
    return {
      avatarId: warrant.avatarId,
      // the evidence file's name: '+' is in no party or avatar name, so two (owner, avatar) pairs never share one
      label: `${r.owner}+${r.avatar}`,
      owner: party(r.owner),
      driver: party(r.driver),
      warrant,
      o: codec.originalFromJson(r.o),
    };
  };
  /**
   * The IdP service, when this folder has no IdP of its own or `--idp` names one: its URL (given,
   * or discovered from the MIT registry) and its checked description.
   */
  const remote = async (url?: string) => {
    if (url === undefined && ks.exists("avatar-idp")) return undefined;
    const clients = await import("../offchain/services/avatars/clients");
    const dep = { chainId: (await hre.ethers.provider.getNetwork()).chainId, registry: registry.connect(hre.ethers.provider) };
    const info = await clients.idpInfo(url ?? (await clients.discoverIdp(dep)), dep);
    return { clients, dep, info };
  };
  return {
    ...local,
    ks,
    registry,
    agents,
    protocols,
    codec,
    bytes,
    hash,
    party,
    saveParty,
    eyeOf,
    avatarId,
    now,
    ctx,
    saveCred,
    loadCred,
    remote,
    holdIdp,
    saveIdp,
  };
}

const IDP_HELP =
  "The IdP service's URL (default: in-process with this folder's IdP, or the endpoint the MIT registry names when this folder has none)";

task("idp:setup", "Creates the identity provider's keystore record (its ECIES key for iris samples); never overwrites").setAction(
  async (_a, hre) => {
    const c = await avatarContext(hre);
    const idp = new c.agents.IdentityProvider();
    c.ks.create("avatar-idp", idp.toRecord());
    console.log(`IdP ready; iris samples are sealed to ${c.bytes.toHex(idp.channelKey.toBytes(true))}`);
    // the account the IdP service signs with (idp:serve); the in-process tasks use the deployer
    const { resolveAccount } = await import("./lib/context");
    const account = await resolveAccount(hre, "idp", { flag: "role idp", create: true });
    console.log(`IdP service account ${account} (for \`idp:serve\`: the admin runs \`idp:grant --to ${account}\`)`);
  },
);

task(
  "idp:issue",
  "Issues an MIT: --user NAME (enrolls a SIMULATED iris) or --proxy NAME (an AI proxy). In the IdP's folder (no --idp) it holds the folder while it writes the IdP's record: it waits for another such command, and is refused while idp:serve serves the folder (go through it with --idp)",
)
  .addOptionalParam("user", "A user's name")
  .addOptionalParam("realId", "The user's real identity (kept by the IdP only)")
  .addOptionalParam("proxy", "An AI proxy's name")
  .addOptionalParam("operator", "The proxy's operator", "metaverse AI service")
  .addOptionalParam("idp", IDP_HELP)
  .addOptionalParam(
    "token",
    "Over the network: the enrolment token the IdP's operator issued for the real identity or operator (`idp:enrol-token`)",
  )
  .addFlag(
    "abandon",
    "Over the network: drop the issuance (its keys and request) this folder keeps pending (a lasting 409 resent on every run) once the chain shows no MIT for its key and the service, sent it once more, refuses it again; if the service answers it, it took effect and is completed instead; nothing is dropped if the chain shows it or the service cannot be reached",
  )
  .setAction(
    async (
      a: { user?: string; realId?: string; proxy?: string; operator: string; idp?: string; token?: string; abandon: boolean },
      hre,
    ) => {
      const c = await avatarContext(hre);
      const name = a.user ?? a.proxy;
      if (!name || (a.user && a.proxy)) throw new UsageError("idp:issue: give exactly one of --user and --proxy");
      const svc = await c.remote(a.idp);
      if (a.token !== undefined && !svc) throw new UsageError("idp:issue: --token goes with an IdP service (--idp <url>)");
      if (a.abandon && !svc) throw new UsageError("idp:issue: --abandon goes with an IdP service (--idp <url>)");
      if (svc) {
        // over the network: the keys are drawn here, the enrollment and real identity go sealed to the IdP
        if (c.ks.exists(`avatar-party-${name}`))
          throw new RefusedError(`idp:issue: ${a.user ? "--user" : "--proxy"} "${name}" already holds an MIT; one party, one MIT`);
        const args = {
          idp: svc.info,
          dep: svc.dep,
          keystore: c.ks,
          name,
          kind: (a.user ? "user" : "proxy") as "user" | "proxy",
          label: a.user ? (a.realId ?? `real identity of ${name}`) : a.operator,
          enrollment: a.user ? c.eyeOf(name).capture() : undefined,
          ...(a.token !== undefined ? { token: a.token } : {}),
        };
        if (a.abandon) {
          const line = await svc.clients.abandonIssue(args);
          console.log(line);
          return { abandoned: line };
        }
        const r = await svc.clients.issueRemote(args);
        const serial = c.bytes.toHex(r.party.mit!.serial);
        console.log(`${name}: MIT ${serial} (${r.party.mit!.kind}) from the IdP at ${svc.info.url}, parameters ${r.cid}`);
        return { serial };
      }
      // in-process, as this folder's IdP: the record is loaded and written holding its folder
      return c.holdIdp("idp:issue", () => issueLocal(c, a, name));
    },
  );

/** idp:issue in-process (its caller holds the IdP's folder). */
async function issueLocal(
  c: Awaited<ReturnType<typeof avatarContext>>,
  a: { user?: string; realId?: string; proxy?: string; operator: string },
  name: string,
): Promise<{ serial: string }> {
  const rec = `avatar-party-${name}`;
  if (c.ks.exists(rec)) {
    const r = c.ks.load(rec) as { pendingMit?: { cid: string } };
    // Checked before anything is sent: a second issue would replace the party's keys and orphan its MIT.
    if (!r.pendingMit)
      throw new RefusedError(
        `idp:issue: ${a.user ? "--user" : "--proxy"} "${name}" already holds an MIT; one party, one MIT (the keystore keeps its keys)`,
      );
    // An issue that stopped after its keys were kept: finish it with the same serial and parameters.
    const p = c.party(name);
    const serial = c.bytes.toHex(p.mit!.serial);
    const onChain = Number((await c.registry.mit(serial)).status) !== 0;
    const gas = onChain ? 0n : (await minedReceipt(c.registry.issueMIT(serial, c.bytes.toHex(p.keyId), r.pendingMit.cid))).gasUsed;
    c.ks.update(rec, p.toRecord());
    console.log(
      `${name}: MIT ${serial} (${p.mit!.kind}) completed, parameters ${r.pendingMit.cid}${gas ? `; ${gas.toLocaleString("en-US")} gas` : ""}`,
    );
    return { serial };
  }
  const ctx = await c.ctx();
  const p = new c.agents.AvatarParty(name);
  // The party's keys and the IdP's enrollment are kept before the MIT goes on-chain (marked
  // pending), so a process killed in between loses nothing: a rerun completes the issue.
  ctx.beforeSend = (step) => {
    if (step.kind !== "issueMIT") return;
    c.saveIdp("idp:issue", ctx.idp, () => c.ks.create(rec, { ...p.toRecord(), pendingMit: { cid: step.cid } }));
  };
  const r = a.user
    ? await c.protocols.issueUserMit(ctx, p, a.realId ?? `real identity of ${name}`, c.eyeOf(name))
    : await c.protocols.issueProxyMit(ctx, p, a.operator);
  c.ks.update(rec, p.toRecord());
  console.log(`${name}: MIT ${c.bytes.toHex(p.mit!.serial)} (${p.mit!.kind}), parameters ${r.cid}; ${r.gas.toLocaleString("en-US")} gas`);
  return { serial: c.bytes.toHex(p.mit!.serial) };
}

task("avatar:login", "Login (claim, challenge, fresh SIMULATED iris sample, verify): the user drives its avatar")
  .addParam("user", "The user")
  .addParam(
    "avatar",
    "The avatar's name (the user's own: its id is avatarIdOf(her MIT serial, name), so names are per owner; 1 to 64 letters, digits, '.', '_' or '-')",
  )
  .addOptionalParam("appearance", "The avatar's appearance description", "default appearance")
  .addOptionalParam("idp", IDP_HELP)
  .setAction(async (a: { user: string; avatar: string; appearance: string; idp?: string }, hre) => {
    localName("avatar:login", "--avatar", a.avatar); // before the login goes on-chain: its credential is kept under this name
    const c = await avatarContext(hre);
    const u = c.party(a.user);
    const svc = await c.remote(a.idp);
    if (svc) {
      const eye = c.eyeOf(a.user);
      const r = await svc.clients.loginRemote({
        idp: svc.info,
        dep: svc.dep,
        user: u,
        sample: () => eye.capture(),
        avatarId: c.avatarId(u, a.avatar),
        appearance: a.appearance,
      });
      c.saveCred(a.avatar, { ...r.credential, owner: u, driver: u });
      console.log(
        `${a.user} logged in as avatar ${a.avatar} (${c.bytes.toHex(c.avatarId(u, a.avatar)).slice(0, 12)}…) through the IdP at ${svc.info.url}`,
      );
      return { h: c.bytes.toHex(r.ack.h) };
    }
    const r = await c.protocols.login(await c.ctx(), new c.protocols.ChallengeBook(), u, c.eyeOf(a.user), {
      avatarId: c.avatarId(u, a.avatar),
      appearance: a.appearance,
    });
    c.saveCred(a.avatar, { ...r.credential, owner: u, driver: u });
    console.log(
      `${a.user} logged in as avatar ${a.avatar} (${c.bytes.toHex(c.avatarId(u, a.avatar)).slice(0, 12)}…); recordLogin ${r.gas.toLocaleString("en-US")} gas`,
    );
  });

task(
  "avatar:delegate",
  "Delegation: the user signs a warrant for the AI proxy, the proxy answers the challenge; the proxy drives the avatar, the user is forced offline",
)
  .addParam("user", "The owner")
  .addParam("avatar", "The name of one of the owner's avatars")
  .addParam("proxy", "The AI proxy")
  .addOptionalParam("idp", IDP_HELP)
  .setAction(async (a: { user: string; avatar: string; proxy: string; idp?: string }, hre) => {
    localName("avatar:delegate", "--avatar", a.avatar);
    const c = await avatarContext(hre);
    const u = c.party(a.user);
    const p = c.party(a.proxy);
    const svc = await c.remote(a.idp);
    if (svc) {
      const eye = c.eyeOf(a.user);
      const r = await svc.clients.delegateRemote({
        idp: svc.info,
        dep: svc.dep,
        user: u,
        sample: () => eye.capture(),
        proxy: p,
        avatarId: c.avatarId(u, a.avatar),
      });
      c.saveCred(a.avatar, { ...r.credential, owner: u, driver: p });
      console.log(`avatar ${a.avatar} now driven by ${a.proxy} (delegation #${r.ack.delegationId}) through the IdP at ${svc.info.url}`);
      return { delegationId: r.ack.delegationId };
    }
    const r = await c.protocols.delegate(await c.ctx(), new c.protocols.ChallengeBook(), u, c.eyeOf(a.user), p, {
      avatarId: c.avatarId(u, a.avatar),
    });
    c.saveCred(a.avatar, { ...r.credential, owner: u, driver: p });
    console.log(`avatar ${a.avatar} now driven by ${a.proxy} (delegation #${r.delegationId}); ${r.gas.toLocaleString("en-US")} gas`);
  });

task(
  "avatar:auth",
  "Mutual authentication of two avatars on this platform (each verifies the other's driver, warrant and signature, and that the other's hello is for this platform and addressed to it; ECDH session key); writes each side's evidence (version 2)",
)
  .addParam(
    "a",
    "First avatar: owner/name (e.g. alice/fox), or its name alone when one owner's avatar of that name is logged in from this folder",
  )
  .addParam("b", "Second avatar: owner/name, or its name alone (as --a)")
  .addOptionalParam("idp", IDP_HELP)
  .setAction(async (x: { a: string; b: string; idp?: string }, hre) => {
    const c = await avatarContext(hre);
    const A = c.loadCred("avatar:auth", "--a", x.a);
    const B = c.loadCred("avatar:auth", "--b", x.b);
    const svc = await c.remote(x.idp);
    // the platform's clock (latest block + 1), which the IdP stamps with: a side that accepted its
    // peer by an older clock would keep evidence the platform dates after the peer's warrant ended
    const t = await c.now();
    // with an IdP service, the platform's receipts come from it over the network
    const s = svc
      ? await svc.clients.mutualAuthRemote({
          idp: svc.info,
          dep: svc.dep,
          A: { credential: A, driver: A.driver },
          B: { credential: B, driver: B.driver },
          now: () => t,
        })
      : await c.protocols.mutualAuth(await c.ctx(), { credential: A, driver: A.driver }, { credential: B, driver: B.driver });
    const dir = path.join(c.dir, "evidence");
    fs.mkdirSync(dir, { recursive: true });
    // named owner+avatar: two owners' avatars of one name are two files
    const files = [
      [A.label, s.evidenceAboutA],
      [B.label, s.evidenceAboutB],
    ].map(([name, e]) => {
      const f = path.join(dir, `${name}-${Date.now()}.json`);
      fs.writeFileSync(f, JSON.stringify(c.codec.evidenceToJson(e as never), null, 1));
      return f;
    });
    // a fingerprint both sides can compare, not key bytes (s24 open list: 6 of the key's bytes were printed)
    const fpr = c.bytes.toHex(c.hash.hashToBytes("METATRUST-V1-AVATAR-SESSION-FINGERPRINT", s.key, 8));
    console.log(`${x.a} <-> ${x.b}: authenticated, session fingerprint ${fpr}`);
    console.log(`  evidence about ${x.a}: ${files[0]}\n  evidence about ${x.b}: ${files[1]}`);
    return { evidence: files };
  });

task(
  "avatar:trace",
  "Reports an avatar with evidence: the IdP verifies it and traces the avatar to its (original) manipulator; the verdict goes on-chain as a commitment. The filing is journalled in this folder's keystore first: a run killed after filing, run again, judges the case it filed and files no second. In the IdP's folder (no --idp) it holds the folder while it writes the IdP's record: it waits for another such command, and is refused while idp:serve serves the folder (go through it with --idp)",
)
  .addParam("evidence", "An evidence file written by avatar:auth")
  .addOptionalParam("idp", IDP_HELP)
  .addFlag(
    "fileOnly",
    "Only file the trace case on-chain and print its id, for `dispute:open --nature avatar --case <id>`: the IdP may then judge it only after the dispute upholds the claim",
  )
  .addOptionalParam(
    "case",
    "Judge this existing case (filed with --file-only), e.g. once the court upheld it; a case still awaiting its court is refused",
  )
  .addOptionalParam(
    "account",
    "The reporter's account, which files the case: a role name, an address, or (development nodes) a signer index; for a dispute, the claimant's controller (default: the network's first account)",
  )
  .setAction(async (a: { evidence: string; idp?: string; fileOnly: boolean; case?: string; account?: string }, hre) => {
    const c = await avatarContext(hre);
    const reporter = a.account
      ? c.registry.connect(await (await import("./lib/context")).accountSigner(hre, a.account, { flag: "--account" }))
      : c.registry;
    const named = a.case === undefined ? undefined : parseCaseId("avatar:trace", a.case);
    if (a.case !== undefined && a.fileOnly) throw new UsageError(`avatar:trace: --case names a filed case; --file-only files a new one`);
    // a missing file is named by describeError; one that is not evidence here, by its flag (s17-redA F2)
    const text = fs.readFileSync(a.evidence, "utf8");
    let e: ReturnType<typeof c.codec.evidenceFromJson>;
    try {
      e = c.codec.evidenceFromJson(JSON.parse(text));
    } catch (x) {
      throw new UsageError(
        `avatar:trace: --evidence ${a.evidence} is not an evidence file (${x instanceof SyntaxError ? "not JSON" : firstLine(String((x as Error).message ?? x))})`,
      );
    }
    // a filing is journalled in this folder's keystore before it is sent: a run killed after the
    // case was mined finds that case when run again, and never files a second (fileTraceOnce)
    const filing = await import("../offchain/services/avatars/clients");
    if (a.fileOnly) {
      const { caseId, resumed } = await filing.fileTraceOnce(reporter, e, c.ks);
      console.log(
        `case #${caseId}: ${resumed ? "filed by an earlier run of this command" : "filed"} (open); open the dispute with dispute:open --nature avatar --case ${caseId}`,
      );
      c.ks.remove(filing.traceFiling(e)); // its id is printed: a new run on this evidence files a new case
      return { caseId };
    }
    const caseId = named;
    const svc = await c.remote(a.idp);
    if (svc) {
      // the reporter opens the case from its account (or names its filed case); the IdP service judges it
      const ack = await svc.clients.traceRemote({ idp: svc.info, dep: svc.dep, reporter, evidence: e, caseId, journal: c.ks });
      console.log(
        `case #${ack.caseId}: traced by the IdP at ${svc.info.url}; verdict commitment ${c.bytes.toHex(ack.verdictCommitment)} (the identity stays with the IdP)`,
      );
      return { caseId: ack.caseId, verdictCommitment: c.bytes.toHex(ack.verdictCommitment) };
    }
    // in-process, as this folder's IdP: the record is loaded and written holding its folder
    return c.holdIdp("avatar:trace", async () => {
      const ctx = await c.ctx();
      // the verdict's opening (its salt) is kept before the commitment goes on-chain
      ctx.beforeSend = () => c.saveIdp("avatar:trace", ctx.idp);
      // and written again once the chain mined or refused it (a refused verdict leaves no slot: s24-rta R3)
      ctx.afterSend = () => c.saveIdp("avatar:trace", ctx.idp);
      if (caseId !== undefined) {
        const t = await c.protocols.judgeTrace(ctx, caseId, e);
        console.log(`case #${t.caseId}: traced to UID ${t.uid} (the IdP alone sees the real identity: "${t.realId}")`);
        return t;
      }
      const filed = (await filing.fileTraceOnce(reporter, e, c.ks)).caseId;
      try {
        const t = await c.protocols.judgeTrace(ctx, filed, e);
        console.log(`case #${t.caseId}: traced to UID ${t.uid} (the IdP alone sees the real identity: "${t.realId}")`);
        return t;
      } finally {
        await filing.settleFiling(c.registry, e, c.ks, filed);
      }
    });
  });

task(
  "avatar:audit",
  "Opens a traced case's verdict commitment from the IdP's keystore and checks it against the chain: the opening matches the commitment and names the UID of the traced avatar's owner (the IdP alone maps that UID to a person)",
)
  .addParam("case", "The trace case id")
  .setAction(async (a: { case: string }, hre) => {
    const caseId = parseCaseId("avatar:audit", a.case);
    const c = await avatarContext(hre);
    const o = await c.protocols.auditVerdict(await c.ctx(), caseId);
    console.log(
      `case #${a.case}: keccak256(UID || salt) opens to UID ${o.uid} with salt ${c.bytes.toHex(o.salt)}: the traced avatar's owner's UID (on chain); the IdP alone maps it to a person`,
    );
    return { uid: o.uid, salt: c.bytes.toHex(o.salt) };
  });

task("avatar:revoke", "Revokes an MIT (--mit NAME) or the current delegation of an avatar (--avatar NAME --owner USER)")
  .addOptionalParam("mit", "The party whose MIT is revoked")
  .addOptionalParam("avatar", "The avatar whose delegation is revoked (with --owner: names are per owner)")
  .addOptionalParam("owner", "The avatar's owner (a party in this folder)")
  .setAction(async (a: { mit?: string; avatar?: string; owner?: string }, hre) => {
    // one thing revoked per command: --mit with --avatar/--owner took --mit silently and revoked an
    // MIT for good where a delegation was meant (s22-redo R2)
    if (a.mit !== undefined && (a.avatar !== undefined || a.owner !== undefined))
      throw new UsageError(
        `avatar:revoke: --mit revokes an MIT, --avatar with --owner a delegation: give one, not --mit with ${a.avatar !== undefined ? "--avatar" : "--owner"} (nothing revoked)`,
      );
    if (a.mit === undefined && a.avatar === undefined && a.owner !== undefined)
      throw new UsageError("avatar:revoke: --owner goes with --avatar (the avatar whose delegation is revoked)");
    const c = await avatarContext(hre);
    if (a.mit) {
      const serial = c.bytes.toHex(c.party(a.mit).mit!.serial);
      // a read first: a revoked MIT's revocation would be sent and refused (MITRegistry__MitNotActive)
      if (Number((await c.registry.mit(serial)).status) !== 1)
        throw new RefusedError(
          `avatar:revoke: --mit ${a.mit}: its MIT ${serial.slice(0, 10)}… is not active (revoked already?); nothing sent`,
        );
      await minedReceipt(c.registry.revokeMIT(serial));
      console.log(`MIT of ${a.mit} revoked`);
    } else if (a.avatar) {
      if (!a.owner) throw new UsageError("avatar:revoke: --avatar needs --owner (avatar names are per owner)");
      const id = await c.registry.activeDelegation(c.bytes.toHex(c.avatarId(c.party(a.owner), a.avatar)));
      if (id === 0n) throw new RefusedError(`avatar:revoke: ${a.avatar} has no active delegation`);
      await minedReceipt(c.registry.revokeDelegation(id));
      console.log(`delegation #${id} of ${a.avatar} revoked`);
    } else throw new UsageError("avatar:revoke: give --mit or --avatar");
  });
