/**
 * Trust-management tasks (trust paper §IV, §VI). Entities are named (or given as 0x ids, e.g. an
 * RN's PID); the operator's account (signer #0, or --account) controls the entities it registers.
 * A rating is signed by the rater's controller (one of this node's accounts), and a controller
 * cannot rate its own entities: give raters accounts of their own (--account at registration).
 * Flags are set by the detector's account (role `detector`: a key of its own, or account 18 of a development node), never the admin's.
 * Ratings are computed from evidence (issue 15): `trust:interact` logs services with the
 * provider's signed receipt, `trust:rate` turns them into the factor scores and puts the record
 * set on IPFS with its digest on-chain, and `trust:verify-rating` recomputes any rating from it.
 * A typed score (`--score`/`--factors`) needs `--unverifiable` and says so.
 */
import fs from "fs";
import { ZeroAddress } from "ethers";
import { task, types } from "hardhat/config";
import { attach } from "../offchain/chain/contracts";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { RefusedError, UsageError, minedReceipt, parseWhole } from "./lib/cli";

/** TrustManager's admin identity-verified bit of `Entity.flags` (TrustManager.sol VERIFIED_BIT). */
const VERIFIED_BIT = 0x80;

async function trustContext(
  hre: HardhatRuntimeEnvironment,
  account?: string,
  use: { flag: string; create?: boolean } = { flag: "--account" },
) {
  const [{ localState, deployedAddress, accountSigner }, ledgerMod, fixed, { TrustManager__factory }] = await Promise.all([
    import("./lib/context"),
    import("../offchain/trust/ledger"),
    import("../offchain/trust/fixed"),
    import("../typechain-types"),
  ]);
  const local = localState(hre);
  // a role name, an address this process holds a key for, or (development nodes) an index; default the operator
  const signer = account ? await accountSigner(hre, account, use) : (await hre.ethers.getSigners())[0];
  const tm = attach(TrustManager__factory, await deployedAddress(hre, "TrustManager"), signer);
  const ledger = new ledgerMod.TrustLedger(tm);
  const names: Record<string, string> = local.keystore.exists("trust-names")
    ? (local.keystore.load("trust-names") as Record<string, string>)
    : {};
  const remember = (name: string, id: string) => {
    if (names[id] === name) return;
    names[id] = name;
    // over the names as they stand now, not as this run loaded them before its transaction: another
    // command's name kept meanwhile is not dropped (s22-fxidp; no await between this read and the write)
    const now = local.keystore.exists("trust-names") ? (local.keystore.load("trust-names") as Record<string, string>) : undefined;
    if (now) local.keystore.update("trust-names", { ...now, [id]: name });
    else local.keystore.create("trust-names", { [id]: name });
  };
  const label = (id: string) => names[id.toLowerCase()] ?? `${id.slice(0, 10)}…`;
  /** The name this keystore keeps for an id, if any (a registration that completed here). */
  const named = (id: string): string | undefined => names[id] ?? names[id.toLowerCase()];
  return { ...local, signer, tm, ledger, fixed, ledgerMod, remember, label, named };
}

/**
 * Per runtime (keyed by its network, as codeSeen in tasks/lib/context.ts): the controller last
 * read for each entity (TrustManager address and entity id). A rating signed by a controller taken
 * from here that fails is retried once if the chain names another controller now (an attested
 * registration reclaims an entity): see trust:rate.
 */
const controllers = new WeakMap<object, Map<string, string>>();

/** The controller of a named entity, as a signer address, if it is registered; else undefined (read from the chain). */
async function controllerOf(hre: HardhatRuntimeEnvironment, entity: string): Promise<string | undefined> {
  const [{ deployedAddress }, { entityId }, { TrustManager__factory }] = await Promise.all([
    import("./lib/context"),
    import("../offchain/trust/ledger"),
    import("../typechain-types"),
  ]);
  const address = await deployedAddress(hre, "TrustManager");
  const tm = attach(TrustManager__factory, address, hre.ethers.provider);
  const id = entityId(entity);
  const controller = (await tm.entity(id)).controller;
  let known = controllers.get(hre.network);
  if (!known) controllers.set(hre.network, (known = new Map()));
  if (controller === ZeroAddress) known.delete(`${address}:${id}`);
  else known.set(`${address}:${id}`, controller);
  return controller === ZeroAddress ? undefined : controller;
}

/** The controller of a named entity as last read by this process (controllerOf), if any: no call. */
async function knownControllerOf(hre: HardhatRuntimeEnvironment, entity: string): Promise<string | undefined> {
  const [{ deploymentSummary }, { entityId }] = await Promise.all([
    import("../offchain/chain/deployments"),
    import("../offchain/trust/ledger"),
  ]);
  const address = deploymentSummary(hre.network.name).addresses.TrustManager;
  return controllers.get(hre.network)?.get(`${address}:${entityId(entity)}`);
}

/** A ledger on the provider (reads only). */
async function readLedger(hre: HardhatRuntimeEnvironment) {
  const [{ deployedAddress }, { TrustLedger, entityId }, { TrustManager__factory }] = await Promise.all([
    import("./lib/context"),
    import("../offchain/trust/ledger"),
    import("../typechain-types"),
  ]);
  const tm = attach(TrustManager__factory, await deployedAddress(hre, "TrustManager"), hre.ethers.provider);
  return { ledger: new TrustLedger(tm), entityId };
}

/** The stored state of the pair (rater, rated) now, read through the provider. */
async function pairNow(hre: HardhatRuntimeEnvironment, from: string, to: string) {
  const { ledger, entityId } = await readLedger(hre);
  return ledger.pair(entityId(from), entityId(to));
}

