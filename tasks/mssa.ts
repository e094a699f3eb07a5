/**
 * MSSA tasks (MSSA paper): the authority election (mssa:nominate, mssa:report, mssa:vote,
 * mssa:elect, mssa:status; the operators' mssa:resolve, the arbiter, and mssa:enrol, the registrar,
 * and the reported member's mssa:contest) and registration at a place (mssa:register, mssa:verify) over the
 * SIMULATED quantum channel (mssa:channel). Accounts are role names (a key of their own; round 0's
 * authorities are `authority:1..3`), addresses this machine holds a key for, or (development nodes)
 * signer indices. Time moves with `chain:advance` on local networks.
 */
import { RefusedError, UsageError, minedReceipt } from "./lib/cli";
import { task, types } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

async function mssaContext(hre: HardhatRuntimeEnvironment) {
  const [
    { localState, deployedAddress, resolveAccount, accountSigner, operatorSigner, operatorAddress },
    election,
    { AuthorityElection__factory, CredentialLedger__factory },
  ] = await Promise.all([import("./lib/context"), import("../offchain/mssa/election"), import("../typechain-types")]);
  const [operator] = await hre.ethers.getSigners();
  const el = AuthorityElection__factory.connect(await deployedAddress(hre, "AuthorityElection"), operator);
  const ledger = CredentialLedger__factory.connect(await deployedAddress(hre, "CredentialLedger"), operator);
  /** The signer of an account a flag named (`create`: mssa:register's user, whose key it makes). */
  const signer = async (account: string, flag: string, create = false) => accountSigner(hre, account, { flag, create });
  /**
   * The signer for an election role: `--from` when given (checked to hold the role before anything
   * is sent), else the holder deployments/<network>.json names for it.
   */
  const roleSigner = async (task: string, role: "detector" | "registrar" | "arbiter", from: string | undefined) => {
    const roleId = await el[ROLE_OF[role]]();
    const addr = from !== undefined ? await resolveAccount(hre, from, { flag: "--from" }) : operatorAddress(hre, role);
    if (!(await el.hasRole(roleId, addr)))
      throw new RefusedError(
        `${task}: ${from !== undefined ? `--from ${addr}` : `the ${role} ${addr} of deployments/${hre.network.name}.json`} does not hold the AuthorityElection's ${ROLE_OF[role]}${from !== undefined ? ` (deployments/${hre.network.name}.json names ${operatorAddress(hre, role)} as the ${role}; leave out --from to sign as it)` : ""}`,
      );
    return {
      address: addr,
      signer: from !== undefined ? await accountSigner(hre, from, { flag: "--from" }) : await operatorSigner(hre, role),
    };
  };
  return {
    ...localState(hre),
    el,
    ledger,
    operator,
    signer,
    roleSigner,
    resolve: (a: string, flag: string, create = false) => resolveAccount(hre, a, { flag, create }),
    election,
  };
}

/**
 * The authorities that sit now: those the sitting round elected (`authorities()`, its list as
 * elected) that still sit (`isAuthority`). One removed since (its seat vacated for good, h11-red2
 * M2) or at R = 1 is on the list but does not sit (h12-red E1: mssa:status printed it as sitting,
 * and the local mssa:register made it an approver of a new place, which it can never be).
 */
async function sittingAuthorities(el: { authorities(): Promise<string[]>; isAuthority(a: string): Promise<boolean> }): Promise<string[]> {
  const out: string[] = [];
  for (const a of await el.authorities()) if (await el.isAuthority(a)) out.push(a);
  return out;
}

const ROLE_OF = { detector: "DETECTOR_ROLE", registrar: "REGISTRAR_ROLE", arbiter: "ARBITER_ROLE" } as const;
const REPORT_STATES = ["none", "attesting", "applied", "contested", "upheld", "dismissed"];
/** A report id given as `--id`: 32 bytes of hex. */
function reportId(task: string, id: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(id))
    throw new UsageError(`${task}: --id ${id} is not a report id (0x and 64 hex digits, as mssa:report prints)`);
  return id;
}

const STAGES = ["none", "nomination", "voting", "elected", "aborted"];
/** The chain's time now (the latest block's timestamp): what a deadline check reads, as the contract's views do. */
const chainTime = async (hre: HardhatRuntimeEnvironment) => BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp);
const iso = (t: bigint) => new Date(Number(t) * 1000).toISOString();
const pct = (wad: bigint) => `${(Number(wad) / 1e16).toFixed(1)}%`;
const gas = (r: { gasUsed: bigint } | null) => `${(r?.gasUsed ?? 0n).toLocaleString("en-US")} gas`;
const recordName = (place: string, user: string) => `mssa-${place.slice(2, 18)}-${user.toLowerCase()}`;

/** The most decoy photons (or data bits) the SIMULATED channel is asked to send in one transmission. */
const MAX_PHOTONS = 65_536;

task("mssa:status", "Shows the election: round, stage, deadlines, candidates with Borda scores and ratios, sitting authorities").setAction(
  async (_a, hre) => {
    const c = await mssaContext(hre);
    const id = await c.el.currentRound();
    const r = await c.el.round(id);
    const scores = id > 0n ? await c.el.tally(id) : [];
    console.log(`members M = ${await c.el.memberCount()}; round ${id}: ${STAGES[Number(r.stage)]}`);
    if (id > 0n && Number(r.stage) < 3)
      console.log(
        Number(r.stage) === 1
          ? // the vote runs a full voting period from the close (s23-fxmssa F1), not from the deadline:
            // votingEnd is only its earliest end until mssa:elect closes the nomination (s23-review finding 7)
            `  nomination until ${iso(r.nominationEnd)}, then voting for ${(await c.el.params()).votingPeriod} s from the close (mssa:elect), so until no earlier than ${iso(r.votingEnd)}`
          : `  nomination until ${iso(r.nominationEnd)}, voting until ${iso(r.votingEnd)}`,
      );
    for (const n of r.nominees) {
      // reports made since its nomination count from the round's end (s20-redm F1)
      const [waiting, until] = await c.el.deferredMisbehaviour(n);
      const deferred = until !== 0n ? `; reports counted when round ${until} ends: [${waiting.join(", ")}]` : "";
      console.log(
        `  nominee ${n}: ${await c.el.nominations(id, n)} nominations, ratio ${pct((await c.el.misbehaviour(n)).ratio)}${deferred}`,
      );
    }
    r.candidates.forEach((cand, i) => console.log(`  candidate ${i}: ${cand}, Borda ${scores[i]}`));
    const sitting = await sittingAuthorities(c.el);
    console.log(`sitting authorities (round ${await c.el.sittingRound()}): ${sitting.join(", ")}`);
    return { round: id, stage: STAGES[Number(r.stage)], candidates: [...r.candidates], authorities: sitting };
  },
);

