/**
 * Red team h15-red, finding H3 (fixed: GroupDesk.send checks the sender against the current roster under the mutex): a member being evicted writes into the new epoch's channel log.
 *
 * `GroupDesk.send` checks the sender against the mailbox's roster and the envelope's signature
 * *before* it takes the MSRP's mutex, and under the mutex checks only that the message's epoch is
 * the group's current one. A key update holds that mutex for its whole chain write. A member that
 * the update evicts sends, while the update is being written, messages stamped with the *next*
 * epoch: they pass the early checks (it is still in the old roster, it signs what it likes), wait
 * for the mutex, and once the update is in, their epoch is the current one: they are appended to the
 * new epoch's log, whose roster does not hold their sender. Every party of the new epoch is served
 * them (and refuses them, FORGED_SENDER), the log's MAX_CHANNEL_LOG slots are the evicted member's
 * to fill (CHANNEL_FULL: the group's channel is dead until another paid update), and the MSRP has
 * accepted input from a party outside the epoch's roster ("a rejected input changes nothing").
 * On a real chain the window is a block time or more; here the chain write is slowed by 300 ms.
 *
 * Secure behaviour asserted: the new epoch's log holds no message whose sender is outside its roster.
 */
import { expect } from "chai";
import hre from "hardhat";
import { randomBytes } from "@noble/hashes/utils.js";
import { formedGroup, msrpRequest, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { fromHex, toHex } from "../../offchain/crypto/bytes";
import { TrustLedger } from "../../offchain/trust/ledger";
import { TRUST_ROLE_SIGNERS } from "../../offchain/chain/system";
import { localParty, rekeyRemote } from "../../offchain/services/rsms/group-clients";
import { groupSession } from "../../offchain/services/rsms/group-wire";
import { channelSigned, decodeChannel, encodeChannel } from "../../offchain/rsms/group-messages";
import { schnorrSign } from "../../offchain/crypto/schnorr";
import { Route, Scheme, sealEnvelope } from "../../offchain/services/envelope";
import { postEnvelope } from "../../offchain/services/client";
import { TrustManager__factory } from "../../typechain-types";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("h15-red H3: an evicted member's send lands in the new epoch's log (fixed)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  after(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  it("messages stamped with the next epoch, sent while the update that evicts their sender is written, are refused (NOT_A_MEMBER), not appended to that epoch's log", async () => {
    const machines = new Map<string, Keystore>();
    let gid: Uint8Array;
    let members: string[];
    ({ s, gid, members } = await formedGroup(machines, ["a", "b", "c"]));
    const x = members[0];
    const me = localParty(machines.get(x)!, x);
    // x registers its trust identity (its PID in the group) and the detector flags it
    const tmAddress = s.f.deployment.contracts.TrustManager.address;
    const signers = await hre.ethers.getSigners();
    const detector = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[TRUST_ROLE_SIGNERS.detector]));
    const controller = new TrustLedger(TrustManager__factory.connect(tmAddress, signers[9]));
    await controller.register(toHex(me.pid), "resource-node", s.msrpWallet);
    await detector.flag(toHex(me.pid), 1, new Uint8Array(32), 0);

    // x's messages for epoch 1 (it holds no key of it: the ciphertext is noise; it signs it itself)
    const forNextEpoch = (seq: bigint) => {
      const fields = { groupId: gid, epoch: 1, sender: me.pid, seq, nonce: randomBytes(24), ct: randomBytes(48) };
      const sig = schnorrSign(me.sk, "METATRUST-V1-RSMS-GROUP-CHANNEL", channelSigned(fields), me.pk);
      const body = encodeChannel({ ...fields, sig });
      return sealEnvelope(msrpRequest(s.dep, Route.GroupSend, groupSession(gid, 1), body), { scheme: Scheme.Schnorr, sk: me.sk });
    };
    // the chain write of the update takes 300 ms (a block time on a real chain is seconds); x sends
    // while it is under way
    const groups = s.msrpDeps.groups!;
    const real = groups.rekey.bind(groups);
    const sends: Promise<string>[] = [];
    groups.rekey = (async (...args: Parameters<typeof real>) => {
      for (let i = 1n; i <= 5n; i++)
        sends.push(
          postEnvelope(s.msrpUrl, "/v1/group/send", forNextEpoch(i), once).then(
            () => "stored",
            (e: Error) => e.message.split("\n")[0],
          ),
        );
      await new Promise((r) => setTimeout(r, 300));
      return real(...args);
    }) as typeof groups.rekey;
    try {
      const r = await rekeyRemote({ msrpUrl: s.msrpUrl, user: "alice", groupId: gid, keystore: machines.get("alice")!, dep: s.dep });
      expect(r.evicted.map(toHex), "precondition: the update evicted x").to.deep.equal([toHex(me.pid)]);
    } finally {
      groups.rekey = real;
    }
    const outcomes = await Promise.all(sends);
    const log = s.msrp.desk!.channel.epoch(gid, 1);
    // the roster of epoch 1 (the log keeps it with its first message; else the mailbox's, at epoch 1)
    const roster = new Set((log?.roster ?? s.msrp.desk!.mailbox(gid)!.roster).map(([pid]) => pid));
    const outsiders = (log?.messages ?? []).map((m) => toHex(decodeChannel(fromHex(m)).sender)).filter((p) => !roster.has(p));
    expect(outsiders, `x's five sends got: ${outcomes.join("; ")}`).to.deep.equal([]);
    for (const o of outcomes)
      expect(o, "each send is refused, the sender named as no party of epoch 1").to.match(/not a party of group .* at epoch 1/);
  });
});
