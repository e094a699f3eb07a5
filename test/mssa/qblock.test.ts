import { expect } from "chai";
import { ethers } from "ethers";
import {
  bestForgery,
  blockState,
  classicalLinks,
  firstBrokenLink,
  linkState,
  marginalA,
  passProbability,
  phaseCheckFailure,
  phaseOf,
  StateVector,
} from "../../offchain/mssa/qblock";

describe("mssa/qblock (SIMULATED quantum block linking, Eqs. 16-22)", () => {
  it("keeps states normalized and gates unitary", () => {
    const s = new StateVector(3).h(0).cnot(0, 1).phase(1, 0.3).x(2).h(2);
    expect(s.norm()).to.be.closeTo(1, 1e-12);
    expect(() => new StateVector(21)).to.throw(RangeError);
    expect(() => s.cnot(1, 1)).to.throw(RangeError);
  });

  it("Eq. 16: a block's phase state passes its own check and reveals a changed phase", () => {
    const theta = phaseOf(ethers.id("block-1"));
    const s = blockState(theta);
    expect(s.re[0]).to.be.closeTo(Math.SQRT1_2, 1e-12);
    expect(Math.hypot(s.re[1], s.im[1])).to.be.closeTo(Math.SQRT1_2, 1e-12);
    expect(Math.atan2(s.im[1], s.re[1]) - theta).to.satisfy((d: number) => Math.abs(Math.sin(d)) < 1e-9);
    expect(phaseCheckFailure(s, theta)).to.be.closeTo(0, 1e-12);
    const tampered = blockState(phaseOf(ethers.id("block-1'")));
    const delta = phaseOf(ethers.id("block-1'")) - theta;
    expect(phaseCheckFailure(tampered, theta)).to.be.closeTo(Math.sin(delta / 2) ** 2, 1e-12);
  });

  it("Eqs. 17-21: the linked state passes the confirmation and witness check; its marginal is Eq. 18's", () => {
    const { state, layout } = linkState(phaseOf(ethers.id("A")), phaseOf(ethers.id("B")), 2);
    const probs = state.probabilities();
    expect(passProbability(probs, layout)).to.be.closeTo(1, 1e-12);
    for (const p of marginalA(probs, layout)) expect(p).to.be.closeTo(1 / 4, 1e-12); // every c_xy != 0
  });

  it("detects a tampered block: a flipped value always, a rewritten block but for 4^-b", () => {
    for (const b of [1, 2]) {
      const { state, layout } = linkState(1.1, 2.2, b);
      expect(bestForgery(state, layout)).to.be.closeTo(4 ** -b, 1e-12);
    }
    const { state, layout } = linkState(1.1, 2.2, 2);
    state.x(layout.yB[0]);
    expect(passProbability(state.probabilities(), layout)).to.be.closeTo(0, 1e-12);
  });

  it("maps to the classical hash chain and finds the first broken link", () => {
    const recs = [1, 2, 3].map((i) => ({ id: ethers.id(`id${i}`), commitment: ethers.id(`c${i}`) }));
    const links = classicalLinks(recs);
    expect(firstBrokenLink(recs, links)).to.equal(-1);
    const forged = recs.map((r, i) => (i === 1 ? { ...r, commitment: ethers.id("forged") } : r));
    expect(firstBrokenLink(forged, links)).to.equal(1);
  });
});
