/**
 * The chain calls of the hot task steps without ethers' Contract machinery (issue 20): pure
 * functions on strings, bigints and bytes, no I/O. offchain/chain/direct.ts sends what they build.
 *
 * - ABI (Solidity ABI spec, "Formal Specification of the Encoding"): calldata is the 4-byte
 *   selector followed by the head/tail encoding of the arguments; a call's result is the encoding
 *   of its outputs. {@link abiCodec} compiles one function (or event) of an ethers Interface into
 *   an encoder and a decoder once, so that nothing is parsed, hashed or allocated per type on each
 *   call: ethers builds a new coder tree and hashes the selector again on every encode and decode.
 *   Supported: uintN, intN, address, bool, bytesN, bytes, string and tuples of them (what the hot
 *   calls take and return); anything else (arrays) is refused when the codec is built.
 * - Transactions (EIP-2718 envelopes): EIP-1559 (type 2, yParity) and legacy with EIP-155 replay
 *   protection (v = 35 + 2 chainId + recovery), RLP-encoded (Ethereum yellow paper, appendix B),
 *   signed over keccak256 of the unsigned envelope by a caller-given signer (libsecp256k1 in
 *   ChainWallet), serialized once.
 * - Receipts: the JSON-RPC receipt object decoded into what the steps read.
 *
 * test/chain/fastpath.test.ts checks every output against ethers byte for byte (calldata, signed
 * transactions and their hashes, decoded results and events) on random inputs.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { ParamType, getAddress, type EventFragment, type FunctionFragment } from "ethers";

const HEX = /^0x[0-9a-fA-F]*$/;
const WORD = 64; // hex digits in a 32-byte word
const ZERO_WORD = "0".repeat(WORD);

/** Malformed input to, or output of, a fast-path codec: the message names the codec and the value. */
export class FastPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FastPathError";
  }
}

function hexBody(where: string, v: unknown, bytes?: number): string {
  let h: string;
  if (typeof v === "string" && HEX.test(v) && v.length % 2 === 0) h = v.slice(2).toLowerCase();
  else if (v instanceof Uint8Array) h = Buffer.from(v).toString("hex");
  else throw new FastPathError(`${where}: expected 0x hex bytes, got ${String(v)}`);
  if (bytes !== undefined && h.length !== 2 * bytes) throw new FastPathError(`${where}: expected ${bytes} bytes, got ${h.length / 2}`);
  return h;
}

function toBig(where: string, v: unknown): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === "string" && /^(0x[0-9a-fA-F]+|-?[0-9]+)$/.test(v)) return BigInt(v);
  throw new FastPathError(`${where}: expected an integer, got ${String(v)}`);
}

const padRight = (h: string) => h + "0".repeat((WORD - (h.length % WORD)) % WORD);

/** One compiled ABI type: its encoder (to hex without 0x) and decoder (from hex at a word offset). */
type Coder = {
  dynamic: boolean;
  /** Head words of a static type (1 for a scalar, the sum for a static tuple). */
  words: number;
  encode(v: unknown): string;
  /** Decodes the value whose head is at hex offset `at` of a block that starts at `base`. */
  decode(hex: string, base: number, at: number): unknown;
};

function readWord(hex: string, at: number, where: string): string {
  if (at + WORD > hex.length) throw new FastPathError(`${where}: the data ends before its word at byte ${at / 2}`);
  return hex.slice(at, at + WORD);
}

function readOffset(hex: string, at: number, where: string): number {
  const w = readWord(hex, at, where);
  const n = BigInt("0x" + w);
  if (n > BigInt(hex.length)) throw new FastPathError(`${where}: offset ${n} is past the data`);
  return Number(n) * 2;
}

