/**
 * The MITRegistry's COURT_ROLE is bound to a court (red team h15-red3 H1, fixed). `CourtTraced` says
 * "the court's jurors upheld a claim of misbehaviour over that interaction and the IdP then traced
 * it" (docs/specs/disputes.md). The role was plain AccessControl: the registry's admin (the IdP, as
 * the constructor sets it) granted it to any account or to itself, whose holder bound any open case
 * with a made-up dispute id, ruled it upheld, and the IdP recorded `CourtTraced` with no dispute.
 * Now the role's first holder must be a contract (not an EOA, not an EIP-7702-delegated one) holding
 * neither IDP_ROLE nor the admin role, and only that court may be granted it again (revoke and
 * re-grant, h14-red2 G1, still work: test/disputes/trace-case-regrant.test.ts).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
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

describe("MITRegistry COURT_ROLE: a CourtTraced verdict needs a court (h15-red3 H1)", () => {
  it("the IdP cannot make itself the court (RoleHoldersNotDistinct); no court's verdict without a dispute", async () => {
    const f = await loadFixture(filed);
    const COURT_ROLE = await f.registry.COURT_ROLE();
    await expect(f.mit.grantRole(COURT_ROLE, f.idp.address))
      .to.be.revertedWithCustomError(f.registry, "MITRegistry__RoleHoldersNotDistinct")
      .withArgs(COURT_ROLE, f.idp.address);
    await forgeCourtVerdict(f, f.idp);
    expect(Number((await f.registry.traceCase(1n)).status), "a court's verdict without a court").to.equal(TraceStatus.Open);
    expect(await f.registry.boundCourt()).to.equal(ethers.ZeroAddress);
  });

  it("nor can an account (no court contract) granted COURT_ROLE by the admin (CourtNotAContract)", async () => {
    const f = await loadFixture(filed);
    await expect(f.mit.grantRole(await f.registry.COURT_ROLE(), f.sock.address))
      .to.be.revertedWithCustomError(f.registry, "MITRegistry__CourtNotAContract")
      .withArgs(f.sock.address);
    await forgeCourtVerdict(f, f.sock);
    expect(Number((await f.registry.traceCase(1n)).status), "a court's verdict from an EOA").to.equal(TraceStatus.Open);
  });

  it("nor an EOA delegated with EIP-7702 (code 0xef0100 || delegate)", async () => {
    const f = await loadFixture(filed);
    const key = ethers.Wallet.createRandom().connect(ethers.provider);
    await setBalance(key.address, 10n ** 20n);
    const { chainId } = await ethers.provider.getNetwork();
    const auth = await key.authorize({ address: await f.registry.getAddress(), nonce: 0, chainId });
    // Fees and gas limit are set here: solidity-coverage's network has a fixed gasPrice (a type-4 transaction cannot carry one)
    // and a huge default gas limit (the account could not pay for it)
    await (
      await f.sock.sendTransaction({
        type: 4,
        to: f.sock.address,
        authorizationList: [auth],
        gasLimit: 100_000n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 10n ** 9n,
      })
    ).wait();
    expect((await ethers.provider.getCode(key.address)).slice(0, 8)).to.equal("0xef0100");
    await expect(f.mit.grantRole(await f.registry.COURT_ROLE(), key.address)).to.be.revertedWithCustomError(
      f.registry,
      "MITRegistry__CourtNotAContract",
    );
  });

  it("the first court binds the role: only it is granted the role again, and it takes no other role", async () => {
    const f = await loadFixture(filed);
    const COURT_ROLE = await f.registry.COURT_ROLE();
    const court = await (await new MITRegistry__factory(f.idp).deploy(f.idp.address)).getAddress(); // any contract
    const other = await (await new MITRegistry__factory(f.idp).deploy(f.idp.address)).getAddress();
    await expect(f.mit.grantRole(COURT_ROLE, court)).to.emit(f.registry, "RoleGranted");
    expect(await f.registry.boundCourt()).to.equal(court);
    await expect(f.mit.grantRole(COURT_ROLE, other))
      .to.be.revertedWithCustomError(f.registry, "MITRegistry__CourtAlreadyBound")
      .withArgs(court, other);
    for (const role of [await f.registry.IDP_ROLE(), ethers.ZeroHash])
      await expect(f.mit.grantRole(role, court))
        .to.be.revertedWithCustomError(f.registry, "MITRegistry__RoleHoldersNotDistinct")
        .withArgs(role, court);
    // revoked and granted again (h14-red2 G1): the same court only
    await f.mit.revokeRole(COURT_ROLE, court);
    await expect(f.mit.grantRole(COURT_ROLE, other)).to.be.revertedWithCustomError(f.registry, "MITRegistry__CourtAlreadyBound");
    await expect(f.mit.grantRole(COURT_ROLE, court)).to.emit(f.registry, "RoleGranted");
    expect(await f.registry.hasRole(COURT_ROLE, other)).to.equal(false);
  });
});
