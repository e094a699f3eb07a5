/**
 * For test/e2e/join-crash.test.ts: `hardhat run test/helpers/join-settle.ts --network localhost`
 * joins the RN named by JOIN_SETTLE_RN at pool 1 and waits until its records are renamed into place
 * (Keystore `settled`), where the CLI would apply them synchronously at its exit: so a crash point
 * of the background apply (METATRUST_KEYSTORE_CRASH=applied-one) is reached.
 */
import hre from "hardhat";
import { settled } from "../../offchain/storage/keystore";

hre
  .run("rsms:join", { rn: process.env.JOIN_SETTLE_RN, pool: 1 })
  .then(() => settled())
  .then(
    () => {
      console.log("settled");
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
