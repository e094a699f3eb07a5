/** Crash-safe file writes: write a temporary file, fsync it, rename it over the target. */
import fs from "fs";
import path from "path";
import { randomBytes } from "crypto";

/**
 * Writes `data` to `file` atomically: readers see the old content or the new, never a half.
 * @param file - the target path (its folder is created)
 * @param data - the content
 * @param mode - the file mode: owner-only (0o600) unless the caller says the content is public (0o644).
 *   A service's state (reply caches, challenges, runs) is its operator's alone: private by default.
 */
export function writeFileAtomic(file: string, data: Uint8Array | string, mode = 0o600): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  const fd = fs.openSync(tmp, "wx", mode);
  try {
    fs.writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.chmodSync(file, mode);
}
