/**
 * One event topic, one meaning; one error selector, one meaning (session 15). A log is decoded by
 * its topic0, a revert by its 4-byte selector: two contracts declaring the same signature with
 * other argument names (or another `indexed` pattern) give a reader of one ABI a wrong reading of
 * the other's log. The court's `TraceCaseRuled(id, caseId, upheld, applied)` and the MITRegistry's
 * `TraceCaseRuled(caseId, disputeId, upheld, byIdp)` were such a pair, emitted side by side by one
 * resolve (the court's is `AvatarCaseRuled` now). This test computes every event topic0 and error
 * selector over the compiled ABIs of contracts/ and fails on a clash.
 */
import { expect } from "chai";
import hre, { ethers } from "hardhat";

type AbiParam = { name: string; type: string; indexed?: boolean; components?: AbiParam[] };
type AbiItem = { type: string; name?: string; inputs?: AbiParam[] };

/** The canonical type of a parameter (tuples expanded), as in the signature. */
const typeOf = (p: AbiParam): string =>
  p.type.startsWith("tuple") ? `(${(p.components ?? []).map(typeOf).join(",")})${p.type.slice(5)}` : p.type;
/** What a reader relies on beyond the signature: the names (and, for events, which are indexed). */
const shapeOf = (i: AbiItem) => (i.inputs ?? []).map((p) => `${p.indexed ? "indexed " : ""}${typeOf(p)} ${p.name}`).join(", ");

/**
 * Every topic0 / selector declared with more than one shape, or (selectors) by more than one
 * signature, across the given ABIs: `[id, "Contract: Name(shape)", ...]` for each clash.
 */
export function abiClashes(abis: Record<string, AbiItem[]>): string[][] {
  const seen = new Map<string, Map<string, string>>(); // id -> shape key -> first contract
  for (const [contract, abi] of Object.entries(abis))
    for (const item of abi) {
      if (item.type !== "event" && item.type !== "error") continue;
      const sig = `${item.name}(${(item.inputs ?? []).map(typeOf).join(",")})`;
      const hash = ethers.id(sig);
      const id = item.type === "event" ? hash : hash.slice(0, 10);
      const key = `${item.type} ${item.name}(${shapeOf(item)})`;
      const shapes = seen.get(id) ?? new Map<string, string>();
      if (!shapes.has(key)) shapes.set(key, contract);
      seen.set(id, shapes);
    }
  return [...seen.entries()].filter(([, s]) => s.size > 1).map(([id, s]) => [id, ...[...s].map(([k, c]) => `${c}: ${k}`)]);
}

describe("ABI signatures: one event topic and one error selector, one meaning", () => {
  it("finds the session-14 clash (TraceCaseRuled of court and registry) and an error clash in a synthetic pair", () => {
    const ev = (name: string, names: string[]): AbiItem => ({
      type: "event",
      name,
      inputs: [
        { name: names[0], type: "uint256", indexed: true },
        { name: names[1], type: "uint256", indexed: true },
        { name: "upheld", type: "bool" },
        { name: names[2], type: "bool" },
      ],
    });
    const clashes = abiClashes({
      DisputeResolution: [ev("TraceCaseRuled", ["id", "caseId", "applied"])],
      MITRegistry: [
        ev("TraceCaseRuled", ["caseId", "disputeId", "byIdp"]),
        { type: "error", name: "E", inputs: [{ name: "a", type: "uint8" }] },
      ],
      Other: [{ type: "error", name: "E", inputs: [{ name: "b", type: "uint8" }] }],
    });
    expect(clashes.map((c) => c[0])).to.deep.equal([
      ethers.id("TraceCaseRuled(uint256,uint256,bool,bool)"),
      ethers.id("E(uint8)").slice(0, 10),
    ]);
    expect(clashes[0].slice(1)).to.deep.equal([
      "DisputeResolution: event TraceCaseRuled(indexed uint256 id, indexed uint256 caseId, bool upheld, bool applied)",
      "MITRegistry: event TraceCaseRuled(indexed uint256 caseId, indexed uint256 disputeId, bool upheld, bool byIdp)",
    ]);
    // the same declaration in two ABIs (an interface and its implementation, an inherited event) is no clash
    expect(abiClashes({ A: [ev("X", ["a", "b", "c"])], B: [ev("X", ["a", "b", "c"])] })).to.deep.equal([]);
  });

  it("no event topic or error selector of the compiled contracts has two meanings", async () => {
    const abis: Record<string, AbiItem[]> = {};
    for (const fq of await hre.artifacts.getAllFullyQualifiedNames()) {
      if (!fq.startsWith("contracts/")) continue;
      abis[fq] = (await hre.artifacts.readArtifact(fq)).abi as AbiItem[];
    }
    expect(Object.keys(abis).length, "no artifacts: run `npx hardhat compile`").to.be.greaterThan(10);
    expect(abiClashes(abis)).to.deep.equal([]);
  });
});
