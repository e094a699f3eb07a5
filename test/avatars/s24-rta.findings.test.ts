/**
 * s24-rta (outside red team, traceable avatars): one failing test per finding; each passes once
 * the finding is fixed. Ratings and impact: /work/notes/s24/s24-rta.md.
 */
import { expect } from "chai";
import { idpSystem, startIdp } from "../helpers/idp-services";
import { SimulatedEye } from "../../offchain/avatars/iris";
import { issueRemote } from "../../offchain/services/avatars/clients";
import { toHex } from "../../offchain/crypto/bytes";

describe("s24-rta findings (traceable avatars)", function () {
  this.timeout(180_000);

  describe("R1: the MIT issuance refusal is an iris -> MIT serial oracle (a trace without a verdict)", () => {
    it("an enrolment-token holder who presents a victim's iris learns her MIT serial and iris commitment, and the token survives to probe again", async () => {
      const s = await idpSystem("s24rta-r1");
      const { svc, info } = await startIdp(s);
      try {
        // two honest users enrol
        const eyes = { alice: new SimulatedEye(31), bob: new SimulatedEye(32) };
        const issue = (name: string, label: string, enrollment: Uint8Array, token?: string) =>
          issueRemote({
            idp: info,
            dep: s.dep,
            keystore: s.client,
            name,
            kind: "user",
            label,
            enrollment,
            token: token ?? s.token("user", label),
          });
        const alice = (await issue("alice", "Alice A.", eyes.alice.capture())).party;
        const bob = (await issue("bob", "Bob B.", eyes.bob.capture())).party;
        // mallory holds ONE enrolment token (for herself) and captures of alice's and bob's eyes
        // (an iris photographed at a distance); she sends them as her own enrolment
        const token = s.token("user", "Mallory M.");
        const leaked: string[] = [];
        for (const [name, eye] of [
          ["m1", eyes.alice],
          ["m2", eyes.bob],
        ] as const) {
          const err = await issue(name, "Mallory M.", eye.capture(), token).then(
            () => undefined,
            (e: Error) => e,
          );
          expect(err, "the duplicate enrolment is refused").to.be.instanceOf(Error);
          leaked.push(err!.message);
        }
        // what a refusal may say: "already enrolled"; what it must not: whose MIT (the serial
        // names every avatar of hers on-chain: AvatarLoggedIn.owner, the avatar ids' owner tag),
        // nor her iris commitment (in every warrant she or her AI signs)
        for (const [i, p] of [alice, bob].entries()) {
          expect(leaked[i]).to.not.include(toHex(p.mit!.serial).slice(2), "the refusal names the victim's MIT serial");
          expect(leaked[i]).to.not.include(toHex(p.irisCommitment!).slice(2), "the refusal names the victim's iris commitment");
        }
      } finally {
        await svc.stop();
      }
    });
  });
});
