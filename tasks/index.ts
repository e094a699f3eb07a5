/** Registers every metatrust Hardhat task. */
import "./deploy";
