import { expect } from "chai";
import fs from "fs";
import path from "path";
import hre from "hardhat";
import { rejects, useTaskSandbox } from "./helpers/tasks";

describe("tasks: mssa:* (in-process network, one process)", function () {
  this.timeout(120_000);
  useTaskSandbox("metatrust-mssa-tasks-");

  it("register users at PL1 (as electors they become members), verify one, reject an eavesdropped registration", async () => {
    for (let u = 4; u <= 10; u++)
      await hre.run("mssa:register", {
        user: String(u),
        place: "PL1",
        info: `mail:u${u}@example.org,passport:UTO:P${u}`,
        eavesdrop: 0,
        decoys: 64,
        elector: true,
      });
    const v = await hre.run("mssa:verify", { user: "4", place: "PL1" });
    expect(v.verified).to.equal(true);
    expect((await rejects(hre.run("mssa:verify", { user: "11", place: "PL1" }))).message).to.match(/no access/);
    // a place nobody created is bad input (exit 2), not a refusal
    expect((await rejects(hre.run("mssa:verify", { user: "4", place: "PL9" }))).message).to.match(
      /^mssa:verify: --place PL9 is not a place/,
    );
    const e = await rejects(
      hre.run("mssa:register", { user: "11", place: "PL1", info: "mail:eve@example.org,passport:UTO:E11", eavesdrop: 1, decoys: 64 }),
    );
    // by the decoys, or (about 0.5% of runs: the eavesdropper's errors on 64 decoys within 11%) by the key confirmation
    expect(e.message).to.match(/decoy error rate .* (above the threshold|within the threshold .* but the key confirmation failed)/);
    expect((await rejects(hre.run("mssa:verify", { user: "11", place: "PL1" }))).message).to.match(/no access/);
    // registering twice is refused before anything is sent
    const again = await rejects(
      hre.run("mssa:register", { user: "4", place: "PL1", info: "mail:x,passport:UTO:P4", eavesdrop: 0, decoys: 64 }),
    );
    expect(again.message).to.match(/^mssa:register: --user 0x[0-9a-fA-F]{40} already has access to PL1$/);
  });

  it("one person, one elector (h11-red2 M1): the same passport at PL2 with another account is refused as an elector, nothing sent; access only is granted", async () => {
    const { AuthorityElection__factory } = await import("../typechain-types");
    const { deployedAddress } = await import("./../tasks/lib/context");
    const el = AuthorityElection__factory.connect(await deployedAddress(hre, "AuthorityElection"), hre.ethers.provider);
    // user 4 registered at PL1 as an elector above, with passport:UTO:P4
    const members = await el.memberCount();
    const signers = await hre.ethers.getSigners();
    const refused = await rejects(
      hre.run("mssa:register", {
        user: "11",
        place: "PL2",
        info: "mail:other@example.org,passport:UTO:P4",
        eavesdrop: 0,
        decoys: 64,
        elector: true,
      }),
    );
    expect(refused.message).to.equal(
      `mssa:register: --elector: this identity is an elector already, through ${signers[4].address}; register without --elector for access only`,
    );
    const { placeId } = await import("../offchain/mssa/registration");
    expect((await hre.run("mssa:verify", { user: "4", place: "PL1" })).verified).to.equal(true);
    // the proof names the verifier it is checked by (s20-redm F4): the operator by default, else --verifier
    expect(await hre.run("mssa:verify", { user: "4", place: "PL1", verifier: "3" })).to.deep.equal({
      verified: true,
      verifier: signers[3].address,
    });
    const { CredentialLedger__factory } = await import("../typechain-types");
    const ledger = CredentialLedger__factory.connect(await deployedAddress(hre, "CredentialLedger"), hre.ethers.provider);
    expect((await ledger.access(signers[11].address, placeId("PL2")))[0]).to.equal(false);
    expect((await ledger.place(placeId("PL2"))).threshold, "the refusal created no place").to.equal(0n);
    await hre.run("mssa:register", { user: "11", place: "PL2", info: "mail:other@example.org,passport:UTO:P4", eavesdrop: 0, decoys: 64 });
    expect((await ledger.access(signers[11].address, placeId("PL2")))[0]).to.equal(true);
    expect(await el.isMember(signers[11].address)).to.equal(false);
    expect(await el.memberCount()).to.equal(members);
  });

  it("a record left by an earlier deployment is replaced, not a reason to fail after spending gas", async () => {
    const signers = await hre.ethers.getSigners();
    const user = signers[12].address;
    const { placeId } = await import("../offchain/mssa/registration");
    const { Keystore } = await import("../offchain/storage/keystore");
    const ks = new Keystore(path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore"));
    const name = `mssa-${placeId("PL1").slice(2, 18)}-${user.toLowerCase()}`;
    ks.create(name, {
      place: placeId("PL1"),
      user,
      id: "0x" + "11".repeat(32),
      commitment: "0x" + "22".repeat(32),
      salt: "0x00",
      U12: "0",
    });
    const r = await hre.run("mssa:register", {
      user: "12",
      place: "PL1",
      info: "mail:u12@example.org,passport:UTO:P12",
      eavesdrop: 0,
      decoys: 64,
    });
    expect((ks.load(name) as { id: string; pending: boolean }).id).to.equal(r.id);
    expect((ks.load(name) as { pending: boolean }).pending).to.equal(false);
    expect((await hre.run("mssa:verify", { user: "12", place: "PL1" })).verified).to.equal(true);
  });

  it("runs an election round: nominate, close, vote, report, elect", async () => {
    // members: 3 genesis authorities + 7 registered users = 10 > 2m = 6
    const noms: [string, string][] = [
      ["4", "4"],
      ["5", "4"],
      ["6", "5"],
      ["7", "5"],
      ["8", "6"],
      ["9", "7"],
      ["10", "8"],
      ["1", "9"],
    ];
    // a non-member's nomination is refused before anything is sent: no round is opened behind it
    const before = (await hre.run("mssa:status")).round;
    expect((await rejects(hre.run("mssa:nominate", { from: "15", nominee: "4" }))).message).to.match(
      /^mssa:nominate: --from 0x[0-9a-fA-F]{40} is not a member/,
    );
    expect((await hre.run("mssa:status")).round).to.equal(before);
    // member 4 (the top nominee to be) misbehaves before its nomination: the detector (the
    // deployment's, role `detector`) reports 5 block-detection failures and 3 others, which count at
    // once; R = 0.7 is frozen for the vote (a report about a nominee made after her nomination waits
    // for the round's end, s20-redm F1)
    const signers = await hre.ethers.getSigners();
    const bad = signers[4].address;
    for (let i = 0; i < 5; i++) await hre.run("mssa:report", { node: "4", type: "block-detection", evidence: `d${i}` });
    for (let i = 0; i < 3; i++) await hre.run("mssa:report", { node: "4", type: "other", evidence: `o${i}` });
    expect((await rejects(hre.run("mssa:report", { node: "4", type: "lying" }))).message).to.match(/--type/);
    // the same evidence counts once
    // the same evidence counts once: refused from the report's state before anything is sent (s23-fxops)
    const blockR = await hre.ethers.provider.getBlockNumber();
    expect((await rejects(hre.run("mssa:report", { node: "4", type: "other", evidence: "o0" }))).message).to.equal(
      `mssa:report: the report of ${bad} for other with this --evidence is applied already (the same evidence counts once); nothing sent`,
    );
    expect((await rejects(hre.run("mssa:report", { node: "15", type: "other", evidence: "x" }))).message).to.equal(
      `mssa:report: --node ${signers[15].address} never was a member; nothing sent`,
    );
    expect(await hre.ethers.provider.getBlockNumber(), "a refused report was sent").to.equal(blockR);
    // the nominees others nominate accept first (s23-rtm F3); the first stand opens the round
    for (const m of ["5", "6", "7", "8", "9"]) await hre.run("mssa:stand", { from: m });
    for (const [from, nominee] of noms) await hre.run("mssa:nominate", { from, nominee });
    // a ballot before the vote opens is refused by stage, not by a count of candidates
    expect((await rejects(hre.run("mssa:vote", { from: "5", ranking: "0,1,2,3,4,5" }))).message).to.match(
      /^mssa:vote: round \d+ is nomination, not voting: `mssa:elect` closes the nomination after its deadline/,
    );
    // during the nomination the status gives the vote's end as "no earlier than": it runs a full
    // voting period from the close (s23-review finding 7)
    const printed: string[] = [];
    const quiet = console.log;
    console.log = (...x: unknown[]) => void printed.push(x.join(" "));
    let round: bigint;
    try {
      round = (await hre.run("mssa:status")).round;
    } finally {
      console.log = quiet;
    }
    expect(printed.join("\n")).to.match(
      new RegExp(`nomination until \\S+, then voting for [1-9]\\d* s from the close \\(mssa:elect\\), so until no earlier than \\S+`),
    );
    expect(printed.join("\n")).to.not.match(/voting until/);
    // refusals a read knows are made before anything is sent, in one line (s23-fxops finding 4)
    const block0 = await hre.ethers.provider.getBlockNumber();
    expect((await rejects(hre.run("mssa:nominate", { from: "4", nominee: "5" }))).message).to.equal(
      `mssa:nominate: --from ${signers[4].address} has nominated in round ${round} already (one nomination per member); nothing sent`,
    );
    expect((await rejects(hre.run("mssa:elect"))).message).to.match(
      new RegExp(`^mssa:elect: round ${round}'s nomination runs until \\S+: run it after; nothing sent$`),
    );
    expect(await hre.ethers.provider.getBlockNumber(), "a refused step was sent").to.equal(block0);
    await hre.run("chain:advance", { seconds: 3601 });
    expect((await rejects(hre.run("mssa:nominate", { from: "9", nominee: "5" }))).message).to.match(
      new RegExp(`^mssa:nominate: round ${round} is past its nomination deadline \\S+: \`mssa:elect\` closes it; nothing sent$`),
    );
    // standing past the deadline: refused naming the round, nothing sent (s23-review finding 8)
    const block1 = await hre.ethers.provider.getBlockNumber();
    expect((await rejects(hre.run("mssa:stand", { from: "10" }))).message).to.match(
      new RegExp(
        `^mssa:stand: round ${round} is past its nomination deadline \\S+: \`mssa:elect\` closes it, then stand in the next round; nothing sent$`,
      ),
    );
    expect(await hre.ethers.provider.getBlockNumber(), "a refused stand was sent").to.equal(block1);
    await hre.run("mssa:elect");
    const st = await hre.run("mssa:status");
    expect(st.stage).to.equal("voting");
    expect(st.candidates).to.have.length(6);
    // 2 x 0.3 = 0.6 votes: last of the six
    expect(st.candidates[5]).to.equal(bad);
    for (const from of ["4", "5", "6", "7", "8"]) await hre.run("mssa:vote", { from, ranking: "5,0,1,2,3,4" });
    expect((await rejects(hre.run("mssa:vote", { from: "4", ranking: "5,0,1,2,3,4" }))).message).to.equal(
      `mssa:vote: --from ${signers[4].address} has voted in round ${round} already; nothing sent`,
    );
    expect((await rejects(hre.run("mssa:vote", { from: "9", ranking: "0,1,2" }))).message).to.match(
      /^mssa:vote: --ranking 0,1,2: .*ranks all 6/,
    );
    const odd = await rejects(hre.run("mssa:vote", { from: "9", ranking: "0,1,2,x,4,5" }));
    expect(odd.message).to.match(/^mssa:vote: --ranking entry "x" is neither a candidate index nor a candidate's address/);
    expect(odd).to.be.instanceOf((await import("../tasks/lib/cli")).UsageError);
    // a report about a candidate during the vote waits for the round's end (s20-redm F1)
    const late = await hre.run("mssa:report", { node: st.candidates[0], type: "other", evidence: "late" });
    expect([late.state, late.deferredTo, late.ratio]).to.deep.equal(["applied", round, 0n]);
    await hre.run("chain:advance", { seconds: 3601 });
    expect((await rejects(hre.run("mssa:vote", { from: "9", ranking: "5,0,1,2,3,4" }))).message).to.match(
      new RegExp(`^mssa:vote: round ${round}'s vote ended at \\S+: \`mssa:elect\` elects; nothing sent$`),
    );
    const r = await hre.run("mssa:elect");
    expect(r.stage).to.equal("elected");
    expect(r.authorities).to.have.length(3);
    // 25 points x 0.3 = 7.5 < 20, 15, 10: first in every ballot, and out
    expect(r.authorities).to.not.include(bad);
    expect(r.authorities).to.deep.equal(st.candidates.slice(0, 3));
    // PL1's authorities (round 0's) no longer sit: a registration there is refused before any
    // transaction or keystore record (it used to leave a dangling proposal and lose the salt)
    const u13 = signers[13].address;
    const nonce = await hre.ethers.provider.getTransactionCount(signers[1].address); // PL1's proposing authority
    const refused = await rejects(
      hre.run("mssa:register", { user: "13", place: "PL1", info: "mail:u13@example.org,passport:UTO:P13", eavesdrop: 0, decoys: 64 }),
    );
    expect(refused.message).to.match(/^mssa:register: PL1 needs 2 approvals, but only 0 of its authorities .* sit in the current round$/);
    expect(await hre.ethers.provider.getTransactionCount(signers[1].address)).to.equal(nonce);
    const { placeId } = await import("../offchain/mssa/registration");
    expect(
      fs.existsSync(
        path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore", `mssa-${placeId("PL1").slice(2, 18)}-${u13.toLowerCase()}.json`),
      ),
    ).to.equal(false);
  });

  it("the detector, registrar and arbiter sign as the accounts the deployment names; another account is refused by role before anything is sent", async () => {
    const { RefusedError, UsageError, exitCodeOf, EXIT } = await import("../tasks/lib/cli");
    const d = JSON.parse(fs.readFileSync(path.join(process.env.METATRUST_DEPLOYMENTS_DIR!, "hardhat.json"), "utf8"));
    const [deployer] = await hre.ethers.getSigners();
    const nonce = await hre.ethers.provider.getTransactionCount(deployer.address);
    // the deployer holds none of the election's operator roles: it is refused as each of them
    const asDeployer = await rejects(hre.run("mssa:report", { node: "6", type: "other", from: "0", evidence: "by-deployer" }));
    expect(asDeployer.message).to.equal(
      `mssa:report: --from ${deployer.address} is neither a sitting authority nor the detector (the AuthorityElection's DETECTOR_ROLE; leave out --from to sign as it)`,
    );
    expect(asDeployer).to.be.instanceOf(RefusedError);
    expect(exitCodeOf(asDeployer)).to.equal(EXIT.refused);
    const r = await hre.run("mssa:report", { node: "6", type: "no-response", evidence: "silent-6" });
    expect(r.state).to.equal("applied");
    const before = r.counts[2];
    await hre.run("mssa:contest", { id: r.id, from: "6" });
    const wrong = await rejects(hre.run("mssa:resolve", { id: r.id, verdict: "dismiss", from: "0" }));
    expect(wrong.message).to.equal(
      `mssa:resolve: --from ${deployer.address} does not hold the AuthorityElection's ARBITER_ROLE (deployments/hardhat.json names ${d.roles.arbiter} as the arbiter; leave out --from to sign as it)`,
    );
    expect(wrong.message.split("\n")).to.have.length(1);
    expect(exitCodeOf(wrong)).to.equal(EXIT.refused);
    const enrol = await rejects(hre.run("mssa:enrol", { member: "15", document: "passport:UTO:T0000015", remove: false, from: "0" }));
    expect(enrol.message).to.match(/^mssa:enrol: --from 0x[0-9a-fA-F]{40} does not hold the AuthorityElection's REGISTRAR_ROLE \(/);
    expect(await hre.ethers.provider.getTransactionCount(deployer.address)).to.equal(nonce);
    // a malformed or unknown id is bad input, exit 2
    const badId = await rejects(hre.run("mssa:resolve", { id: "0x12", verdict: "dismiss" }));
    expect(badId).to.be.instanceOf(UsageError);
    const unknown = await rejects(hre.run("mssa:resolve", { id: "0x" + "ab".repeat(32), verdict: "dismiss" }));
    expect(unknown.message).to.equal(`mssa:resolve: --id 0x${"ab".repeat(32)} is no report`);
    expect(exitCodeOf(unknown)).to.equal(EXIT.input);
    // the arbiter (default) dismisses: the count is taken back
    const dismissed = await hre.run("mssa:resolve", { id: r.id, verdict: "dismiss" });
    expect(dismissed.state).to.equal("dismissed");
    expect(dismissed.counts[2]).to.equal(before - 1);
    // the registrar (default) enrols a member outside registration, as the elector of the person
    // behind her document, and removes it
    const enrolled = await hre.run("mssa:enrol", { member: "15", document: "passport:UTO:T0000015", remove: false });
    expect(enrolled.electorNullifier).to.match(/^0x[0-9a-f]{64}$/);
    expect((await hre.run("mssa:enrol", { member: "15", remove: true })).members).to.equal(enrolled.members - 1);
    // one person, one member (s20-redm F5): her document for a second account is refused before
    // anything is sent, and so is a genesis authority's (the deploy bound it from its document)
    await hre.run("mssa:enrol", { member: "15", document: "passport:UTO:T0000015", remove: false });
    const nonce15 = await hre.ethers.provider.getTransactionCount(d.roles.registrar);
    const twice = await rejects(hre.run("mssa:enrol", { member: "16", document: "passport:UTO:T0000015", remove: false }));
    expect(twice.message).to.match(/^mssa:enrol: this person is a member already, through 0x[0-9a-fA-F]{40}; one person, one member$/);
    expect(exitCodeOf(twice)).to.equal(EXIT.refused);
    const { devGenesisDocument } = await import("../offchain/chain/system");
    const { AuthorityElection__factory } = await import("../typechain-types");
    const { deployedAddress } = await import("../tasks/lib/context");
    const el = AuthorityElection__factory.connect(await deployedAddress(hre, "AuthorityElection"), deployer);
    const au1 = (await el.round(0)).authorities[0]; // authority:1, whose document is devGenesisDocument(1)
    const genesisPerson = await rejects(hre.run("mssa:enrol", { member: "16", document: devGenesisDocument(1), remove: false }));
    expect(genesisPerson.message).to.equal(`mssa:enrol: this person is a member already, through ${au1}; one person, one member`);
    expect(await hre.ethers.provider.getTransactionCount(d.roles.registrar)).to.equal(nonce15);
    // no nullifier, no member
    const bare = await rejects(hre.run("mssa:enrol", { member: "16", remove: false }));
    expect(bare).to.be.instanceOf(UsageError);
    expect(bare.message).to.equal(
      "mssa:enrol: give the member's identity document (--document) or her election nullifier (--elector-nullifier): every member carries one",
    );
  });

  it("a nomination stage with too few nominees aborts the round, and the next round opens", async () => {
    // member 5 does not stand: the nomination is refused in one line naming --nominee, and no round opens
    const before = (await hre.run("mssa:status")).round;
    const e = await rejects(hre.run("mssa:nominate", { from: "4", nominee: "5" }));
    expect(e.message).to.match(
      /^mssa:nominate: --nominee 0x[0-9a-fA-F]{40} does not stand in the next round: she accepts with mssa:stand --from 5$/,
    );
    expect((await hre.run("mssa:status")).round).to.equal(before);
    expect((await hre.run("mssa:stand", { from: "5" })).round).to.equal(before + 1n);
    await hre.run("mssa:nominate", { from: "4", nominee: "5" });
    await hre.run("chain:advance", { seconds: 3601 });
    const r = await hre.run("mssa:elect");
    expect(r.stage).to.equal("aborted");
    // standing is per round: in the next one she stands again
    await rejects(hre.run("mssa:nominate", { from: "4", nominee: "5" }));
    await hre.run("mssa:stand", { from: "5" });
    await hre.run("mssa:nominate", { from: "4", nominee: "5" });
    const st = await hre.run("mssa:status");
    expect(st.stage).to.equal("nomination");
  });

  it("mssa:channel reports the detection rate beside 1 - (3/4)^d", async () => {
    const r = await hre.run("mssa:channel", { eavesdrop: 1, decoys: 4, bits: 32, trials: 2000, threshold: 0 });
    expect(r.theory).to.be.closeTo(1 - 0.75 ** 4, 1e-12);
    expect(r.detection).to.be.closeTo(r.theory, 0.05);
    expect(r.errorRate).to.be.closeTo(0.25, 0.03);
  });

  it("mssa:channel: every flag is checked by name (bad input, exit 2), not reported as a bug", async () => {
    const { UsageError, exitCodeOf, EXIT } = await import("../tasks/lib/cli");
    const base = { eavesdrop: 1, decoys: 8, bits: 256, trials: 10, threshold: 0 };
    for (const [args, line] of [
      [{ eavesdrop: 2 }, "mssa:channel: --eavesdrop must be a fraction in [0, 1], got 2"],
      [{ threshold: -0.1 }, "mssa:channel: --threshold must be a fraction in [0, 1], got -0.1"],
      [{ decoys: 0 }, "mssa:channel: --decoys must be a positive integer, got 0"],
    ] as const) {
      const e = await rejects(hre.run("mssa:channel", { ...base, ...args }));
      expect(e).to.be.instanceOf(UsageError);
      expect(e.message).to.equal(line);
      expect(exitCodeOf(e)).to.equal(EXIT.input);
    }
  });
  it("mssa:register over the network: a bad --authorities, or a place with an authority that announced no endpoint, is bad input naming the flag or the place; nothing is sent", async () => {
    const { UsageError, exitCodeOf, EXIT } = await import("../tasks/lib/cli");
    const { deployedAddress } = await import("../tasks/lib/context");
    const { CredentialLedger__factory } = await import("../typechain-types");
    const { placeId } = await import("../offchain/mssa/registration");
    const signers = await hre.ethers.getSigners();
    const ledger = CredentialLedger__factory.connect(await deployedAddress(hre, "CredentialLedger"), signers[1]);
    const base = { user: "alice", info: "mail:a@example.org,passport:UTO:A1", eavesdrop: 0, decoys: 64 };
    const bad = await rejects(hre.run("mssa:register", { ...base, place: "PL1", authorities: "http://127.0.0.1:1,ftp://x" }));
    expect(bad).to.be.instanceOf(UsageError);
    expect(bad.message).to.equal('mssa:register: --authorities "ftp://x" is not a comma-separated list of http(s) URLs');
    // PL-half: its first authority runs a service and announced it; the second announced nothing
    await hre.run("mssa:place", { name: "PL-half", authorities: `${signers[1].address},${signers[2].address}` });
    await (await ledger.setAuthorityEndpoint(placeId("PL-half"), "http://127.0.0.1:1")).wait();
    const head = await ledger.head();
    const half = await rejects(hre.run("mssa:register", { ...base, place: "PL-half" }));
    expect(half).to.be.instanceOf(UsageError);
    expect(exitCodeOf(half)).to.equal(EXIT.input);
    expect(half.message).to.match(
      new RegExp(
        `^mssa:register: the authority ${signers[2].address} of PL-half announced no endpoint on-chain .*; give --authorities <url>,…$`,
      ),
    );
    expect(half.message.split("\n")).to.have.length(1);
    expect(await ledger.head()).to.deep.equal(head);
  });
  it("mssa:register: an --info whose passport is not in its canonical form, lacks one or has two, is bad input naming --info; nothing is written, sent or created (h12-red2 M1b)", async () => {
    const { UsageError, exitCodeOf, EXIT } = await import("../tasks/lib/cli");
    const { localState } = await import("../tasks/lib/context");
    const ks = localState(hre).keystore;
    const records = ks.list();
    const block = await hre.ethers.provider.getBlockNumber();
    for (const [info, why] of [
      ["mail:m@example.org,passport:UTO:\u04251234567", /U\+0425 \(character 5 after "passport:"\) is not an ASCII letter or digit/],
      ["mail:m@example.org,passport:X1234567", /no issuing state/],
      ["mail:m@example.org,passport:UTO:X_1", /the document number has "_"/],
      ["mail:m@example.org", /carry 0 "passport:" document/],
      ["passport:UTO:X1,passport:UTO:X2", /carry 2 "passport:" document/],
    ] as const)
      for (const extra of [{}, { elector: true }, { authorities: "http://127.0.0.1:1" }]) {
        const e = await rejects(hre.run("mssa:register", { user: "14", place: "PL-new-M1b", info, eavesdrop: 0, decoys: 64, ...extra }));
        expect(e, info).to.be.instanceOf(UsageError);
        expect(exitCodeOf(e)).to.equal(EXIT.input);
        expect(e.message).to.match(/^mssa:register: --info: /);
        expect(e.message).to.match(why);
        expect(e.message.split("\n")).to.have.length(1);
      }
    expect(ks.list()).to.deep.equal(records);
    expect(await hre.ethers.provider.getBlockNumber()).to.equal(block);
  });
  it("mssa:serve: a bad --public-url, or --peers naming an account that is not another authority of the place, is bad input naming the flag; nothing starts", async () => {
    const { UsageError } = await import("../tasks/lib/cli");
    const signers = await hre.ethers.getSigners();
    // a place whose first authority is the key `mssa:serve --account authority:1` signs with in this folder
    const { roleAccounts } = await import("../offchain/chain/accounts");
    const { localState } = await import("../tasks/lib/context");
    const me = (await roleAccounts(hre, localState(hre).keystore).key("authority:1")).address;
    await hre.run("mssa:place", { name: "PL-serve", authorities: `${me},${signers[2].address}` });
    const serve = { role: "authority", place: "PL-serve", account: "authority:1", port: 0 };
    const url = await rejects(hre.run("mssa:serve", { ...serve, publicUrl: "au1.example.org" }));
    expect(url).to.be.instanceOf(UsageError);
    expect(url.message).to.equal('mssa:serve: --public-url "au1.example.org" is not an http(s) URL of at most 256 bytes');
    const long = await rejects(hre.run("mssa:serve", { ...serve, publicUrl: `https://${"a".repeat(250)}.org` }));
    expect(long.message).to.match(/^mssa:serve: --public-url ".*" is not an http\(s\) URL of at most 256 bytes$/);
    const stranger = signers[5].address;
    const peers = await rejects(hre.run("mssa:serve", { ...serve, peers: `${stranger}=http://127.0.0.1:9` }));
    expect(peers).to.be.instanceOf(UsageError);
    expect(peers.message).to.equal(
      `mssa:serve: --peers names ${stranger.toLowerCase()}, which is not another authority of PL-serve on-chain`,
    );
  });
  it("mssa:serve: a bad --election-key is refused naming it before --place-key is imported (nothing written)", async () => {
    const signers = await hre.ethers.getSigners();
    const { roleAccounts } = await import("../offchain/chain/accounts");
    const { localState } = await import("../tasks/lib/context");
    const { placeKeyRecord } = await import("../offchain/services/mssa/authority-service");
    const ks = localState(hre).keystore;
    const me = (await roleAccounts(hre, ks).key("authority:1")).address;
    await hre.run("mssa:place", { name: "PL-serve-keys", authorities: `${me},${signers[2].address}` });
    const dir = fs.mkdtempSync(path.join(localState(hre).dir, "keys-"));
    const placeKey = path.join(dir, "place.key");
    const electionKey = path.join(dir, "election.key");
    fs.writeFileSync(placeKey, "11".repeat(32));
    fs.writeFileSync(electionKey, "not a key");
    const serve = { role: "authority", place: "PL-serve-keys", account: "authority:1", port: 0, placeKey, electionKey };
    const e = await rejects(hre.run("mssa:serve", serve));
    expect(e.message).to.equal(`mssa:serve: --election-key ${electionKey}: the key must be 32 bytes of hex (64 characters)`);
    expect(ks.exists(placeKeyRecord("PL-serve-keys")), "the place key was imported before the election key was refused").to.equal(false);
  });

  it("the election key must be the deployment's (s21-review1 finding 3): mssa:serve --election-key, a key its folder holds, mssa:enrol --document and mssa:register --elector refuse another, naming the flag, with nothing imported or sent; mssa:serve takes the deployment's", async () => {
    const signers = await hre.ethers.getSigners();
    const { UsageError, exitCodeOf, EXIT } = await import("../tasks/lib/cli");
    const { roleAccounts } = await import("../offchain/chain/accounts");
    const { localState } = await import("../tasks/lib/context");
    const { Keystore } = await import("../offchain/storage/keystore");
    const { ELECTION_KEY_RECORD, importElectionKey, loadElectionKey, placeKeyRecord } =
      await import("../offchain/services/mssa/authority-service");
    const { placeId } = await import("../offchain/mssa/registration");
    const deployerState = localState(hre);
    const deployed = Buffer.from(loadElectionKey(deployerState.keystore)!).toString("hex");
    const wrong = "a5".repeat(32);
    expect(deployed).to.not.equal(wrong);
    const meKey = await roleAccounts(hre, deployerState.keystore).key("authority:1");
    const me = meKey.address;
    await hre.run("mssa:place", { name: "PL-ekey", authorities: `${me},${signers[2].address}` });
    const dir = fs.mkdtempSync(path.join(deployerState.dir, "ekey-"));
    const file = (name: string, text: string) => (fs.writeFileSync(path.join(dir, name), text), path.join(dir, name));
    const placeKey = file("place.key", "22".repeat(32));
    const wrongFile = file("wrong.key", wrong);
    const rightFile = file("election.key", deployed);
    /**
     * mssa:serve's outcome: its error, or "started" once it listens (then stopped as SIGTERM stops
     * it), so that a check that let a wrong key through fails here instead of serving for ever.
     */
    const serveOutcome = async (args: Record<string, unknown>): Promise<Error | "started"> => {
      const before = process.listeners("SIGTERM").length;
      let settled: Error | "stopped" | undefined;
      const run = hre.run("mssa:serve", args).then(
        () => (settled = "stopped"),
        (x: Error) => (settled = x),
      );
      for (let i = 0; i < 600 && settled === undefined && process.listeners("SIGTERM").length === before; i++)
        await new Promise((ok) => setTimeout(ok, 100));
      if (settled instanceof Error) return settled;
      for (const l of process.listeners("SIGTERM").slice(before)) {
        process.removeListener("SIGTERM", l);
        (l as () => void)();
      }
      await run;
      return "started";
    };
    const saved = process.env.METATRUST_DATA_DIR;
    // the authority's folders hold its key through the environment, as on its own machine
    process.env.METATRUST_KEY_AUTHORITY_1 = meKey.privateKey;
    try {
      // an authority's own folder (fresh), given another key than the deployment's
      process.env.METATRUST_DATA_DIR = path.join(dir, "au1");
      const auKeys = new Keystore(path.join(dir, "au1", "hardhat", "keystore"));
      const serve = { role: "authority", place: "PL-ekey", account: "authority:1", port: 0, placeKey, electionKey: wrongFile };
      const e = await serveOutcome(serve);
      expect(e, "mssa:serve started with another key than the deployment's").to.be.instanceOf(UsageError);
      if (e === "started") return;
      expect(e.message).to.equal(
        `mssa:serve: --election-key ${wrongFile}: not the deployment's election key (its check value differs from deployments/hardhat.json's electionKeyCheck): use the file given to \`deploy --election-key\``,
      );
      expect(auKeys.exists(ELECTION_KEY_RECORD), "the wrong key was imported").to.equal(false);
      expect(auKeys.exists(placeKeyRecord("PL-ekey")), "the place key was imported").to.equal(false);
      // a folder that holds another key already (imported before this check existed) is refused too
      process.env.METATRUST_DATA_DIR = path.join(dir, "au-old");
      importElectionKey(new Keystore(path.join(dir, "au-old", "hardhat", "keystore")), wrong);
      const held = await serveOutcome({ ...serve, electionKey: undefined });
      expect(held, "mssa:serve started with another key than the deployment's").to.be.instanceOf(Error);
      if (held === "started") return;
      expect(held.message).to.match(
        /^mssa:serve: the election key this folder holds \(mssa-electionkey, from an earlier --election-key\): not the deployment's election key /,
      );
      // the deployment's key: imported, and the service runs (stopped here as SIGTERM stops it)
      process.env.METATRUST_DATA_DIR = path.join(dir, "au1");
      expect(await serveOutcome({ ...serve, electionKey: rightFile })).to.equal("started");
      expect(Buffer.from(loadElectionKey(auKeys)!).toString("hex")).to.equal(deployed);
    } finally {
      process.env.METATRUST_DATA_DIR = saved;
      delete process.env.METATRUST_KEY_AUTHORITY_1;
    }
    // the deployer's keystore holding another key: mssa:enrol --document and in-process
    // mssa:register --elector are refused before anything is sent or created
    const d = JSON.parse(fs.readFileSync(path.join(process.env.METATRUST_DEPLOYMENTS_DIR!, "hardhat.json"), "utf8"));
    const nonce = await hre.ethers.provider.getTransactionCount(d.roles.registrar);
    const deployerNonce = await hre.ethers.provider.getTransactionCount(signers[0].address);
    deployerState.keystore.update(ELECTION_KEY_RECORD, { key: wrong });
    try {
      const enrol = await rejects(hre.run("mssa:enrol", { member: "17", document: "passport:UTO:T0000017", remove: false }));
      expect(enrol.message).to.match(
        /^mssa:enrol: --document: this network's keystore's election key: not the deployment's election key \(its check value differs/,
      );
      expect(exitCodeOf(enrol)).to.equal(EXIT.refused);
      const reg = await rejects(
        hre.run("mssa:register", {
          user: "17",
          place: "PL-ekey2",
          info: "mail:x@example.org,passport:UTO:T0000017",
          eavesdrop: 0,
          decoys: 64,
          elector: true,
        }),
      );
      expect(reg.message).to.match(/^mssa:register: --elector: this folder's election key: not the deployment's election key /);
      expect(reg.message.split("\n")).to.have.length(1);
    } finally {
      deployerState.keystore.update(ELECTION_KEY_RECORD, { key: deployed });
    }
    expect(await hre.ethers.provider.getTransactionCount(d.roles.registrar), "the registrar sent").to.equal(nonce);
    expect(await hre.ethers.provider.getTransactionCount(signers[0].address), "the deployer sent").to.equal(deployerNonce);
    const { CredentialLedger__factory } = await import("../typechain-types");
    const { deployedAddress } = await import("../tasks/lib/context");
    const ledger = CredentialLedger__factory.connect(await deployedAddress(hre, "CredentialLedger"), hre.ethers.provider);
    expect((await ledger.place(placeId("PL-ekey2"))).threshold, "the refusal created a place").to.equal(0n);
    // with the deployment's key back, the same enrolment goes through
    expect((await hre.run("mssa:enrol", { member: "17", document: "passport:UTO:T0000017", remove: false })).enrolled).to.equal(true);
  });

  it("an authority removed from the members is no sitting authority for mssa:status, and a place mssa:register creates does not get it as an approver (h12-red E1)", async () => {
    const { placeId } = await import("../offchain/mssa/registration");
    const { AuthorityElection__factory, CredentialLedger__factory } = await import("../typechain-types");
    const { deployedAddress } = await import("../tasks/lib/context");
    const [operator] = await hre.ethers.getSigners();
    const el = AuthorityElection__factory.connect(await deployedAddress(hre, "AuthorityElection"), operator);
    const before: string[] = (await hre.run("mssa:status")).authorities;
    const gone = before[0];
    await hre.run("mssa:enrol", { member: gone, remove: true });
    expect(await el.isAuthority(gone)).to.equal(false);
    expect(await el.authorities(), "the sitting round's list as elected still names it").to.include(gone);
    const after: string[] = (await hre.run("mssa:status")).authorities;
    expect(after, "mssa:status lists a removed authority as sitting").to.deep.equal(before.slice(1));
    // a place created by the local mssa:register: its authorities are sitting ones
    await hre.run("mssa:register", { user: "12", place: "PL-E1", info: "mail:u12@example.org,passport:UTO:P12", eavesdrop: 0, decoys: 64 });
    const ledger = CredentialLedger__factory.connect(await deployedAddress(hre, "CredentialLedger"), operator);
    const aus = (await ledger.place(placeId("PL-E1"))).authorities;
    expect(aus, "the new place's approvers include the removed authority").to.not.include(gone);
    expect((await ledger.access(hre.ethers.getAddress((await hre.ethers.getSigners())[12].address), placeId("PL-E1"))).granted).to.equal(
      true,
    );
  });
});
