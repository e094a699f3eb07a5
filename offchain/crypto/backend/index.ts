/**
 * Which backend computes the curve operations, chosen once per process.
 *
 *   METATRUST_CRYPTO_BACKEND=auto (default)  the fastest backend that loads and passes its
 *                                            known-answer check: libsecp256k1 (N-API) for the
 *                                            RSMS group, mcl-wasm for BLS12-381
 *   METATRUST_CRYPTO_BACKEND=native          the same, named explicitly
 *   METATRUST_CRYPTO_BACKEND=noble           @noble/curves for both (the reference)
 *
 * A fast backend that cannot load (no prebuild for the platform, a wasm failure, a wrong known
 * answer) is replaced by noble with one one-line warning; results are the same, only slower.
 * The secp256k1 backend loads synchronously at the first group operation. mcl-wasm can only be
 * initialized asynchronously: its load starts at the first BLS operation (not at import, so
 * that commands which never pair do not pay the wasm compile), noble answers until it is ready,
 * and `await cryptoReady()` waits for it. Both give byte-identical results
 * (test/crypto/backends.test.ts), so the switch is invisible except in time.
 */
import type * as Mcl from "mcl-wasm";
import { InvalidParameterError } from "../../errors";
import { noblePairing } from "./bls-noble";
import { mclPairing } from "./bls-mcl";
import { nobleGroup } from "./secp256k1-noble";
import { Secp256k1Api, nativeGroup } from "./secp256k1-native";
import type { GroupBackend, PairingBackend } from "./types";

export type { GroupBackend, PairingBackend } from "./types";
export { nobleGroup, noblePairing };

/** The environment variable that picks the backend. */
export const BACKEND_ENV = "METATRUST_CRYPTO_BACKEND";
/** Its accepted values. */
export const BACKEND_CHOICES = ["auto", "native", "noble"] as const;
/** A backend choice. */
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** How the fast backends are loaded (injectable, so tests can simulate a failure). */
export type BackendLoaders = {
  /** Returns the libsecp256k1 binding; throws if it cannot load. */
  secp256k1: () => Secp256k1Api;
  /** Resolves to mcl-wasm initialized for BLS12-381; rejects if it cannot load. */
  mcl: () => Promise<typeof Mcl>;
};

let mclInit: Promise<typeof Mcl> | undefined;

/** The real loaders. */
export const defaultLoaders: BackendLoaders = {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  secp256k1: () => require("secp256k1/bindings") as Secp256k1Api,
  mcl() {
    mclInit ??= (async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mcl = require("mcl-wasm") as typeof Mcl;
      // mcl-wasm is one instance per process: init() again replaces its memory under every value and
      // cached G2 line another copy of this module made (a second install, a test's fresh require),
      // and their next pairing reads out of bounds. So only an uninitialized mcl-wasm is initialized.
      if (mcl.curveType !== mcl.BLS12_381) await mcl.init(mcl.BLS12_381);
      return mcl;
    })();
    return mclInit;
  },
};

/**
 * Parses METATRUST_CRYPTO_BACKEND.
 * @param v - the variable's value (undefined or empty for the default)
 * @returns the choice
 * @throws InvalidParameterError naming the variable for any other value
 */
export function parseBackendChoice(v: string | undefined): BackendChoice {
  if (v === undefined || v === "") return "auto";
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) return v as BackendChoice;
  throw new InvalidParameterError(`${BACKEND_ENV}: expected one of ${BACKEND_CHOICES.join(", ")}, got "${v}"`);
}

const firstLine = (e: unknown) => String(e instanceof Error ? e.message : e).split("\n")[0];

/**
 * Picks the secp256k1 backend.
 * @param choice - the requested backend
 * @param load - the binding loader
 * @param warn - where the one-line fallback warning goes
 * @returns libsecp256k1 unless noble was asked for or the binding fails; then noble
 */
export function chooseGroupBackend(
  choice: BackendChoice,
  load: BackendLoaders["secp256k1"] = defaultLoaders.secp256k1,
  warn: (line: string) => void = console.warn,
): GroupBackend {
  if (choice === "noble") return nobleGroup;
  try {
    return nativeGroup(load());
  } catch (e) {
    warn(`metatrust: libsecp256k1 (npm secp256k1) unavailable (${firstLine(e)}); secp256k1 runs on @noble/curves: same results, slower`);
    return nobleGroup;
  }
}

/**
 * Picks the BLS12-381 backend.
 * @param choice - the requested backend
 * @param load - the mcl-wasm loader
 * @param warn - where the one-line fallback warning goes
 * @returns mcl-wasm unless noble was asked for or mcl fails to load; then noble
 */
export async function choosePairingBackend(
  choice: BackendChoice,
  load: BackendLoaders["mcl"] = defaultLoaders.mcl,
  warn: (line: string) => void = console.warn,
): Promise<PairingBackend> {
  if (choice === "noble") return noblePairing;
  try {
    return mclPairing(await load());
  } catch (e) {
    warn(`metatrust: mcl-wasm unavailable (${firstLine(e)}); BLS12-381 runs on @noble/curves: same results, slower`);
    return noblePairing;
  }
}

let group: GroupBackend | undefined;
let pairing: PairingBackend = noblePairing;
let pairingLoad: Promise<PairingBackend> | undefined;
let pairingPinned = false;

/** The secp256k1 backend in use (chosen at the first call). */
export function groupBackend(): GroupBackend {
  group ??= chooseGroupBackend(parseBackendChoice(process.env[BACKEND_ENV]));
  return group;
}

function loadPairing(): Promise<PairingBackend> {
  pairingLoad ??= choosePairingBackend(parseBackendChoice(process.env[BACKEND_ENV])).then((b) => {
    if (!pairingPinned) pairing = b;
    return pairing;
  });
  return pairingLoad;
}

/** The BLS12-381 backend in use now (noble until mcl-wasm has loaded; the first call starts the load). */
export function pairingBackend(): PairingBackend {
  if (pairingLoad === undefined) void loadPairing();
  return pairing;
}

/**
 * Waits until both backends are chosen and loaded.
 * @returns their names
 */
export async function cryptoReady(): Promise<{ group: GroupBackend["name"]; pairing: PairingBackend["name"] }> {
  const g = groupBackend();
  const p = pairingPinned ? pairing : await loadPairing();
  return { group: g.name, pairing: p.name };
}

/**
 * Pins the backends (tests and benchmarks compare them in one process). Omitted fields keep
 * their current backend.
 * @returns the backends in use before, to restore them
 */
export function useBackends(b: { group?: GroupBackend; pairing?: PairingBackend }): { group: GroupBackend; pairing: PairingBackend } {
  const before = { group: groupBackend(), pairing };
  if (b.group) group = b.group;
  if (b.pairing) {
    pairing = b.pairing;
    pairingPinned = true;
  }
  return before;
}
