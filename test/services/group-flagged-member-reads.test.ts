/**
 * Red team s18-redg, finding G1: a member in S_RN keeps the group's channel until the user asks for
 * an eviction.
 *
 * Threat: the trust layer flags an RN that sits in alice's service group (the one-system flow:
 * detection flags a node, its group evicts it and rekeys). Over the services the MSRP's flag sync
 * puts the RN in S_RN ("no group, no rotation"), but the group's key moves only when alice asks
 * (`group:rekey` / `group:add`): the MSRP's mailbox, the group's only channel, keeps serving the
 * flagged RN every message of the current epoch and keeps appending what it sends, for as long as
 * alice is away (a user who is offline, or who never runs `group:rekey`).
 * Steps: a group of alice and two RNs is formed; the detector flags RN x on its own attested entity;
 * the flag sync puts x in S_RN; alice sends a message; x reads it (`/v1/group/read`) and sends one of
 * its own (`/v1/group/send`), which the others are served.
 * Impact: the MSRP has judged x suspicious and still relays the group's traffic to and from it:
 * confidentiality of every later message against a flagged node, and the flagged node keeps
 * speaking in the group (the paper's §IV.B.2.c: the MSRP evicts suspicious parties).
 * Severity: high (the one-system flow's purpose, defeated by the user's absence).
 *
 * Status: fixed (GroupDesk.read / send refuse a party whose RN is in S_RN: SUSPICIOUS; rsms-group.md §10).
 *
 * Secure behaviour asserted: while x is in S_RN, the mailbox refuses its reads and its sends
 * (nothing appended), and alice's own traffic still goes through.
 */
import { expect } from "chai";
import hre from "hardhat";
import { formedGroup, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { toHex } from "../../offchain/crypto/bytes";
import { TrustLedger } from "../../offchain/trust/ledger";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { localParty, readRemote, sendRemote } from "../../offchain/services/rsms/group-clients";
import { TrustManager__factory } from "../../typechain-types";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("s18-redg G1: a member in S_RN still reads and writes the group's channel until the user rekeys (fixed)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  after(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  it("once the flag sync put x in S_RN, the mailbox serves x no message and takes none from it", async () => {
    const machines = new Map<string, Keystore>();
    let gid: Uint8Array;
    let members: string[];
    ({ s, gid, members } = await formedGroup(machines, ["a", "b", "c"]));
    const [x, y] = members;
    const xPid = localParty(machines.get(x)!, x).pid;
    const tmAddress = s.f.deployment.contracts.TrustManager.address;
    const signers = await hre.ethers.getSigners();
    const detector = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[TRUST_ROLE_SIGNERS.detector]));
    const controller = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[9]));
    await controller.register(toHex(xPid), "resource-node", s.msrpWallet);
    await detector.flag(toHex(xPid), 1, new Uint8Array(32), 0);
    expect((await s.msrp.desk!.syncTrustFlags()).added, "precondition: x is in S_RN").to.deep.equal([x]);

    const party = (n: string) => ({ msrpUrl: s.msrpUrl, name: n, groupId: gid, keystore: machines.get(n)!, dep: s.dep, retry: once });
    await sendRemote({ ...party("alice"), message: new TextEncoder().encode("render the lake") });
    const xRead = await readRemote(party(x)).then(
      (r) => `read ${r.messages.length} message(s): ${r.messages.map((m) => Buffer.from(m.plaintext).toString()).join(", ")}`,
      (e: Error) => `refused: ${e.message.split("\n")[0]}`,
    );
    const xSend = await sendRemote({ ...party(x), message: new TextEncoder().encode("from the flagged node") }).then(
      (r) => `stored at ${r.index}`,
      (e: Error) => `refused: ${e.message.split("\n")[0]}`,
    );
    expect(xRead, "x's read").to.match(/^refused: .*SUSPICIOUS/);
    expect(xSend, "x's send").to.match(/^refused: .*SUSPICIOUS/);
    // nothing of x's was appended; the others still talk
    const log = s.msrp.desk!.channel.epoch(gid, 0)?.messages ?? [];
    expect(log.length, "only alice's message is in the log").to.equal(1);
    const yRead = await readRemote(party(y));
    expect(
      yRead.messages.map((m) => Buffer.from(m.plaintext).toString()),
      "y reads alice's message",
    ).to.deep.equal(["render the lake"]);
  });
});
