/**
 * The site's decisions about plans, kept in one place: its audit chain. Each decision is an entry (`plan.approved`,
 * `plan.rejected`, `plan.revoked`) naming the federation and the plan hash, who decided (a person's name, or the site
 * when its policy decided), when, with an optional note. The current decision about a federation is derived by reading
 * the chain: the latest decision entry for it, if it is about the plan hash served now; otherwise the plan is pending.
 */
import * as os from 'node:os';
import { z } from 'zod';
import type { PlanDecision } from '@twinfed/shared';
import type { SiteAuditAction, SiteAuditLog } from '../audit/site-audit';

/** A decision about one plan hash, or `pending`: none yet about the plan served now. */
export type DecisionState = PlanDecision | 'pending';

/** How a decision was made: by a person (`twinfed-site plans …`) or by the site's policy (`autoApprove`/`autoReject`). */
export type DecidedBy = 'hand' | 'policy';

/** A decision as recorded in the audit chain. */
export interface DecisionRecord {
  seq: number;
  federationId: string;
  decision: PlanDecision;
  planSha256: string;
  at: string;
  /** Who: the person's name, or the site (`site:<id>`) for a policy decision. */
  actor: string;
  decidedBy: DecidedBy;
  note?: string;
  /** The rules a plan rejected by policy broke. */
  rules?: string[];
}

/** The decision in force about a federation's current plan. */
export interface CurrentDecision {
  state: DecisionState;
  /** The latest decision recorded for the federation, about this plan or an earlier one (null when none). */
  last: DecisionRecord | null;
}

const ACTIONS: Record<PlanDecision, SiteAuditAction> = {
  approved: 'plan.approved',
  rejected: 'plan.rejected',
  revoked: 'plan.revoked',
};
const DECISION_OF = new Map<string, PlanDecision>(
  (Object.entries(ACTIONS) as Array<[PlanDecision, SiteAuditAction]>).map(([d, action]) => [action, d]),
);

/** The detail of a decision entry (read back from the chain; an entry that does not match is not a decision). */
const DecisionDetailSchema = z.object({
  federationId: z.string().min(1),
  planSha256: z.string().regex(/^[0-9a-f]{64}$/),
  decidedBy: z.enum(['hand', 'policy']),
  note: z.string().optional(),
  rules: z.array(z.string()).optional(),
});
const PolicyDetailSchema = z.object({ policySha256: z.string().nullable() });

/** The name of the person running the command (the default `--by`): the OS user, else `unknown`. */
export function osUser(): string {
  try {
    return os.userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The site's plan decisions, read from and appended to its audit chain. */
export class PlanDecisions {
  constructor(private readonly audit: SiteAuditLog) {}

  /** Every decision entry of the chain, oldest first. */
  all(): DecisionRecord[] {
    const out: DecisionRecord[] = [];
    for (const e of this.audit.list()) {
      const decision = DECISION_OF.get(e.action);
      if (!decision) continue;
      const d = DecisionDetailSchema.safeParse(e.detail);
      if (!d.success) continue;
      out.push({ seq: e.seq, decision, at: e.at, actor: e.actor, ...d.data });
    }
    return out;
  }

  /** The latest decision of each federation. */
  latest(): Map<string, DecisionRecord> {
    const out = new Map<string, DecisionRecord>();
    for (const d of this.all()) out.set(d.federationId, d);
    return out;
  }

  /** The decision in force about `federationId` whose plan hash is now `planSha256`. */
  current(federationId: string, planSha256: string): CurrentDecision {
    const last = this.latest().get(federationId) ?? null;
    return { state: last && last.planSha256 === planSha256 ? last.decision : 'pending', last };
  }

  /** Appends a decision (durably) and returns it as recorded. */
  record(input: {
    federationId: string;
    decision: PlanDecision;
    planSha256: string;
    decidedBy: DecidedBy;
    /** The person who decided (by hand); a policy decision is the site's own (the chain's default actor). */
    actor?: string;
    note?: string;
    rules?: string[];
  }): DecisionRecord {
    const detail = {
      federationId: input.federationId,
      planSha256: input.planSha256,
      decidedBy: input.decidedBy,
      ...(input.note !== undefined ? { note: input.note } : {}),
      ...(input.rules !== undefined ? { rules: input.rules } : {}),
    };
    const e = this.audit.append({
      action: ACTIONS[input.decision],
      subject: input.federationId,
      detail,
      ...(input.actor !== undefined ? { actor: input.actor } : {}),
    });
    return { seq: e.seq, decision: input.decision, at: e.at, actor: e.actor, ...detail };
  }

  /**
   * Appends `policy.changed` when the policy's digest (null: no policy file) differs from the one the last such entry
   * recorded (none recorded counts as no file). Returns true when it appended.
   */
  notePolicy(policySha256: string | null, actor?: string): boolean {
    let known: string | null = null;
    for (const e of this.audit.list()) {
      if (e.action !== 'policy.changed') continue;
      const d = PolicyDetailSchema.safeParse(e.detail);
      if (d.success) known = d.data.policySha256;
    }
    if (known === policySha256) return false;
    this.audit.append({
      action: 'policy.changed',
      subject: 'policy',
      detail: { policySha256, previousSha256: known },
      ...(actor !== undefined ? { actor } : {}),
    });
    return true;
  }
}
