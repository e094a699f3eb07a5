/**
 * Contract handles without parsing the ABI again. A typechain factory's `connect` builds a new
 * ethers Interface from the ABI every time: for the TrustManager about 4 ms of a task step on a
 * loaded machine (issue 20). `attach` parses each factory's ABI once per process and shares it
 * (an Interface is not changed by its contracts).
 */
import { Contract, type ContractRunner, type Interface } from "ethers";

const interfaces = new WeakMap<object, Interface>();

/**
 * The contract at `address` with `factory`'s ABI, connected to `runner`.
 * @param factory - a typechain factory class (e.g. TrustManager__factory)
 */
export function attach<C>(
  factory: { connect(address: string, runner?: ContractRunner | null): C; createInterface(): unknown },
  address: string,
  runner?: ContractRunner | null,
): C {
  let iface = interfaces.get(factory);
  if (!iface) interfaces.set(factory, (iface = factory.createInterface() as Interface));
  return new Contract(address, iface, runner) as unknown as C;
}