/**
 * Per runtime (keyed by its network, as `controllers`): each entity's generation as last read by
 * this process (TrustManager address and entity id). A typed rating by a remembered controller
 * names the eras remembered here when both are (no call); if the chain has moved on (a reclaim), it
 * refuses the rating (`TrustManager__StaleEra`, nothing changes) and trust:rate sends it once more
 * for the eras read then: those a read at the command's start would have named. One round trip fewer
 * for a process that rates again (a service, the steps bench); a one-shot command reads them.
 */
const generations = new WeakMap<object, Map<string, bigint>>();

/** The eras (generations) of the rater and the rated now: the ones a typed rating is for (remembered: `generations`). */
async function erasNow(hre: HardhatRuntimeEnvironment, from: string, to: string) {
  const { ledger, entityId } = await readLedger(hre);
  const [f, t] = [entityId(from), entityId(to)];
  const eras = await ledger.eras(f, t);
  let known = generations.get(hre.network);
  if (!known) generations.set(hre.network, (known = new Map()));
  const address = await ledger.tm.getAddress();
  known.set(`${address}:${f}`, eras.from);
  known.set(`${address}:${t}`, eras.to);
  return eras;
}

/** The eras of the rater and the rated as last read by this process (erasNow), if both are: no call. */
async function knownErasOf(hre: HardhatRuntimeEnvironment, from: string, to: string) {
  const known = generations.get(hre.network);
  if (!known) return undefined;
  const { deployedAddress } = await import("./lib/context");
  const { entityId } = await import("../offchain/trust/ledger");
  const address = await deployedAddress(hre, "TrustManager");
  const [f, t] = [known.get(`${address}:${entityId(from)}`), known.get(`${address}:${entityId(to)}`)];
  return f === undefined || t === undefined ? undefined : { from: f, to: t };
}

/** An entity kind's name (`EntityKind`), or `kind <n>`. */
function kindName(kinds: Record<string, number>, kind: number): string {
  return Object.entries(kinds).find(([, v]) => v === kind)?.[0] ?? `kind ${kind}`;
}

/**
 * An entity a flag names, read from the chain before anything is stored or sent (s22-redo R3, R6):
 * refused in one line naming the flag and the entity when it is not registered, or not of `kind`.
 * @returns its id
 */
async function registeredEntity(
  c: {
    tm: { entity(id: string): Promise<{ controller: string; kind: bigint }> };
    ledgerMod: { entityId(name: string): string; EntityKind: Record<string, number> };
  },
  task: string,
  flag: string,
  name: string,
  kind?: number,
): Promise<string> {
  const id = c.ledgerMod.entityId(name);
  const e = await c.tm.entity(id);
  if (e.controller === ZeroAddress)
    throw new UsageError(`${task}: ${flag} ${name} is not a registered entity (trust:register first); nothing sent`);
  if (kind !== undefined && Number(e.kind) !== kind)
    throw new UsageError(
      `${task}: ${flag} ${name} is registered as kind ${kindName(c.ledgerMod.EntityKind, Number(e.kind))}, not ${kindName(c.ledgerMod.EntityKind, kind)}; nothing sent`,
    );
  return id;
}

