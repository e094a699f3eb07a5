import { expect } from "chai";
import { analyze } from "../../offchain/trust/robust";
import { AttackKind, detectAll, detectAllLegacy, detectSybils, type RatingEvent } from "../../offchain/trust/detectors";
import { InvalidParameterError } from "../../offchain/errors";
import { Prng } from "../../offchain/util/prng";

const DAY = 86_400;

/**
 * A small honest world: `n` honest entities (h0..), good providers except the listed bad ones,
 * each rating `k` random others per epoch for `epochs` epochs, values good U[0.7, 1], bad U[0, 0.3].
 */
function world(o: { n?: number; epochs?: number; k?: number; seed?: number; bad?: Set<string>; strict?: Map<string, number> } = {}) {
  const rng = new Prng(o.seed ?? 1);
  const n = o.n ?? 60;
  const nodes = Array.from({ length: n }, (_, i) => `h${i}`);
  const ratings: RatingEvent[] = [];
  const serve = (to: string) => (o.bad?.has(to) ? rng.chance(0.2) : rng.chance(0.95));
  for (let e = 0; e < (o.epochs ?? 20); e++)
    for (const from of nodes)
      for (let j = 0; j < (o.k ?? 3); j++) {
        const to = rng.pick(nodes);
        if (to === from) continue;
        const v = (serve(to) ? 0.7 + 0.3 * rng.next() : 0.3 * rng.next()) + (o.strict?.get(from) ?? 0);
        ratings.push({ from, to, value: Math.min(1, Math.max(0, v)), time: e * DAY + rng.int(DAY) });
      }
  ratings.sort((a, b) => a.time - b.time);
  return { nodes, ratings, seeds: new Set(nodes.slice(0, 12)) };
}
const kinds = (ds: { entity: string; kind: number }[], entity: string) => ds.filter((d) => d.entity === entity).map((d) => d.kind);

