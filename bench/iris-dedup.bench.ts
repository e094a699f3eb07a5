/**
 * One person, one MIT (issue 15): what the IdP's duplicate-enrollment check costs and how often
 * the SIMULATED sensor would lock an honest person out. `npx hardhat run bench/iris-dedup.bench.ts`
 * (PEOPLE=400 SIZES=0,1000,10000 by default). Writes bench/results/iris-dedup.md.
 *
 * - False match: every pair of `PEOPLE` different simulated people, one capture each, compared by
 *   login's rule (irisMatch, Hamming distance < 0.32): a match would refuse an honest newcomer.
 * - False non-match: two captures of each person's eye: a non-match would let a whitewasher in.
 * - Cost: issueUser for a new person with N enrollments held (the check is linear in N), beside the
 *   same call on an empty IdP (the proof-of-possession pairing check dominates there).
 */
import fs from "fs";
import path from "path";
import { IdentityProvider } from "../offchain/avatars/agents";
import { SimulatedEye, hammingDistance, MATCH_THRESHOLD } from "../offchain/avatars/iris";
import { cpsKeyGen, cpsProvePossession, encodePk } from "../offchain/crypto/cps";
import { toHex } from "../offchain/crypto/bytes";
import { machine } from "./lib";

const PEOPLE = Number(process.env.PEOPLE ?? 400);
const SIZES = (process.env.SIZES ?? "0,1000,10000").split(",").map(Number);

function main(): void {
  const lines: string[] = ["# IdP duplicate-enrollment check (SIMULATED iris sensor)", ""];
  // error rates
  const eyes = Array.from({ length: PEOPLE }, (_, i) => new SimulatedEye(50_000 + i));
  const first = eyes.map((e) => e.capture());
  const second = eyes.map((e) => e.capture());
  let falseMatch = 0;
  let minImpostor = 1;
  let sumImpostor = 0;
  let pairs = 0;
  for (let i = 0; i < PEOPLE; i++)
    for (let j = i + 1; j < PEOPLE; j++) {
      const d = hammingDistance(first[i], first[j]);
      if (d < MATCH_THRESHOLD) falseMatch++;
      minImpostor = Math.min(minImpostor, d);
      sumImpostor += d;
      pairs++;
    }
  let falseNonMatch = 0;
  let maxGenuine = 0;
  for (let i = 0; i < PEOPLE; i++) {
    const d = hammingDistance(first[i], second[i]);
    if (d >= MATCH_THRESHOLD) falseNonMatch++;
    maxGenuine = Math.max(maxGenuine, d);
  }
  lines.push(
    `${PEOPLE} simulated people, threshold ${MATCH_THRESHOLD}:`,
    `- false matches: ${falseMatch} of ${pairs} impostor pairs (min distance ${minImpostor.toFixed(3)}, mean ${(sumImpostor / pairs).toFixed(3)})`,
    `- false non-matches: ${falseNonMatch} of ${PEOPLE} second enrollments (max genuine distance ${maxGenuine.toFixed(3)})`,
    "",
    `Timings measured ${new Date().toISOString()} on ${machine()}; median of 7.`,
    "",
    "| enrollments held | issueUser, new person (median ms) | of which the check (ms) |",
    "|---:|---:|---:|",
  );
  // cost
  const keys = cpsKeyGen(4242n);
  const pop = cpsProvePossession(keys);
  const pk = toHex(encodePk(keys.pk));
  let base = 0;
  for (const n of SIZES) {
    const users = Array.from({ length: n }, (_, i) => {
      const serial = toHex(Uint8Array.from({ length: 32 }, (_, k) => (k < 4 ? (i >> (8 * k)) & 0xff : 7)));
      const template = toHex(new SimulatedEye(1_000_000 + i).capture());
      return { uid: serial, realId: `p${i}`, serial, template, salt: serial, commitment: serial, pk };
    });
    const rec = { ...new IdentityProvider(1n).toRecord(), users };
    const xs: number[] = [];
    for (let r = 0; r < 7; r++) {
      const idp = IdentityProvider.fromRecord(rec);
      const enrollment = new SimulatedEye(9_000_000 + r).capture();
      const t = performance.now();
      idp.issueUser("newcomer", keys.pk, pop, enrollment);
      xs.push(performance.now() - t);
    }
    const m = xs.sort((a, b) => a - b)[3];
    if (n === 0) base = m;
    lines.push(`| ${n} | ${m.toFixed(1)} | ${(m - base).toFixed(1)} |`);
  }
  const out = lines.join("\n") + "\n";
  process.stdout.write(out);
  fs.mkdirSync(path.join(__dirname, "results"), { recursive: true });
  fs.writeFileSync(path.join(__dirname, "results", "iris-dedup.md"), out);
}

main();
