/**
 * s17-redA F15 (fixed in s18-fixo): the avatar tasks kept a login's or delegation's credential in
 * the folder's keystore under `avatar-cred-<avatar name>`. Avatar names are per owner (README: "bob
 * may have a fox of his own"; the id is avatarIdOf(owner's MIT serial, name)), so in one folder (the
 * README's avatar walkthrough keeps alice and bob in one) bob's login as his fox overwrote alice's
 * fox credential: alice's avatar was logged in on-chain and her folder no longer held its
 * credential (and a later delegation of alice's fox overwrote bob's in turn). Now a credential is
 * kept per avatar id (`avatar-cred-id-<id>`), `avatar:auth --a/--b` take `owner/name` (a bare name
 * only when one owner's avatar of that name is held here), and a record of the old form stays
 * readable as its owner's until that owner's next login or delegation replaces it.
 */
import { expect } from "chai";
import hre from "hardhat";
import { localState } from "../../tasks/lib/context";
import { RefusedError, UsageError } from "../../tasks/lib/cli";
import { rejects, useTaskSandbox } from "../helpers/tasks";

describe("avatar:login: credentials per owner (s17-redA F15)", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-redA-avcred-");

  before(async () => {
    await hre.run("idp:setup", {});
    await hre.run("idp:issue", { user: "alice", operator: "metaverse AI service", abandon: false });
    await hre.run("idp:issue", { user: "bob", operator: "metaverse AI service", abandon: false });
    await hre.run("idp:issue", { user: "carol", operator: "metaverse AI service", abandon: false });
    await hre.run("idp:issue", { proxy: "helper", operator: "metaverse AI service", abandon: false });
  });

  const ks = () => localState(hre).keystore;
  /** owner/avatar -> driver, of every credential the folder keeps. */
  const creds = () =>
    Object.fromEntries(
      ks()
        .list()
        .filter((n) => n.startsWith("avatar-cred-"))
        .map((n) => {
          const r = ks().load(n) as { owner: string; avatar: string; driver: string };
          return [`${r.owner}/${r.avatar}`, r.driver];
        }),
    );

  it("F15: alice's fox and bob's fox, logged in from one folder: both credentials are kept", async () => {
    await hre.run("avatar:login", { user: "alice", avatar: "fox", appearance: "default appearance" });
    await hre.run("avatar:login", { user: "bob", avatar: "fox", appearance: "default appearance" });
    expect(Object.keys(creds())).to.include.members(["alice/fox", "bob/fox"]);
  });

  it("alice's delegation of her fox leaves bob's fox credential as it was", async () => {
    const bobs = () =>
      ks()
        .list()
        .filter((n) => n.startsWith("avatar-cred-") && (ks().load(n) as { owner: string }).owner === "bob");
    const before = bobs().map((n) => JSON.stringify(ks().load(n)));
    await hre.run("avatar:delegate", { user: "alice", avatar: "fox", proxy: "helper" });
    expect(creds()).to.deep.include({ "alice/fox": "helper", "bob/fox": "bob" });
    expect(bobs().map((n) => JSON.stringify(ks().load(n)))).to.deep.equal(before);
  });

  it("avatar:auth: a bare name two owners hold here is refused naming both; owner/name picks each", async () => {
    await hre.run("avatar:login", { user: "carol", avatar: "whale", appearance: "default appearance" });
    const err = await rejects(hre.run("avatar:auth", { a: "fox", b: "whale" }));
    expect(err).to.be.instanceOf(UsageError);
    expect(err.message).to.equal(
      "avatar:auth: --a fox names avatars of alice and bob in this folder (names are per owner): give owner/name, e.g. alice/fox",
    );
    // each fox by its owner: the evidence is about that owner's avatar (its id) and names its file by owner and name
    for (const owner of ["alice", "bob"]) {
      const r = (await hre.run("avatar:auth", { a: `${owner}/fox`, b: "whale" })) as { evidence: string[] };
      expect(r.evidence[0]).to.match(new RegExp(`/${owner}\\+fox-\\d+\\.json$`));
    }
    const none = await rejects(hre.run("avatar:auth", { a: "carol/fox", b: "whale" }));
    expect(none).to.be.instanceOf(RefusedError);
    expect(none.message).to.match(/^avatar:auth: --a carol\/fox: no credential of carol's avatar "fox" in this folder/);
    const bad = await rejects(hre.run("avatar:auth", { a: "alice/fox", b: "a/b/c" }));
    expect(bad).to.be.instanceOf(UsageError);
    expect(bad.message).to.match(/^avatar:auth: --b "a\/b\/c" is not an avatar/);
  });

  it("a credential of the old form (`avatar-cred-<name>`) is read as its owner's and replaced at her next login", async () => {
    await hre.run("avatar:login", { user: "carol", avatar: "owl", appearance: "default appearance" });
    const name = ks()
      .list()
      .find((n) => n.startsWith("avatar-cred-id-") && (ks().load(n) as { avatar: string }).avatar === "owl")!;
    // the record as a folder from before kept it
    const old = ks().load(name) as Record<string, unknown>;
    delete old.id;
    ks().create("avatar-cred-owl", old);
    ks().remove(name);
    const r = (await hre.run("avatar:auth", { a: "owl", b: "whale" })) as { evidence: string[] };
    expect(r.evidence[0]).to.match(/\/carol\+owl-\d+\.json$/);
    await hre.run("avatar:login", { user: "carol", avatar: "owl", appearance: "default appearance" });
    expect(ks().exists("avatar-cred-owl"), "the old record once the new one is kept").to.equal(false);
    expect(ks().exists(name)).to.equal(true);
  });
});
