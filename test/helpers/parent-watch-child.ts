/**
 * A child of test/util/parent-watch.test.ts's middle process: with PARENT_WATCH=1 it calls exitWithParent,
 * then tells its parent it is ready and spins in synchronous code forever (as a study worker in an analysis:
 * its event loop never turns, so it never sees its IPC channel close).
 */
import { exitWithParent } from "../../offchain/util/parent-watch";

if (process.env.PARENT_WATCH === "1") exitWithParent(100);
process.send!("ready", () => {
  for (;;) {
    /* busy, as an analysis is */
  }
});
