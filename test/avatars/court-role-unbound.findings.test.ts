/**
 * Red team h15-red3 finding H1 (open): the MITRegistry's COURT_ROLE is not bound to a court.
 * `CourtTraced` is documented as "the court's jurors upheld a claim of misbehaviour over that
 * interaction and the IdP then traced it" (docs/specs/disputes.md, "What a status says"; a reader
 * tells the statuses apart "by the status alone"). But the role is plain AccessControl: the
 * registry's admin (the IdP itself, as the constructor sets it; the deployer in a wired
 * deployment) grants it to any account, an EOA or the IdP's own account included, and its holder
 * then binds any open case with the case's own reporter and a made-up dispute id (`bindCase`
 * checks only what the caller says), rules it upheld (`courtRuling`), and the IdP records
 * `CourtTraced`: a court's verdict of misbehaviour with no dispute, no jurors, no deposit. The
 * TrustManager binds its FEEDBACK_ROLE once, to a contract, for exactly this reason ("so the admin
 * cannot move reputations by granting itself the role later"); the registry's court role has no
 * such binding and no separation from IDP_ROLE. Fails while the hole is open: the case ends
 * `CourtTraced` (passes once the role cannot go to an account or to the IdP, at whichever step
 * the fix refuses).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { MITRegistry__factory } from "../../typechain-types";
import { TraceStatus } from "../../offchain/avatars/protocols";

const h = (s: string) => ethers.keccak256(ethers.toUtf8Bytes(s));

async function filed() {
  const [deployer, idp, reporter, sock] = await ethers.getSigners();
  const registry = await new MITRegistry__factory(deployer).deploy(idp.address);
  const mit = registry.connect(idp);
  const notAfter = (await time.latest()) + 86_400;
  await mit.issueMIT(h("alice-mit"), h("alice-key"), "params-cid");
  await mit.recordLogin(h("alice-avatar"), h("alice-mit"), h("warrant"), h("vid"), notAfter);
  // an honest reporter files a case about alice's avatar (case #1); nobody opens a dispute over it
  await registry.connect(reporter).requestTrace(h("alice-avatar"), h("an authentic, innocent interaction"));
  return { registry, mit, idp, reporter, sock };
}

/** Tries the forged court path with `court` as the role holder; each step may be refused. */
async function forgeCourtVerdict(f: Awaited<ReturnType<typeof filed>>, court: typeof f.idp) {
  const COURT_ROLE = await f.registry.COURT_ROLE();
  const tries = async (p: Promise<unknown>) =>
    p.then(
      () => true,
      () => false,
    );
  if (!(await tries(f.mit.grantRole(COURT_ROLE, court.address)))) return;
  const asCourt = f.registry.connect(court);
  // dispute #7 exists nowhere: the registry takes the caller's word for it
  if (!(await tries(asCourt.bindCase(1n, 7n, f.reporter.address, h("alice-avatar"))))) return;
  if (!(await tries(asCourt.courtRuling(1n, 7n, true)))) return;
  await tries(f.mit.recordVerdict(1n, true, h("verdict commitment")));
}

describe("h15-red3 H1 (findings): a CourtTraced verdict needs a court", () => {
  it("the IdP cannot make itself the court and record a court's verdict of misbehaviour without a dispute", async () => {
    const f = await loadFixture(filed);
    await forgeCourtVerdict(f, f.idp);
    // the finding: the case reads CourtTraced (jurors upheld misbehaviour) though no court sat
    expect(Number((await f.registry.traceCase(1n)).status), "a court's verdict without a court").to.not.equal(TraceStatus.CourtTraced);
  });

  it("nor can an account (no court contract) granted COURT_ROLE by the admin", async () => {
    const f = await loadFixture(filed);
    await forgeCourtVerdict(f, f.sock);
    expect(Number((await f.registry.traceCase(1n)).status), "a court's verdict from an EOA").to.not.equal(TraceStatus.CourtTraced);
  });
});
