/** The crypto core: pure functions on bigint and Uint8Array, no I/O. */
export * as bytes from "./bytes";
export * as group from "./group";
export * as hash from "./hash";
export * as ecies from "./ecies";
export * as bls from "./bls";
export * as shamir from "./shamir";
export * as bloom from "./bloom";
export * as schnorr from "./schnorr";