task("trust:register", "Registers a virtual entity in the TrustManager, controlled by the operator's account")
  .addParam("entity", "A name (not starting with 0x), or a 0x 32-byte id (e.g. an RN's PID)")
  .addParam("type", "avatar | organization | resource-node | authority")
  .addFlag("verified", "Also mark its identity verified (admin) - for kinds without an identity registry yet")
  .addOptionalParam(
    "account",
    "The account that will control the entity: a role name (e.g. ann; a name without a key here gets one, generated into the keystore), an address, or (development nodes) a signer index",
  )
  .addOptionalParam(
    "attestation",
    "A verified PID's registrar attestation obtained over the network (`rsms:attest` on the RN's machine), naming this account",
  )
  .addOptionalParam("deadline", "With --attestation: its deadline (unix seconds, printed by rsms:attest)")
  .setAction(
    async (a: { entity: string; type: string; verified: boolean; account?: string; attestation?: string; deadline?: string }, hre) => {
      // Registering makes the controller's account: a new role name gets a key here (s22-redo R1),
      // but only once every check has passed, just before the first transaction (s22-review F3): a
      // refused registration writes no key and funds nothing. Until then the checks read the chain
      // as the operator, and a new name's controller is a fresh key, which controls nothing yet.
      const { NoKeyForRoleError } = await import("../offchain/chain/accounts");
      const known =
        a.account === undefined
          ? await trustContext(hre)
          : await trustContext(hre, a.account, { flag: "--account", create: false }).catch((e) => {
              if (e instanceof NoKeyForRoleError) return undefined;
              throw e;
            });
      const fresh = known === undefined;
      let c = known ?? (await trustContext(hre));
      const controllerContext = async () => (fresh ? trustContext(hre, a.account, { flag: "--account", create: true }) : c);
      if (!(a.type in c.ledgerMod.EntityKind))
        throw new UsageError(`trust:register: --type must be one of ${Object.keys(c.ledgerMod.EntityKind).join(", ")}`);
      // an id cut short or mistyped would register a new entity under that text as its name (s17-redA F12)
      if (/^0x/i.test(a.entity) && !/^0x[0-9a-fA-F]{64}$/.test(a.entity))
        throw new UsageError(
          `trust:register: --entity ${a.entity} starts with 0x but is not a 32-byte id (0x and 64 hex digits); a name may not start with 0x`,
        );
      const id = c.ledgerMod.entityId(a.entity);
      if ((a.attestation === undefined) !== (a.deadline === undefined))
        throw new UsageError("trust:register: --attestation and --deadline go together");
      if (a.attestation !== undefined) {
        if (a.verified)
          throw new UsageError(
            "trust:register: --verified does not go with --attestation (an attested identity is verified by its registry)",
          );
        if (!/^0x[0-9a-fA-F]{130}$/.test(a.attestation))
          throw new UsageError("trust:register: --attestation must be a 65-byte 0x hex signature");
        if (!/^\d+$/.test(a.deadline!)) throw new UsageError(`trust:register: --deadline ${a.deadline} is not unix seconds`);
        if (fresh)
          throw new UsageError(
            `trust:register: --account ${a.account} has no key here, so no attestation can name it: --attestation names the account that will control the entity`,
          );
        const gas = (
          await c.ledger.registerWithAttestation(id, a.type as keyof typeof c.ledgerMod.EntityKind, BigInt(a.deadline!), a.attestation)
        ).gasUsed;
        c.remember(a.entity, id);
        console.log(`${a.entity} (${a.type}) registered as ${id} on its registrar's attestation; ${gas.toLocaleString("en-US")} gas`);
        return { id };
      }
      const operator = (await hre.ethers.getSigners())[0];
      // a fresh key controls nothing: no registration is its (checked below against the zero address)
      const controller = fresh ? undefined : await c.signer.getAddress();
      // Everything is checked before the first transaction: registering and then failing to verify
      // would leave an unverified entity that a rerun could not fix ("already registered").
      if (a.verified && !(await c.tm.hasRole(await c.tm.DEFAULT_ADMIN_ROLE(), operator.address)))
        throw new RefusedError(
          `trust:register: --verified needs the TrustManager admin, and this node's operator ${operator.address} is not it`,
        );
      const existing = await c.tm.entity(id);
      const kind = c.ledgerMod.EntityKind[a.type as keyof typeof c.ledgerMod.EntityKind];
      // A rerun of a --verified registration whose verification did not happen resumes with it alone.
      // (An id that someone else registered is the contract's to refuse, or to reclaim for its attested owner.)
      // A rerun of a registration killed after its transaction and before its name was kept (no name
      // here for the id) completes without a transaction and keeps the name (s22-redo R5), as a
      // --verified rerun always did; a plain registration that completed here (its name kept) is
      // refused as a duplicate before anything is sent (R3).
      const mine = existing.controller === controller && Number(existing.kind) === kind;
      if (mine && c.named(id) === a.entity && !a.verified)
        throw new UsageError(
          `trust:register: --entity ${a.entity} is registered already (${id}, this controller, ${a.type}); nothing sent`,
        );
      if (existing.controller !== ZeroAddress && !mine) {
        // another kind, or another controller: the contract refuses (TrustManager__EntityExists),
        // except a verified avatar's or PID's reclaim by its attested owner, which is the contract's to decide
        const reclaimable = existing.controller !== controller && (a.type === "avatar" || a.type === "resource-node");
        if (!reclaimable)
          throw new UsageError(
            `trust:register: --entity ${a.entity} is registered already (${id}) as kind ${kindName(c.ledgerMod.EntityKind, Number(existing.kind))}, controlled by ${existing.controller}; nothing sent`,
          );
      }
      const resume = mine;
      // A verified avatar or PID needs its registrar's attestation: the IdP's (an avatar) or the
      // MSRP's (a resource node's PID), each the account the deployment record names for it.
      const { operatorSigner } = await import("./lib/context");
      const registrar =
        a.type === "avatar" ? await operatorSigner(hre, "idp") : a.type === "resource-node" ? await operatorSigner(hre, "msrp") : undefined;
      let gas: bigint | undefined;
      c = await controllerContext();
      if (!resume)
        try {
          gas = (await c.ledger.register(id, a.type as keyof typeof c.ledgerMod.EntityKind, registrar)).gasUsed;
        } catch (e) {
          // a custom-error revert as one line naming the entity
          const r = (await import("../offchain/chain/reverts")).contractRevert(e);
          if (!r) throw e;
          throw new RefusedError(`trust:register: the TrustManager refuses --entity ${a.entity} (${id}): ${r.text}`);
        }
      c.remember(a.entity, id);
      // The admin flag is the operator's (signer #0), whoever controls the entity.
      if (a.verified && (Number((await c.tm.entity(id)).flags) & VERIFIED_BIT) === 0)
        await minedReceipt(c.tm.connect(operator).setIdentityVerified(id, true));
      console.log(
        `${a.entity} (${a.type}) ${gas === undefined ? "was registered" : "registered"} as ${id}${gas === undefined ? "" : `; ${gas.toLocaleString("en-US")} gas`}${a.verified ? "; identity verified" : ""}`,
      );
      return { id };
    },
  );

/** Parses `--terms uptime:2,privacy:1` (weights default to 1) with `--bound` into the agreement terms P. */
function parseTerms(bound: number, terms: string | undefined) {
  if (!(Number.isFinite(bound) && bound > 0))
    throw new UsageError(`trust:interact: --bound must be a positive number of milliseconds, got ${bound}`);
  const list = (terms ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => {
      const [id, w = "1"] = t.split(":");
      const weight = Number(w);
      if (!id || !Number.isSafeInteger(weight) || weight < 1)
        throw new UsageError(`trust:interact: --terms entry "${t}" is not id or id:weight (weight a positive integer)`);
      return { id, weight };
    });
  return { latencyBoundMs: bound, terms: list };
}

