/**
 * trust:rate remembers the generations (eras) it read, per process, and names them in a later typed
 * rating by a remembered controller (one round trip fewer: test/chain/rpc-calls.test.ts). A
 * remembered era the chain no longer holds must not make the rating fail or land on the wrong era:
 * the chain refuses it (`TrustManager__StaleEra`, nothing stored) and the task sends it once more
 * for the eras read then. Here the rated avatar is reclaimed by its owner between two ratings of one
 * process: a squatter's plain entry of alice's fox, then alice's attested registration (generation 1).
 */
import { expect } from "chai";
import hre from "hardhat";
import { useTaskSandbox } from "./helpers/tasks";
import { countRpc } from "../scripts/lib/rpc-count";
import { readDeployment } from "../offchain/chain/deployments";
import { avatarIdOf } from "../offchain/avatars/protocols";
import { fromHex, toHex } from "../offchain/crypto/bytes";
import { entityId } from "../offchain/trust/ledger";

/** transactions sent (a signer index's account is the node's: eth_sendTransaction; a role key's: raw) */
const sent = (calls: Record<string, number>) => (calls.eth_sendTransaction ?? 0) + (calls.eth_sendRawTransaction ?? 0);

describe("trust:rate: remembered eras, and a reclaim between two ratings of one process", function () {
  this.timeout(120_000);
  useTaskSandbox("metatrust-era-memory-");

  it("a rating naming a remembered era of a since-reclaimed avatar is refused by the chain, then sent once for the owner's era, and lands there", async () => {
    const tm = await hre.ethers.getContractAt("TrustManager", readDeployment("hardhat").contracts.TrustManager.address);
    await hre.run("idp:setup");
    const { serial } = await hre.run("idp:issue", { user: "alice" });
    const fox = toHex(avatarIdOf(fromHex(serial), "fox"));
    await hre.run("trust:register", { entity: "rater", type: "organization", account: "3" });
    await hre.run("trust:register", { entity: fox, type: "avatar", account: "5" }); // a squatter's plain entry, before alice's login
    await hre.run("trust:rate", { from: "rater", to: fox, score: 0.9, unverifiable: true }); // remembers rater's controller and both eras (0, 0)
    await hre.run("avatar:login", { user: "alice", avatar: "fox" });
    await hre.run("trust:register", { entity: fox, type: "avatar", account: "6" }); // alice's attested registration reclaims fox
    expect(await tm.generationOf(fox)).to.equal(1n);
    const rater = entityId("rater");
    const c = await countRpc(hre.network.provider).during(() =>
      hre.run("trust:rate", { from: "rater", to: fox, score: 0.4, unverifiable: true }),
    );
    expect(c.value.rating).to.be.closeTo(0.4, 1e-9);
    // the remembered eras' transaction was refused on-chain (StaleEra), the second one mined
    expect(sent(c.calls)).to.equal(2);
    // the rating is on alice's era: the pair of generation (0, 1) holds one rating of 0.4
    const pair = await tm.pairOf(rater, fox);
    expect(pair.ratings).to.equal(1n);
    // and a third rating in this process names the eras read after the refusal: one transaction
    await hre.run("trust:register", { entity: "other", type: "organization", account: "4" });
    await hre.run("trust:rate", { from: "rater", to: "other", score: 0.5, unverifiable: true });
    const d = await countRpc(hre.network.provider).during(() =>
      hre.run("trust:rate", { from: "other", to: fox, score: 0.5, unverifiable: true }),
    );
    expect(sent(d.calls)).to.equal(1);
  });
});