function scalarCoder(t: ParamType, where: string): Coder {
  const ty = t.type;
  const m = /^(u?)int(\d*)$/.exec(ty);
  if (m) {
    const bits = Number(m[2] || 256);
    const signed = m[1] === "";
    const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
    const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
    const mod = 1n << 256n;
    return {
      dynamic: false,
      words: 1,
      encode(v) {
        const n = toBig(`${where} (${ty})`, v);
        if (n < min || n > max) throw new FastPathError(`${where}: ${n} is out of range for ${ty}`);
        return (n < 0n ? n + mod : n).toString(16).padStart(WORD, "0");
      },
      decode(hex, base, at) {
        let n = BigInt("0x" + readWord(hex, base + at, where));
        if (signed && n >= 1n << 255n) n -= mod;
        if (n < min || n > max) throw new FastPathError(`${where}: value out of range for ${ty}`);
        return n;
      },
    };
  }
  if (ty === "address")
    return {
      dynamic: false,
      words: 1,
      encode: (v) => hexBody(`${where} (address)`, v, 20).padStart(WORD, "0"),
      decode(hex, base, at) {
        const w = readWord(hex, base + at, where);
        if (!w.startsWith("000000000000000000000000")) throw new FastPathError(`${where}: not an address word`);
        return getAddress("0x" + w.slice(24));
      },
    };
  if (ty === "bool")
    return {
      dynamic: false,
      words: 1,
      encode(v) {
        if (typeof v !== "boolean") throw new FastPathError(`${where}: expected a boolean, got ${String(v)}`);
        return (v ? "1" : "0").padStart(WORD, "0");
      },
      decode(hex, base, at) {
        const w = readWord(hex, base + at, where);
        if (w === ZERO_WORD) return false;
        if (w === ZERO_WORD.slice(1) + "1") return true;
        throw new FastPathError(`${where}: not a bool word`);
      },
    };
  const fixed = /^bytes(\d+)$/.exec(ty);
  if (fixed) {
    const n = Number(fixed[1]);
    return {
      dynamic: false,
      words: 1,
      encode: (v) => padRight(hexBody(`${where} (${ty})`, v, n)),
      decode: (hex, base, at) => "0x" + readWord(hex, base + at, where).slice(0, 2 * n),
    };
  }
  if (ty === "bytes" || ty === "string")
    return {
      dynamic: true,
      words: 1,
      encode(v) {
        const body =
          ty === "string" ? (typeof v === "string" ? Buffer.from(v, "utf8").toString("hex") : null) : hexBody(`${where} (bytes)`, v);
        if (body === null) throw new FastPathError(`${where}: expected a string, got ${String(v)}`);
        return (body.length / 2).toString(16).padStart(WORD, "0") + padRight(body);
      },
      decode(hex, base, at) {
        const start = base + readOffset(hex, base + at, where);
        const len = Number(BigInt("0x" + readWord(hex, start, where))) * 2;
        if (start + WORD + len > hex.length) throw new FastPathError(`${where}: ${ty} runs past the data`);
        const body = hex.slice(start + WORD, start + WORD + len);
        return ty === "string" ? Buffer.from(body, "hex").toString("utf8") : "0x" + body;
      },
    };
  throw new FastPathError(`${where}: type ${ty} is not supported by the fast path`);
}

function coderOf(t: ParamType, where: string): Coder {
  if (t.baseType === "tuple") return tupleCoder(t.components ?? [], where);
  if (t.baseType === "array") {
    // dynamic arrays (T[]); fixed-size ones (T[k]) are not used by the hot calls
    if (t.arrayLength !== -1 || !t.arrayChildren) throw new FastPathError(`${where}: type ${t.type} is not supported by the fast path`);
    return arrayCoder(coderOf(t.arrayChildren, `${where}[]`), where);
  }
  return scalarCoder(t, where);
}

/** A dynamic array T[]: its length, then its elements encoded as a tuple of that many T. */
function arrayCoder(elem: Coder, where: string): Coder {
  const size = (elem.dynamic ? 1 : elem.words) * WORD;
  return {
    dynamic: true,
    words: 1,
    encode(v) {
      if (!Array.isArray(v)) throw new FastPathError(`${where}: expected an array, got ${String(v)}`);
      let head = "";
      let tail = "";
      for (const x of v) {
        const e = elem.encode(x);
        if (elem.dynamic) {
          head += ((v.length * size + tail.length) / 2).toString(16).padStart(WORD, "0");
          tail += e;
        } else head += e;
      }
      return v.length.toString(16).padStart(WORD, "0") + head + tail;
    },
    decode(hex, base, at) {
      const start = base + readOffset(hex, base + at, where);
      const n = BigInt("0x" + readWord(hex, start, where));
      // each element takes at least its head's words: a length the data cannot hold is refused before anything is read
      if (n * BigInt(size) > BigInt(hex.length - start - WORD)) throw new FastPathError(`${where}: array of ${n} runs past the data`);
      const out: unknown[] = [];
      for (let i = 0; i < Number(n); i++) out.push(elem.decode(hex, start + WORD, i * size));
      return out;
    },
  };
}

