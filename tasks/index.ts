/** Registers every metatrust Hardhat task. */
import "./deploy";
import "./rsms";
import "./services";
import "./group";
import "./trust";
import "./dispute";
import "./avatar";
import "./mssa";
import "./sim";
import "./oracle-bound";
import "./verify";

import { installCliArgumentCheck, installCliErrors } from "./lib/cli";

/** Task families of metatrust (`deploy` overrides nothing of Hardhat's: it is ours too). */
const OURS = /^(deploy|deploy:verify|(rsms|group|trust|dispute|avatar|idp|mssa|sim|chain):.+)$/;
/** Tasks that need no chain state from an earlier command (the rest refuse the in-process network on the CLI). */
const IN_PROCESS = /^(deploy|sim:.+|mssa:channel)$/;
installCliErrors(
  (name) => OURS.test(name),
  (name) => IN_PROCESS.test(name),
);
installCliArgumentCheck((name) => OURS.test(name));
