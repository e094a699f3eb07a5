/**
 * The avatar protocol tests' shared world: the deployed system, its MITRegistry and a fresh file
 * content store (one fixture, so loadFixture reverts to one snapshot across the files that use it),
 * and `reasonOf`, the reason a protocol step refused with ("accepted" when it did not refuse).
 */
import { expect } from "chai";
import fs from "fs";
import os from "os";
import path from "path";
import { deploySystemFixture } from "../fixtures/system";
import { MITRegistry__factory } from "../../typechain-types";
import { FileContentStore } from "../../offchain/storage/content-store";
import { AvatarProtocolError } from "../../offchain/avatars/agents";

export async function avatarsFixture() {
  const sys = await deploySystemFixture();
  const registry = MITRegistry__factory.connect(sys.deployment.contracts.MITRegistry.address, sys.msrp);
  const store = new FileContentStore(fs.mkdtempSync(path.join(os.tmpdir(), "metatrust-avatars-")));
  return { ...sys, registry, store };
}

/** The AvatarProtocolError reason `p` rejects with, or "accepted"; any other error fails the test. */
export async function reasonOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => "accepted",
    (e: unknown) => {
      expect(e).to.be.instanceOf(AvatarProtocolError);
      return (e as AvatarProtocolError).reason;
    },
  );
}
