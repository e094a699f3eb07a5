/** Storage: content-addressed blocks (IPFS) and the agents' keystore. */
export * from "./content-store";
export * from "./keystore";
export * from "./errors";
