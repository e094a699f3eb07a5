/**
 * Detects a `hardhat coverage` (solidity-coverage) run, so that suites which cannot run against
 * instrumented contracts skip themselves with a visible reason instead of failing.
 */
import hre from "hardhat";

/**
 * True while solidity-coverage runs the tests: its `coverage` task sets
 * `hre.__SOLIDITY_COVERAGE_RUNNING` on the runtime environment (the flag it documents for other
 * plugins) before it compiles the instrumented contracts and starts mocha.
 */
export function underCoverage(): boolean {
  return (hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING === true;
}

/**
 * In a `before` hook: under coverage, prints why and skips every test of the suite (mocha lists
 * them as pending).
 * @param ctx - the hook's mocha context (`this`)
 * @param why - the reason, printed once
 */
export function skipUnderCoverage(ctx: Mocha.Context, why: string): void {
  if (!underCoverage()) return;
  console.log(`    [skipped under coverage] ${why}`);
  ctx.skip();
}
