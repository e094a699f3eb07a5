/** Registers every metatrust Hardhat task. */
import "./deploy";
import "./rsms";
import "./group";
import "./trust";
import "./dispute";
import "./avatar";
import "./mssa";
import "./sim";
