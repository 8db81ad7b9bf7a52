/**
 * The gate a plan passes before this site contributes anything to it, checked again at every round: the site's policy
 * first (a plan that breaks a rule is rejected, by policy when `autoReject`), then the decision recorded for this plan
 * hash in the audit chain (approved: go on; rejected by a person: stop; revoked: stop), then, for a plan nobody decided
 * on yet, `autoApprove` (approve by policy) or stop until a person approves it.
 */
import { TwinfedError, type Plan, type PlanDecision } from '@twinfed/shared';
import type { PlanDecisionChannel } from './channel';
import type { DecisionRecord, PlanDecisions } from './decisions';
import { evaluatePolicy, failedRules, type SitePolicy } from './policy';

/** Options of {@link PlanGate}. */
interface PlanGateOptions {
  decisions: PlanDecisions;
  /** The policy in force, asked at every check (the CLI re-reads the policy file: it may change while the site runs). */
  policy: () => SitePolicy;
  /** Where decisions are reported to the coordinator; without it they are recorded locally only. */
  channel?: PlanDecisionChannel;
  /** A report that failed (it is tried again at the next check). */
  onWarning?: (message: string, code?: TwinfedError['code']) => void;
  /** The first check a plan hash passes: the approval it passed on. */
  onApproved?: (approval: DecisionRecord) => void;
}

/** The two commands that let a person decide, as the messages show them. */
export function approveHint(federationId: string): string {
  return `run \`twinfed-site plans show ${federationId}\` then \`twinfed-site plans approve ${federationId}\``;
}

const short = (hash: string): string => `${hash.slice(0, 12)}…`;

/** See the module comment. One gate per federation run: it reports each decision to the coordinator once. */
export class PlanGate {
  private readonly reported = new Set<string>();
  private readonly passed = new Set<string>();

  constructor(private readonly options: PlanGateOptions) {}

  /**
   * Resolves when this site may contribute to `federationId` under `plan` (whose hash is `planSha256`); throws
   * `PLAN_REJECTED` (the policy or a person rejected it) or `PLAN_NOT_APPROVED` (nobody approved it, or the approval
   * was revoked) with a message that says what to do.
   */
  async check(federationId: string, plan: Plan, planSha256: string, signal?: AbortSignal): Promise<void> {
    const { decisions } = this.options;
    const policy = this.options.policy();
    const evaluation = evaluatePolicy(plan, policy);
    const current = decisions.current(federationId, planSha256);
    if (evaluation.verdict === 'violates') {
      const rules = failedRules(evaluation);
      if (policy.autoReject !== false) {
        if (current.state !== 'rejected')
          decisions.record({ federationId, decision: 'rejected', planSha256, decidedBy: 'policy', rules });
        await this.report(federationId, 'rejected', planSha256, signal);
      }
      const broken = evaluation.lines.filter((l) => !l.ok).map((l) => `${l.message} (${l.rule})`);
      throw new TwinfedError(
        'PLAN_REJECTED',
        `This site's policy rejects the plan of ${federationId} (${short(planSha256)}): ${broken.join('; ')}. It will not train on it: ask the operator for a plan within the policy, or change the policy (policy.json in the data directory, and the privacy floors --require-secure-aggregation, --require-dp, --max-epsilon).`,
        { details: { rules } },
      );
    }
    const last = current.last;
    if (current.state === 'approved') return this.pass(current.last!, signal);
    if (current.state === 'rejected' && last?.decidedBy === 'hand') {
      await this.report(federationId, 'rejected', planSha256, signal);
      throw new TwinfedError(
        'PLAN_REJECTED',
        `This site rejected the plan of ${federationId} (${short(planSha256)}): ${last.actor} on ${last.at}${last.note ? ` ("${last.note}")` : ''}. It will not train on it; to take part after all, ${approveHint(federationId)}.`,
      );
    }
    if (current.state === 'revoked') {
      await this.report(federationId, 'revoked', planSha256, signal);
      throw new TwinfedError(
        'PLAN_NOT_APPROVED',
        `This site revoked its approval of the plan of ${federationId} (${short(planSha256)}): ${last!.actor} on ${last!.at}. It will not train on it; to take part again, ${approveHint(federationId)}.`,
      );
    }
    // Pending: nobody decided about this hash, or only the policy rejected it, and the policy no longer objects.
    if (policy.autoApprove)
      return this.pass(
        decisions.record({ federationId, decision: 'approved', planSha256, decidedBy: 'policy' }),
        signal,
      );
    const earlier =
      last && last.planSha256 !== planSha256
        ? ` Its ${last.decision === 'approved' ? 'approval' : 'decision'} of ${last.at} was about another version of the plan (${short(last.planSha256)}): the plan changed since.`
        : '';
    throw new TwinfedError(
      'PLAN_NOT_APPROVED',
      `This site has not approved the plan of ${federationId} (${short(planSha256)}).${earlier} It will not train on it until a person approves it: ${approveHint(federationId)}.`,
    );
  }

  private async pass(approval: DecisionRecord, signal: AbortSignal | undefined): Promise<void> {
    const key = `${approval.federationId}\n${approval.planSha256}`;
    if (!this.passed.has(key)) {
      this.passed.add(key);
      this.options.onApproved?.(approval);
    }
    await this.report(approval.federationId, 'approved', approval.planSha256, signal);
  }

  /** Tells the coordinator, once per decision and hash; a failure is a warning, and tried again at the next check. */
  private async report(
    federationId: string,
    decision: PlanDecision,
    planSha256: string,
    signal?: AbortSignal,
  ): Promise<void> {
    const { channel } = this.options;
    const key = `${federationId}\n${planSha256}\n${decision}`;
    if (!channel || this.reported.has(key)) return;
    try {
      await channel.report(federationId, decision, planSha256, signal ? { signal } : {});
      this.reported.add(key);
    } catch (e) {
      if (signal?.aborted) throw e;
      const err = e instanceof TwinfedError ? e : undefined;
      this.options.onWarning?.(
        `Could not tell the coordinator this site's decision (${decision}) about the plan of ${federationId}: ${e instanceof Error ? e.message : String(e)}. It is recorded here and will be sent again.`,
        err?.code,
      );
    }
  }
}
