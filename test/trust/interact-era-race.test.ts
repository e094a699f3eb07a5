/**
 * s26-fxl L3: the rater's interaction log read the pair's era before its write. An agent whose era
 * read is older than the log it writes (its read came before a reclaim that another process has
 * already logged under: a node behind a load-balanced endpoint, or the reclaim and the other
 * process landing between its read and its write) set the log's new-era records aside as if they
 * were the old era's: moved to `past`, never rated. Now a log only moves forward: a record or a
 * settle whose era is older than the log's is refused in one line asking to run again, and the log
 * is left as it was. docs/specs/trust.md §8.1 ("The log is per era").
 *   nice -n 19 npx hardhat test test/trust/interact-era-race.test.ts
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { Provider } from "ethers";
import { deployTrustFixture, id, Kind } from "../fixtures/trust";
import { avatarOwner } from "../helpers/avatar-owner";
import { InteractionLog } from "../../offchain/trust/rater";
import type { EvidenceTerms } from "../../offchain/trust/evidence";
import { Keystore } from "../../offchain/storage/keystore";

const TERMS: EvidenceTerms = { latencyBoundMs: 200, terms: [{ id: "uptime", weight: 1 }] };
const tmpDir = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), `interact-era-race-${p}-`));
const obs = (k: number, at: number) => ({ request: `era race ${k}`, at, outcome: "success" as const, latencyMs: 10, kept: [true] });

/** The chain through a node that is `behind` blocks behind (its latest block is older): reads at the block it names are exact. */
function lagging(behind: number): Provider {
  const p = ethers.provider;
  const proxy: Provider = new Proxy(p, {
    get(target, prop) {
      if (prop === "getBlockNumber") return async () => (await target.getBlockNumber()) - behind;
      if (prop === "provider") return proxy;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as unknown as Provider;
  return proxy;
}

/** alice logs two interactions with fox while a squatter holds it; fox's owner reclaims it; the log is settled and alice logs two of the owner's. */
async function world() {
  const f = await deployTrustFixture();
  const { login, account, attest, fox } = await avatarOwner(f, "s26-fxl-l3");
  const aliceCtl = f.others[4];
  await f.trust.connect(aliceCtl).register(id("alice"), Kind.Avatar);
  const squatter = await account();
  await f.trust.connect(squatter).register(fox, Kind.Avatar);
  const folder = tmpDir("ks");
  const log = new InteractionLog(new Keystore(folder, "s26-fxl-l3-passphrase"));
  for (const k of [0, 1]) await log.record(f.trust, squatter, id("alice"), fox, TERMS, obs(k, (await time.latest()) + 1));
  const beforeReclaim = await ethers.provider.getBlockNumber();
  const owner = await account();
  await login(fox);
  const at = await attest(fox, owner);
  await f.trust.connect(owner).registerAttested(fox, Kind.Avatar, at.deadline, at.a);
  await time.increase(30);
  await log.settle(f.trust, id("alice"), fox);
  for (const k of [2, 3]) await log.record(f.trust, owner, id("alice"), fox, TERMS, obs(k, (await time.latest()) + 1));
  const behind = (await ethers.provider.getBlockNumber()) - beforeReclaim;
  return { f, fox, squatter, owner, folder, log, behind };
}

describe("s26-fxl L3: the interaction log only moves forward in eras", function () {
  this.timeout(300_000);

  it("control: the owner's two records are pending in the present era, the squatter's two set aside", async () => {
    const { fox, log } = await world();
    const l = log.get(id("alice"), fox)!;
    expect(l.records.map((r) => r.seq)).to.deep.equal([2, 3]);
    expect(l.past!.flatMap((p) => p.records.map((r) => r.seq))).to.deep.equal([0, 1]);
  });

  it("a record whose era read is older than the log's is refused (run again), and the new era's records stay pending", async () => {
    const { f, fox, squatter, folder, log, behind } = await world();
    const before = fs.readFileSync(path.join(folder, "trust-interactions.json"), "utf8");
    // another agent process of alice's, whose node has not seen the reclaim yet: it reads the old
    // era and the squatter as fox's controller, and the squatter signs its receipt
    const other = new InteractionLog(new Keystore(folder, "s26-fxl-l3-passphrase"));
    const tmBehind = f.trust.connect(lagging(behind));
    const got = await other.record(tmBehind, squatter, id("alice"), fox, TERMS, obs(4, (await time.latest()) + 1)).then(
      () => "logged",
      (e: Error) => e.message,
    );
    expect(got).to.match(
      /^InteractionLog\.record: the log of .* is of a later era \(\d+:\d+\) than the chain read \(\d+:\d+\); nothing logged: run again$/,
    );
    const l = log.get(id("alice"), fox)!;
    expect(
      l.records.map((r) => r.seq),
      "the owner's records are still pending",
    ).to.deep.equal([2, 3]);
    expect(
      l.past!.flatMap((p) => p.records.map((r) => r.seq)),
      "nothing more set aside",
    ).to.deep.equal([0, 1]);
    expect(fs.readFileSync(path.join(folder, "trust-interactions.json"), "utf8"), "the log file is unchanged").to.equal(before);
  });

  it("a settle whose era read is older than the log's is refused (run again) and changes nothing; a retry on the chain's present era has no second effect", async () => {
    const { f, fox, folder, log, behind } = await world();
    const before = fs.readFileSync(path.join(folder, "trust-interactions.json"), "utf8");
    const notices: string[] = [];
    const got = await log
      .settle(f.trust.connect(lagging(behind)), id("alice"), fox, (x) => notices.push(x))
      .then(
        () => "settled",
        (e: Error) => e.message,
      );
    expect(got).to.match(
      /^InteractionLog\.settle: the log of .* is of a later era \(\d+:\d+\) than the chain read \(\d+:\d+\); nothing changed: run again$/,
    );
    expect(notices).to.deep.equal([]);
    expect(fs.readFileSync(path.join(folder, "trust-interactions.json"), "utf8")).to.equal(before);
    // run again on an up-to-date node: the same pending log, nothing set aside
    const again = await log.settle(f.trust, id("alice"), fox, (x) => notices.push(x));
    expect(again!.records.map((r) => r.seq)).to.deep.equal([2, 3]);
    expect(notices).to.deep.equal([]);
  });

  it("s26-review L3: a log of another TrustManager (a deployment made anew in this folder) is set aside, not refused for good", async () => {
    const { fox, folder, log } = await world();
    expect(log.get(id("alice"), fox)!.era, "the old deployment's log is of a reclaimed era").to.not.equal("0:0");
    // `deploy --fresh` into the same data folder: a new TrustManager, whose generations start again
    const g = await deployTrustFixture();
    await g.trust.connect(g.others[4]).register(id("alice"), Kind.Avatar);
    const foxCtl = g.others[5];
    await g.trust.connect(foxCtl).register(fox, Kind.Avatar);
    const notices: string[] = [];
    const settled = await log.settle(g.trust, id("alice"), fox, (x) => notices.push(x));
    expect(settled?.records ?? [], "nothing pending for the new deployment").to.deep.equal([]);
    expect(notices.join("\n")).to.match(
      /2 logged record\(s\) are of an earlier era of the pair .* or of another deployment's TrustManager: set aside/,
    );
    // and the pair logs under the new deployment
    const rec = await log.record(g.trust, foxCtl, id("alice"), fox, TERMS, obs(9, (await time.latest()) + 1));
    const l = new InteractionLog(new Keystore(folder, "s26-fxl-l3-passphrase")).get(id("alice"), fox)!;
    expect(l.records.map((r) => r.seq)).to.deep.equal([rec.seq]);
    expect(l.past!.flatMap((p) => p.records.map((r) => r.seq))).to.deep.equal([0, 1, 2, 3]);
  });
});