task(
  "trust:interact",
  "Logs one service of --to to --from with --to's signed receipt (checked against --to's controller; refused, nothing logged, if it did not sign it): the evidence a later trust:rate computes the factors from",
)
  .addParam("from", "The consumer (the future rater)")
  .addParam("to", "The provider (its controller signs the receipt; on this node, its local account)")
  .addParam("outcome", "success | failure")
  .addParam("latency", "The latency measured, milliseconds", undefined, types.float)
  .addOptionalParam(
    "bound",
    "The agreed latency bound, milliseconds (default: the pair's logged agreement, else 500)",
    undefined,
    types.float,
  )
  .addOptionalParam("terms", "The agreed terms, comma-separated id[:weight] (e.g. uptime:2,privacy)")
  .addOptionalParam("broken", "Comma-separated term ids this service broke (the others were kept)")
  .addOptionalParam("request", "A name of the request (only its hash is recorded)")
  .setAction(
    async (
      a: { from: string; to: string; outcome: string; latency: number; bound: number; terms?: string; broken?: string; request?: string },
      hre,
    ) => {
      if (a.outcome !== "success" && a.outcome !== "failure")
        throw new UsageError(`trust:interact: --outcome must be success or failure, got ${a.outcome}`);
      if (!(Number.isFinite(a.latency) && a.latency >= 0))
        throw new UsageError(`trust:interact: --latency must be >= 0 milliseconds, got ${a.latency}`);
      const c = await trustContext(hre);
      const { InteractionLog } = await import("../offchain/trust/rater");
      const log = new InteractionLog(c.keystore);
      const from = c.ledgerMod.entityId(a.from);
      const to = c.ledgerMod.entityId(a.to);
      // records a mined rating used are dropped here too (the chain says which: E5), and records of
      // an earlier era of the pair set aside (s25-rte L1)
      await log.settle(c.tm, from, to, (line) => console.log(line.replace(from, a.from).replace(to, a.to)));
      const logged = log.get(from, to)?.agreement;
      const agreement = a.bound === undefined && a.terms === undefined && logged ? logged : parseTerms(a.bound ?? 500, a.terms);
      const broken = new Set(
        (a.broken ?? "")
          .split(",")
          .map((t) => t.trim())
          .filter(Boolean),
      );
      for (const b of broken)
        if (!agreement.terms.some((t) => t.id === b)) throw new UsageError(`trust:interact: --broken names ${b}, which is not in --terms`);
      const provider = await controllerOf(hre, a.to);
      if (!provider) throw new UsageError(`trust:interact: --to ${a.to} is not registered`);
      if (!(await controllerOf(hre, a.from))) throw new UsageError(`trust:interact: --from ${a.from} is not registered`);
      // Chain time, one second past the latest block: newer than the pair's last rating, and no
      // later than the block of the next rating (block times increase strictly). Not the local
      // clock: a development chain's time differs from it.
      const at = (await hre.ethers.provider.getBlock("latest"))!.timestamp + 1;
      const pending = log.get(from, to)?.records.length ?? 0;
      const rec = await log.record(
        c.tm,
        await (await import("./lib/context")).accountSigner(hre, provider, { flag: `--to ${a.to}'s controller` }),
        from,
        to,
        agreement,
        {
          request: a.request ?? `${a.from}->${a.to}#${pending}@${at}`,
          at,
          outcome: a.outcome,
          latencyMs: a.latency,
          kept: agreement.terms.map((t) => !broken.has(t.id)),
        },
        (x) => (x === to ? a.to : x),
      );
      console.log(
        `${a.from} <- ${a.to}: ${a.outcome} in ${a.latency} ms (bound ${agreement.latencyBoundMs}), receipt #${rec.seq} signed by ${provider}; ${pending + 1} record(s) pending`,
      );
      return rec;
    },
  );

