/**
 * s25-rtm (outside red team, MSSA election and credentials): findings, each a test that fails on
 * the code as it is and passes once the finding is fixed. Nothing here fixes anything.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployMssaFixture, P } from "../fixtures/mssa";

const ABORTED = 4n;
const VOTING = 2n;

/** Reports per behaviour that take a person to R = 1 under the default parameters (0.4 + 0.3 + 0.2 + 0.3, capped). */
const TO_R1: [number, number][] = [
  [0, 5],
  [1, 10],
  [2, 10],
  [3, 3],
];

describe("s25-rtm F1 (M): reports about an elector who stands, applied before her nomination, abort the round for the incumbents", () => {
  // docs/specs/mssa.md §1.2 (s20-redm F1) promises "nothing done during a round excludes or
  // reorders a nominee in it, and reports cannot cause an abort". The deferral covers only a person
  // with a nomination (`_racing` reads `_nominations`), not one who stood (`stand`, s23-rtm F3) and
  // waits for her nominators, the flow `mssa:stand` + `mssa:nominate` teaches. Two sitting
  // authorities (the quorum; nobody nominated them, so no conflict of interest) frame the stander
  // during the nomination stage: she is at R = 1 at once, `nominate` refuses her (Ineligible), too
  // few nominees remain and `closeNomination` aborts: the incumbents sit on. (A self-nomination can
  // be front-run by the last attestation in the same way.)
  it("framing one stander before her nominators' transactions leaves m nominees and aborts the round", async () => {
    const f = await loadFixture(deployMssaFixture);
    const m = f.members;
    await f.election.openRound();
    const id = await f.election.currentRound();
    // four members stand (m = 3 seats: four eligible nominees are needed for a vote)
    for (const s of [m[0], m[1], m[2], m[3]]) await f.election.connect(s).stand(id);
    // the incumbents au1 and au2 (quorum 2) frame m[0], who stood, before anyone nominates her
    let n = 0;
    for (const [b, count] of TO_R1)
      for (let i = 0; i < count; i++) {
        const ev = ethers.id(`s25-rtm F1 invented ${n++}`);
        await f.election.connect(f.au1).report(m[0].address, b, ev);
        await f.election.connect(f.au2).report(m[0].address, b, ev);
      }
    // her nominator's transaction, and three more for the other standers
    const refused: string[] = [];
    for (const [by, nominee] of [
      [m[4], m[0]],
      [m[5], m[1]],
      [m[6], m[2]],
      [m[7], m[3]],
    ] as const)
      try {
        await (await f.election.connect(by).nominate(id, nominee.address)).wait();
      } catch (e) {
        refused.push(`${nominee.address}: ${(e as Error).message.split("\n")[0]}`);
      }
    expect(refused, "a member who stood was made ineligible by reports made during the round").to.deep.equal([]);
    await time.increase(P.nominationPeriod);
    await f.election.closeNomination();
    const st = (await f.election.round(id)).stage;
    expect(st, "the round aborted: the sitting authorities stay").to.not.equal(ABORTED);
    expect(st).to.equal(VOTING);
  });
});
