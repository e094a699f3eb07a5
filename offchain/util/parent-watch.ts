/**
 * A child process that ends with its parent. Node gives a forked child no PR_SET_PDEATHSIG: a child
 * whose parent is killed alone (SIGKILL, or a crash) is adopted and runs on, and one that is busy in
 * synchronous code (a study's analysis: minutes at 50,000 nodes, gigabytes of heap) never sees its IPC
 * channel close until that code returns. A worker thread has its own event loop: it reads the parent's
 * pid (getppid(2), read afresh each time) every `everyMs` and, once the process has been adopted,
 * kills the whole process, whatever its main thread is doing.
 */
import { Worker } from "worker_threads";

/**
 * Ends this process (SIGKILL) within about `everyMs` of its parent's death. Call it once, in the child.
 * The watching thread holds no reference: the process exits as it would without it.
 * @param everyMs - how often the parent's pid is read (default 500 ms)
 * @returns the watching thread
 */
export function exitWithParent(everyMs = 500): Worker {
  if (!(Number.isInteger(everyMs) && everyMs >= 10))
    throw new RangeError(`exitWithParent: everyMs must be an integer >= 10, got ${everyMs}`);
  const w = new Worker(
    `const parent = ${process.ppid};
     const t = setInterval(() => { if (process.ppid !== parent) process.kill(${process.pid}, "SIGKILL"); }, ${everyMs});`,
    { eval: true },
  );
  w.unref();
  return w;
}