/** Opens the next round when the last one has ended (elected or aborted), after the 2m + 1 members check. */
async function openRoundIfNone(c: Awaited<ReturnType<typeof mssaContext>>, what: string): Promise<bigint> {
  const cur = await c.el.round(await c.el.currentRound());
  if (Number(cur.stage) >= 3) {
    const needed = 2n * BigInt((await c.el.params()).seats) + 1n;
    const members = await c.el.memberCount();
    if (members < needed)
      throw new RefusedError(
        `${what}: a round needs ${needed} members (2m + 1) and there are ${members}: register more users with mssa:register`,
      );
    const rc = await minedReceipt(c.el.openRound());
    console.log(`opened round ${await c.el.currentRound()} (${gas(rc)})`);
  }
  return c.el.currentRound();
}

task(
  "mssa:stand",
  "Accepts being nominated in the current round (opens a round if none is open): only a member who stands can be nominated, and only she is bound by a nominee's rules",
)
  .addParam("from", "The member who stands (account)")
  .setAction(async (a: { from: string }, hre) => {
    const c = await mssaContext(hre);
    const from = await c.resolve(a.from, "--from");
    if (!(await c.el.isMember(from)))
      throw new RefusedError(`mssa:stand: --from ${from} is not a member (register it with mssa:register first)`);
    {
      // the round's refusals a read knows, as for mssa:nominate (s23-review finding 8): a round open
      // but no longer nominating (voting, or past its nomination deadline) takes no stand
      const open = await c.el.currentRound();
      const cur = await c.el.round(open);
      const stage = Number(cur.stage);
      if (stage === 2) throw new RefusedError(`mssa:stand: round ${open} is voting already; stand in the next round; nothing sent`);
      if (stage === 1 && (await chainTime(hre)) >= cur.nominationEnd)
        throw new RefusedError(
          `mssa:stand: round ${open} is past its nomination deadline ${iso(cur.nominationEnd)}: \`mssa:elect\` closes it, then stand in the next round; nothing sent`,
        );
    }
    const id = await openRoundIfNone(c, "mssa:stand");
    if (!(await c.el.isElector(id, from)))
      throw new RefusedError(`mssa:stand: --from ${from} is no elector of round ${id} (enrolled after it opened)`);
    const rc = await minedReceipt(c.el.connect(await c.signer(a.from, "--from")).stand(id));
    console.log(`${from} stands in round ${id}; ${gas(rc)}`);
    return { round: id, member: from };
  });

