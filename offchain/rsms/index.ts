/** RSMS §IV.A: resource nodes joining Metaverse service resource pools. */
export * from "./errors";
export * from "./messages";
export * from "./params";
export * from "./msrp";
export * from "./rpm";
export * from "./rn";
export * from "./ledger";
export * from "./flows";
export * from "./group";
export * from "./group-messages";
export * from "./group-flows";