describe("trust/robust: detection that generalizes (issue 15)", () => {
  describe("# one observation per pair per epoch", () => {
    it("a flood of 200 ratings in one epoch weighs what one rating weighs, and its victim is not flagged", () => {
      const w = world();
      const flood: RatingEvent[] = Array.from({ length: 200 }, (_, i) => ({ from: "flooder", to: "h20", value: 0.02, time: 5 * DAY + i }));
      const a = analyze([...w.ratings, ...flood], [...w.nodes, "flooder"], w.seeds);
      const b = analyze([...w.ratings, flood[0]], [...w.nodes, "flooder"], w.seeds);
      expect(a.observations).to.equal(b.observations);
      expect(a.trust.get("h20")).to.be.closeTo(b.trust.get("h20")!, 1e-12);
      expect(kinds(a.detections, "h20")).to.deep.equal([]);
    });
  });

  describe("# ratings without evidence (docs/specs/trust.md §8)", () => {
    it("a flood by many raters without evidence moves its victim when the crowd counts in full; ignoring unevidenced ratings undoes it", () => {
      const w = world({ seed: 7 });
      const ev = w.ratings.map((r) => ({ ...r, evidence: true }));
      const flooders = Array.from({ length: 30 }, (_, i) => `f${i}`);
      // 30 flooders, each one rating of h20 per epoch, none backed by an interaction
      const flood: RatingEvent[] = flooders.flatMap((f, i) =>
        Array.from({ length: 20 }, (_, e) => ({ from: f, to: "h20", value: 0.05, time: e * DAY + 1000 + i, evidence: false })),
      );
      // the flooders are good providers themselves: honest raters (seeds included) rate their services
      const served: RatingEvent[] = flooders.flatMap((f, i) =>
        Array.from({ length: 20 }, (_, e) => ({ from: `h${(i + e) % 60}`, to: f, value: 0.9, time: e * DAY + 2000 + i, evidence: true })),
      );
      const all = [...ev, ...served, ...flood].sort((a, b) => a.time - b.time);
      const nodes = [...w.nodes, ...flooders];
      const clean = analyze(
        [...ev, ...served].sort((a, b) => a.time - b.time),
        nodes,
        w.seeds,
      ).trust.get("h20")!;
      // the 30 flooders are a majority of h20's raters: against a reference where the crowd counts in
      // full they are the consensus; against the seed-anchored reference (the default) they are flagged
      const counted = analyze(all, nodes, w.seeds, { anchor: Infinity, unevidenced: "count" });
      const ignored = analyze(all, nodes, w.seeds, { unevidenced: "ignore" });
      expect(clean - counted.trust.get("h20")!).to.be.greaterThan(0.2);
      const anchored = analyze(all, nodes, w.seeds);
      expect(flooders.filter((f) => !kinds(anchored.detections, f).includes(AttackKind.BadMouthing))).to.deep.equal([]);
      expect(ignored.trust.get("h20")).to.be.closeTo(clean, 1e-12);
      expect([counted.ignoredUnevidenced, ignored.ignoredUnevidenced]).to.deep.equal([0, flood.length]);
      // a rating whose evidence is unknown (undefined) is counted either way
      const unknown = analyze(w.ratings, w.nodes, w.seeds, { unevidenced: "ignore" });
      expect(unknown.ignoredUnevidenced).to.equal(0);
    });
  });

  describe("# evidence capacity: a crowd without evidence weighs at most `unevidencedCapacity` observations on a target", () => {
    // 30 unflagged flooders (the reference counts the crowd in full, so they are the consensus and no
    // unfair-rater test stops them): only the capacity bounds what they do to h20
    function floodWorld() {
      const w = world({ seed: 7 });
      const ev = w.ratings.map((r) => ({ ...r, evidence: true }));
      const flooders = Array.from({ length: 30 }, (_, i) => `f${i}`);
      const flood: RatingEvent[] = flooders.flatMap((f, i) =>
        Array.from({ length: 20 }, (_, e) => ({ from: f, to: "h20", value: 0.05, time: e * DAY + 1000 + i, evidence: false })),
      );
      const served: RatingEvent[] = flooders.flatMap((f, i) =>
        Array.from({ length: 20 }, (_, e) => ({ from: `h${(i + e) % 60}`, to: f, value: 0.9, time: e * DAY + 2000 + i, evidence: true })),
      );
      const byTime = (xs: RatingEvent[]) => xs.sort((a, b) => a.time - b.time);
      return {
        w,
        flooders,
        nodes: [...w.nodes, ...flooders],
        clean: byTime([...ev, ...served]),
        all: byTime([...ev, ...served, ...flood]),
      };
    }
    it("600 flood ratings from 30 raters move their victim by at most 0.05 (counted in full: more than 0.2)", () => {
      const { w, flooders, nodes, clean, all } = floodWorld();
      const o = { anchor: Infinity };
      const before = analyze(clean, nodes, w.seeds, o).trust.get("h20")!;
      const counted = analyze(all, nodes, w.seeds, { ...o, unevidenced: "count" }).trust.get("h20")!;
      const capped = analyze(all, nodes, w.seeds, o).trust.get("h20")!;
      expect(before - counted).to.be.greaterThan(0.2);
      expect(Math.abs(capped - before)).to.be.at.most(0.05);
      // the capacity is what bounds it: without one, "cap" counts the crowd in full
      const wide = analyze(all, nodes, w.seeds, { ...o, unevidencedCapacity: Infinity }).trust.get("h20")!;
      expect(wide).to.be.closeTo(counted, 1e-9);
      // and against a consensus the crowd no longer owns, every flooder is an unfair rater
      const flagged = new Set(
        analyze(all, nodes, w.seeds, o)
          .detections.filter((d) => d.kind === AttackKind.BadMouthing)
          .map((d) => d.entity),
      );
      expect(flooders.filter((f) => !flagged.has(f))).to.deep.equal([]);
      // a history where every rating carries evidence is analysed exactly as before
      const a = analyze(clean, nodes, w.seeds);
      const b = analyze(clean, nodes, w.seeds, { unevidenced: "count" });
      for (const x of nodes) expect(a.trust.get(x)).to.be.closeTo(b.trust.get(x)!, 1e-9);
    });
    it("bursts of bad ratings without evidence are no behaviour change of their target: two of them flag it on-off only when counted", () => {
      const w = world({ seed: 11 });
      const ev = w.ratings.map((r) => ({ ...r, evidence: true }));
      // two bursts against h25, each one rating from 15 different honest raters (each otherwise fair)
      const burst = (e: number, first: number): RatingEvent[] =>
        Array.from({ length: 15 }, (_, i) => ({
          from: `h${(first + i) % 60}`,
          to: "h25",
          value: 0.02,
          time: e * DAY + 500 + i,
          evidence: false,
        }));
      const all = [...ev, ...burst(5, 26), ...burst(14, 41)].sort((a, b) => a.time - b.time);
      const counted = analyze(all, w.nodes, w.seeds, { unevidenced: "count" });
      const capped = analyze(all, w.nodes, w.seeds);
      expect(kinds(counted.detections, "h25")).to.include(AttackKind.OnOff);
      expect(kinds(capped.detections, "h25")).to.deep.equal([]);
    });
  });

  describe("# SybilRank from the verified seeds", () => {
    // a 30-identity cluster praising itself, attached by three bought ratings of one bribed honest node
    function sybilWorld() {
      const w = world({ seed: 2 });
      const rng = new Prng(9);
      const sybils = Array.from({ length: 30 }, (_, i) => `s${i}`);
      const ratings = [...w.ratings];
      for (let e = 0; e < 20; e++) {
        for (const s of sybils)
          for (let j = 0; j < 3; j++) {
            const t = rng.pick(sybils);
            if (t !== s) ratings.push({ from: s, to: t, value: 0.95, time: e * DAY + 1 });
          }
      }
      for (const s of sybils.slice(0, 3)) ratings.push({ from: "h30", to: s, value: 0.95, time: DAY });
      ratings.sort((a, b) => a.time - b.time);
      return { ...w, ratings, nodes: [...w.nodes, ...sybils], sybils };
    }

    it("flags the whole cluster and no honest entity, where Eq. 37 is fooled by the three bought ratings", () => {
      const s = sybilWorld();
      const ds = analyze(s.ratings, s.nodes, s.seeds).detections;
      const sybilFlags = new Set(ds.filter((d) => d.kind === AttackKind.Sybil).map((d) => d.entity));
      expect(new Set(s.sybils)).to.deep.equal(sybilFlags);
      const vouched = ds.find((d) => d.entity === "s0")!;
      expect(vouched.evidence!.vouchers).to.include("h30");
      expect(vouched.evidence!.value).to.be.lessThan(vouched.evidence!.threshold as number);
      const eq37 = new Set(detectSybils(s.ratings, s.nodes, s.seeds).detections.map((d) => d.entity));
      expect(s.sybils.filter((x) => eq37.has(x)).length).to.be.lessThan(s.sybils.length / 2);
    });

    it("without verified seeds nothing is flagged Sybil", () => {
      const s = sybilWorld();
      expect(analyze(s.ratings, s.nodes, new Set()).detections.filter((d) => d.kind === AttackKind.Sybil)).to.deep.equal([]);
    });
  });

  describe("# iterated filtering of unfair raters", () => {
    it("a rater lying on a fifth of good services is flagged bad-mouthing; a strict honest rater is not", () => {
      const strict = new Map([["h5", -0.25]]);
      const w = world({ seed: 3, strict });
      const rng = new Prng(4);
      const ratings = w.ratings.map((r) => (r.from === "h7" && r.value >= 0.5 && rng.chance(0.2) ? { ...r, value: 0.1 } : r));
      const a = analyze(ratings, w.nodes, w.seeds);
      expect(kinds(a.detections, "h7")).to.deep.equal([AttackKind.BadMouthing]);
      expect(kinds(a.detections, "h5")).to.deep.equal([]);
      expect(a.weight.get("h7")).to.equal(0);
      const d = a.detections.find((x) => x.entity === "h7")!;
      expect(d.evidence!.value as number).to.be.at.least(d.evidence!.threshold as number);
      // every rating it cites is one h7 gave, with the value it gave
      for (const r of d.evidence!.ratings as { from: string; to: string; time: number; value: number }[]) {
        expect(r.from).to.equal("h7");
        expect(ratings.some((x) => x.from === "h7" && x.to === r.to && x.time === r.time && Math.abs(x.value - r.value) < 1e-4)).to.equal(
          true,
        );
      }
    });

    it("every member of a ring that praises bad members and bad-mouths a victim is flagged, both ways between them; the victim keeps its trust", () => {
      const bad = new Set(["h40", "h41", "h42", "h43"]);
      const w = world({ seed: 5, bad });
      const clean = analyze(w.ratings, w.nodes, w.seeds);
      const ring = [...bad];
      const ratings = [...w.ratings];
      // one lie for about three honest ratings, praise and blame in turn (a minority of each target's raters)
      for (let e = 0; e < 20; e++)
        for (const m of ring)
          if (e % 2 === 0) ratings.push({ from: m, to: ring[(ring.indexOf(m) + 1 + (e % 3)) % 4], value: 0.95, time: e * DAY + 7 });
          else ratings.push({ from: m, to: "h10", value: 0.05, time: e * DAY + 8 });
      ratings.sort((a, b) => a.time - b.time);
      const a = analyze(ratings, w.nodes, w.seeds);
      for (const m of ring) expect(kinds(a.detections, m), m).to.not.deep.equal([]);
      const ringKinds = new Set(ring.flatMap((m) => kinds(a.detections, m)));
      expect(ringKinds).to.deep.equal(new Set([AttackKind.BadMouthing, AttackKind.GoodMouthing]));
      expect(kinds(a.detections, "h10")).to.deep.equal([]);
      expect(Math.abs(a.trust.get("h10")! - clean.trust.get("h10")!)).to.be.lessThan(0.05);
    });
  });

  describe("# a reference anchored on the verified seeds", () => {
    it("colluders who are the majority of a target's raters are flagged, and the poor provider they boost stays below the honest median", () => {
      // h50..h59 rate honestly otherwise, but every epoch each praises poor provider h49 and buries good h48:
      // 10 colluder observations an epoch against about 3 honest ones, so the consensus of "the other raters" is theirs
      const w = world({ seed: 9, bad: new Set(["h49"]) });
      const colluders = Array.from({ length: 10 }, (_, x) => `h${50 + x}`);
      const stuffed = [...w.ratings];
      for (let e = 0; e < 20; e++)
        for (const c of colluders)
          stuffed.push({ from: c, to: "h49", value: 0.95, time: e * DAY + 100 }, { from: c, to: "h48", value: 0.05, time: e * DAY + 200 });
      stuffed.sort((a, b) => a.time - b.time);
      const a = analyze(stuffed, w.nodes, w.seeds);
      const flagged = new Set(a.detections.map((d) => d.entity));
      expect(
        colluders.filter((c) => !flagged.has(c)),
        "colluders not flagged",
      ).to.deep.equal([]);
      expect(flagged.has("h48"), "the buried victim is flagged").to.equal(false);
      const honest = w.nodes.filter((x) => !colluders.includes(x) && !["h48", "h49"].includes(x)).map((x) => a.trust.get(x)!);
      honest.sort((x, y) => x - y);
      expect(a.trust.get("h49")!).to.be.lessThan(honest[Math.floor(honest.length / 2)]);
      expect(a.trust.get("h48")!).to.be.greaterThan(0.5);
    });
  });

  describe("# lockstep groups (ballot stuffing)", () => {
    // h50..h59 rate honestly otherwise, but every epoch each praises poor providers h40, h41 and buries
    // good h42, h43; these four are quiet: only 3 honest ratings each over the whole run, none from a
    // seed, so no rater-vs-reference test can tell who is right (the red team's rt-ballot-stuff)
    const colluders = Array.from({ length: 10 }, (_, x) => `h${50 + x}`);
    const quiet = ["h40", "h41", "h42", "h43"];
    const stuffedWorld = (stuff: boolean) => {
      const w = world({ seed: 21, bad: new Set(["h40", "h41"]) });
      const kept = new Map(quiet.map((q) => [q, 0]));
      const ratings = w.ratings.filter((r) => {
        if (!kept.has(r.to)) return true;
        if (w.seeds.has(r.from) || colluders.includes(r.from) || kept.get(r.to)! >= 3) return false;
        kept.set(r.to, kept.get(r.to)! + 1);
        return true;
      });
      if (stuff)
        for (let e = 0; e < 20; e++)
          for (const [x, c] of colluders.entries()) {
            ratings.push(
              { from: c, to: "h40", value: 0.92, time: e * DAY + 300 + x },
              { from: c, to: "h41", value: 0.95, time: e * DAY + 400 + x },
            );
            ratings.push(
              { from: c, to: "h42", value: 0.05, time: e * DAY + 500 + x },
              { from: c, to: "h43", value: 0.08, time: e * DAY + 600 + x },
            );
          }
      ratings.sort((a, b) => a.time - b.time);
      return { ...w, ratings };
    };
    const medianOf = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

    it("a group that rates the same quiet targets every epoch is flagged, and its votes count as one voice: the boosted stay below the honest median, the buried keep their trust", () => {
      const w = stuffedWorld(true);
      const a = analyze(w.ratings, w.nodes, w.seeds);
      const flagged = new Set(a.detections.map((d) => d.entity));
      expect(
        colluders.filter((c) => !flagged.has(c)),
        "colluders not flagged",
      ).to.deep.equal([]);
      const honest = w.nodes.filter((x) => !colluders.includes(x) && !quiet.includes(x));
      expect(
        honest.filter((x) => flagged.has(x)),
        "honest flagged",
      ).to.deep.equal([]);
      const med = medianOf(honest.map((x) => a.trust.get(x)!));
      for (const b of ["h40", "h41"]) expect(a.trust.get(b)!, b).to.be.lessThan(med);
      const clean = analyze(stuffedWorld(false).ratings, w.nodes, w.seeds);
      for (const v of ["h42", "h43"]) expect(a.trust.get(v)! - clean.trust.get(v)!, v).to.be.greaterThan(-0.1);
      const d = a.detections.find((x) => x.entity === "h50")!;
      expect(d.evidence!.statistic).to.match(/lockstep/);
      expect(d.evidence!.targets).to.have.members(quiet);
      expect(a.lockstep.filter((g) => g.flagged).map((g) => [...g.members].sort())).to.deep.equal([[...colluders].sort()]);
    });

    it("honest regulars who rate the same popular providers every epoch, and agree with everyone else, are one voice but not flagged", () => {
      const w = world({ seed: 22 });
      const regulars = Array.from({ length: 8 }, (_, x) => `h${30 + x}`);
      const rng = new Prng(5);
      const ratings = [...w.ratings];
      for (let e = 0; e < 20; e++)
        for (const [x, r] of regulars.entries())
          for (const to of ["h1", "h2", "h3"])
            ratings.push({ from: r, to, value: rng.chance(0.95) ? 0.7 + 0.3 * rng.next() : 0.3 * rng.next(), time: e * DAY + 700 + x });
      ratings.sort((a, b) => a.time - b.time);
      const a = analyze(ratings, w.nodes, w.seeds);
      expect(a.lockstep.map((g) => ({ ...g, members: [...g.members].sort(), targets: [...g.targets].sort() }))).to.deep.equal([
        { members: [...regulars].sort(), targets: ["h1", "h2", "h3"], flagged: false, flaggedMembers: [] },
      ]);
      expect(a.detections.map((d) => d.entity).filter((x) => regulars.includes(x))).to.deep.equal([]);
      const med = medianOf(w.nodes.map((x) => a.trust.get(x)!));
      for (const p of ["h1", "h2", "h3"]) expect(a.trust.get(p)!, p).to.be.greaterThan(med - 0.1);
    });
  });

  describe("# lockstep groups: who is in a group, and what flags it (session 8)", () => {
    // h30..h37: honest regulars who rate the same two good providers h1, h2 every epoch (the red team's rt-loyal)
    const regulars = Array.from({ length: 8 }, (_, x) => `h${30 + x}`);
    const loyal = (o: { h2Served?: "well" | "badly"; poison?: string[] }) => {
      const w = world({ seed: 23 });
      const rng = new Prng(9);
      const ratings = [...w.ratings];
      const good = () => (rng.chance(0.95) ? 0.7 + 0.3 * rng.next() : 0.3 * rng.next());
      for (let e = 0; e < 20; e++) {
        for (const [x, r] of regulars.entries()) {
          ratings.push({ from: r, to: "h1", value: good(), time: e * DAY + 700 + x });
          // "badly": h2 serves this neighbourhood worse than everyone else (a congested local link)
          ratings.push({ from: r, to: "h2", value: o.h2Served === "badly" ? 0.3 * rng.next() : good(), time: e * DAY + 800 + x });
        }
        // attackers who join the group from epoch 3 and rate its targets low, enough to pull its mean below 0.5
        if (e >= 3)
          for (const [x, a] of (o.poison ?? []).entries())
            for (const to of ["h1", "h2"]) ratings.push({ from: a, to, value: 0.05 * rng.next(), time: e * DAY + 900 + x });
      }
      ratings.sort((a, b) => a.time - b.time);
      return { ...w, ratings };
    };

    it("attackers who join honest regulars and rate the group's targets the other way form their own group: they are flagged, the regulars are not, and the targets keep their trust", () => {
      const poison = Array.from({ length: 9 }, (_, x) => `h${50 + x}`);
      const w = loyal({ poison });
      const a = analyze(w.ratings, w.nodes, w.seeds);
      const flagged = new Set(a.detections.map((d) => d.entity));
      expect(
        regulars.filter((r) => flagged.has(r)),
        "honest regulars flagged",
      ).to.deep.equal([]);
      expect(
        poison.filter((x) => !flagged.has(x)),
        "attackers not flagged",
      ).to.deep.equal([]);
      const clean = analyze(loyal({}).ratings, w.nodes, w.seeds);
      for (const t of ["h1", "h2"]) expect(a.trust.get(t)! - clean.trust.get(t)!, t).to.be.greaterThan(-0.05);
      const groups = a.lockstep.map((g) => ({ members: [...g.members].sort(), flagged: g.flagged }));
      expect(groups).to.deep.include({ members: [...regulars].sort(), flagged: false });
      expect(groups).to.deep.include({ members: [...poison].sort(), flagged: true });
    });

    it("in a flagged group, a member is flagged only if its own ratings of the group's targets disagree with the reference (the group's voice left out)", () => {
      // h3, h4 are poor providers; h30..h37 rate them every epoch, honestly (mostly bad). Attackers rate
      // good h1, h2 and also h3, h4 low every epoch: by verdict, the regulars share h3 and h4 with them,
      // so they are one group, and its voice disagrees on h1 and h2
      const w = world({ seed: 24, bad: new Set(["h3", "h4"]) });
      const rng = new Prng(11);
      const attackers = Array.from({ length: 9 }, (_, x) => `h${50 + x}`);
      const ratings = [...w.ratings];
      for (let e = 0; e < 20; e++) {
        for (const [x, r] of regulars.entries())
          for (const to of ["h3", "h4"])
            ratings.push({ from: r, to, value: rng.chance(0.2) ? 0.7 + 0.3 * rng.next() : 0.3 * rng.next(), time: e * DAY + 700 + x });
        for (const [x, a] of attackers.entries())
          for (const to of ["h1", "h2", "h3", "h4"]) ratings.push({ from: a, to, value: 0.05 * rng.next(), time: e * DAY + 900 + x });
      }
      ratings.sort((a, b) => a.time - b.time);
      const a = analyze(ratings, w.nodes, w.seeds);
      const g = a.lockstep.find((x) => x.members.includes("h50"))!;
      expect(
        regulars.filter((r) => !g.members.includes(r)),
        "regulars outside the attackers' group",
      ).to.deep.equal([]);
      expect(g.flagged).to.equal(true);
      expect([...g.flaggedMembers].sort()).to.deep.equal([...attackers].sort());
      const flagged = new Set(a.detections.map((d) => d.entity));
      expect(
        regulars.filter((r) => flagged.has(r)),
        "honest regulars flagged",
      ).to.deep.equal([]);
      const d = a.detections.find((x) => x.entity === "h50")!;
      expect(d.evidence!.member).to.have.property("z").that.is.at.least(4);
    });

    it("regulars whose disagreement rests on one target (served worse locally than the seeds) are one voice but not flagged", () => {
      const w = loyal({ h2Served: "badly" });
      const a = analyze(w.ratings, w.nodes, w.seeds);
      expect(a.lockstep.map((g) => [...g.members].sort())).to.deep.equal([[...regulars].sort()]);
      expect(a.detections.map((d) => d.entity).filter((x) => regulars.includes(x))).to.deep.equal([]);
      // still one voice: h2's trust moves by what one observation weighs
      const clean = analyze(loyal({}).ratings, w.nodes, w.seeds);
      expect(a.trust.get("h2")! - clean.trust.get("h2")!).to.be.greaterThan(-0.05);
    });
  });

  describe("# behaviour change (CUSUM, windowed dispersion)", () => {
    it("an entity that turns bad is flagged on-off after its turn; a steadily bad provider is not", () => {
      const w = world({ seed: 6, bad: new Set(["h50"]) });
      const rng = new Prng(7);
      const ratings = w.ratings.map((r) => (r.to === "h51" && r.time >= 12 * DAY ? { ...r, value: rng.chance(0.9) ? 0.1 : 0.8 } : r));
      const a = analyze(ratings, w.nodes, w.seeds);
      const d = a.detections.find((x) => x.entity === "h51" && x.kind === AttackKind.OnOff)!;
      expect(d, JSON.stringify(a.detections)).to.not.equal(undefined);
      expect(d.detectedAt!).to.be.at.least(12 * DAY);
      expect(d.evidence!.value as number).to.be.at.least(d.evidence!.threshold as number);
      expect(kinds(a.detections, "h50")).to.deep.equal([]);
      expect(a.trust.get("h51")!).to.be.lessThan(0.2 * 0.8);
    });

    it("a provider whose service fails for 2 epochs and recovers is a notice, not a flag; one that fails again is flagged on-off", () => {
      // an outage (epochs 6-7 of 20): one change, then back to the long-run rate
      const outage = (r: RatingEvent, at: number) =>
        r.to === "h20" && Math.floor(r.time / DAY) >= at && Math.floor(r.time / DAY) < at + 2 ? { ...r, value: 0.1 } : r;
      const w = world({ seed: 8 });
      const once = analyze(
        w.ratings.map((r) => outage(r, 6)),
        w.nodes,
        w.seeds,
      );
      expect(kinds(once.detections, "h20"), JSON.stringify(once.detections.filter((d) => d.entity === "h20"))).to.deep.equal([]);
      const note = once.notices.find((d) => d.entity === "h20" && d.kind === AttackKind.OnOff)!;
      expect(note, "the change is reported as a notice").to.not.equal(undefined);
      expect(note.evidence!.episodes as unknown[]).to.have.length(1);
      // the same outage, and a second one after recovery: a return to bad after recovery is on-off
      const twice = analyze(
        w.ratings.map((r) => outage(outage(r, 6), 14)),
        w.nodes,
        w.seeds,
      );
      const d = twice.detections.find((x) => x.entity === "h20" && x.kind === AttackKind.OnOff)!;
      expect(d, JSON.stringify(twice.notices)).to.not.equal(undefined);
      expect(d.detectedAt!).to.be.at.least(14 * DAY);
    });

    it("once one episode is found, a second change is tested at recurrenceAlpha (0.02): partial failures that recur are flagged more often than at alpha, honest entities almost never", () => {
      // h20 fails 45% of its services in 1-2 epoch bursts and recovers between them; h30-h32 use it every epoch
      const honest: string[] = [];
      const flaggedAt = (recurrenceAlpha?: number) => {
        let n = 0;
        for (let seed = 9; seed <= 16; seed++)
          for (const bursts of [
            [5, 6, 15, 16, 25, 26],
            [6, 14, 22],
          ]) {
            const w = world({ seed, epochs: 30 });
            const rng = new Prng(seed + 50);
            const extra = Array.from({ length: 30 }, (_, e) =>
              ["h30", "h31", "h32"].map((from) => ({ from, to: "h20", value: rng.chance(0.95) ? 0.8 : 0.2, time: e * DAY + rng.int(DAY) })),
            ).flat();
            const burst = new Prng(seed + 100);
            const ratings = [...w.ratings, ...extra]
              .sort((x, y) => x.time - y.time)
              .map((r) => (r.to === "h20" && bursts.includes(Math.floor(r.time / DAY)) && burst.chance(0.45) ? { ...r, value: 0.1 } : r));
            // the recurrence rule in isolation: without the one-change-point GLR, which flags some of these
            // bursty failures (a worse second half) without needing a second episode
            const a = analyze(ratings, w.nodes, w.seeds, { glr: false, ...(recurrenceAlpha ? { recurrenceAlpha } : {}) });
            honest.push(...a.detections.filter((d) => d.entity !== "h20").map((d) => `${d.entity} (seed ${seed}): ${d.reason}`));
            if (a.detections.some((d) => d.entity === "h20" && d.kind === AttackKind.OnOff)) n++;
          }
        return n;
      };
      const atAlpha = flaggedAt(0.01);
      const atDefault = flaggedAt();
      expect(atDefault, `${atDefault} of 16 at 0.02, ${atAlpha} at 0.01`).to.be.greaterThan(atAlpha);
      // 59 honest entities in 16 worlds, twice: about alpha x recurrenceAlpha of them may recur by chance
      // (each world is used for both burst patterns: count an honest entity of a world once)
      expect(new Set(honest).size, honest.join("\n")).to.be.at.most(1);
    });

    it("two failures close together are two episodes when the service recovered between them (recovery inside the CUSUM's segment)", () => {
      const w = world({ seed: 8 });
      const fails = (e: number) => (e >= 6 && e < 9) || (e >= 14 && e < 16);
      const ratings = w.ratings.map((r) => (r.to === "h20" && fails(Math.floor(r.time / DAY)) ? { ...r, value: 0.1 } : r));
      const a = analyze(ratings, w.nodes, w.seeds);
      const d = a.detections.find((x) => x.entity === "h20" && x.kind === AttackKind.OnOff)!;
      expect(d, JSON.stringify(a.notices.filter((x) => x.entity === "h20"))).to.not.equal(undefined);
      expect(d.evidence!.episodes as unknown[]).to.have.length(2);
    });

    it("honest worlds with bad providers and a strict rater: at most 5% flagged, never the bad providers or the strict rater", () => {
      const flagged: string[] = [];
      for (const seed of [11, 12, 13]) {
        const w = world({ seed, bad: new Set(["h1", "h2"]), strict: new Map([["h3", -0.25]]) });
        const f = detectAll(w.ratings, w.nodes, w.seeds).map((d) => d.entity);
        expect(
          f.filter((x) => ["h1", "h2", "h3"].includes(x)),
          `seed ${seed}`,
        ).to.deep.equal([]);
        flagged.push(...f);
      }
      expect(new Set(flagged).size / 180, flagged.join()).to.be.at.most(0.05);
    });
  });

  describe("# work is linear in the ratings", () => {
    // ratings of one target by distinct raters, one per second; 8x the ratings must cost well under
    // 64x the time (quadratic); the bound 24 leaves room for a loaded machine
    const ratingsOf = (n: number): RatingEvent[] =>
      Array.from({ length: n }, (_, i) => ({ from: `r${i % 5000}`, to: "target", value: i % 7 === 0 ? 0.2 : 0.9, time: i }));
    const best = (f: () => void) => {
      let b = Infinity;
      for (let k = 0; k < 3; k++) {
        const t0 = performance.now();
        f();
        b = Math.min(b, performance.now() - t0);
      }
      return b;
    };
    const nodes = ["target", ...Array.from({ length: 5000 }, (_, i) => `r${i}`)];
    for (const [name, f] of [
      ["detectAll", (r: RatingEvent[]) => detectAll(r, nodes, new Set(["r0"]))],
      ["detectAllLegacy", (r: RatingEvent[]) => detectAllLegacy(r, nodes, new Set(["r0"]))],
    ] as const)
      it(`${name}: 8x the ratings of one target costs less than 24x the time`, function () {
        this.timeout(120_000);
        const small = ratingsOf(4_000);
        const large = ratingsOf(32_000);
        f(small); // warm up the JIT
        const ratio = best(() => f(large)) / best(() => f(small));
        expect(ratio, `time ratio ${ratio.toFixed(1)}`).to.be.lessThan(24);
      });
  });

  it("rejects bad options with the function's name", () => {
    expect(() => analyze([], [], new Set(), { epochSeconds: 0 })).to.throw(InvalidParameterError, /^analyze: epochSeconds/);
    expect(() => analyze([], [], new Set(), { tau: 1 })).to.throw(InvalidParameterError, /^analyze: tau/);
    expect(() => analyze([], [], new Set(), { alpha: 0 })).to.throw(InvalidParameterError, /^analyze: z > 0/);
    expect(() => analyze([], [], new Set(), { penalty: 2 })).to.throw(InvalidParameterError, /^analyze: penalty/);
    expect(() => analyze([], [], new Set(), { recurrenceAlpha: 0 })).to.throw(InvalidParameterError, /^analyze: recurrenceAlpha/);
    expect(() => analyze([], [], new Set(), { lockstepRaters: 1 })).to.throw(InvalidParameterError, /^analyze: lockstepRaters/);
    expect(() => analyze([], [], new Set(), { unevidenced: "drop" as "ignore" })).to.throw(InvalidParameterError, /^analyze: unevidenced/);
    expect(() => analyze([], [], new Set(), { unevidencedCapacity: -1 })).to.throw(InvalidParameterError, /^analyze: unevidencedCapacity/);
  });
});
