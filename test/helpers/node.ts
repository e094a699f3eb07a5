/** Real-node test helper (shared with the benchmarks): see scripts/lib/hardhat-node.ts. */
export { startNode, type RunningNode } from "../../scripts/lib/hardhat-node";
