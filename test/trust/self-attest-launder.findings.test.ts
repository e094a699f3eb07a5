/**
 * Red team h14-red2 finding G4 (open): the in-place attestation of session 14 (docs/specs/trust.md,
 * "An entry's own attestation is not a reclaim") keeps a plain entry's flags only when the
 * attesting account is the one that registered it. An owner who registered her avatar plainly from
 * a throwaway account, misbehaved under it and got it flagged attests it from her main account: the
 * contract takes that for a squatter's reclaim (new generation, fresh reputation, no flags), so
 * the flag and the history are laundered onto the same id. trust.md claims "a flagged plain entry
 * stays flagged" and "now the one way to start afresh is a fresh id"; with a second account the
 * same id starts afresh. Fails while the hole is open: the flags are gone after the attestation.
 */
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { deployTrustFixture, Kind } from "../fixtures/trust";
import { avatarOwner } from "../helpers/avatar-owner";

async function fixture() {
  const f = await deployTrustFixture();
  const o = await avatarOwner(f, "self-attest-launder");
  return { ...f, ...o, main: await o.account(), throwaway: await o.account() };
}

describe("h14-red2 G4 (findings): a flagged plain entry attested from its owner's other account", () => {
  it("keeps its flags (it does not: the attestation is taken for a reclaim and clears them)", async () => {
    const f = await loadFixture(fixture);
    // alice's throwaway account registers fox plainly while it is not logged in; fox misbehaves and is flagged
    await f.trust.connect(f.throwaway).register(f.fox, Kind.Avatar);
    await f.trust.connect(f.detector).flag(f.fox, 3, "0x" + "00".repeat(32), await f.trust.generationOf(f.fox));
    expect(Number((await f.trust.entity(f.fox)).flags) & 0x7f).to.not.equal(0);
    const generation = await f.trust.generationOf(f.fox);
    // alice logs fox in and attests it from her main account, with the IdP's attestation naming that account
    await f.login(f.fox);
    const { deadline, a } = await f.attest(f.fox, f.main);
    await f.trust.connect(f.main).registerAttested(f.fox, Kind.Avatar, deadline, a);
    const e = await f.trust.entity(f.fox);
    expect(e.attested).to.equal(true);
    expect(e.controller).to.equal(await f.main.getAddress());
    // the finding: the same id, flags cleared and a new generation (its history cut)
    expect(await f.trust.generationOf(f.fox), "generation moved: the plain era's history is cut").to.equal(generation);
    expect(Number(e.flags) & 0x7f, "the flag was laundered").to.not.equal(0);
  });
});
