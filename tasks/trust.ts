/**
 * Trust-management tasks (trust paper §IV, §VI). Entities are named (or given as 0x ids, e.g. an
 * RN's PID); the operator's account (signer #0, or --account) controls the entities it registers.
 * A rating is signed by the rater's controller (one of this node's accounts), and a controller
 * cannot rate its own entities: give raters accounts of their own (--account at registration).
 * Flags are set by the detector's account (role `detector`: a key of its own, or account 18 of a development node), never the admin's.
 */
import fs from "fs";
import { task, types } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { RefusedError, UsageError } from "./lib/cli";

/** TrustManager's admin identity-verified bit of `Entity.flags` (TrustManager.sol VERIFIED_BIT). */
const VERIFIED_BIT = 0x80;

async function trustContext(hre: HardhatRuntimeEnvironment, account?: string) {
  const [{ localState, deployedAddress, accountSigner }, ledgerMod, fixed, { TrustManager__factory }] = await Promise.all([
    import("./lib/context"),
    import("../offchain/trust/ledger"),
    import("../offchain/trust/fixed"),
    import("../typechain-types"),
  ]);
  const local = localState(hre);
  // a role name, an address this process holds a key for, or (development nodes) an index; default the operator
  const signer = account ? await accountSigner(hre, account) : (await hre.ethers.getSigners())[0];
  const tm = TrustManager__factory.connect(await deployedAddress(hre, "TrustManager"), signer);
  const ledger = new ledgerMod.TrustLedger(tm);
  const names: Record<string, string> = local.keystore.exists("trust-names")
    ? (local.keystore.load("trust-names") as Record<string, string>)
    : {};
  const remember = (name: string, id: string) => {
    if (names[id] === name) return;
    names[id] = name;
    (local.keystore.exists("trust-names") ? local.keystore.update : local.keystore.create).call(local.keystore, "trust-names", names);
  };
  const label = (id: string) => names[id.toLowerCase()] ?? `${id.slice(0, 10)}…`;
  return { ...local, signer, tm, ledger, fixed, ledgerMod, remember, label };
}

/** The controller of a named entity, as a signer address, if it is registered; else undefined. */
async function controllerOf(hre: HardhatRuntimeEnvironment, entity: string): Promise<string | undefined> {
  const [{ deployedAddress }, { entityId }, { TrustManager__factory }] = await Promise.all([
    import("./lib/context"),
    import("../offchain/trust/ledger"),
    import("../typechain-types"),
  ]);
  const tm = TrustManager__factory.connect(await deployedAddress(hre, "TrustManager"), hre.ethers.provider);
  const controller = (await tm.entity(entityId(entity))).controller;
  return controller === hre.ethers.ZeroAddress ? undefined : controller;
}

task("trust:register", "Registers a virtual entity in the TrustManager, controlled by the operator's account")
  .addParam("entity", "A name, or a 0x 32-byte id (e.g. an RN's PID)")
  .addParam("type", "avatar | organization | resource-node | authority")
  .addFlag("verified", "Also mark its identity verified (admin) - for kinds without an identity registry yet")
  .addOptionalParam(
    "account",
    "The account that will control the entity: a role name (e.g. ann), an address, or (development nodes) a signer index",
  )
  .setAction(async (a: { entity: string; type: string; verified: boolean; account?: string }, hre) => {
    const c = await trustContext(hre, a.account);
    if (!(a.type in c.ledgerMod.EntityKind))
      throw new UsageError(`trust:register: --type must be one of ${Object.keys(c.ledgerMod.EntityKind).join(", ")}`);
    const id = c.ledgerMod.entityId(a.entity);
    const operator = (await hre.ethers.getSigners())[0];
    const controller = await c.signer.getAddress();
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
    const resume = a.verified && existing.controller === controller && Number(existing.kind) === kind;
    // A verified avatar or PID needs its registrar's attestation: on local networks the operator
    // (signer #0) is the IdP and the MSRP.
    const gas = resume ? undefined : (await c.ledger.register(id, a.type as keyof typeof c.ledgerMod.EntityKind, operator)).gasUsed;
    c.remember(a.entity, id);
    // The admin flag is the operator's (signer #0), whoever controls the entity.
    if (a.verified && (Number((await c.tm.entity(id)).flags) & VERIFIED_BIT) === 0)
      await (await c.tm.connect(operator).setIdentityVerified(id, true)).wait();
    console.log(
      `${a.entity} (${a.type}) ${gas === undefined ? "was registered" : "registered"} as ${id}${gas === undefined ? "" : `; ${gas.toLocaleString("en-US")} gas`}${a.verified ? "; identity verified" : ""}`,
    );
    return { id };
  });

