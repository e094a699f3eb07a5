/**
 * Recognises a contract's refusal in a failed call or transaction.
 *
 * A revert with one of metatrust's custom errors (`CredentialLedger__Expired`, `MITRegistry__NotOwner`,
 * ...) is deterministic: the same request against the same state reverts again, so a service
 * answers it as the request's fault (422), and the client does not retry it. Everything else
 * (a transport failure, a nonce or underpriced error, a revert without data, a `Panic`, a
 * `require` string) is not recognised here, and stays a 5xx.
 *
 * The error is read where each stack puts it: ethers' decoded `revert` (a contract call through a
 * typechain contract), the revert data (`data`, also nested in `error`/`info.error`/`cause`: a
 * JSON-RPC node), or Hardhat's in-process message ("reverted with custom error 'X(...)'"); the
 * name must be one of the contracts' ABI errors in every case.
 */
import { Interface, type ErrorFragment } from "ethers";
import {
  AuthorityElection__factory,
  BLS12381__factory,
  BloomFilter__factory,
  BordaCount__factory,
  HashToG1__factory,
  TrustMath__factory,
  CPSVerifier__factory,
  CredentialLedger__factory,
  DisputeResolution__factory,
  MITRegistry__factory,
  ResourcePoolRegistry__factory,
  ServiceGroupRegistry__factory,
  TrustManager__factory,
} from "../../typechain-types";

/** Every custom error the deployed contracts (and the libraries they link) can revert with. */
const ERRORS: Interface = (() => {
  const seen = new Map<string, ErrorFragment>();
  for (const f of [
    AuthorityElection__factory,
    CPSVerifier__factory,
    CredentialLedger__factory,
    DisputeResolution__factory,
    MITRegistry__factory,
    ResourcePoolRegistry__factory,
    ServiceGroupRegistry__factory,
    TrustManager__factory,
    BLS12381__factory,
    BloomFilter__factory,
    BordaCount__factory,
    HashToG1__factory,
    TrustMath__factory,
  ])
    for (const e of new Interface(f.abi).fragments) if (e.type === "error") seen.set((e as ErrorFragment).selector, e as ErrorFragment);
  return new Interface([...seen.values()]);
})();

/** A contract refusal: the custom error's name and a one-line rendering with its arguments. */
export type ContractRevert = { name: string; text: string };

function fromData(data: unknown): ContractRevert | undefined {
  if (typeof data !== "string" || !/^0x[0-9a-fA-F]{8}/.test(data)) return undefined;
  try {
    const p = ERRORS.parseError(data);
    if (!p || p.name === "Error" || p.name === "Panic") return undefined;
    return { name: p.name, text: `${p.name}(${p.args.map((a: unknown) => String(a)).join(", ")})` };
  } catch {
    return undefined;
  }
}

function known(name: string): boolean {
  return ERRORS.getError(name) !== null;
}

/**
 * The contract's custom error in `e`, or undefined when `e` is not a recognised revert.
 * @param e - anything thrown by a contract call or transaction
 */
export function contractRevert(e: unknown): ContractRevert | undefined {
  const todo: unknown[] = [e];
  for (let i = 0; i < todo.length && i < 8; i++) {
    const x = todo[i] as
      | {
          revert?: { name?: string; args?: unknown[] };
          data?: unknown;
          message?: unknown;
          error?: unknown;
          info?: { error?: unknown };
          cause?: unknown;
        }
      | undefined;
    if (!x || typeof x !== "object") continue;
    const byData = fromData(x.data) ?? fromData((x.data as { data?: unknown } | undefined)?.data);
    if (byData) return byData;
    if (x.revert?.name && known(x.revert.name))
      return { name: x.revert.name, text: `${x.revert.name}(${(x.revert.args ?? []).map((a) => String(a)).join(", ")})` };
    const m = /reverted with custom error '(([A-Za-z0-9_$]+)\([^']*\))'/.exec(typeof x.message === "string" ? x.message : "");
    if (m && known(m[2])) return { name: m[2], text: m[1].replace(/"/g, "") };
    todo.push(x.error, x.info?.error, x.cause);
  }
  return undefined;
}
