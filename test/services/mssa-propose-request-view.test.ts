/**
 * s21-review2 L3: `decodeProposeRequest` reads the consent's deadline at the view's own offset. A
 * Node Buffer's `slice` is a view into a larger ArrayBuffer (its pool, or a file read whole), so
 * reading through `.buffer` from 0 answers other bytes: another deadline, a good consent refused as
 * BAD_SIGNATURE by the authority that recomputes its digest.
 */
import { expect } from "chai";
import { decodeProposeRequest, encodeProposeRequest } from "../../offchain/services/mssa/wire";

describe("mssa wire: a propose request decoded from a Buffer slice", () => {
  it("answers the encoded deadline, not the bytes at the start of the underlying buffer", () => {
    const m = { session: "0x" + "5e".repeat(32), deadline: 1_765_000_000n, signature: "0x" + "a7".repeat(65) };
    const wire = encodeProposeRequest(m);
    // the request sits 40 bytes into a larger buffer whose first bytes are another deadline's
    const whole = Buffer.alloc(40 + wire.length + 16, 0xff);
    whole.set(wire, 40);
    const view = whole.slice(40, 40 + wire.length);
    expect(view.byteOffset).to.equal(40);
    expect(decodeProposeRequest(view)).to.deep.equal(m);
    // the same bytes in a plain Uint8Array of their own decode alike
    expect(decodeProposeRequest(Uint8Array.from(wire))).to.deep.equal(m);
  });
});