/** The head/tail encoding of a sequence of types (a tuple, or a function's inputs or outputs). */
function tupleCoder(types: readonly ParamType[], where: string): Coder {
  const parts = types.map((t, i) => coderOf(t, `${where}[${t.name || i}]`));
  const dynamic = parts.some((p) => p.dynamic);
  const headWords = parts.reduce((n, p) => n + (p.dynamic ? 1 : p.words), 0);
  return {
    dynamic,
    words: dynamic ? 1 : headWords,
    encode(v) {
      if (!Array.isArray(v) || v.length !== parts.length)
        throw new FastPathError(`${where}: expected ${parts.length} values, got ${Array.isArray(v) ? v.length : String(v)}`);
      let head = "";
      let tail = "";
      for (let i = 0; i < parts.length; i++) {
        const e = parts[i].encode(v[i]);
        if (parts[i].dynamic) {
          head += ((headWords * WORD + tail.length) / 2).toString(16).padStart(WORD, "0");
          tail += e;
        } else head += e;
      }
      return head + tail;
    },
    decode(hex, base, at) {
      // a dynamic tuple's head is an offset to its own block; a static tuple sits in place
      const start = dynamic ? base + readOffset(hex, base + at, where) : base + at;
      const out: unknown[] = [];
      let pos = 0;
      for (const p of parts) {
        out.push(p.decode(hex, start, pos));
        pos += (p.dynamic ? 1 : p.words) * WORD;
      }
      return out;
    },
  };
}

/** A compiled function: its selector, calldata encoder and result decoder. */
export type FunctionCodec = {
  /** `name(types)` */
  signature: string;
  /** 0x and 4 bytes. */
  selector: string;
  /** The calldata of a call with these arguments (0x hex). */
  encode(args: readonly unknown[]): string;
  /** The function's outputs, in order (tuples as arrays), from the call's return data. */
  decode(data: string): unknown[];
};

/**
 * Compiles a function of an ABI once (see the module header).
 * @param f - the function's ethers fragment (`iface.getFunction(name)`)
 * @throws FastPathError if a parameter's type is not supported
 */
export function abiCodec(f: FunctionFragment): FunctionCodec {
  const signature = f.format("sighash");
  const selector =
    "0x" +
    Buffer.from(keccak_256(Buffer.from(signature)))
      .toString("hex")
      .slice(0, 8);
  const inputs = tupleCoder(f.inputs, f.name);
  const outputs = tupleCoder(f.outputs, `${f.name} result`);
  return {
    signature,
    selector,
    encode: (args) => selector + inputs.encode(args),
    decode(data) {
      if (typeof data !== "string" || !HEX.test(data)) throw new FastPathError(`${f.name} result: not 0x hex: ${String(data)}`);
      // a static sequence's decode ignores `base`'s block offset; a dynamic one reads its offsets from 0
      return tupleDecode(outputs, f.outputs.length, data.slice(2).toLowerCase());
    },
  };
}

function tupleDecode(c: Coder, n: number, hex: string): unknown[] {
  if (n === 0) return [];
  // the outputs are encoded as a tuple in place (no leading offset even when dynamic)
  if (!c.dynamic) return c.decode(hex, 0, 0) as unknown[];
  // wrap: a dynamic top-level sequence is its own block at 0, so decode it as if its offset were 0
  return c.decode(ZERO_WORD + hex, WORD, -WORD) as unknown[];
}

/** A compiled parameter list: `abi.encode` of values of these types, and its decoding. */
export type ParamsCodec = {
  /** abi.encode(values), 0x hex. */
  encode(values: readonly unknown[]): string;
  /** The values of abi.encode'd data, in order (tuples as arrays). */
  decode(data: string): unknown[];
};

/**
 * Compiles a parameter list once (`["bytes32", "uint64"]`): what ethers' AbiCoder.encode and
 * decode compute for it, without building a coder tree on each call.
 * @throws FastPathError if a type is not supported
 */
export function abiParams(types: readonly string[]): ParamsCodec {
  const params = types.map((t) => ParamType.from(t));
  const c = tupleCoder(params, "abiParams");
  return {
    encode: (values) => "0x" + c.encode(values),
    decode(data) {
      if (typeof data !== "string" || !HEX.test(data)) throw new FastPathError(`abiParams: not 0x hex: ${String(data)}`);
      return tupleDecode(c, params.length, data.slice(2).toLowerCase());
    },
  };
}