task(
  "trust:rate",
  "Rates an entity from evidence: the interactions logged by trust:interact (or --records) give the factor scores, the record set goes to IPFS and its digest on-chain (Eqs. 41, 43); --score/--factors with --unverifiable type them in instead",
)
  .addParam("from", "The rater")
  .addParam("to", "The rated entity")
  .addOptionalParam(
    "records",
    "A JSON file { agreement, records } of at most 100 interactions with the provider's receipts (default: the interactions logged since the pair's last rating, the newest 100)",
  )
  .addOptionalParam("score", "UNVERIFIABLE (needs --unverifiable): one typed score in [0, 1] for every factor", undefined, types.float)
  .addOptionalParam("factors", "UNVERIFIABLE (needs --unverifiable): comma-separated typed factor scores in [0, 1]")
  .addFlag(
    "unverifiable",
    "Rate with a typed --score/--factors and no evidence: nobody can recompute it, and the detectors may discount it",
  )
  .addOptionalParam("account", "Signer index or address controlling --from (default: --from's controller)")
  .setAction(
    async (
      a: { from: string; to: string; records?: string; score?: number; factors?: string; unverifiable: boolean; account?: string },
      hre,
    ) => {
      // a self-rating is the contract's TrustManager__SelfRating: refused before anything is read or sent (s22-redo R3)
      const { entityId } = await import("../offchain/trust/ledger");
      if (entityId(a.from) === entityId(a.to))
        throw new UsageError(`trust:rate: --from ${a.from} and --to ${a.to} name one entity: an entity does not rate itself; nothing sent`);
      // The rater's controller as this process last read it (no call), else from the chain. A
      // rating signed by a remembered controller that fails is retried once if the chain names
      // another controller now; nothing else changes.
      const known = a.account ? undefined : await knownControllerOf(hre, a.from);
      // A typed rating is about the eras of the two ids when the command runs (the rating names
      // them: TrustManager.rate refuses it once either id is reclaimed, h16-red2 R6); read once, so
      // that a retry is for the same eras; with a remembered controller, the eras this process last
      // read (`generations`), read again if the chain refuses them. An evidenced rating's eras are its
      // evidence's (buildEvidence).
      const typed = a.score !== undefined || a.factors !== undefined;
      const remembered = typed && known ? await knownErasOf(hre, a.from, a.to) : undefined;
      const eras = typed ? (remembered ? Promise.resolve(remembered) : erasNow(hre, a.from, a.to)) : undefined;
      eras?.catch(() => undefined);
      if (known) {
        // the pair as the rating finds it: read by TrustLedger.rate (with the receipt, at a block seen before)
        try {
          return await rateAs(hre, a, known, undefined, eras);
        } catch (e) {
          // a remembered controller, or remembered eras, that the chain no longer holds (the refused
          // transaction changed nothing): sent once more with the chain's; else the error stands
          const [now, current] = await Promise.all([controllerOf(hre, a.from), remembered ? erasNow(hre, a.from, a.to) : undefined]);
          const erasMoved =
            remembered !== undefined && current !== undefined && (current.from !== remembered.from || current.to !== remembered.to);
          if (now === known && !erasMoved) throw e;
          return rateAs(hre, a, now, undefined, erasMoved ? Promise.resolve(current) : eras);
        }
      }
      // the pair as the rating will find it, read together with the rater's controller (TrustLedger.rate)
      const before = pairNow(hre, a.from, a.to);
      before.catch(() => undefined);
      return rateAs(hre, a, a.account ?? (await controllerOf(hre, a.from)), before, eras);
    },
  );

/** trust:rate signed by `account` (see the task). */
async function rateAs(
  hre: HardhatRuntimeEnvironment,
  a: { from: string; to: string; records?: string; score?: number; factors?: string; unverifiable: boolean; account?: string },
  account: string | undefined,
  before: ReturnType<typeof pairNow> | undefined,
  eras: ReturnType<typeof erasNow> | undefined,
) {
  const c = await trustContext(hre, account, { flag: a.account !== undefined ? "--account" : `--from ${a.from}'s controller` });
  const from = c.ledgerMod.entityId(a.from);
  const to = c.ledgerMod.entityId(a.to);
  const typed = a.score !== undefined || a.factors !== undefined;
  if (typed && !a.unverifiable)
    throw new UsageError(
      "trust:rate: a typed --score/--factors cannot be recomputed by anyone: add --unverifiable to send it, or rate from evidence (trust:interact, --records)",
    );
  if (typed && a.records) throw new UsageError("trust:rate: give --records or a typed --score/--factors, not both");
  if (a.unverifiable && !typed) throw new UsageError("trust:rate: --unverifiable needs --score or --factors");
  if (typed) {
    const m = await c.ledger.getModel();
    const scores = a.factors ? a.factors.split(",").map(Number) : Array(m.factorCount).fill(a.score);
    if (scores.length !== m.factorCount) throw new UsageError(`trust:rate: the model has ${m.factorCount} factors, ${scores.length} given`);
    const r = await c.ledger.rate(from, to, c.fixed.packFactors(scores), undefined, before, eras);
    console.log(
      `${a.from} -> ${a.to}: UNVERIFIABLE typed rating ${c.fixed.fromWad(r.rating).toFixed(4)} (no evidence), stored trust ${c.fixed.fromWad(r.stored).toFixed(4)} (matches the off-chain model); ${r.tx.gasUsed.toLocaleString("en-US")} gas`,
    );
    return { rating: c.fixed.fromWad(r.rating), trust: c.fixed.fromWad(r.stored), gas: r.tx.gasUsed, verifiable: false };
  }
  const { InteractionLog, rateWithEvidence } = await import("../offchain/trust/rater");
  const { MAX_RECORDS } = await import("../offchain/trust/evidence");
  const log = new InteractionLog(c.keystore);
  let set: {
    agreement: import("../offchain/trust/evidence").EvidenceTerms;
    records: import("../offchain/trust/evidence").InteractionRecord[];
  };
  if (a.records) {
    // the file's text is never echoed (E3): a parse error names the flag only; a missing or
    // unreadable file is named by its flag as every task's is (describeError)
    const text = fs.readFileSync(a.records, "utf8");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new UsageError("trust:rate: --records is not a readable JSON file");
    }
    const p = parsed as { agreement?: unknown; records?: unknown } | null;
    if (!p || typeof p !== "object" || typeof p.agreement !== "object" || !Array.isArray(p.records))
      throw new UsageError("trust:rate: --records must hold { agreement, records: [...] }");
    set = p as typeof set;
  } else {
    // E5: the records of the pair's latest rating on-chain are spent, whether or not the process
    // that sent it lived to clear them: drop them first (idempotent, derived from the chain).
    // and records of an earlier era of the pair (either id reclaimed since) are set aside, kept in
    // the log, never rated: the chain would refuse them (s25-rte L1)
    const pending = await log.settle(c.tm, from, to, (line) => console.log(line.replace(from, a.from).replace(to, a.to)));
    if (!pending?.records.length)
      throw new UsageError(
        `trust:rate: no interactions of ${a.from} with ${a.to} logged since its last rating: log them with trust:interact, or give --records`,
      );
    set = pending;
    // a set holds at most MAX_RECORDS (evidence.ts): the newest are rated, the older are spent with them
    if (set.records.length > MAX_RECORDS) {
      console.log(
        `${a.from} -> ${a.to}: ${set.records.length} records pending, a rating holds ${MAX_RECORDS}: rating the newest ${MAX_RECORDS}`,
      );
      set = { agreement: set.agreement, records: set.records.slice(-MAX_RECORDS) };
    }
  }
  const r = await rateWithEvidence(c.ledger, c.store, from, to, set.agreement, set.records, before, (x) =>
    x === to ? a.to : x === from ? a.from : c.label(x),
  );
  if (!a.records) log.prune(from, to, Number((await c.tm.pairOf(from, to)).updatedAt));
  console.log(
    `${a.from} -> ${a.to}: rating ${c.fixed.fromWad(r.rating).toFixed(4)} from ${set.records.length} record(s), factors [${r.scores.bps.map((x) => (x / 10_000).toFixed(4)).join(", ")}] (performance, timeliness, integrity, behaviour, history, identity), stored trust ${c.fixed.fromWad(r.stored).toFixed(4)}; evidence ${r.cid}; ${r.tx.gasUsed.toLocaleString("en-US")} gas`,
  );
  return {
    rating: c.fixed.fromWad(r.rating),
    trust: c.fixed.fromWad(r.stored),
    gas: r.tx.gasUsed,
    evidence: r.cid,
    factors: r.scores.factors,
    verifiable: true,
  };
}

