import { expect } from "chai";
import { MetatrustError, ErrorCode } from "../../offchain/errors";

/**
 * Asserts that `f` throws a MetatrustError of the given class and code whose message matches.
 */
export function expectThrows(f: () => unknown, cls: new (...a: never[]) => MetatrustError, code: ErrorCode, msg?: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, "expected a throw").to.be.instanceOf(cls);
  expect((err as MetatrustError).code).to.equal(code);
  if (msg) expect((err as Error).message).to.match(msg);
}

/** Async variant of {@link expectThrows}. */
export async function expectRejects(
  f: () => Promise<unknown>,
  cls: new (...a: never[]) => MetatrustError,
  code: ErrorCode,
  msg?: RegExp,
): Promise<void> {
  let err: unknown;
  try {
    await f();
  } catch (e) {
    err = e;
  }
  expect(err, "expected a rejection").to.be.instanceOf(cls);
  expect((err as MetatrustError).code).to.equal(code);
  if (msg) expect((err as Error).message).to.match(msg);
}
