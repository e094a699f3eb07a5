/**
 * Summarizes a V8 CPU profile (.cpuprofile, e.g. from `STEPS_PROFILE=<file>` in
 * bench/steps.bench.ts): self time by source (a node_modules package, or a project file), self
 * time by function, and the total (inclusive) time of the project's functions.
 *
 * Run: `npx ts-node scripts/profile-summary.ts <file.cpuprofile> [top=25]`
 */
import fs from "fs";

type Node = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
};
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

/** The source a frame belongs to: a package under node_modules, a project file, or node's own. */
function sourceOf(url: string): string {
  if (!url) return "(native / V8)";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith("node:")) return url;
  const root = url.indexOf("/offchain/") >= 0 ? url.indexOf("/offchain/") : url.indexOf("/tasks/");
  return root >= 0 ? url.slice(root + 1) : url.replace(/^file:\/\//, "");
}

function main() {
  const [file, topArg] = process.argv.slice(2);
  if (!file) throw new Error("profile-summary: give the .cpuprofile file");
  const top = Number(topArg ?? 25);
  const p = JSON.parse(fs.readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idle = [...selfUs.entries()]
    .filter(([id]) => ["(idle)", "(program)", "(garbage collector)"].includes(byId.get(id)!.callFrame.functionName))
    .map(([id, us]) => [byId.get(id)!.callFrame.functionName, us] as const);
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const bySource = new Map<string, number>();
  const byFn = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const f = n.callFrame;
    if (["(idle)", "(program)", "(garbage collector)"].includes(f.functionName)) {
      add(bySource, f.functionName, us);
      continue;
    }
    add(bySource, sourceOf(f.url), us);
    add(byFn, `${f.functionName || "(anonymous)"} ${sourceOf(f.url)}:${f.lineNumber + 1}`, us);
    // inclusive: every distinct project frame on the stack gets the sample once
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      const src = sourceOf(cf.url);
      if (!(src.startsWith("offchain/") || src.startsWith("tasks/"))) continue;
      const key = `${cf.functionName || "(anonymous)"} ${src}:${cf.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      add(inclusive, key, us);
    }
  }
  const ms = (us: number) => (us / 1000).toFixed(1).padStart(8);
  const print = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(us)} ms  ${k}`);
  };
  console.log(`${file}: ${(total / 1000).toFixed(1)} ms sampled; ${idle.map(([n, us]) => `${n} ${(us / 1000).toFixed(1)} ms`).join(", ")}`);
  print("self time by source", bySource);
  print("self time by function", byFn);
  print("total time of project functions (offchain/, tasks/)", inclusive);
}

main();