task(
  "trust:verify-rating",
  "Recomputes a rating from its evidence: the CID from the chain, the records from IPFS, the factors and Eq. 41, compared with what the chain stored",
)
  .addParam("from", "The rater")
  .addParam("to", "The rated entity")
  .addOptionalParam("index", "Which of the pair's ratings, from 0 (default: the latest)", undefined, types.int)
  .setAction(async (a: { from: string; to: string; index?: number }, hre) => {
    const c = await trustContext(hre);
    const { verifyRating } = await import("../offchain/trust/rater");
    const names = (id: string) =>
      id.toLowerCase() === c.ledgerMod.entityId(a.from) ? a.from : id.toLowerCase() === c.ledgerMod.entityId(a.to) ? a.to : c.label(id);
    const v = await verifyRating(c.tm, c.store, c.ledgerMod.entityId(a.from), c.ledgerMod.entityId(a.to), { index: a.index, label: names });
    console.log(
      `${a.from} -> ${a.to} #${v.index} (block ${v.block}): verified: the records of ${v.cid} give factors [${v.scores.bps.map((x) => (x / 10_000).toFixed(4)).join(", ")}] and rating ${c.fixed.fromWad(v.rating).toFixed(4)}, as on-chain`,
    );
    return { ...v, rating: c.fixed.fromWad(v.rating), verified: true };
  });

task(
  "trust:score",
  "The effective trust of --by in --of now (decay, oracle, identity and flag factors), or --of's reputation and mean received trust (Eq. 9)",
)
  .addParam("of", "The entity")
  .addOptionalParam("by", "The truster")
  .setAction(async (a: { of: string; by?: string }, hre) => {
    const c = await trustContext(hre);
    const of = c.ledgerMod.entityId(a.of);
    const e = await c.tm.entity(of);
    if (Number(e.kind) === 0) throw new UsageError(`trust:score: ${a.of} is not registered`);
    const verified = await c.tm.isIdentityVerified(of);
    if (a.by) {
      const t = c.fixed.fromWad(await c.tm.trustOf(c.ledgerMod.entityId(a.by), of));
      const p = await c.ledger.pair(c.ledgerMod.entityId(a.by), of);
      console.log(
        `trust of ${a.by} in ${a.of}: ${t.toFixed(4)} (stored ${c.fixed.fromWad(p.trust).toFixed(4)} after ${p.ratings} rating(s); identity ${verified ? "verified" : "unverified"}; flags 0x${Number(e.flags & 0x7fn).toString(16)})`,
      );
      return { trust: t };
    }
    const received = (await c.ledger.ratings()).filter((r) => r.to.toLowerCase() === of.toLowerCase());
    const { eq9Reputation } = await import("../offchain/trust/model");
    const mean = received.length ? eq9Reputation(received.map((r) => r.value)) : undefined;
    console.log(
      `${a.of}: reputation ${c.fixed.fromWad(e.reputation).toFixed(4)}, ${received.length} rating(s) received${mean !== undefined ? `, mean ${mean.toFixed(4)} (Eq. 9)` : ""}, identity ${verified ? "verified" : "unverified"}`,
    );
    return { reputation: c.fixed.fromWad(e.reputation), meanReceived: mean };
  });