task("trust:rate", "Rates an entity: the factor scores fold into trustStore[from][to] (Eqs. 41, 43), checked against the off-chain model")
  .addParam("from", "The rater")
  .addParam("to", "The rated entity")
  .addOptionalParam("score", "One score in [0, 1] for every factor", undefined, types.float)
  .addOptionalParam("factors", "Comma-separated factor scores in [0, 1] (reputation, behaviour, history, performance, social, expertise)")
  .addOptionalParam("evidence", "A file to store on IPFS as the rating's evidence")
  .addOptionalParam("evidenceCid", "An evidence CID already on IPFS (must resolve)")
  .addOptionalParam("account", "Signer index or address controlling --from (default: --from's controller)")
  .setAction(
    async (
      a: { from: string; to: string; score?: number; factors?: string; evidence?: string; evidenceCid?: string; account?: string },
      hre,
    ) => {
      const c = await trustContext(hre, a.account ?? (await controllerOf(hre, a.from)));
      const m = await c.ledger.getModel();
      const scores = a.factors ? a.factors.split(",").map(Number) : a.score !== undefined ? Array(m.factorCount).fill(a.score) : undefined;
      if (!scores) throw new Error("trust:rate: give --score or --factors");
      if (scores.length !== m.factorCount) throw new Error(`trust:rate: the model has ${m.factorCount} factors, ${scores.length} given`);
      let digest: Uint8Array | undefined;
      let cid: string | undefined;
      if (a.evidence) ({ cid, digest } = await c.ledgerMod.putEvidence(c.store, new Uint8Array(fs.readFileSync(a.evidence))));
      if (a.evidenceCid) {
        const { parseCid } = await import("../offchain/storage/content-store");
        const parsed = parseCid(a.evidenceCid);
        await c.store.get(a.evidenceCid); // throws ContentNotFoundError when it does not resolve
        digest = parsed.multihash.digest;
        cid = a.evidenceCid;
      }
      const r = await c.ledger.rate(c.ledgerMod.entityId(a.from), c.ledgerMod.entityId(a.to), c.fixed.packFactors(scores), digest);
      console.log(
        `${a.from} -> ${a.to}: rating ${c.fixed.fromWad(r.rating).toFixed(4)}, stored trust ${c.fixed.fromWad(r.stored).toFixed(4)} (matches the off-chain model); ${r.tx.gasUsed.toLocaleString("en-US")} gas${cid ? `; evidence ${cid}` : ""}`,
      );
      return { rating: c.fixed.fromWad(r.rating), trust: c.fixed.fromWad(r.stored), gas: r.tx.gasUsed, evidence: cid };
    },
  );

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
    if (Number(e.kind) === 0) throw new Error(`trust:score: ${a.of} is not registered`);
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

task("trust:agree", "Algorithm 2: an organization's trust agreement with avatars; the terms go to IPFS, H(TA) and the CID on-chain")
  .addParam("org", "The organization")
  .addParam("avatars", "Comma-separated avatars")
  .addOptionalParam("thresholds", "Comma-separated Threshold_ij in [0, 1] (default 0.5 each)")
  .addOptionalParam("days", "Agreement duration in days", 30, types.int)
  .addOptionalParam("termination", "Termination condition", "trust below Trust_min for 7 days")
  .addOptionalParam("penalty", "Penalty on violation", "reputation -0.1")
  .setAction(async (a: { org: string; avatars: string; thresholds?: string; days: number; termination: string; penalty: string }, hre) => {
    const c = await trustContext(hre);
    const avatars = a.avatars.split(",").map((s) => s.trim());
    const th = a.thresholds ? a.thresholds.split(",").map(Number) : avatars.map(() => 0.5);
    if (th.length !== avatars.length) throw new Error("trust:agree: one threshold per avatar");
    const r = await c.ledger.proposeAgreement(
      c.store,
      c.ledgerMod.entityId(a.org),
      avatars.map(c.ledgerMod.entityId),
      th.map(c.fixed.toWad),
      { durationDays: a.days, termination: [a.termination], penalties: [a.penalty] },
      async (controller) => (await import("./lib/context")).accountSigner(hre, controller), // each avatar's controller consents
    );
    console.log(
      `agreement #${r.id}: ${r.mode} (mean trust ${r.meanTrust.toFixed(4)}); terms ${r.cid}; ${r.tx.gasUsed.toLocaleString("en-US")} gas`,
    );
    return r;
  });

task("trust:detect", "Runs the Sybil, on-off and good/bad-mouthing detectors over the on-chain rating history and flags what they find")
  .addFlag("dryRun", "Report without flagging")
  .addOptionalParam("account", "Signer index or address holding DETECTOR_ROLE (default: the deployment's detector)")
  .setAction(async (a: { dryRun: boolean; account?: string }, hre) => {
    const c = await trustContext(hre, a.account ?? "detector");
    const { runDetectors } = await import("../offchain/trust/pipeline");
    const report = await runDetectors(c.ledger, c.store, { flag: !a.dryRun });
    for (const d of report.detections)
      console.log(`  ${c.label(d.entity).padEnd(14)} ${d.kindName.padEnd(13)} ${d.reason}${d.flagged ? " -> flagged" : ""}`);
    console.log(
      `${report.detections.length} detection(s) over ${report.ratings} rating(s) of ${report.entities} entities; report ${report.cid}`,
    );
    return report;
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
