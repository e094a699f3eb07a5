/**
 * The MSRP's policy on group requests that cost it gas (h11-red "group gas drain", closed in session
 * 13). Every formation (`/v1/group/request`) and every add (`/v1/group/add`) is a transaction the MSRP
 * pays for and loads RNs with; a registered user could ask for any number of them. The policy:
 *
 * - a quota per user per window: at most `perUser` formations and adds by one user in one window;
 * - a global budget per window: at most `budget` formations and adds by all users together;
 * - a window is `windowSec` seconds of wall-clock time (window k is [k·windowSec, (k+1)·windowSec)).
 *
 * A request over either limit is refused with {@link GroupQuotaError} (HTTP 429, `QUOTA_EXCEEDED`,
 * reason `GROUP_QUOTA` or `GROUP_BUDGET`) before anything is dealt, journaled or sent: nothing
 * changes. A request is charged once, when its intent is journaled (after every other check passed):
 * a retry of an accepted request is answered from the reply cache or finished from its intent, and
 * never charged again. A rekey that evicts flagged members is not charged (it needs a member the
 * trust layer flagged, so its count is bounded by the flags, and refusing it would leave a flagged
 * RN reading the group's traffic). The counts are kept in `groups/quota.json` (atomic writes), so a
 * restart does not reset them; a crash between the charge and the intent leaves one charge too many.
 */
import path from "path";
import fs from "fs";
import { MetatrustError } from "../../errors";
import { AgentStateError } from "../../rsms/errors";
import { writeFileAtomic } from "../../storage/fs-atomic";

/** The MSRP's limits on gas-costing group requests. */
export type GroupPolicy = { perUser: number; budget: number; windowSec: number };

/** Defaults: 16 formations or adds per user and 1,024 in all per day. */
export const DEFAULT_GROUP_POLICY: GroupPolicy = { perUser: 16, budget: 1024, windowSec: 86_400 };

/** The environment variables that set the policy when the flags do not. */
export const GROUP_POLICY_ENV = {
  perUser: "METATRUST_GROUP_QUOTA",
  budget: "METATRUST_GROUP_BUDGET",
  windowSec: "METATRUST_GROUP_WINDOW_SEC",
} as const;
const FLAGS = { perUser: "--group-quota", budget: "--group-budget", windowSec: "--group-window" } as const;

/**
 * The policy from the flags, else the environment, else {@link DEFAULT_GROUP_POLICY}.
 * @param flags - the values given on the command line (undefined: not given)
 * @param env - the environment
 * @throws AgentStateError naming the flag or variable whose value is not a positive whole number
 */
export function parseGroupPolicy(flags: Partial<GroupPolicy> = {}, env: NodeJS.ProcessEnv = process.env): GroupPolicy {
  const out = { ...DEFAULT_GROUP_POLICY };
  for (const k of ["perUser", "budget", "windowSec"] as const) {
    const given = flags[k];
    const raw = given !== undefined ? String(given) : env[GROUP_POLICY_ENV[k]];
    if (raw === undefined || raw === "") continue;
    const v = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(v) || v < 1)
      throw new AgentStateError(`${given !== undefined ? FLAGS[k] : GROUP_POLICY_ENV[k]}: "${raw}" is not a positive whole number`);
    out[k] = v;
  }
  return out;
}

/** Which limit refused a request. */
export type QuotaLimit = "GROUP_QUOTA" | "GROUP_BUDGET";

/** A group request over the MSRP's quota or budget (429; nothing changed; retry in the next window). */
export class GroupQuotaError extends MetatrustError {
  readonly reason: QuotaLimit;
  constructor(reason: QuotaLimit, message: string) {
    super("QUOTA_EXCEEDED", message);
    this.reason = reason;
  }
}

type Counts = { window: number; users: Record<string, number>; total: number };

/** The counts of the current window, persisted in `<dir>/quota.json`. */
export class GroupQuota {
  private readonly file: string;

  /**
   * @param dir - the group desk's folder
   * @param policy - the limits
   * @param now - the clock (ms; tests move it)
   */
  constructor(
    dir: string,
    readonly policy: GroupPolicy,
    private readonly now: () => number = Date.now,
  ) {
    this.file = path.join(dir, "quota.json");
  }

  private window(): number {
    return Math.floor(this.now() / 1000 / this.policy.windowSec);
  }

  private counts(): Counts {
    const w = this.window();
    try {
      const c = JSON.parse(fs.readFileSync(this.file, "utf8")) as Counts;
      if (c.window === w) return c;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    return { window: w, users: {}, total: 0 };
  }

  /**
   * Refuses a request by `user` that the policy does not allow now (changes nothing).
   * @param user - the requesting user's name
   * @param what - the request, for the message ("group request", "add")
   * @throws GroupQuotaError(GROUP_QUOTA | GROUP_BUDGET)
   */
  check(user: string, what: string): void {
    const c = this.counts();
    const ends = new Date((c.window + 1) * this.policy.windowSec * 1000).toISOString();
    if ((c.users[user] ?? 0) >= this.policy.perUser)
      throw new GroupQuotaError(
        "GROUP_QUOTA",
        `${what}: user "${user}" has used its quota of ${this.policy.perUser} group formations and adds in this window (it ends ${ends})`,
      );
    if (c.total >= this.policy.budget)
      throw new GroupQuotaError(
        "GROUP_BUDGET",
        `${what}: the MSRP's budget of ${this.policy.budget} group formations and adds in this window is spent (it ends ${ends})`,
      );
  }

  /** Checks, then charges one request to `user` (written before the request's intent). */
  charge(user: string, what: string): void {
    this.check(user, what);
    const c = this.counts();
    c.users[user] = (c.users[user] ?? 0) + 1;
    c.total += 1;
    writeFileAtomic(this.file, JSON.stringify(c), 0o600);
  }

  /** What `user` and everyone used in the current window. */
  used(user: string): { user: number; total: number } {
    const c = this.counts();
    return { user: c.users[user] ?? 0, total: c.total };
  }
}