/** A compiled event: its topic and the decoder of a log's indexed topics and data. */
export type EventCodec = {
  topic: string;
  /** The event's arguments, in declaration order, from a log. Indexed arguments must be value types. */
  decode(topics: readonly string[], data: string): unknown[];
};

/**
 * Compiles an event of an ABI once.
 * @throws FastPathError if an argument's type is not supported, or an indexed one is not a value type
 */
export function eventCodec(e: EventFragment): EventCodec {
  const topic = "0x" + Buffer.from(keccak_256(Buffer.from(e.format("sighash")))).toString("hex");
  const indexed = e.inputs.map((p) => (p.indexed ? coderOf(p, `${e.name}.${p.name}`) : undefined));
  for (const c of indexed)
    if (c?.dynamic || (c && c.words !== 1)) throw new FastPathError(`${e.name}: an indexed reference type is not supported`);
  const plain = e.inputs.filter((p) => !p.indexed);
  const data = tupleCoder(plain, e.name);
  return {
    topic,
    decode(topics, hexData) {
      if (topics[0]?.toLowerCase() !== topic) throw new FastPathError(`${e.name}: the log's topic is not ${topic}`);
      if (typeof hexData !== "string" || !HEX.test(hexData)) throw new FastPathError(`${e.name}: log data is not 0x hex`);
      const values = tupleDecode(data, plain.length, hexData.slice(2).toLowerCase());
      let t = 1;
      let d = 0;
      return e.inputs.map((_, i) => {
        const c = indexed[i];
        if (!c) return values[d++];
        const word = topics[t++];
        if (typeof word !== "string" || !HEX.test(word) || word.length !== 66) throw new FastPathError(`${e.name}: missing topic ${t - 1}`);
        return c.decode(word.slice(2).toLowerCase(), 0, 0);
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// RLP and transactions

/** Big-endian bytes of a non-negative integer, no leading zero (0 is empty), as RLP wants it. */
function intBytes(where: string, n: bigint): Uint8Array {
  if (n < 0n) throw new FastPathError(`${where}: negative`);
  if (n === 0n) return new Uint8Array(0);
  const h = n.toString(16);
  return Buffer.from(h.length % 2 ? "0" + h : h, "hex");
}

type Rlp = Uint8Array | Rlp[];

function rlpLength(len: number, offset: number): Uint8Array {
  if (len < 56) return Uint8Array.of(offset + len);
  const l = intBytes("rlp", BigInt(len));
  return Uint8Array.of(offset + 55 + l.length, ...l);
}

/** RLP encoding (yellow paper, appendix B). */
export function rlpEncode(x: Rlp): Uint8Array {
  if (x instanceof Uint8Array) {
    if (x.length === 1 && x[0] < 0x80) return x;
    return Buffer.concat([rlpLength(x.length, 0x80), x]);
  }
  const body = Buffer.concat(x.map(rlpEncode));
  return Buffer.concat([rlpLength(body.length, 0xc0), body]);
}

/** A contract call to sign. Fees: EIP-1559 (maxFeePerGas and maxPriorityFeePerGas) or legacy (gasPrice). */
export type TxFields = {
  chainId: bigint;
  nonce: number;
  gasLimit: bigint;
  /** 0x, 20 bytes */
  to: string;
  value: bigint;
  /** 0x calldata */
  data: string;
} & ({ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint; gasPrice?: undefined } | { gasPrice: bigint; maxFeePerGas?: undefined });

/** A 32-byte digest signer: 64-byte compact (r || s, low s) and the recovery bit. */
export type DigestSigner = (digest: Uint8Array) => { signature: Uint8Array; recovery: number };

/** A signed transaction: the raw bytes to send (0x hex) and its hash. */
export type SignedTx = { raw: string; hash: string };

/**
 * Signs and serializes a transaction: the envelope ethers' `Transaction` builds for the same
 * fields (type 2 when the fees are EIP-1559, else legacy with EIP-155), hashed once.
 * @param t - the transaction
 * @param sign - signs keccak256 of the unsigned envelope
 * @throws FastPathError on a malformed field
 */
export function signTransaction(t: TxFields, sign: DigestSigner): SignedTx {
  if (!Number.isSafeInteger(t.nonce) || t.nonce < 0) throw new FastPathError(`signTransaction: nonce ${t.nonce} is not a count`);
  if (t.chainId <= 0n) throw new FastPathError(`signTransaction: chainId ${t.chainId} is not positive`);
  const to = Buffer.from(hexBody("signTransaction: to", t.to, 20), "hex");
  const data = Buffer.from(hexBody("signTransaction: data", t.data), "hex");
  const n = (name: string, v: bigint) => intBytes(`signTransaction: ${name}`, v);
  if (t.maxFeePerGas !== undefined) {
    const fields: Rlp[] = [
      n("chainId", t.chainId),
      n("nonce", BigInt(t.nonce)),
      n("maxPriorityFeePerGas", t.maxPriorityFeePerGas),
      n("maxFeePerGas", t.maxFeePerGas),
      n("gasLimit", t.gasLimit),
      to,
      n("value", t.value),
      data,
      [], // access list
    ];
    const digest = keccak_256(Buffer.concat([Uint8Array.of(2), rlpEncode(fields)]));
    const { signature, recovery } = sign(digest);
    const r = BigInt("0x" + Buffer.from(signature.subarray(0, 32)).toString("hex"));
    const s = BigInt("0x" + Buffer.from(signature.subarray(32, 64)).toString("hex"));
    const signed = Buffer.concat([Uint8Array.of(2), rlpEncode([...fields, n("yParity", BigInt(recovery)), n("r", r), n("s", s)])]);
    return { raw: "0x" + signed.toString("hex"), hash: "0x" + Buffer.from(keccak_256(signed)).toString("hex") };
  }
  const base: Rlp[] = [n("nonce", BigInt(t.nonce)), n("gasPrice", t.gasPrice), n("gasLimit", t.gasLimit), to, n("value", t.value), data];
  const digest = keccak_256(rlpEncode([...base, n("chainId", t.chainId), new Uint8Array(0), new Uint8Array(0)]));
  const { signature, recovery } = sign(digest);
  const r = BigInt("0x" + Buffer.from(signature.subarray(0, 32)).toString("hex"));
  const s = BigInt("0x" + Buffer.from(signature.subarray(32, 64)).toString("hex"));
  const signed = rlpEncode([...base, n("v", 35n + 2n * t.chainId + BigInt(recovery)), n("r", r), n("s", s)]);
  return { raw: "0x" + Buffer.from(signed).toString("hex"), hash: "0x" + Buffer.from(keccak_256(signed)).toString("hex") };
}

// ---------------------------------------------------------------------------------------------
// Receipts

/** A log as the steps read it. */
export type FastLog = { address: string; topics: string[]; data: string };

/** A mined transaction's receipt, as the steps read it. */
export type FastReceipt = {
  hash: string;
  /** 1 success, 0 reverted */
  status: number;
  blockNumber: number;
  gasUsed: bigint;
  /** lower-case 0x address, or null for a creation */
  to: string | null;
  logs: FastLog[];
};

const quantity = (where: string, v: unknown): bigint => {
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]+$/.test(v)) throw new FastPathError(`${where}: not a hex quantity: ${String(v)}`);
  return BigInt(v);
};

/**
 * A JSON-RPC receipt (eth_getTransactionReceipt's answer) in the form the steps read.
 * @throws FastPathError if a field is missing or malformed
 */
export function parseReceipt(r: unknown): FastReceipt {
  const x = r as Record<string, unknown>;
  if (!x || typeof x !== "object") throw new FastPathError(`parseReceipt: not a receipt: ${String(r)}`);
  const logs = x.logs;
  if (!Array.isArray(logs)) throw new FastPathError("parseReceipt: no logs");
  return {
    hash: String(x.transactionHash).toLowerCase(),
    status: Number(quantity("parseReceipt: status", x.status)),
    blockNumber: Number(quantity("parseReceipt: blockNumber", x.blockNumber)),
    gasUsed: quantity("parseReceipt: gasUsed", x.gasUsed),
    to: typeof x.to === "string" ? x.to.toLowerCase() : null,
    logs: logs.map((l: Record<string, unknown>) => ({
      address: String(l.address).toLowerCase(),
      topics: (l.topics as string[]).map((t) => t.toLowerCase()),
      data: String(l.data),
    })),
  };
}
