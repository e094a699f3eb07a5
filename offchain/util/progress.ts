/**
 * A one-line progress bar on stderr for long simulations (redrawn in place on a terminal, one line
 * per 10% otherwise, so CI logs stay short).
 */
export function progressBar(label: string, width = 30): (fraction: number) => void {
  const tty = process.stderr.isTTY;
  let lastTenth = -1;
  return (f: number) => {
    const x = Math.max(0, Math.min(1, f));
    const filled = Math.round(x * width);
    const line = `${label} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${(x * 100).toFixed(0).padStart(3)}%`;
    if (tty) process.stderr.write(`\r${line}${x >= 1 ? "\n" : ""}`);
    else if (Math.floor(x * 10) > lastTenth) {
      lastTenth = Math.floor(x * 10);
      process.stderr.write(line + "\n");
    }
  };
}
