/**
 * Fixtures that run off-chain code under mutation.
 */
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";

/** Stryker's state inside its test runner (the instrumented code keeps it in `globalThis.__stryker__`). */
type Stryker = {
  activeMutant?: string;
  currentTestId?: string;
  mutantCoverage?: { static: Record<string, number>; perTest: Record<string, Record<string, number>> };
};

function stryker(): Stryker | undefined {
  return (globalThis as { __stryker__?: Stryker }).__stryker__;
}

/** True inside a Stryker test runner. */
export function underMutation(): boolean {
  return stryker() !== undefined;
}

/** Per fixture: the mutants its setup reached in Stryker's initial run. */
const reachedBySetup = new Map<() => Promise<unknown>, Set<string>>();
/** Per fixture: the copy built with the active mutant, when the setup reaches that mutant. */
const perMutant = new Map<() => Promise<unknown>, { mutant: string; fixture: () => Promise<unknown> }>();

/** How often each mutant was reached so far in the current test (the instrumented code counts). */
function hits(s: Stryker): Record<string, number> {
  const cov = s.mutantCoverage;
  return { ...((s.currentTestId ? cov?.perTest[s.currentTestId] : cov?.static) ?? {}) };
}

/**
 * `loadFixture` for a fixture that runs the off-chain code under test (agents set up, records
 * built). Stryker loads the tests once and activates one mutant after another in the same process,
 * so a plain cached fixture would hand every mutant the records built by the unmutated code, and a
 * mutant in that setup code would survive without ever running. Under mutation:
 * - in the initial (coverage) run, the fixture is built afresh for every test, so Stryker records
 *   every test that depends on the setup code, and the mutants the setup reaches are noted;
 * - in the run of a mutant that the setup reaches, it is built once with that mutant active and
 *   cached for that mutant's tests; for any other mutant the usual cached fixture serves (the setup
 *   never executes that mutant, so it builds the same records).
 *
 * Elsewhere it is `loadFixture`.
 * @param fixture - a named fixture function, as for `loadFixture`
 */
export async function loadOffchainFixture<T>(fixture: () => Promise<T>): Promise<T> {
  const s = stryker();
  if (s === undefined) return loadFixture(fixture);
  if (s.activeMutant === undefined) {
    const before = hits(s);
    const built = await fixture();
    const reached = reachedBySetup.get(fixture) ?? new Set<string>();
    for (const [id, n] of Object.entries(hits(s))) if (n > (before[id] ?? 0)) reached.add(id);
    reachedBySetup.set(fixture, reached);
    return built;
  }
  if (!reachedBySetup.get(fixture)?.has(s.activeMutant)) return loadFixture(fixture);
  let entry = perMutant.get(fixture);
  if (entry?.mutant !== s.activeMutant) {
    // a new function per mutant, so loadFixture takes a new snapshot (it keys fixtures by identity)
    const built = { [fixture.name]: () => fixture() }[fixture.name];
    entry = { mutant: s.activeMutant, fixture: built };
    perMutant.set(fixture, entry);
  }
  return loadFixture(entry.fixture as () => Promise<T>);
}
