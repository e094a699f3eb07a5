/**
 * s17-redA F15: the avatar tasks keep a login's or delegation's credential in the folder's
 * keystore under `avatar-cred-<avatar name>`. The record is keyed by the avatar's name only, yet avatar names are per owner (README:
 *   "bob may have a fox of his own"; the id is avatarIdOf(owner's MIT serial, name)). In one folder
 *   (the README's avatar walkthrough keeps alice and bob in one), bob's login as his fox overwrites
 *   alice's fox credential: alice's avatar is logged in on-chain and her folder no longer holds its
 *   credential (and a later delegation of alice's fox overwrites bob's in turn).
 */
import { expect } from "chai";
import hre from "hardhat";
import { localState } from "../../tasks/lib/context";
import { useTaskSandbox } from "../helpers/tasks";

describe("avatar:login: credentials per owner (s17-redA F15)", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-redA-avcred-");

  before(async () => {
    await hre.run("idp:setup", {});
    await hre.run("idp:issue", { user: "alice", operator: "metaverse AI service", abandon: false });
    await hre.run("idp:issue", { user: "bob", operator: "metaverse AI service", abandon: false });
  });

  /** (owner, avatar) of every credential the folder keeps. */
  const creds = () => {
    const ks = localState(hre).keystore;
    return ks
      .list()
      .filter((n) => n.startsWith("avatar-cred-"))
      .map((n) => {
        const r = ks.load(n) as { owner: string; avatar: string };
        return `${r.owner}/${r.avatar}`;
      })
      .sort();
  };

  it("F15: alice's fox and bob's fox, logged in from one folder: both credentials are kept", async () => {
    await hre.run("avatar:login", { user: "alice", avatar: "fox", appearance: "default appearance" });
    await hre.run("avatar:login", { user: "bob", avatar: "fox", appearance: "default appearance" });
    expect(creds()).to.include.members(["alice/fox", "bob/fox"]);
  });
});
