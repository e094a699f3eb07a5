/**
 * Fixtures that run off-chain code under mutation.
 */
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";

type Stryker = { activeMutant?: string };

/** Stryker's state inside its test runner (instrumented code keeps it in `globalThis.__stryker__`), or undefined. */
function stryker(): Stryker | undefined {
  return (globalThis as { __stryker__?: Stryker }).__stryker__;
}

/** True inside a Stryker test runner. */
export function underMutation(): boolean {
  return stryker() !== undefined;
}

const perMutant = new Map<() => Promise<unknown>, { mutant: string; fixture: () => Promise<unknown> }>();

/**
 * `loadFixture` for a fixture that runs the off-chain code under test (agents set up, records
 * built). Stryker loads the tests once and activates one mutant after another in the same process,
 * so a plain cached fixture would hand every mutant the records built by the unmutated code, and a
 * mutant in that setup code would survive without ever running. Under mutation:
 * - in the initial (coverage) run, the fixture is built afresh for every test, so Stryker records
 *   every test that depends on the setup code, not only the first;
 * - in a mutant's run, it is built once with that mutant active and cached for that mutant's tests.
 *
 * Elsewhere it is `loadFixture`.
 * @param fixture - a named fixture function, as for `loadFixture`
 */
export function loadOffchainFixture<T>(fixture: () => Promise<T>): Promise<T> {
  const s = stryker();
  if (s === undefined) return loadFixture(fixture);
  if (s.activeMutant === undefined) return fixture();
  let entry = perMutant.get(fixture);
  if (entry?.mutant !== s.activeMutant) {
    // a new function per mutant, so loadFixture takes a new snapshot (it keys fixtures by identity)
    const built = { [fixture.name]: () => fixture() }[fixture.name];
    entry = { mutant: s.activeMutant, fixture: built };
    perMutant.set(fixture, entry);
  }
  return loadFixture(entry.fixture as () => Promise<T>);
}