task(
  "trust:agree",
  "Algorithm 2: an organization's trust agreement with avatars; the terms go to IPFS, their digest H(P) (the CID's) and H(TA) on-chain",
)
  .addParam("org", "The organization")
  .addParam("avatars", "Comma-separated avatars")
  .addOptionalParam("thresholds", "Comma-separated Threshold_ij in [0, 1] (default 0.5 each)")
  .addOptionalParam("days", "Agreement duration in days", 30, types.int)
  .addOptionalParam("termination", "Termination condition", "trust below Trust_min for 7 days")
  .addOptionalParam("penalty", "Penalty on violation", "reputation -0.1")
  .addOptionalParam(
    "request",
    "A name for this proposal (default: derived from the organization, avatars, thresholds and terms). A retry of the same proposal (its reply lost) never forms a second agreement; a new name proposes another with the same content",
  )
  .setAction(
    async (
      a: { org: string; avatars: string; thresholds?: string; days: number; termination: string; penalty: string; request?: string },
      hre,
    ) => {
      // every flag and entity checked before the intent is journaled, the terms stored or anything sent (s22-redo R6, R7)
      parseWhole("trust:agree", "--days", a.days, 1, 36_500);
      const c = await trustContext(hre);
      if (a.request !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(a.request))
        throw new UsageError(`trust:agree: --request must be 1 to 64 letters, digits, '.', '_' or '-'`);
      const avatars = a.avatars.split(",").map((s) => s.trim());
      // refused by flag before the consents are collected and the terms stored (the contract's InvalidAgreement named none: s17-redA F24)
      const seen = new Map<string, string>();
      for (const v of avatars) {
        if (v === "") throw new UsageError(`trust:agree: --avatars "${a.avatars}" has an empty entry`);
        const id = c.ledgerMod.entityId(v);
        if (seen.has(id))
          throw new UsageError(
            `trust:agree: --avatars names ${v === seen.get(id) ? `"${v}" twice` : `"${seen.get(id)}" and "${v}", one entity`}`,
          );
        seen.set(id, v);
      }
      const th = a.thresholds ? a.thresholds.split(",").map(Number) : avatars.map(() => 0.5);
      if (th.length !== avatars.length)
        throw new UsageError(
          `trust:agree: --thresholds gives ${th.length} value(s) for ${avatars.length} avatar(s): one threshold per avatar`,
        );
      await registeredEntity(c, "trust:agree", "--org", a.org, c.ledgerMod.EntityKind.organization);
      for (const v of avatars) await registeredEntity(c, "trust:agree", "--avatars", v, c.ledgerMod.EntityKind.avatar);
      // The intent is journaled before the agreement is sent (s17-redA F16, as dispute:open, h13-red D2):
      // a retry after a lost reply finds its AgreementFormed, or resends in place of its pending
      // transaction, instead of proposing a second agreement.
      const key = [a.org, ...avatars.map((v, i) => `${c.ledgerMod.entityId(v)}:${th[i]}`).sort(), a.days, a.termination, a.penalty];
      const rec = `trust-agree-${a.request ?? hre.ethers.keccak256(hre.ethers.toUtf8Bytes(JSON.stringify(key))).slice(2, 34)}`;
      const journal = {
        load: () => (c.keystore.exists(rec) ? (c.keystore.load(rec) as import("../offchain/trust/ledger").AgreementIntent) : undefined),
        save: (i: import("../offchain/trust/ledger").AgreementIntent) =>
          c.keystore.exists(rec) ? c.keystore.update(rec, i) : c.keystore.create(rec, i),
      };
      const r = await c.ledger.proposeAgreement(
        c.store,
        c.ledgerMod.entityId(a.org),
        avatars.map(c.ledgerMod.entityId),
        th.map(c.fixed.toWad),
        { durationDays: a.days, termination: [a.termination], penalties: [a.penalty] },
        // each avatar's controller consents (a signature: its key is not topped up), every one of
        // them before the terms are stored or anything sent: a controller whose key this machine
        // does not hold is refused naming the avatar (s23-fxops)
        async (controller, avatar) => {
          try {
            return await (await import("./lib/context")).accountSigner(hre, controller, { flag: "an avatar's controller", fund: false });
          } catch (e) {
            if (!(e instanceof (await import("../offchain/chain/accounts")).UnknownAccountError)) throw e;
            throw new UsageError(
              `trust:agree: --avatars ${seen.get(avatar) ?? avatar}: this machine holds no key for its controller ${controller}, whose consent the agreement needs: run it where that key is (METATRUST_KEY_<ROLE> or the keystore's role key); nothing was stored or sent`,
            );
          }
        },
        journal,
      );
      console.log(
        `agreement #${r.id}${r.existing ? " (formed by an earlier attempt of this request; nothing sent)" : ""}: ${r.mode} (mean trust ${r.meanTrust.toFixed(4)}); terms ${r.cid}${r.tx ? `; ${r.tx.gasUsed.toLocaleString("en-US")} gas` : ""}`,
      );
      return r;
    },
  );

task(
  "trust:detect",
  "Runs the Sybil, on-off and good/bad-mouthing detectors over the on-chain rating history at one block (the report on IPFS names it, with the seeds) and flags what they find as one flag run (no dispute opens while it is in flight, 10 min at most; runs begin 1 h apart); a kind the court cleared is flagged again only on conduct after the clearing",
)
  .addFlag("dryRun", "Report without flagging")
  .addFlag(
    "evidenceOnly",
    "Ignore ratings without evidence (typed --unverifiable scores): they weigh nothing in any statistic (default: they count in their raters' tests, and weigh together at most 3 observations on each target)",
  )
  .addOptionalParam("account", "Signer index or address holding DETECTOR_ROLE (default: the deployment's detector)")
  .setAction(async (a: { dryRun: boolean; evidenceOnly: boolean; account?: string }, hre) => {
    // the detector deployments/<network>.json names (`deploy --detector`), else the role account `detector`
    const { readDeployment } = await import("../offchain/chain/deployments");
    const c = await trustContext(hre, a.account ?? readDeployment(hre.network.name).roles?.detector ?? "detector", {
      flag: a.account !== undefined ? "--account" : "the detector (no --account)",
    });
    const { runDetectors } = await import("../offchain/trust/pipeline");
    const report = await runDetectors(c.ledger, c.store, { flag: !a.dryRun, evidenceOnly: a.evidenceOnly });
    for (const d of report.detections)
      console.log(
        `  ${c.label(d.entity).padEnd(14)} ${d.kindName.padEnd(13)} ${d.reason}${
          d.flagged
            ? " -> flagged"
            : d.cleared && !d.cleared.again
              ? ` -> not flagged: ${d.cleared.reason}`
              : d.stale
                ? ` -> ${d.stale}`
                : d.deferred
                  ? ` -> ${d.deferred}`
                  : ""
        }`,
      );
    for (const d of report.notices) console.log(`  ${c.label(d.entity).padEnd(14)} notice        ${d.reason} (not flagged)`);
    console.log(
      `${report.detections.length} detection(s), ${report.notices.length} notice(s) over ${report.ratings} rating(s) of ${report.entities} entities at block ${report.block.number}; report ${report.cid}`,
    );
    return report;
  });