task(
  "mssa:nominate",
  "Nominates a member for the current round (opens a round if none is open; one nomination per member; the nominee must stand, mssa:stand, unless she nominates herself)",
)
  .addParam("from", "The nominating member (account)")
  .addParam("nominee", "The nominated member (account): herself, or a member who stands in the round")
  .setAction(async (a: { from: string; nominee: string }, hre) => {
    const c = await mssaContext(hre);
    // Checked before anything is sent: a refused nomination must not leave a round opened behind it.
    const [from, nomineeAddr] = [await c.resolve(a.from, "--from"), await c.resolve(a.nominee, "--nominee")];
    if (!(await c.el.isMember(from)))
      throw new RefusedError(`mssa:nominate: --from ${from} is not a member (register it with mssa:register first)`);
    if (!(await c.el.isMember(nomineeAddr)))
      throw new RefusedError(`mssa:nominate: --nominee ${nomineeAddr} is not a member (register it with mssa:register first)`);
    // nominate's other refusal a fresh round cannot lift: a nominee at R = 1 (h15-red2 R4)
    const { ratio } = await c.el.misbehaviour(nomineeAddr);
    if (ratio >= 10n ** 18n)
      throw new RefusedError(
        `mssa:nominate: --nominee ${nomineeAddr} is not eligible: its misbehaviour ratio R is ${hre.ethers.formatUnits(ratio, 18)} (a nominee needs R < 1)`,
      );
    // Another member must have accepted (s23-rtm F3); in a round not yet open nobody stands.
    if (from.toLowerCase() !== nomineeAddr.toLowerCase()) {
      const open = await c.el.currentRound();
      const st = Number((await c.el.round(open)).stage);
      if (st >= 3 || !(await c.el.isStanding(open, nomineeAddr)))
        throw new RefusedError(
          `mssa:nominate: --nominee ${nomineeAddr} does not stand in ${st >= 3 ? "the next round" : `round ${open}`}: she accepts with mssa:stand --from ${a.nominee}`,
        );
    }
    {
      // the round's own refusals a read knows (s23-fxops): its nomination is over, or --from nominated in it
      const id = await c.el.currentRound();
      const cur = await c.el.round(id);
      if (Number(cur.stage) < 3) {
        const chainNow = await chainTime(hre);
        if (Number(cur.stage) !== 1 || chainNow >= cur.nominationEnd)
          throw new RefusedError(
            `mssa:nominate: round ${id} is ${Number(cur.stage) === 1 ? `past its nomination deadline ${iso(cur.nominationEnd)}: \`mssa:elect\` closes it` : `${STAGES[Number(cur.stage)]}, not nominating`}; nothing sent`,
          );
        if (await c.el.hasNominated(id, from))
          throw new RefusedError(
            `mssa:nominate: --from ${from} has nominated in round ${id} already (one nomination per member); nothing sent`,
          );
      }
    }
    const id = await openRoundIfNone(c, "mssa:nominate");
    const nominee = await c.resolve(a.nominee, "--nominee");
    const rc = await minedReceipt(c.el.connect(await c.signer(a.from, "--from")).nominate(id, nominee));
    console.log(`${nominee} has ${await c.el.nominations(id, nominee)} nomination(s) in round ${id}; ${gas(rc)}`);
  });

task(
  "mssa:report",
  "Reports misbehaviour (Eq. 1): counted once a quorum of sitting authorities attests, or at once from the detector role; about a stander or nominee (during the vote: a candidate) of the open round, from the round's end on (her seat's powers at once)",
)
  .addParam("node", "The misbehaving member (account; a former member's account too: the count goes to its person's record)")
  .addParam("type", "block-detection | communication | no-response | other")
  .addOptionalParam("from", "The reporting sitting authority or detector (account; default: the deployment's detector)")
  .addOptionalParam(
    "evidence",
    "Evidence (text or an IPFS CID) whose keccak256 identifies the report; default: node, behaviour and round (reporters of one incident must agree on it)",
    "",
  )
  .setAction(async (a: { node: string; type: string; from?: string; evidence: string }, hre) => {
    const c = await mssaContext(hre);
    const f = c.election.BEHAVIOUR_NAMES[a.type];
    if (f === undefined) throw new UsageError(`mssa:report: --type must be one of ${Object.keys(c.election.BEHAVIOUR_NAMES).join(", ")}`);
    const node = await c.resolve(a.node, "--node");
    // The reporter is the detector (applies alone) or a sitting authority (attests): checked before sending.
    let signer;
    if (a.from === undefined) signer = (await c.roleSigner("mssa:report", "detector", undefined)).signer;
    else {
      const from = await c.resolve(a.from, "--from");
      if (!(await c.el.hasRole(await c.el.DETECTOR_ROLE(), from)) && !(await c.el.isAuthority(from)))
        throw new RefusedError(
          `mssa:report: --from ${from} is neither a sitting authority nor the detector (the AuthorityElection's DETECTOR_ROLE; leave out --from to sign as it)`,
        );
      signer = await c.signer(a.from, "--from");
    }
    // The evidence identifies the report: authorities reporting the same incident must give the same
    // evidence so that their attestations add up to the quorum. The default names the node, the
    // behaviour and the round, so two authorities that run the same command attest one report.
    const evidence = hre.ethers.id(a.evidence || `${node}:${a.type}:round ${await c.el.currentRound()}`);
    // the report's own refusals a read knows (s23-fxops): never a member, the reporter's own person,
    // counted already. A former account is reported as the contract allows (s20 F2, s25-rtm F3): the
    // count reaches the person's record, which her account now inherits
    const person = await c.el.personOf(node);
    if (person === hre.ethers.ZeroHash) throw new RefusedError(`mssa:report: --node ${node} never was a member; nothing sent`);
    const reporter = await signer.getAddress();
    if (node === reporter) throw new RefusedError(`mssa:report: --node ${node} is the reporter itself; nothing sent`);
    if (person === (await c.el.personOf(reporter)))
      throw new RefusedError(
        `mssa:report: --node ${node} is another account of the reporter's own person (--from ${reporter}); nothing sent`,
      );
    const known = await c.el.reportOf(await c.el.reportIdOf(node, f, evidence));
    if (Number(known.state) > 1)
      throw new RefusedError(
        `mssa:report: the report of ${node} for ${a.type} with this --evidence is ${REPORT_STATES[Number(known.state)]} already (the same evidence counts once); nothing sent`,
      );
    const rc = await minedReceipt(c.el.connect(signer).report(node, f, evidence));
    const m = await c.el.misbehaviour(node);
    const id = await c.el.reportIdOf(node, f, evidence);
    const rp = await c.el.reportOf(id);
    const state = REPORT_STATES[Number(rp.state)];
    // about a nominee of the open round: it counts when that round ends (s20-redm F1)
    const deferredTo = rp.deferredTo;
    const waits = deferredTo !== 0n && (await c.el.deferredMisbehaviour(node)).until === deferredTo;
    const note = waits ? `, counted when round ${deferredTo} ends (${node} runs in it; a seat it holds reads them now)` : "";
    console.log(`report ${id} (${state}${note}); ${node}: counts [${m.counts.join(", ")}], R_bw = ${pct(m.ratio)}; ${gas(rc)}`);
    return { id, state, deferredTo, counts: m.counts.map(Number), ratio: m.ratio };
  });

task(
  "mssa:contest",
  "The reported member (or her account now, if she moved) contests an applied misbehaviour report; the arbiter then rules on it (mssa:resolve)",
)
  .addParam("id", "The report id (mssa:report prints it)")
  .addParam("from", "The reported account, or the account that holds the reported person's election nullifier now")
  .setAction(async (a: { id: string; from: string }, hre) => {
    const c = await mssaContext(hre);
    const id = reportId("mssa:contest", a.id);
    const r = await c.el.reportOf(id);
    const from = await c.resolve(a.from, "--from");
    if (Number(r.state) === 0) throw new UsageError(`mssa:contest: --id ${id} is no report`);
    if (Number(r.state) !== 2)
      throw new RefusedError(`mssa:contest: report ${id} is ${REPORT_STATES[Number(r.state)]}; only an applied report can be contested`);
    // as the contract: the reported account, or the person's account now (s25-rtm F3: her record
    // carries the count, so a member who moved to a new account contests from it)
    if (r.node !== from) {
      const holder = await c.el.electorOf(await c.el.reportPersonOf(id));
      if (holder !== from)
        throw new RefusedError(
          `mssa:contest: --from ${from} is neither the reported account ${r.node} nor the account its person holds now${holder === hre.ethers.ZeroAddress ? " (none)" : ` (${holder})`}; only those may contest`,
        );
    }
    const rc = await minedReceipt(c.el.connect(await c.signer(a.from, "--from")).contest(id));
    console.log(`report ${id} contested by ${from}; the arbiter rules with mssa:resolve; ${gas(rc)}`);
    return { id, state: "contested" };
  });

task("mssa:resolve", "The arbiter (ARBITER_ROLE) upholds a contested report or dismisses it, which takes its count back")
  .addParam("id", "The report id (mssa:report prints it)")
  .addParam("verdict", "uphold | dismiss")
  .addOptionalParam("from", "The arbiter (account; default: the deployment's arbiter)")
  .setAction(async (a: { id: string; verdict: string; from?: string }, hre) => {
    const c = await mssaContext(hre);
    const id = reportId("mssa:resolve", a.id);
    if (a.verdict !== "uphold" && a.verdict !== "dismiss")
      throw new UsageError(`mssa:resolve: --verdict must be uphold or dismiss, got "${a.verdict}"`);
    const r = await c.el.reportOf(id);
    if (Number(r.state) === 0) throw new UsageError(`mssa:resolve: --id ${id} is no report`);
    if (Number(r.state) !== 3) throw new RefusedError(`mssa:resolve: report ${id} is ${REPORT_STATES[Number(r.state)]}, not contested`);
    const { signer } = await c.roleSigner("mssa:resolve", "arbiter", a.from);
    const rc = await minedReceipt(c.el.connect(signer).resolveContest(id, a.verdict === "uphold"));
    const m = await c.el.misbehaviour(r.node);
    const state = REPORT_STATES[Number((await c.el.reportOf(id)).state)];
    console.log(`report ${id} ${state}; ${r.node}: counts [${m.counts.join(", ")}], R_bw = ${pct(m.ratio)}; ${gas(rc)}`);
    return { id, state, counts: m.counts.map(Number), ratio: m.ratio };
  });

task(
  "mssa:enrol",
  "The election's registrar (REGISTRAR_ROLE) enrols a member outside registration, as the elector of the person behind an identity document, or removes one",
)
  .addParam("member", "The member (account: a role name without a key here gets one, unless --remove)")
  .addOptionalParam(
    "document",
    "The member's identity document (passport:<state>:<number>, the one a registration checks): her election nullifier is computed from it with the deployment's election key in this keystore (refused if its check value differs from deployments/<network>.json's), so one person is one member however she came in",
  )
  .addOptionalParam(
    "electorNullifier",
    "Her election nullifier itself (32-byte hex), computed elsewhere with the deployment's election key; instead of --document",
  )
  .addFlag(
    "remove",
    "Remove the member instead (a sitting authority also leaves its seat, for good: enrolled again, it sits only if an election seats it)",
  )
  .addOptionalParam("from", "The registrar (account; default: the deployment's election registrar)")
  .setAction(async (a: { member: string; document?: string; electorNullifier?: string; remove: boolean; from?: string }, hre) => {
    if (a.remove && (a.document !== undefined || a.electorNullifier !== undefined))
      throw new UsageError(`mssa:enrol: --remove takes no ${a.document !== undefined ? "--document" : "--elector-nullifier"}`);
    if (!a.remove && (a.document === undefined) === (a.electorNullifier === undefined))
      throw new UsageError(
        `mssa:enrol: give the member's identity document (--document) or her election nullifier (--elector-nullifier)${a.document !== undefined ? ", not both" : ": every member carries one"}`,
      );
    if (a.electorNullifier !== undefined && (!/^0x[0-9a-fA-F]{64}$/.test(a.electorNullifier) || BigInt(a.electorNullifier) === 0n))
      throw new UsageError(`mssa:enrol: --elector-nullifier ${a.electorNullifier} is not a non-zero 32-byte hex value`);
    const c = await mssaContext(hre);
    // enrolling makes the member's account (a role name gets a key); removing one names an existing one
    const member = await c.resolve(a.member, "--member", !a.remove);
    const isMember = await c.el.isMember(member);
    if (a.remove && !isMember) throw new RefusedError(`mssa:enrol: --member ${member} is not a member`);
    if (!a.remove && isMember) throw new RefusedError(`mssa:enrol: --member ${member} is already a member`);
    let e = a.electorNullifier;
    if (!a.remove && a.document !== undefined) {
      const [{ loadElectionKey }, { electorNullifier, identityDocument }] = await Promise.all([
        import("../offchain/services/mssa/authority-service"),
        import("../offchain/mssa/registration"),
      ]);
      const key = loadElectionKey(c.keystore);
      if (!key)
        throw new RefusedError(
          `mssa:enrol: --document: this network's keystore holds no election key (\`deploy\` makes it where it runs); pass --elector-nullifier computed with it`,
        );
      // the deployment's key (its check value in the record), or this e would not be the one her
      // registration at a place computes (s21-review1 finding 3)
      const why = await (await import("../offchain/chain/deployments")).electionKeyMismatch(key, hre.network.name);
      if (why) throw new RefusedError(`mssa:enrol: --document: this network's keystore's election key: ${why}`);
      try {
        // the document of the identity type (a passport), as every authority computes e (mssa.md §1.9)
        e = electorNullifier(key, identityDocument([a.document]));
      } catch (err) {
        throw new UsageError(`mssa:enrol: --document ${a.document}: ${(err as Error).message}`);
      }
    }
    if (!a.remove) {
      // one person, one member (s20-redm F5): refused before anything is sent
      const holder = await c.el.electorOf(e!);
      if (holder !== hre.ethers.ZeroAddress)
        throw new RefusedError(`mssa:enrol: this person is a member already, through ${holder}; one person, one member`);
    }
    const { signer } = await c.roleSigner("mssa:enrol", "registrar", a.from);
    const el = c.el.connect(signer);
    const rc = await minedReceipt(a.remove ? el.remove(member) : el.enrolElector(member, e!));
    console.log(
      `${member} ${a.remove ? "removed" : `enrolled (election nullifier ${e})`}; members M = ${await c.el.memberCount()}; ${gas(rc)}`,
    );
    return { member, enrolled: !a.remove, members: Number(await c.el.memberCount()), electorNullifier: a.remove ? undefined : e };
  });

task("mssa:vote", "Casts a ballot: a full preference order of the candidates, most preferred first")
  .addParam("from", "The voting member (account)")
  .addParam("ranking", "Comma-separated candidate indices (as listed by mssa:status) or candidate addresses")
  .setAction(async (a: { from: string; ranking: string }, hre) => {
    const c = await mssaContext(hre);
    const id = await c.el.currentRound();
    const round = await c.el.round(id);
    if (Number(round.stage) !== 2)
      throw new RefusedError(
        `mssa:vote: round ${id} is ${STAGES[Number(round.stage)]}, not voting${Number(round.stage) === 1 ? ": `mssa:elect` closes the nomination after its deadline" : ""} (\`mssa:status\` shows it)`,
      );
    // the vote's own refusals a read knows (s23-fxops): its deadline passed, --from is no elector of the round or voted
    if ((await chainTime(hre)) >= round.votingEnd)
      throw new RefusedError(`mssa:vote: round ${id}'s vote ended at ${iso(round.votingEnd)}: \`mssa:elect\` elects; nothing sent`);
    const voter = await c.resolve(a.from, "--from");
    if (!(await c.el.isElector(id, voter)))
      throw new RefusedError(`mssa:vote: --from ${voter} is no elector of round ${id} (not a member when it opened); nothing sent`);
    if (await c.el.hasVoted(id, voter)) throw new RefusedError(`mssa:vote: --from ${voter} has voted in round ${id} already; nothing sent`);
    const cands = round.candidates.map((x) => x.toLowerCase());
    const ranking = a.ranking.split(",").map((s) => {
      const t = s.trim();
      const i = /^0x/i.test(t) ? cands.indexOf(t.toLowerCase()) : /^\d+$/.test(t) ? Number(t) : NaN;
      if (!Number.isInteger(i) || i < 0)
        throw new UsageError(
          `mssa:vote: --ranking entry "${t}" is neither a candidate index nor a candidate's address (\`mssa:status\` lists them)`,
        );
      return i;
    });
    try {
      c.election.validateRanking(ranking, cands.length);
    } catch (e) {
      throw new UsageError(`mssa:vote: --ranking ${a.ranking}: ${(e as Error).message} (a full order of the ${cands.length} candidates)`);
    }
    const rc = await minedReceipt(c.el.connect(await c.signer(a.from, "--from")).vote(id, ranking));
    console.log(`ballot cast in round ${id}: [${ranking.join(", ")}]; ${gas(rc)}`);
  });

task("mssa:elect", "Moves the round on: closes the nomination (top 2m by Eq. 2) or elects the top m by weighted Borda score").setAction(
  async (_a, hre) => {
    const c = await mssaContext(hre);
    const id = await c.el.currentRound();
    const rd = await c.el.round(id);
    const stage = Number(rd.stage);
    // too early for the step (the round's TooEarly), known from the chain's time now (s23-fxops)
    const until = stage === 1 ? rd.nominationEnd : stage === 2 ? rd.votingEnd : undefined;
    if (until !== undefined && (await chainTime(hre)) < until)
      throw new RefusedError(
        `mssa:elect: round ${id}'s ${stage === 1 ? "nomination" : "vote"} runs until ${iso(until)}: run it after; nothing sent`,
      );
    if (stage === 1) {
      const rc = await minedReceipt(c.el.closeNomination());
      const after = await c.el.round(id);
      if (Number(after.stage) === 4)
        console.log(`round ${id}: aborted, too few eligible nominees; the sitting authorities stay; ${gas(rc)}`);
      else console.log(`round ${id}: candidates ${after.candidates.join(", ")}; ${gas(rc)}`);
      return { stage: STAGES[Number(after.stage)], authorities: await sittingAuthorities(c.el) };
    } else if (stage === 2) {
      const rc = await minedReceipt(c.el.elect());
      const after = await c.el.round(id);
      if (Number(after.stage) === 4)
        console.log(
          `round ${id}: aborted, ${after.ballots === 0n ? "no ballot was cast" : "fewer than m eligible candidates"}; the sitting authorities stay; ${gas(rc)}`,
        );
      else console.log(`round ${id}: authorities ${(await sittingAuthorities(c.el)).join(", ")}; ${gas(rc)}`);
      return { stage: STAGES[Number((await c.el.round(id)).stage)], authorities: await sittingAuthorities(c.el) };
    } else throw new RefusedError(`mssa:elect: round ${id} is ${STAGES[stage]}; nominate to open the next round`);
  },
);

task(
  "mssa:register",
  "Registers a user at a place (Steps 1-9): keys over the SIMULATED quantum channel, XOR credential, k approvals on-chain",
)
  .addParam("user", "The user (account: a role name without a key here gets one, generated into the keystore)")
  .addOptionalParam("place", "The place name", "PL1")
  .addOptionalParam(
    "info",
    "The credential fields INFO_0..INFO_n, separated by commas; exactly one passport:<issuing state>:<number> field as the MRZ has them (the place's identity document: its nullifiers; the state 3 letters or D; - . / spaces and a trailing < are dropped, anything else outside A-Z 0-9 is refused)",
    "mail:user@example.org,passport:UTO:P0000000",
  )
  .addOptionalParam(
    "eavesdrop",
    "Fraction of photons an intercept-resend eavesdropper takes, in [0, 1] (SIMULATED; in-process only, default 0: refused over the network)",
    undefined,
    types.float,
  )
  .addOptionalParam(
    "decoys",
    "Decoy photons per transmission, 1 to 65,536 (SIMULATED; in-process only, default 64: refused over the network)",
    undefined,
    types.int,
  )
  .addOptionalParam(
    "authorities",
    "The place's authority services (`mssa:serve authority`) to register with, comma-separated URLs: overrides the endpoints the authorities announced on-chain. The user's set is those of them that sit in the election and answer, at least k (one that fails is dropped and a fresh session goes to the others while k remain). Without it: over the network when the place's authorities announced endpoints (refused when fewer than k did), else in-process",
  )
  .addOptionalParam(
    "consentTtl",
    "Seconds the user's signed consent stays valid, from the chain's latest block: its deadline, which the ledger enforces (a consent an authority holds past it registers nobody); 1 to 604,800 (7 days, the default and the ledger's CONSENT_TTL)",
    undefined,
    types.int,
  )
  .addFlag(
    "elector",
    "This registration makes the user an elector of the authority election (one per person: it carries her election nullifier, computed from the identity document with the deployment's election key (in-process: this folder's, refused if its check value differs from the deployment record's); without it: access to the place only)",
  )
  .addFlag(
    "cancel",
    "Register nothing: cancel the user's pending registration at the place on-chain, as the user (e.g. one stranded behind a verifier that left the place or lost its seat); it also withdraws every consent she signed for the place before. Refused when nothing is pending there",
  )
  .setAction(
    async (
      a: {
        user: string;
        place: string;
        info: string;
        eavesdrop?: number;
        decoys?: number;
        authorities?: string;
        consentTtl?: number;
        elector: boolean;
        cancel: boolean;
      },
      hre,
    ) => {
      if (a.cancel) {
        const other = [
          a.elector && "--elector",
          a.eavesdrop !== undefined && "--eavesdrop",
          a.decoys !== undefined && "--decoys",
          a.authorities !== undefined && "--authorities",
          a.consentTtl !== undefined && "--consent-ttl",
        ].filter((x): x is string => !!x);
        if (other.length) throw new UsageError(`mssa:register: --cancel registers nothing: drop ${other.join(", ")}`);
        const c = await mssaContext(hre);
        const { placeId } = await import("../offchain/mssa/registration");
        const user = await c.resolve(a.user, "--user");
        const [granted, id] = await c.ledger.access(user, placeId(a.place));
        if (granted) throw new RefusedError(`mssa:register: --cancel: --user ${user} has access to ${a.place}, nothing is pending there`);
        const pending = id !== hre.ethers.ZeroHash && Number((await c.ledger.registration(id)).status) === 1;
        if (!pending) throw new RefusedError(`mssa:register: --cancel: --user ${user} has no pending registration at ${a.place}`);
        const rc = await minedReceipt(c.ledger.connect(await c.signer(a.user, "--user")).cancel(id));
        console.log(`registration ${id} at ${a.place} cancelled by ${user}; the consents it signed there before are withdrawn; ${gas(rc)}`);
        return { id, cancelled: true };
      }
      // the identity document, in its canonical form (mssa.md §1.8): refused before anything is read, sent or written
      const { identityDocument } = await import("../offchain/mssa/registration");
      let identity: string;
      try {
        identity = identityDocument(a.info.split(","));
      } catch (err) {
        throw new UsageError(`mssa:register: --info: ${(err as Error).message}`);
      }
      // the SIMULATED channel's flags, as mssa:channel checks them: before anything is read or
      // written (h15-red2 R6: the channel refused them after the place and the key records existed)
      const eavesdrop = a.eavesdrop ?? 0;
      const decoys = a.decoys ?? 64;
      if (!Number.isFinite(eavesdrop) || eavesdrop < 0 || eavesdrop > 1)
        throw new UsageError(`mssa:register: --eavesdrop must be a fraction in [0, 1], got ${a.eavesdrop}`);
      if (!Number.isInteger(decoys) || decoys < 1)
        throw new UsageError(`mssa:register: --decoys must be a positive integer, got ${a.decoys}`);
      if (decoys > MAX_PHOTONS)
        throw new UsageError(`mssa:register: --decoys must be at most ${MAX_PHOTONS.toLocaleString("en-US")}, got ${a.decoys}`);
      // the consent's deadline, from the chain's latest block when she signs (CONSENT_TTL_S: 7 days)
      const { CONSENT_TTL_S } = await import("../offchain/mssa/ledger");
      const consentTtl = a.consentTtl ?? CONSENT_TTL_S;
      if (!Number.isSafeInteger(consentTtl) || consentTtl < 1 || consentTtl > CONSENT_TTL_S)
        throw new UsageError(
          `mssa:register: --consent-ttl must be 1 to ${CONSENT_TTL_S.toLocaleString("en-US")} seconds (7 days), got ${a.consentTtl}`,
        );
      // the flags given, whatever their value: over the network none of them has an effect (a check
      // against the defaults let `--decoys 64` pass silently: session 16's final read)
      const channelFlags = [a.eavesdrop !== undefined && "--eavesdrop", a.decoys !== undefined && "--decoys"].filter(
        (x): x is string => !!x,
      );
      const c = await mssaContext(hre);
      const { authorityEndpoints, discoverAuthorities } = await import("../offchain/services/mssa/clients");
      const dep = { chainId: (await hre.ethers.provider.getNetwork()).chainId, ledger: c.ledger };
      let urls: string[] | undefined;
      if (a.authorities !== undefined) {
        urls = a.authorities
          .split(",")
          .map((u) => u.trim())
          .filter(Boolean);
        const bad = urls.find((u) => !/^https?:\/\/[^\s/]+\S*$/.test(u));
        if (!urls.length || bad !== undefined)
          throw new UsageError(`mssa:register: --authorities "${bad ?? a.authorities}" is not a comma-separated list of http(s) URLs`);
      } else if ((await authorityEndpoints(dep, a.place)).some((x) => x.url)) {
        // the place's authorities run as services and announced themselves: find them all there
        try {
          urls = await discoverAuthorities(dep, a.place);
        } catch (e) {
          throw new UsageError(`mssa:register: ${(e as Error).message.replace(/^discoverAuthorities: /, "")}`);
        }
      }
      if (urls !== undefined) {
        // over the network the authority services run their own SIMULATED channel: the flags would do nothing
        if (channelFlags.length)
          throw new UsageError(
            `mssa:register: ${channelFlags.join(" and ")} ${channelFlags.length > 1 ? "simulate" : "simulates"} the in-process channel only; over the network each authority service runs its own (drop ${channelFlags.length > 1 ? "them" : "it"}, or register in-process)`,
          );
        // over the network: the user's own key signs every message; the authorities verify and approve
        const { registerRemote } = await import("../offchain/services/mssa/clients");
        const { roleAccounts } = await import("../offchain/chain/accounts");
        const { placeId } = await import("../offchain/mssa/registration");
        if ((await c.ledger.place(placeId(a.place))).threshold === 0n)
          throw new UsageError(`mssa:register: --place ${a.place} is not a place on-chain (the admin sets it with \`mssa:place\`)`);
        if (/^(0x|\d+$)/.test(a.user))
          throw new UsageError("mssa:register: over the network, --user is a role name whose key this folder holds");
        const wallet = await roleAccounts(hre, c.keystore).key(a.user);
        const r = await registerRemote({
          urls,
          place: a.place,
          user: wallet,
          infos: a.info.split(","),
          dep,
          keystore: c.keystore,
          elector: a.elector,
          consentTtl,
        });
        console.log(
          `${wallet.address} ${r.outcome.granted ? "has access to" : "is pending at"} ${a.place} over the network: registration ${r.verified.id} (${r.outcome.approvals} approvals)${r.resumed ? ", resumed" : ""}${r.verified.electorNullifier !== hre.ethers.ZeroHash ? ", elector" : ", access only"}`,
        );
        return { id: r.verified.id, commitment: r.verified.commitment, granted: r.outcome.granted, resumed: r.resumed };
      }
      const { register, placeId, AuthorityAgent, pendingLive } = await import("../offchain/mssa/registration");
      const { randomBytes, hexToBytes, bytesToHex } = await import("@noble/hashes/utils.js");
      const place = placeId(a.place);
      // the deployment's election key, for an elector registration (in-process: kept in the local
      // keystore); one person, one elector (h11-red2 M1): refused before anything is sent or created
      let electionKey: Uint8Array | undefined;
      if (a.elector) {
        const { ELECTION_KEY_RECORD, loadElectionKey } = await import("../offchain/services/mssa/authority-service");
        const { electorNullifier } = await import("../offchain/mssa/registration");
        // the deployment's key, which `deploy` made or imported in this network's keystore (its check
        // value in the record): another would make a second elector of a person (s21-review1 finding 3)
        electionKey = loadElectionKey(c.keystore);
        if (!electionKey)
          throw new RefusedError(
            `mssa:register: --elector: this folder's keystore holds no election key (${ELECTION_KEY_RECORD}); in-process the simulated authorities need the deployment's: run where \`deploy\` ran, or register over the network (--authorities)`,
          );
        const why = await (await import("../offchain/chain/deployments")).electionKeyMismatch(electionKey, hre.network.name);
        if (why) throw new RefusedError(`mssa:register: --elector: this folder's election key: ${why}`);
        // of the typed identity document (h12-red N1), in its canonical form, as every authority computes it
        const e = electorNullifier(electionKey, identity);
        const who = await c.resolve(a.user, "--user", true);
        const current = await c.el.electorOf(e);
        if (current !== hre.ethers.ZeroAddress && hre.ethers.getAddress(current) !== hre.ethers.getAddress(who))
          throw new RefusedError(
            `mssa:register: --elector: this identity is an elector already, through ${current}; register without --elector for access only`,
          );
        const held = await c.el.electorNullifierOf(who);
        if (held !== hre.ethers.ZeroHash && held !== e)
          throw new RefusedError(`mssa:register: --elector: --user ${who} is the elector of another identity`);
      }
      let p = await c.ledger.place(place);
      if (p.threshold === 0n) {
        const sitting = await sittingAuthorities(c.el);
        const aus = sitting.slice(0, Math.min(2, sitting.length));
        await minedReceipt(c.ledger.setPlace(place, aus, aus.length));
        console.log(`place ${a.place} created with authorities ${aus.join(", ")} (k = ${aus.length})`);
        p = await c.ledger.place(place);
      }
      const user = await c.resolve(a.user, "--user", true);
      // Everything is checked before anything is sent or written.
      const { granted } = await c.ledger.access(user, place);
      if (granted) throw new RefusedError(`mssa:register: --user ${user} already has access to ${a.place}`);
      const k = Number(p.threshold);
      const sitting = [];
      for (const x of p.authorities) if (await c.el.isAuthority(x)) sitting.push(x);
      if (sitting.length < k)
        throw new RefusedError(
          `mssa:register: ${a.place} needs ${k} approvals, but only ${sitting.length} of its authorities (${p.authorities.join(", ")}) sit in the current round`,
        );
      const approvers = await Promise.all(sitting.slice(0, k).map((x) => c.signer(x, `${a.place}'s authority`)));
      const approverAddrs = sitting.slice(0, k);
      const record = recordName(place, user);
      type Pending = { place: string; user: string; id?: string; commitment: string; salt: string; U12: string; pending?: boolean };
      const prior = c.keystore.exists(record) ? (c.keystore.load(record) as Pending) : undefined;
      const onChainPrior = prior?.id ? await c.ledger.registration(prior.id) : undefined;
      const PENDING_TTL = await c.ledger.PENDING_TTL();
      const now = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp);
      if (prior?.pending && onChainPrior && pendingLive(onChainPrior, now, PENDING_TTL)) {
        // A registration that was proposed but not fully approved (an earlier run stopped): resume it.
        console.log(`resuming registration ${prior.id}: proposed, ${onChainPrior.approvals} of ${k} approvals`);
        for (const [i, au] of approvers.entries())
          if (!(await c.ledger.approvedBy(prior.id!, approverAddrs[i]))) {
            const rc = await minedReceipt(c.ledger.connect(au).approve(prior.id!));
            console.log(`approved by ${approverAddrs[i]}: ${gas(rc)}`);
          }
        // still pending: approvals made while their authority was out of its seat (ApprovalsStale);
        // an approver approving again re-runs the check (h15-red2 R7), sent only when it grants
        for (const au of approvers) {
          if ((await c.ledger.registration(prior.id!)).status !== 1n) break;
          const ok = await c.ledger
            .connect(au)
            .approve.staticCall(prior.id!)
            .then(() => true)
            .catch(() => false);
          if (ok) console.log(`granted on a check again: ${gas(await minedReceipt(c.ledger.connect(au).approve(prior.id!)))}`);
        }
        if ((await c.ledger.registration(prior.id!)).status !== 2n)
          throw new RefusedError(
            `mssa:register: registration ${prior.id} is still pending: fewer than ${k} of its approvers sit in the current round`,
          );
        c.keystore.update(record, { ...prior, pending: false });
        const reg = await c.ledger.registration(prior.id!);
        console.log(`${user} has access to ${a.place}: block ${reg.index}, link ${reg.link}`);
        return { id: prior.id!, commitment: prior.commitment };
      }
      const agents = p.authorities.map((x) => new AuthorityAgent(x));
      // the place authorities' shared nullifier key (kept in the local keystore, one per place)
      const keyName = `mssa-placekey-${place.slice(2, 18)}`;
      if (!c.keystore.exists(keyName)) c.keystore.create(keyName, { key: bytesToHex(randomBytes(32)) });
      const placeKey = hexToBytes((c.keystore.load(keyName) as { key: string }).key);
      console.log(
        `SIMULATED quantum channel: ${decoys} decoys per transmission${eavesdrop ? `, eavesdropper on ${eavesdrop * 100}% of photons` : ""}`,
      );
      const out = register({
        place,
        user,
        infos: a.info.split(","),
        authorities: agents,
        channel: { decoys, threshold: 0.11, eve: eavesdrop ? { fraction: eavesdrop } : undefined },
        placeKey,
        electionKey,
      });
      console.log(
        `verified by ${p.authorities[0]}: S1 = S2 = 0, tag ok; decoy error rate ${(out.transmission.errorRate * 100).toFixed(1)}%`,
      );
      const { recordRegistration, consentToRegistration } = await import("../offchain/mssa/ledger");
      const holder = await c.ledger.nullifierHolder(place, out.nullifier!);
      if (holder !== hre.ethers.ZeroHash)
        throw new RefusedError(`mssa:register: this identity already holds registration ${holder} at ${a.place}`);
      const elector = out.electorNullifier ?? hre.ethers.ZeroHash;
      const consent = await consentToRegistration(
        c.ledger,
        await c.signer(a.user, "--user", true),
        place,
        out.commitment,
        out.nullifier!,
        out.session,
        elector,
        consentTtl,
      );
      console.log(
        `${user} signed its consent (EIP-712) to session ${out.session}${a.elector ? ", as an elector" : " (access only)"}, valid until ${consent.deadline} (chain time)`,
      );
      // The opening (salt, U12) is kept before the proposal is sent: a run that stops after it resumes,
      // and a record left by an earlier deployment of the chain is replaced.
      const id = await c.ledger.registrationId(place, user, out.commitment);
      const rec: Pending = { place, user, id, commitment: out.commitment, salt: out.salt, U12: out.request.U12.toString(), pending: true };
      (prior ? c.keystore.update : c.keystore.create).call(c.keystore, record, rec);
      let spent: bigint[];
      try {
        ({ gas: spent } = await recordRegistration(c.ledger, place, user, out.commitment, approvers, consent));
      } catch (e) {
        // refused at the proposal (nothing on-chain): the record kept for a resume goes too
        if ((await c.ledger.registration(id)).status !== 0n) throw e;
        if (prior) c.keystore.update(record, prior);
        else c.keystore.remove(record);
        const { contractRevert } = await import("../offchain/chain/reverts");
        const why = contractRevert(e)?.name;
        if (why === "CredentialLedger__ConsentExpired")
          throw new RefusedError(
            `mssa:register: the consent of --user ${user} to ${a.place} expired at ${consent.deadline} (chain time) before it was proposed: nothing recorded; register again, with a longer --consent-ttl (now ${consentTtl} s)`,
          );
        throw e;
      }
      approverAddrs.forEach((au, i) =>
        console.log(`${i === 0 ? "proposed" : "approved"} by ${au}: ${spent[i].toLocaleString("en-US")} gas`),
      );
      c.keystore.update(record, { ...rec, pending: false });
      const reg = await c.ledger.registration(id);
      console.log(
        `${user} has access to ${a.place}: block ${reg.index}, link ${reg.link}; ${a.elector ? `an elector (members M = ${await c.el.memberCount()})` : "access only, no elector"}`,
      );
      return { id, commitment: out.commitment };
    },
  );

