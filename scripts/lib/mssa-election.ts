/**
 * The MSSA part of the services story (issue 19): residents register at a place across its
 * authority services (`registerRemote`: every authority checks the request, k approve on-chain,
 * docs/specs/mssa.md §2.6), and an approved elector registration enrols them in the electorate (one
 * account per person, §1.8); then one
 * election round (MSSA Eqs. 1-4, Algorithm 1): nominations, Borda ballots, the election of the top
 * m. Each member signs its own transactions with its own key (voters are clients). Used by
 * `npm run demo -- --services` (against the running services and `hardhat node`) and by
 * test/services/mssa-election-story.test.ts (in-process).
 */
import path from "path";
import type { Wallet } from "ethers";
import type { AuthorityElection } from "../../typechain-types";
import { Keystore } from "../../offchain/storage/keystore";
import { registerRemote, type MssaDeployment } from "../../offchain/services/mssa/clients";

/**
 * Registers residents at `place` over HTTP until the election has `2m + 1` members (enough for a
 * round) and at least `m + 1` residents are registered (the voters and nominees of
 * {@link runElection}), or the residents run out.
 * @param a.urls - the place's authority services (default: the endpoints they announced on-chain)
 * @param a.residents - the residents' accounts (each signs its requests and its consent; no transaction)
 * @param a.dir - a folder for the residents' keystores (each keeps its commitment's opening)
 * @returns how many registered, and the members after
 * @throws when a registration is refused or not granted
 */
export async function registerResidents(a: {
  urls?: string[];
  place: string;
  dep: MssaDeployment;
  election: AuthorityElection;
  residents: Wallet[];
  dir: string;
}): Promise<{ registered: number; members: number }> {
  const seats = Number((await a.election.params()).seats);
  const needed = 2n * BigInt(seats) + 1n;
  let registered = 0;
  for (const [i, user] of a.residents.entries()) {
    if ((await a.election.memberCount()) >= needed && registered >= seats + 1) break;
    const r = await registerRemote({
      urls: a.urls,
      place: a.place,
      user,
      infos: [`mail:resident${i}@example.org`, `passport:UTO:R${String(i).padStart(7, "0")}`],
      dep: a.dep,
      keystore: new Keystore(path.join(a.dir, `resident-${i}`), ""),
      // each resident registers here once, as an elector (her election nullifier; h11-red2 M1)
      elector: true,
    });
    if (!r.outcome.granted) throw new Error(`registerResidents: ${user.address} is pending (${r.outcome.approvals} approvals)`);
    registered++;
  }
  return { registered, members: Number(await a.election.memberCount()) };
}

/**
 * One election round with `voters` (members, connected to the chain with their own keys): the
 * first opens it, each nominates one of the first `m + 1` voters, time passes the nomination
 * period, the candidates are selected (Eq. 2), every voter casts a Borda ballot (the same order:
 * the candidates as selected), time passes the voting period, and the top m sit.
 * @param a.advance - moves the chain's clock on by that many seconds (a development node only)
 * @returns the round, its candidates, their Borda scores and the new authorities
 * @throws when the round aborts or a transaction is refused
 */
export async function runElection(a: {
  election: AuthorityElection;
  voters: Wallet[];
  advance: (seconds: number) => Promise<void>;
}): Promise<{ round: bigint; candidates: string[]; scores: bigint[]; seated: string[]; gas: bigint }> {
  const el = a.election;
  const params = await el.params();
  const seats = Number(params.seats);
  if (a.voters.length < seats + 1)
    throw new RangeError(`runElection: ${a.voters.length} voters; an election of ${seats} needs ${seats + 1}`);
  for (const v of a.voters) if (!(await el.isMember(v.address))) throw new RangeError(`runElection: ${v.address} is not a member`);
  let gas = 0n;
  const send = async (p: Promise<{ wait: () => Promise<{ gasUsed: bigint } | null> }>) => {
    gas += (await (await p).wait())!.gasUsed;
  };
  await send(el.connect(a.voters[0]).openRound());
  const round = await el.currentRound();
  const nominees = a.voters.slice(0, seats + 1);
  // the nominees stand first (s23-rtm F3: only a member who stands can be nominated)
  for (const v of nominees) await send(el.connect(v).stand(round));
  for (const [i, v] of a.voters.entries()) await send(el.connect(v).nominate(round, nominees[i % nominees.length].address));
  await a.advance(Number(params.nominationPeriod) + 1);
  await send(el.connect(a.voters[0]).closeNomination());
  const r = await el.round(round);
  if (Number(r.stage) !== 2) throw new Error(`runElection: round ${round} did not reach voting (stage ${r.stage})`);
  const candidates = [...r.candidates];
  const ranking = candidates.map((_, i) => i);
  for (const v of a.voters) await send(el.connect(v).vote(round, ranking));
  await a.advance(Number(params.votingPeriod) + 1);
  await send(el.connect(a.voters[0]).elect());
  if (Number((await el.round(round)).stage) !== 3) throw new Error(`runElection: round ${round} was not elected`);
  return { round, candidates, scores: [...(await el.tally(round))], seated: [...(await el.authorities())], gas };
}
