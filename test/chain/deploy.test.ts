import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import hre from "hardhat";
import { deploySystem } from "../../offchain/chain/deploy";
import { readDeployment, DeploymentNotFoundError } from "../../offchain/chain/deployments";
import { probeEip2537 } from "../../offchain/chain/eip2537";
import { expectThrows } from "../helpers/errors";

describe("chain/deploy", () => {
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    for (const k of ["METATRUST_DEPLOYMENTS_DIR", "METATRUST_DATA_DIR"]) saved[k] = process.env[k];
    process.env.METATRUST_DEPLOYMENTS_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-dep-"));
    process.env.METATRUST_DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-data-"));
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });

  it("the in-process network runs EIP-2537 (probed against noble)", async () => {
    expect(await probeEip2537(hre.ethers.provider)).to.equal(true);
  });

  it("a provider without the precompiles (empty return data, as under cancun) is detected", async () => {
    expect(await probeEip2537({ call: async () => "0x" })).to.equal(false);
    expect(await probeEip2537({ call: async () => "0x" + "00".repeat(31) + "01" })).to.equal(false); // says yes to everything
  });

  it("the deploy task writes the record that readDeployment returns", async () => {
    const d = await hre.run("deploy", { quiet: true });
    const back = readDeployment("hardhat");
    expect(back).to.deep.equal(d);
    expect(back.chainId).to.equal(31337);
    expect(back.eip2537).to.equal(true);
    const [deployer] = await hre.ethers.getSigners();
    expect(back.deployer).to.equal(deployer.address);
    for (const c of Object.values(back.contracts)) expect(await hre.ethers.provider.getCode(c.address)).to.not.equal("0x");
  });

  it("deploy again: an up-to-date record is kept and nothing is sent; --fresh deploys anew", async () => {
    const [deployer] = await hre.ethers.getSigners();
    const first = await hre.run("deploy", { quiet: true });
    expect(first.complete).to.equal(true);
    expect(first.contracts.TrustManager.args).to.have.length(4); // constructor arguments are recorded
    expect(first.contracts.TrustManager.abi).to.deep.equal((await hre.artifacts.readArtifact("TrustManager")).abi); // and the ABI
    expect(first.contracts.TrustManager.bytecodeHash).to.match(/^0x[0-9a-f]{64}$/);
    const nonce = await hre.ethers.provider.getTransactionCount(deployer.address);
    const again = await hre.run("deploy", { quiet: true });
    expect(again).to.deep.equal(first);
    expect(await hre.ethers.provider.getTransactionCount(deployer.address)).to.equal(nonce);
    const fresh = await hre.run("deploy", { quiet: true, fresh: true });
    expect(fresh.contracts.TrustManager.address).to.not.equal(first.contracts.TrustManager.address);
  });

  it("an interrupted deployment resumes: recorded contracts are kept, the rest deployed and wired", async () => {
    const [deployer] = await hre.ethers.getSigners();
    const full = await hre.run("deploy", { quiet: true, fresh: true });
    // as if the run had stopped after the first two contracts (the RSMS registries, which no later step wires)
    const names = Object.keys(full.contracts);
    const partial = {
      ...full,
      complete: false,
      wired: [],
      contracts: Object.fromEntries(names.slice(0, 2).map((n) => [n, full.contracts[n]])),
    };
    fs.writeFileSync(path.join(process.env.METATRUST_DEPLOYMENTS_DIR!, "hardhat.json"), JSON.stringify(partial));
    const nonce = await hre.ethers.provider.getTransactionCount(deployer.address);
    const resumed = await hre.run("deploy", { quiet: true });
    expect(resumed.complete).to.equal(true);
    for (const n of names.slice(0, 2)) expect(resumed.contracts[n].address).to.equal(full.contracts[n].address);
    for (const n of names.slice(2)) expect(resumed.contracts[n].address).to.not.equal(full.contracts[n].address);
    expect(await hre.ethers.provider.getTransactionCount(deployer.address)).to.be.greaterThan(nonce + names.length - 2 - 1);
    expect(readDeployment("hardhat")).to.deep.equal(resumed);
  });

  it("a kept MITRegistry whose COURT_ROLE is bound to another court than the deployment's DisputeResolution is refused in one line naming both, before anything is sent (session 16's final read)", async () => {
    const [deployer] = await hre.ethers.getSigners();
    const full = await hre.run("deploy", { quiet: true, fresh: true });
    // as if the DisputeResolution had been dropped from the record: the resumed run deploys a new one,
    // while the kept registry's court stays the first one (the role binds once)
    const { DisputeResolution: old, ...kept } = full.contracts as Record<string, { address: string }>;
    const partial = {
      ...full,
      complete: false,
      wired: (full.wired as string[]).filter((n) => n !== "DisputeResolution"),
      contracts: kept,
    };
    fs.writeFileSync(path.join(process.env.METATRUST_DEPLOYMENTS_DIR!, "hardhat.json"), JSON.stringify(partial));
    let err: Error | undefined;
    await hre.run("deploy", { quiet: true }).catch((e: Error) => (err = e));
    const record = JSON.parse(fs.readFileSync(path.join(process.env.METATRUST_DEPLOYMENTS_DIR!, "hardhat.json"), "utf8")) as {
      contracts: Record<string, { address: string }>;
      wired: string[];
      complete: boolean;
    };
    const fresh = record.contracts.DisputeResolution.address;
    expect(err?.message).to.equal(
      `deploy: the MITRegistry ${full.contracts.MITRegistry.address} binds COURT_ROLE to ${old.address}, not the deployment's DisputeResolution ${fresh} (a court binds once: only a new MITRegistry takes another, and \`deploy --fresh\` redeploys every contract, leaving all on-chain state behind)`,
    );
    expect([record.complete, record.wired.includes("DisputeResolution")]).to.deep.equal([false, false]);
    // nothing was sent to wire it: the new court holds neither role
    const mit = await hre.ethers.getContractAt("MITRegistry", full.contracts.MITRegistry.address, deployer);
    const tm = await hre.ethers.getContractAt("TrustManager", full.contracts.TrustManager.address, deployer);
    expect(await mit.hasRole(await mit.COURT_ROLE(), fresh)).to.equal(false);
    expect(await tm.hasRole(await tm.FEEDBACK_ROLE(), fresh)).to.equal(false);
  });

  it("a record whose artifact changed is refused by name instead of silently reused", async () => {
    const d = await hre.run("deploy", { quiet: true, fresh: true });
    d.contracts.TrustManager.bytecodeHash = "0x" + "ab".repeat(32);
    fs.writeFileSync(path.join(process.env.METATRUST_DEPLOYMENTS_DIR!, "hardhat.json"), JSON.stringify(d));
    const e = await hre.run("deploy", { quiet: true }).then(
      () => undefined,
      (x: Error) => x,
    );
    expect(e?.message).to.match(/^deploy: TrustManager changed since it was deployed at 0x[0-9a-fA-F]{40} on hardhat; `deploy --fresh`/);
  });

  it("deploy compiles first (artifacts left instrumented by coverage would not fit a plain node), unless --no-compile", async () => {
    const { TASK_COMPILE } = await import("hardhat/builtin-tasks/task-names");
    const run = hre.run;
    const ran: string[] = [];
    const env = hre as { run: typeof hre.run };
    env.run = (async (name: string | { task: string }, args?: unknown) => {
      ran.push(typeof name === "string" ? name : name.task);
      return run(name as string, args as never);
    }) as typeof hre.run;
    try {
      await hre.run("deploy", { quiet: true });
      expect(ran.slice(0, 2)).to.deep.equal(["deploy", TASK_COMPILE]);
      ran.length = 0;
      await hre.run("deploy", { quiet: true, noCompile: true });
      expect(ran).to.deep.equal(["deploy"]);
    } finally {
      env.run = run;
    }
  });

  it("deploySystem with write: false leaves no record", async () => {
    await deploySystem(hre, { write: false });
    expectThrows(
      () => readDeployment("hardhat"),
      DeploymentNotFoundError,
      "DEPLOYMENT_NOT_FOUND",
      /run `npx hardhat deploy --network hardhat`/,
    );
  });

  it("--genesis-documents give each genesis authority the election nullifier of its document (s20-redm F5); a wrong count, a repeated, empty or non-passport document is refused before anything is sent", async () => {
    const [deployer] = await hre.ethers.getSigners();
    const nonce = await hre.ethers.provider.getTransactionCount(deployer.address);
    const docs = ["passport:UTO:A1111111", "passport:UTO:B2222222", "passport:UTO:C3333333"];
    for (const [genesisDocuments, line] of [
      [docs.slice(0, 2).join(","), "deploy: --genesis-documents names 2 documents; the genesis has 3 authorities (one each, in order)"],
      [
        [docs[0], docs[1], docs[0]].join(","),
        "deploy: --genesis-documents: authority:3 and authority:1 have one identity document: one person, one genesis authority",
      ],
      [`${docs[0]},${docs[1]},`, `deploy: --genesis-documents "${docs[0]},${docs[1]}," has an empty document`],
      [`${docs[0]},${docs[1]},mail:c@example.org`, /^deploy: --genesis-documents: the document of authority:3: /],
    ] as const) {
      const e = await hre.run("deploy", { quiet: true, fresh: true, genesisDocuments }).then(
        () => undefined,
        (x: Error) => x,
      );
      if (typeof line === "string") expect(e?.message).to.equal(line);
      else expect(e?.message).to.match(line);
      expect(e?.message.split("\n")).to.have.length(1);
    }
    expect(await hre.ethers.provider.getTransactionCount(deployer.address), "nothing sent").to.equal(nonce);
    const d = await hre.run("deploy", { quiet: true, fresh: true, genesisDocuments: docs.join(",") });
    const { operatorElectionKey } = await import("../../offchain/chain/system");
    const { electorNullifier } = await import("../../offchain/mssa/registration");
    const key = (await operatorElectionKey(hre, false))!;
    const el = await hre.ethers.getContractAt("AuthorityElection", d.contracts.AuthorityElection.address);
    const genesis = (await el.round(0)).authorities;
    for (const [i, doc] of docs.entries()) expect(await el.electorNullifierOf(genesis[i])).to.equal(electorNullifier(key, doc));
    expect(d.contracts.AuthorityElection.args[3]).to.deep.equal(docs.map((doc) => electorNullifier(key, doc)));
  });

  describe("# the deployment's election key (s21-review1 findings 3, 7 and 8)", () => {
    /** The files of the network's keystore (none when it does not exist yet). */
    const keystoreFiles = () => {
      const dir = path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore");
      return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
    };
    const keyFile = (hex: string) => {
      const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-ekey-")), "election.key");
      fs.writeFileSync(f, hex + "\n");
      return f;
    };
    const refused = (p: Promise<unknown>) =>
      p.then(
        () => expect.fail("expected a refusal"),
        (x: Error) => x,
      );

    it("deploy --election-key imports the key, computes the genesis nullifiers with it and records its check value (never the key); the same key again is fine, another is refused naming the flag with nothing written", async () => {
      const { electorNullifier, electionKeyCheck } = await import("../../offchain/mssa/registration");
      const { devGenesisDocument, operatorElectionKey } = await import("../../offchain/chain/system");
      const hex = "5a".repeat(32);
      const key = Uint8Array.from(Buffer.from(hex, "hex"));
      const file = keyFile(hex);
      const d = await hre.run("deploy", { quiet: true, electionKey: file });
      expect(Buffer.from((await operatorElectionKey(hre, false))!).toString("hex"), "imported into the keystore").to.equal(hex);
      const el = await hre.ethers.getContractAt("AuthorityElection", d.contracts.AuthorityElection.address);
      const genesis = (await el.round(0)).authorities;
      for (const [i, a] of genesis.entries())
        expect(await el.electorNullifierOf(a), `authority:${i + 1}`).to.equal(electorNullifier(key, devGenesisDocument(i + 1)));
      const record = fs.readFileSync(path.join(process.env.METATRUST_DEPLOYMENTS_DIR!, "hardhat.json"), "utf8");
      expect(readDeployment("hardhat").electionKeyCheck).to.equal(electionKeyCheck(key));
      expect(record.toLowerCase(), "the record holds the key").to.not.include(hex);
      // the same key again: accepted (a resumed deployment whose election it computed, and a fresh one)
      expect((await hre.run("deploy", { quiet: true, electionKey: file })).contracts).to.deep.equal(d.contracts);
      await hre.run("deploy", { quiet: true, fresh: true, electionKey: file });
      // another key: refused before anything is sent or written, naming the flag
      const [deployer] = await hre.ethers.getSigners();
      const nonce = await hre.ethers.provider.getTransactionCount(deployer.address);
      const files = keystoreFiles();
      const other = keyFile("a5".repeat(32));
      for (const fresh of [false, true]) {
        const e = await refused(hre.run("deploy", { quiet: true, fresh, electionKey: other }));
        expect(e.message).to.match(
          new RegExp(`^deploy: --election-key ${other}: this network's keystore already holds another election key \\(mssa-electionkey\\)`),
        );
        expect(e.message.split("\n")).to.have.length(1);
      }
      expect(Buffer.from((await operatorElectionKey(hre, false))!).toString("hex")).to.equal(hex);
      expect(keystoreFiles()).to.deep.equal(files);
      expect(await hre.ethers.provider.getTransactionCount(deployer.address), "nothing sent").to.equal(nonce);
    });

    it("a bad or repeated genesis document is refused before any key is made or imported: the keystore is as before (finding 7)", async () => {
      const [deployer] = await hre.ethers.getSigners();
      const nonce = await hre.ethers.provider.getTransactionCount(deployer.address);
      const before = keystoreFiles();
      expect(before, "a fresh data folder").to.deep.equal([]);
      const file = keyFile("5a".repeat(32));
      for (const [genesisDocuments, electionKey] of [
        ["passport:UTO:A1111111,passport:UTO:B2222222,passport:UTO:A1111111", undefined],
        ["passport:UTO:A1111111,passport:UTO:B2222222,idcard:X", file],
        ["passport:UTO:A1111111,passport:UTO:B2222222,passport:UTO:a1111111", file],
      ] as const) {
        const e = await refused(hre.run("deploy", { quiet: true, genesisDocuments, electionKey }));
        expect(e.message).to.match(/^deploy: --genesis-documents: /);
        expect(keystoreFiles(), `${genesisDocuments}: a key was made or imported`).to.deep.equal(before);
      }
      expect(await hre.ethers.provider.getTransactionCount(deployer.address), "nothing sent").to.equal(nonce);
    });

    it("a resumed deployment whose election is recorded refuses --genesis-documents and another --election-key, naming the flag, with nothing written; a record without a check value refuses any key with a hint (finding 8)", async () => {
      const d = await hre.run("deploy", { quiet: true });
      const [deployer] = await hre.ethers.getSigners();
      const nonce = await hre.ethers.provider.getTransactionCount(deployer.address);
      const recordFile = path.join(process.env.METATRUST_DEPLOYMENTS_DIR!, "hardhat.json");
      const record = fs.readFileSync(recordFile, "utf8");
      const files = keystoreFiles();
      const docs = "passport:UTO:A1111111,passport:UTO:B2222222,passport:UTO:C3333333";
      const e = await refused(hre.run("deploy", { quiet: true, genesisDocuments: docs }));
      expect(e.message).to.equal(
        "deploy: --genesis-documents: the AuthorityElection of deployments/hardhat.json is deployed already and its genesis is fixed, so they would have no effect: leave them out, or add --fresh to deploy anew",
      );
      // the same for an interrupted deployment that recorded its election
      const { SYSTEM_CONTRACTS } = await import("../../offchain/chain/system");
      const cut = JSON.parse(record);
      const last = SYSTEM_CONTRACTS[SYSTEM_CONTRACTS.length - 1].name;
      expect(last, "the election is not the last contract").to.not.equal("AuthorityElection");
      delete cut.contracts[last];
      cut.complete = false;
      fs.writeFileSync(recordFile, JSON.stringify(cut, null, 2) + "\n");
      const interrupted = fs.readFileSync(recordFile, "utf8");
      const e2 = await refused(hre.run("deploy", { quiet: true, genesisDocuments: docs }));
      expect(e2.message).to.equal(e.message);
      expect(fs.readFileSync(recordFile, "utf8"), "the record was rewritten").to.equal(interrupted);
      // --election-key: another key than the recorded election's is refused (the keystore empty of it first)
      const { Keystore } = await import("../../offchain/storage/keystore");
      const ks = new Keystore(path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore"));
      const held = ks.load("mssa-electionkey") as { key: string };
      fs.rmSync(path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore", "mssa-electionkey.json"));
      const other = keyFile("a5".repeat(32));
      const e3 = await refused(hre.run("deploy", { quiet: true, electionKey: other }));
      expect(e3.message).to.equal(
        `deploy: --election-key ${other}: not the election key of deployments/hardhat.json (its check value differs), which computed the genesis authorities' election nullifiers: give that key's file, or add --fresh to deploy anew`,
      );
      expect(keystoreFiles(), "the other key was imported").to.deep.equal(files.filter((f) => f !== "mssa-electionkey.json"));
      expect(fs.readFileSync(recordFile, "utf8")).to.equal(interrupted);
      expect(await hre.ethers.provider.getTransactionCount(deployer.address), "nothing sent").to.equal(nonce);
      // the recorded election's key is accepted (and kept in the keystore again), and the deployment completes
      const resumed = await hre.run("deploy", { quiet: true, electionKey: keyFile(held.key) });
      expect(resumed.contracts.AuthorityElection).to.deep.equal(d.contracts.AuthorityElection);
      expect(resumed.electionKeyCheck).to.equal(d.electionKeyCheck);
      expect(keystoreFiles()).to.deep.equal(files);
      // a record from before the check value: any --election-key is refused with a hint
      const old = JSON.parse(fs.readFileSync(recordFile, "utf8"));
      delete old.electionKeyCheck;
      fs.writeFileSync(recordFile, JSON.stringify(old, null, 2) + "\n");
      const e4 = await refused(hre.run("deploy", { quiet: true, electionKey: keyFile(held.key) }));
      expect(e4.message).to.match(
        /^deploy: --election-key .*: deployments\/hardhat\.json records no election key check \(deployed before it was recorded\).*add --fresh/,
      );
      expect(e4.message.split("\n")).to.have.length(1);
    });
  });

  describe("# operator roles", () => {
    it("the deploy task gives MSRP_ROLE and IDP_ROLE to the role accounts msrp and idp; the deployer keeps only the admin role", async () => {
      const [deployer] = await hre.ethers.getSigners();
      const d = await hre.run("deploy", { quiet: true });
      const { roleAccounts } = await import("../../offchain/chain/accounts");
      const { Keystore } = await import("../../offchain/storage/keystore");
      const accounts = roleAccounts(hre, new Keystore(path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore")));
      const msrp = await accounts.address("msrp");
      const idp = await accounts.address("idp");
      expect(new Set([deployer.address, msrp, idp]).size).to.equal(3);
      expect(d.roles).to.include({ admin: deployer.address, msrp, idp });
      const reg = await hre.ethers.getContractAt("ResourcePoolRegistry", d.contracts.ResourcePoolRegistry.address);
      const groups = await hre.ethers.getContractAt("ServiceGroupRegistry", d.contracts.ServiceGroupRegistry.address);
      const mit = await hre.ethers.getContractAt("MITRegistry", d.contracts.MITRegistry.address);
      for (const c of [reg, groups]) {
        expect(await c.hasRole(await c.MSRP_ROLE(), msrp)).to.equal(true);
        expect(await c.hasRole(await c.MSRP_ROLE(), deployer.address)).to.equal(false);
        expect(await c.hasRole(await c.DEFAULT_ADMIN_ROLE(), deployer.address)).to.equal(true);
      }
      expect(await mit.hasRole(await mit.IDP_ROLE(), idp)).to.equal(true);
      expect(await mit.hasRole(await mit.IDP_ROLE(), deployer.address)).to.equal(false);
      expect(await mit.hasRole(await mit.DEFAULT_ADMIN_ROLE(), deployer.address)).to.equal(true);
    });

    it("the deploy task gives the AuthorityElection's DETECTOR_ROLE, REGISTRAR_ROLE and ARBITER_ROLE to the role accounts detector, registrar and arbiter; the deployer holds none of them", async () => {
      const signers = await hre.ethers.getSigners();
      const deployer = signers[0];
      const d = await hre.run("deploy", { quiet: true });
      const { roleAccounts } = await import("../../offchain/chain/accounts");
      const { Keystore } = await import("../../offchain/storage/keystore");
      const accounts = roleAccounts(hre, new Keystore(path.join(process.env.METATRUST_DATA_DIR!, "hardhat", "keystore")));
      const [detector, registrar, arbiter] = [
        await accounts.address("detector"),
        await accounts.address("registrar"),
        await accounts.address("arbiter"),
      ];
      expect(detector).to.equal(signers[18].address); // a development node's account 18, the trust layer's detector
      expect(new Set([deployer.address, detector, registrar, arbiter]).size).to.equal(4);
      expect(d.roles).to.deep.equal({ admin: deployer.address, msrp: d.roles.msrp, idp: d.roles.idp, detector, registrar, arbiter });
      const el = await hre.ethers.getContractAt("AuthorityElection", d.contracts.AuthorityElection.address);
      const tm = await hre.ethers.getContractAt("TrustManager", d.contracts.TrustManager.address);
      const held = { DETECTOR_ROLE: detector, REGISTRAR_ROLE: registrar, ARBITER_ROLE: arbiter } as const;
      for (const [role, holder] of Object.entries(held)) {
        const id = await el[role as keyof typeof held]();
        expect(await el.hasRole(id, holder), `${role} of ${holder}`).to.equal(true);
        expect(await el.hasRole(id, deployer.address), `${role} of the deployer`).to.equal(false);
      }
      // the CredentialLedger keeps its REGISTRAR_ROLE; the detector is the TrustManager's too (one party)
      expect(await el.hasRole(await el.REGISTRAR_ROLE(), d.contracts.CredentialLedger.address)).to.equal(true);
      expect(await tm.hasRole(await tm.DETECTOR_ROLE(), detector)).to.equal(true);
      expect(await el.hasRole(await el.DEFAULT_ADMIN_ROLE(), deployer.address)).to.equal(true);
    });

    it("--detector, --registrar and --arbiter name the holders; a detector the TrustManager would refuse is refused before anything is sent", async () => {
      const [deployer, , , , , , , a, b, c] = await hre.ethers.getSigners();
      const nonce = await hre.ethers.provider.getTransactionCount(deployer.address);
      for (const [args, line] of [
        [{ arbiter: "nobody" }, "deploy: --arbiter nobody is not an address"],
        [
          { detector: deployer.address },
          `deploy: --detector ${deployer.address} is the deployer (the admin); the TrustManager needs another account`,
        ],
      ] as const) {
        const e = await hre.run("deploy", { quiet: true, ...args }).then(
          () => undefined,
          (x: Error) => x,
        );
        expect(e?.message).to.equal(line);
      }
      expect(await hre.ethers.provider.getTransactionCount(deployer.address)).to.equal(nonce);
      const d = await hre.run("deploy", { quiet: true, detector: a.address, registrar: b.address, arbiter: c.address });
      expect(d.roles).to.include({ detector: a.address, registrar: b.address, arbiter: c.address });
      const el = await hre.ethers.getContractAt("AuthorityElection", d.contracts.AuthorityElection.address);
      const tm = await hre.ethers.getContractAt("TrustManager", d.contracts.TrustManager.address);
      expect(await el.hasRole(await el.ARBITER_ROLE(), c.address)).to.equal(true);
      expect(await el.hasRole(await el.REGISTRAR_ROLE(), b.address)).to.equal(true);
      expect(await el.hasRole(await el.DETECTOR_ROLE(), a.address)).to.equal(true);
      expect(await tm.hasRole(await tm.DETECTOR_ROLE(), a.address)).to.equal(true);
      const other = await hre.run("deploy", { quiet: true, arbiter: b.address }).then(
        () => undefined,
        (x: Error) => x,
      );
      expect(other?.message).to.match(
        /^deploy: --arbiter 0x[0-9a-fA-F]{40} differs from the arbiter 0x[0-9a-fA-F]{40} of deployments\/hardhat\.json; add --fresh/,
      );
    });

    it("--msrp and --idp name the holders; a bad address, or one that differs from the record, is refused before anything is sent", async () => {
      const [deployer, , , , , a, b] = await hre.ethers.getSigners();
      const nonce = await hre.ethers.provider.getTransactionCount(deployer.address);
      const bad = await hre.run("deploy", { quiet: true, msrp: "0x1234" }).then(
        () => undefined,
        (x: Error) => x,
      );
      expect(bad?.message).to.equal("deploy: --msrp 0x1234 is not an address");
      expect(await hre.ethers.provider.getTransactionCount(deployer.address)).to.equal(nonce);
      const d = await hre.run("deploy", { quiet: true, msrp: a.address, idp: b.address });
      expect(d.roles).to.include({ admin: deployer.address, msrp: a.address, idp: b.address });
      const mit = await hre.ethers.getContractAt("MITRegistry", d.contracts.MITRegistry.address);
      expect(await mit.hasRole(await mit.IDP_ROLE(), b.address)).to.equal(true);
      const n2 = await hre.ethers.provider.getTransactionCount(deployer.address);
      const other = await hre.run("deploy", { quiet: true, idp: a.address }).then(
        () => undefined,
        (x: Error) => x,
      );
      expect(other?.message).to.match(
        /^deploy: --idp 0x[0-9a-fA-F]{40} differs from the IdP 0x[0-9a-fA-F]{40} of deployments\/hardhat\.json; add --fresh/,
      );
      expect(await hre.ethers.provider.getTransactionCount(deployer.address)).to.equal(n2);
    });

    it("deploySystem without roles (tests, the demo) leaves the MSRP, IdP, registrar and arbiter roles with the deployer; the detector is account 18", async () => {
      const signers = await hre.ethers.getSigners();
      const deployer = signers[0].address;
      const d = await deploySystem(hre, { write: false });
      expect(d.roles).to.deep.equal({
        admin: deployer,
        msrp: deployer,
        idp: deployer,
        detector: signers[18].address,
        registrar: deployer,
        arbiter: deployer,
      });
    });
  });
});