task("mssa:place", "The admin sets a place's authorities and approval threshold k (PLACE_ADMIN_ROLE)")
  .addParam("name", "The place's name")
  .addParam("authorities", "Its authorities: accounts (role names or addresses), comma-separated; the first verifies")
  .addOptionalParam("k", "Approvals needed (default: all of them)", undefined, types.int)
  .setAction(async (a: { name: string; authorities: string; k?: number }, hre) => {
    // every flag checked before an account is resolved (a role name gets a new key written) (s17-redA F27)
    if (a.name.length === 0) throw new UsageError("mssa:place: --name must not be empty");
    const named = a.authorities.split(",").map((x) => x.trim());
    if (named.some((x) => x === "")) throw new UsageError(`mssa:place: --authorities "${a.authorities}" has an empty entry`);
    const k = a.k ?? named.length;
    if (!Number.isInteger(k) || k < 1 || k > named.length) throw new UsageError(`mssa:place: --k must be 1 to ${named.length}`);
    const c = await mssaContext(hre);
    const { placeId } = await import("../offchain/mssa/registration");
    const aus = await Promise.all(named.map((x) => c.resolve(x, "--authorities")));
    await minedReceipt(c.ledger.setPlace(placeId(a.name), aus, k));
    console.log(`place ${a.name}: authorities ${aus.join(", ")} (k = ${k})`);
    return { place: placeId(a.name), authorities: aus, k };
  });

