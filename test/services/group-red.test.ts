/**
 * Red team (h10-red): attacks on the MSRP's group desk (msrp-groups.ts, group-clients.ts) that
 * were refused. The setup is that of group-add-channel.test.ts.
 */
import { expect } from "chai";
import { formedGroup, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { MsrpService } from "../../offchain/services/rsms/msrp-service";
import { addRemote } from "../../offchain/services/rsms/group-clients";

describe("h10-red: the MSRP's group desk (refused attacks)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  let msrp: MsrpService;
  const machines = new Map<string, Keystore>();
  const ks = (name: string) => machines.get(name)!;
  const rns = ["a", "b", "c", "d", "e"];
  let gid: Uint8Array;
  before(async () => {
    ({ s, gid } = await formedGroup(machines, rns));
    msrp = s.msrp;
  });
  after(async () => {
    await s?.rpm.stop();
    await msrp?.stop();
  });

  /**
   * Refused (h10-red): a failed chain write during a key update does not leave the MSRP's agent
   * ahead of the chain. The hypothesis was that GroupDesk.update moves the Msrp agent to the new
   * epoch before the transaction and never undoes it when the transaction fails (a transient RPC
   * error), so that the user's retry is refused STALE_EPOCH until a restart. It is not: the retry
   * completes the add, one new epoch.
   */
  it("one failed chain write during an add: the user's retry completes the add (not STALE_EPOCH until a restart)", async () => {
    const groups = s.msrpDeps.groups!;
    const real = groups.rekey.bind(groups);
    let failures = 0;
    groups.rekey = (async (...args: Parameters<typeof real>) => {
      if (failures++ === 0) throw new Error("connect ECONNRESET (a transient RPC failure)");
      return real(...args);
    }) as typeof groups.rekey;
    try {
      const before = msrp.msrp.groupInfo(gid).epoch;
      const out = await addRemote({
        msrpUrl: s.msrpUrl,
        user: "alice",
        groupId: gid,
        count: 1,
        keystore: ks("alice"),
        dep: s.dep,
        retry: { attempts: 3, timeoutMs: 30_000, backoffMs: 10 },
      }).then(
        (a) => `epoch ${a.epoch}`,
        (e: Error) => e.message.split("\n")[0],
      );
      expect(out).to.equal(`epoch ${before + 1}`);
    } finally {
      groups.rekey = real;
    }
  });
});
