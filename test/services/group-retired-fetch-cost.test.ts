/**
 * Review s18-review1, finding L3: the retired fetch parsed the group's whole retired file before
 * checking the request's signature.
 *
 * Threat: anyone on the network posts 68-byte `GroupFetch` requests for a retired epoch, signed with
 * any key. `fetchRetired` read and parsed `<gid>.past.json` (up to about 6 MB: 255 RNs × 64 epochs)
 * for each one, then refused it: a cheap CPU amplification against the MSRP.
 * Steps: group {x, y}; two adds (epoch 2; epoch 1 retired); five fetches of epoch 1 under y's PID
 * signed with a random key; then y's real read.
 * Impact: denial of service on the MSRP (every other request shares its event loop).
 * Severity: low.
 *
 * Status: fixed (GroupDesk.retiredRoster: the signature is checked against an index of the retired
 * rosters built once per write of the file; the file is parsed whole only for a request that
 * passed it).
 *
 * Secure behaviour asserted: the five forged fetches are refused and parse the file at most once in
 * all (the index); y still takes epoch 1's key and reads its message.
 */
import { expect } from "chai";
import { formedGroup, type rsmsServices } from "../helpers/rsms-services";
import { Keystore } from "../../offchain/storage/keystore";
import { randomScalar } from "../../offchain/crypto/group";
import { Kind, Route, Scheme, audienceOf, sealEnvelope } from "../../offchain/services/envelope";
import { freshId } from "../../offchain/services/common";
import { postEnvelope } from "../../offchain/services/client";
import { encodeGroupFetch, groupSession } from "../../offchain/services/rsms/group-wire";
import { addRemote, localParty, readRemote, sendRemote, takePart } from "../../offchain/services/rsms/group-clients";

const once = { attempts: 1, timeoutMs: 30_000, backoffMs: 10 };

describe("s18-review1 L3: a forged retired fetch does not parse the retired updates (fixed)", function () {
  this.timeout(300_000);
  let s: Awaited<ReturnType<typeof rsmsServices>>;
  after(async () => {
    await s?.rpm.stop();
    await s?.msrp.stop();
  });

  it("five fetches of epoch 1 signed with a random key are refused and parse the file at most once", async () => {
    const machines = new Map<string, Keystore>();
    let gid: Uint8Array;
    let members: string[];
    ({ s, gid, members } = await formedGroup(machines, ["a", "b", "c", "d"]));
    const y = members[1];
    const party = (n: string) => ({ msrpUrl: s.msrpUrl, name: n, groupId: gid, keystore: machines.get(n)!, dep: s.dep });
    expect((await addRemote({ ...party("alice"), user: "alice", count: 1 })).epoch, "precondition: epoch 1").to.equal(1);
    await takePart({ ...party("alice"), pollMs: 50 });
    await sendRemote({ ...party("alice"), message: new TextEncoder().encode("m1"), retry: once });
    expect((await addRemote({ ...party("alice"), user: "alice", count: 1 })).epoch, "precondition: epoch 2").to.equal(2);

    const desk = s.msrp.desk! as unknown as { retired(g: Uint8Array): unknown };
    const parse = desk.retired.bind(desk);
    let parsed = 0;
    desk.retired = (g: Uint8Array) => {
      parsed++;
      return parse(g);
    };
    const yPid = localParty(machines.get(y)!, y).pid;
    const forged = () =>
      sealEnvelope(
        {
          kind: Kind.Request,
          route: Route.GroupFetch,
          audience: audienceOf(s.dep.chainId, s.dep.registry, "msrp"),
          session: groupSession(gid, 0),
          requestId: freshId(),
          issuedAt: Date.now(),
          inReplyTo: new Uint8Array(32),
          body: encodeGroupFetch({ groupId: gid, pid: yPid, epoch: 1 }),
        },
        { scheme: Scheme.Schnorr, sk: randomScalar() },
      );
    const answers: string[] = [];
    for (let i = 0; i < 5; i++)
      answers.push(
        await postEnvelope(s.msrpUrl, "/v1/group/fetch", forged(), once).then(
          () => "served",
          (e: Error) => `refused ${(e as { status?: number }).status}`,
        ),
      );
    expect(new Set(answers).size === 1 && answers[0].startsWith("refused 4"), `each forged fetch is refused (${answers[0]})`).to.equal(
      true,
    );
    expect(parsed, "the retired file is parsed at most once for the five").to.be.at.most(1);

    desk.retired = parse;
    await takePart({ ...party(y), pollMs: 50 });
    const r = await readRemote({ ...party(y), retry: once });
    expect(
      r.messages.filter((m) => m.epoch === 1).map((m) => Buffer.from(m.plaintext).toString()),
      "y still takes epoch 1's key and reads m1",
    ).to.deep.equal(["m1"]);
  });
});