task(
  "mssa:verify",
  "Verifies a registered user: the on-chain record, its commitment, and a challenge signed for this verifier (EIP-712: place, nonce, verifier)",
)
  .addParam("user", "The user (account)")
  .addOptionalParam("place", "The place name", "PL1")
  .addOptionalParam("verifier", "The verifying account the challenge names and is checked against (default: the operator, account 0)")
  .setAction(async (a: { user: string; place: string; verifier?: string }, hre) => {
    const c = await mssaContext(hre);
    const { placeId, fresh32, proveAccess, accessSigner } = await import("../offchain/mssa/registration");
    const { commitment, Bits } = await import("../offchain/mssa/credential");
    const place = placeId(a.place);
    if ((await c.ledger.place(place)).threshold === 0n)
      throw new UsageError(
        `mssa:verify: --place ${a.place} is not a place yet (the first \`mssa:register\` there creates it with the sitting authorities, or the admin runs \`mssa:place\`)`,
      );
    const user = await c.resolve(a.user, "--user");
    const { granted, id } = await c.ledger.access(user, place);
    if (!granted) throw new RefusedError(`mssa:verify: ${user} has no access to ${a.place}`);
    const rec = c.keystore.load(recordName(place, user)) as { salt: string; U12: string };
    const onChain = await c.ledger.registration(id);
    if (commitment(place, user, Bits.fromString(rec.U12), rec.salt) !== onChain.commitment)
      throw new RefusedError("mssa:verify: the opened credential block does not match the on-chain commitment");
    // The proof names its audience (s20-redm F4): the verifier checks it against its own account.
    const verifier = a.verifier !== undefined ? await c.resolve(a.verifier, "--verifier") : await c.operator.getAddress();
    const nonce = fresh32();
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const sig = await proveAccess(await c.signer(a.user, "--user"), place, nonce, chainId, await c.ledger.getAddress(), verifier);
    if (accessSigner(sig, place, nonce, chainId, await c.ledger.getAddress(), verifier) !== user)
      throw new RefusedError(`mssa:verify: the challenge for verifier ${verifier} was not signed by the user`);
    console.log(
      `${user} verified at ${a.place} by ${verifier}: approved block ${onChain.index} (${onChain.approvals} approvals), commitment opened, challenge signed for this verifier`,
    );
    return { verified: true, verifier };
  });

