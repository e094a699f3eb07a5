/**
 * Scripted trust networks with honest entities and attackers, driven by a seeded PRNG: the unit
 * scenarios of the detector tests and the attack simulation (`sim:attacks`).
 *
 * Each round every entity interacts with a few partners and rates each from what it observed:
 * a good interaction is rated in [0.7, 1], a bad one in [0, 0.3].
 * - honest: good with probability q in [0.85, 1]; rates what it observes
 * - Sybil: identities of one controller; they praise each other and serve others badly
 * - on-off: good for `period` rounds, bad for `period` rounds, and so on
 * - bad-mouther: behaves well but rates honest partners low
 * - good-mouther: behaves well but rates malicious partners high (and colludes with them)
 */
import { Prng } from "../util/prng";
import type { RatingEvent } from "./detectors";

export type Role = "honest" | "sybil" | "onoff" | "badmouth" | "goodmouth";

export type ScenarioOptions = {
  nodes: number;
  sybils: number;
  onOff: number;
  badMouthers: number;
  goodMouthers: number;
  rounds: number;
  /** partners per entity per round */
  degree?: number;
  /** share of honest entities that are identity-verified seeds */
  seedShare?: number;
  /** on-off half-period in rounds */
  period?: number;
  /** seconds per round */
  roundSeconds?: number;
};

export type Scenario = {
  nodes: string[];
  roles: Map<string, Role>;
  seeds: Set<string>;
  affiliation: Map<string, string>;
  ratings: RatingEvent[];
};

/**
 * Generates a scenario.
 * @param o - sizes and behaviour
 * @param seed - PRNG seed
 */
export function generateScenario(o: ScenarioOptions, seed: number): Scenario {
  const rng = new Prng(seed);
  const degree = o.degree ?? 3;
  const period = o.period ?? 6;
  const roundSeconds = o.roundSeconds ?? 60;
  const roles = new Map<string, Role>();
  const nodes: string[] = [];
  const add = (role: Role, n: number) => {
    for (let i = 0; i < n; i++) {
      const id = `${role}-${i}`;
      nodes.push(id);
      roles.set(id, role);
    }
  };
  const honestCount = o.nodes - o.sybils - o.onOff - o.badMouthers - o.goodMouthers;
  if (honestCount < 1) throw new Error("generateScenario: more attackers than nodes");
  add("honest", honestCount);
  add("sybil", o.sybils);
  add("onoff", o.onOff);
  add("badmouth", o.badMouthers);
  add("goodmouth", o.goodMouthers);
  const quality = new Map(nodes.map((n) => [n, 0.85 + 0.15 * rng.next()]));
  const honest = nodes.filter((n) => roles.get(n) === "honest");
  const seeds = new Set(rng.shuffle([...honest]).slice(0, Math.max(1, Math.round((o.seedShare ?? 0.2) * honest.length))));
  const affiliation = new Map<string, string>();
  for (const n of nodes) affiliation.set(n, roles.get(n) === "sybil" ? "sybil-controller" : `self:${n}`);
  const malicious = (n: string) => ["sybil", "onoff"].includes(roles.get(n)!);
  const sybils = nodes.filter((n) => roles.get(n) === "sybil");
  const maliciousNodes = nodes.filter(malicious);
  const ratings: RatingEvent[] = [];
  const good = () => 0.7 + 0.3 * rng.next();
  const bad = () => 0.3 * rng.next();
  const behavesWell = (j: string, round: number): boolean => {
    switch (roles.get(j)) {
      case "sybil":
        return false;
      case "onoff":
        return Math.floor(round / period) % 2 === 0;
      default:
        return rng.chance(quality.get(j)!);
    }
  };
  for (let round = 0; round < o.rounds; round++) {
    const time = round * roundSeconds;
    for (const i of nodes) {
      for (let d = 0; d < degree; d++) {
        const role = roles.get(i)!;
        // Sybils mostly interact among themselves; good-mouthers often seek out the malicious.
        const j =
          role === "sybil" && sybils.length > 1 && rng.chance(0.8)
            ? rng.pick(sybils)
            : role === "goodmouth" && rng.chance(0.5)
              ? rng.pick(maliciousNodes.length ? maliciousNodes : nodes)
              : rng.pick(nodes);
        if (j === i) continue;
        const well = role === "sybil" && roles.get(j) === "sybil" ? true : behavesWell(j, round);
        let value = well ? good() : bad();
        if (role === "sybil" && roles.get(j) === "sybil") value = good();
        if (role === "badmouth" && roles.get(j) === "honest") value = bad();
        if (role === "goodmouth" && malicious(j)) value = good();
        ratings.push({ from: i, to: j, value, time });
      }
    }
  }
  return { nodes, roles, seeds, affiliation, ratings };
}
