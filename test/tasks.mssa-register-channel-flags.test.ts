/**
 * Red team h15-red2, finding R6 (fixed): `mssa:register`'s channel flags are checked only by the
 * simulated channel, after the task has written.
 *
 * `mssa:channel` checks --eavesdrop and --decoys by name (tasks.mssa.test.ts). `mssa:register`
 * passes them unchecked to `register` -> `transmit`, which refuses a decoy count below 1 or a rate
 * outside [0, 1] with a RangeError, but only after the task has created the place on-chain
 * (`setPlace`, when the place is new), the place key and the election key records in the keystore.
 * So `--decoys 0` or `--eavesdrop 2` is not bad input naming the flag (exit 2), and it leaves a
 * place (with k = all its sitting authorities) and keystore records behind. (Over the network the
 * two flags are ignored altogether: the services run their own channel, so `--eavesdrop 1` with
 * `--authorities` simulates no eavesdropper and says nothing.)
 *
 * Over the network the flags are refused by name; the check compared their values with the
 * defaults, so `--decoys 64` passed silently (session 16's final read): now any flag given is.
 */
import { expect } from "chai";
import hre from "hardhat";
import { rejects, useTaskSandbox } from "./helpers/tasks";

describe("h15-red2 R6 (fixed): mssa:register --decoys / --eavesdrop out of range", function () {
  this.timeout(180_000);
  useTaskSandbox("metatrust-h15-channel-flags-");

  for (const [flag, value] of [
    ["decoys", 0],
    ["eavesdrop", 2],
  ] as const)
    it(`--${flag} ${value} is bad input naming --${flag}, and no place is created`, async () => {
      const place = `PL-h15-${flag}`;
      const e = await rejects(
        hre.run("mssa:register", {
          user: "4",
          place,
          info: "mail:u4@example.org,passport:UTO:P4",
          eavesdrop: flag === "eavesdrop" ? value : 0,
          decoys: flag === "decoys" ? value : 64,
          elector: true,
        }),
      );
      const { CredentialLedger__factory } = await import("../typechain-types");
      const { deployedAddress } = await import("../tasks/lib/context");
      const { placeId } = await import("../offchain/mssa/registration");
      const ledger = CredentialLedger__factory.connect(await deployedAddress(hre, "CredentialLedger"), hre.ethers.provider);
      const created = (await ledger.place(placeId(place))).threshold !== 0n;
      expect({ created, message: e.message.split("\n")[0] }).to.deep.include({ created: false });
      expect(e.message).to.match(new RegExp(`^mssa:register: --${flag}`));
    });

  it("over the network, --eavesdrop or --decoys is refused naming it (the services run their own channel), before anything is sent, whatever its value: the defaults' values included (session 16's final read)", async () => {
    for (const [flags, named] of [
      [{ decoys: 64 }, "--decoys simulates"], // the in-process default: it used to pass silently
      [{ eavesdrop: 0.5 }, "--eavesdrop simulates"],
      [{ decoys: 8 }, "--decoys simulates"],
      [{ eavesdrop: 0 }, "--eavesdrop simulates"],
      [{ eavesdrop: 0, decoys: 64 }, "--eavesdrop and --decoys simulate"],
    ] as const) {
      const e = await rejects(
        hre.run("mssa:register", {
          user: "4",
          place: "PL-h15-net",
          info: "mail:u4@example.org,passport:UTO:P4",
          ...flags,
          authorities: "http://127.0.0.1:9",
          elector: false,
        }),
      );
      expect(e.message, JSON.stringify(flags)).to.match(new RegExp(`^mssa:register: ${named} the in-process channel only`));
      expect(e.message.split("\n")).to.have.length(1);
    }
  });
});