task("mssa:channel", "Runs the SIMULATED decoy-photon channel: error rate and detection rate against 1 - (3/4)^d")
  .addOptionalParam("eavesdrop", "Fraction of photons intercepted and resent", 1, types.float)
  .addOptionalParam("decoys", "Decoy photons per transmission (at most 65,536)", 8, types.int)
  .addOptionalParam("bits", "Data bits per transmission (at most 65,536)", 256, types.int)
  .addOptionalParam("trials", "Transmissions (at most 1,000,000)", 1000, types.int)
  .addOptionalParam("threshold", "Highest accepted decoy error rate", 0, types.float)
  .setAction(async (a: { eavesdrop: number; decoys: number; bits: number; trials: number; threshold: number }) => {
    // every flag is checked here, by name, before the simulation (a helper's "rates are in [0, 1]" named none)
    for (const f of ["eavesdrop", "threshold"] as const)
      if (!(Number.isFinite(a[f]) && a[f] >= 0 && a[f] <= 1))
        throw new UsageError(`mssa:channel: --${f} must be a fraction in [0, 1], got ${a[f]}`);
    // bounded: --decoys 1e9 ran V8 out of memory, --bits 1e9 failed in the random source (s17-redA F9)
    for (const [f, max] of [
      ["decoys", MAX_PHOTONS],
      ["bits", MAX_PHOTONS],
      ["trials", 1_000_000],
    ] as const) {
      if (!Number.isInteger(a[f]) || a[f] < 1) throw new UsageError(`mssa:channel: --${f} must be a positive integer, got ${a[f]}`);
      if (a[f] > max) throw new UsageError(`mssa:channel: --${f} must be at most ${max.toLocaleString("en-US")}, got ${a[f]}`);
    }
    const { transmit, detectionProbability, thresholdDetectionProbability } = await import("../offchain/mssa/quantum");
    const { Bits } = await import("../offchain/mssa/bits");
    const data = Bits.random(a.bits);
    let rejected = 0;
    let unconfirmed = 0;
    let errors = 0;
    for (let i = 0; i < a.trials; i++) {
      const t = transmit(data, { decoys: a.decoys, threshold: a.threshold, eve: { fraction: a.eavesdrop } });
      // the decoy check (the paper's rule, the theory below); then the key confirmation (h15-red2 R9)
      rejected += t.decoyCheck ? 0 : 1;
      unconfirmed += t.decoyCheck && !t.confirmed ? 1 : 0;
      errors += t.decoyErrors;
    }
    const rate = errors / (a.trials * a.decoys);
    const detection = rejected / a.trials;
    const theory =
      a.eavesdrop === 1
        ? a.threshold === 0
          ? detectionProbability(a.decoys)
          : thresholdDetectionProbability(a.decoys, a.threshold)
        : undefined;
    console.log(`SIMULATED channel, eavesdropper on ${a.eavesdrop * 100}% of photons, ${a.decoys} decoys, threshold ${a.threshold}:`);
    console.log(`  decoy error rate ${(rate * 100).toFixed(2)}% (theory ${(a.eavesdrop * 25).toFixed(2)}%)`);
    console.log(
      `  detected ${(detection * 100).toFixed(2)}% of ${a.trials} transmissions by the decoys${theory !== undefined ? ` (theory ${(theory * 100).toFixed(2)}%)` : ""}`,
    );
    const confirmation = unconfirmed / a.trials;
    console.log(`  and ${(confirmation * 100).toFixed(2)}% more by the key confirmation (data altered under the threshold)`);
    return { errorRate: rate, detection, theory, confirmation, delivered: 1 - detection - confirmation };
  });