task(
  "trust:flag",
  "The detector's operator flags an entity for an attack kind after review (what trust:detect does when a detector fires); a group's user then has its MSRP evict it",
)
  .addParam("entity", "A name, or a 0x 32-byte id (e.g. an RN's PID)")
  .addParam("kind", "sybil | on-off | good-mouthing | bad-mouthing")
  .addParam(
    "evidence",
    "What the flag rests on: the operator's reasons, stored in the flag's dag-json report on IPFS (the report's sha2-256 digest goes on-chain with the flag; the task prints its CID; stored only once the chain would accept the flag, with the id's generation)",
  )
  .addOptionalParam("account", "Signer index, address or role holding DETECTOR_ROLE (default: the deployment's detector)")
  .setAction(async (a: { entity: string; kind: string; evidence: string; account?: string }, hre) => {
    const kinds: Record<string, number> = { sybil: 0, "on-off": 1, "good-mouthing": 2, "bad-mouthing": 3 };
    if (!(a.kind in kinds)) throw new UsageError(`trust:flag: --kind must be one of ${Object.keys(kinds).join(", ")}, got "${a.kind}"`);
    const { readDeployment } = await import("../offchain/chain/deployments");
    const c = await trustContext(hre, a.account ?? readDeployment(hre.network.name).roles?.detector ?? "detector", {
      flag: a.account !== undefined ? "--account" : "the detector (no --account)",
    });
    const id = c.ledgerMod.entityId(a.entity);
    if ((await c.tm.entity(id)).controller === hre.ethers.ZeroAddress)
      throw new UsageError(`trust:flag: --entity ${a.entity} (${id}) is not registered (trust:register first)`);
    if (!(await c.tm.hasRole(await c.tm.DETECTOR_ROLE(), await c.signer.getAddress())))
      throw new RefusedError(`trust:flag: ${await c.signer.getAddress()} does not hold DETECTOR_ROLE (--account)`);
    if (a.evidence.trim() === "") throw new UsageError("trust:flag: --evidence is empty: say what the flag rests on");
    // The flag names a report anyone can read (trust.md §3: every flag names an IPFS report), in the
    // detector pipeline's shape: one detection whose reason is the operator's text (h16-red2 R7),
    // and the generation (era) of the id it judges, the one the flag names (h16-red2 R5).
    const { cidOf, encodeJson } = await import("../offchain/storage/content-store");
    const generation = await c.tm.generationOf(id);
    const report = {
      generatedAt: new Date().toISOString(),
      method: { manual: "flagged by the detector's operator after review; the reason is the operator's" },
      operator: (await c.signer.getAddress()).toLowerCase(),
      detections: [{ entity: id, kind: kinds[a.kind], kindName: a.kind, score: 1, reason: a.evidence, generation: Number(generation) }],
    };
    const computed = await cidOf(encodeJson(report), "dag-json");
    const digest = computed.multihash.digest;
    // the chain's answer first (no role, a stale generation: an id reclaimed since the read): a
    // refused flag stores no report (it used to leave one on IPFS that no flag names; session 16's
    // final read). Only a change mined between this simulation and the transaction still can.
    try {
      await c.tm.flag.staticCall(id, kinds[a.kind], hre.ethers.hexlify(digest), generation);
    } catch (e) {
      const r = (await import("../offchain/chain/reverts")).contractRevert(e);
      if (!r) throw e;
      throw new RefusedError(`trust:flag: the TrustManager refuses the flag of --entity ${a.entity}: ${r.text}; no report stored`);
    }
    const cid = await c.store.putJson(report);
    if (computed.toString() !== cid) throw new RefusedError(`trust:flag: the store computed ${cid}, expected ${computed}`);
    const tx = await c.ledger.flag(id, kinds[a.kind], digest, generation);
    console.log(`${a.entity} flagged ${a.kind}, report ${cid}; ${tx.gasUsed.toLocaleString("en-US")} gas`);
    return { id, kind: a.kind, evidence: hre.ethers.hexlify(digest), cid };
  });

task("trust:show", "Every registered entity: kind, reputation, identity, flags").setAction(async (_a, hre) => {
  const c = await trustContext(hre);
  const kinds = ["none", "avatar", "organization", "resource-node", "authority"];
  const rows = [];
  for (const { id, kind } of await c.ledger.entities()) {
    const e = await c.tm.entity(id);
    const row = {
      name: c.label(id),
      id,
      kind: kinds[kind],
      reputation: c.fixed.fromWad(e.reputation),
      verified: await c.tm.isIdentityVerified(id),
      flags: Number(e.flags) & 0x7f,
    };
    rows.push(row);
    console.log(
      `  ${row.name.padEnd(14)} ${row.kind.padEnd(13)} reputation ${row.reputation.toFixed(4)}  ${row.verified ? "verified  " : "unverified"}  flags 0x${row.flags.toString(16)}`,
    );
  }
  return rows;
});
