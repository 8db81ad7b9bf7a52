/**
 * `twinfed-site plans list|show|approve|reject|revoke`: the hospital decides which federation plans run on its data. Every
 * plan is fetched from the coordinator and its signature checked with the pinned key before it is shown or decided on;
 * decisions go to the site's audit chain (who, when, the plan hash, a note) and, without the name or the note, to the
 * coordinator.
 */
import { Command } from 'commander';
import { TwinfedError, printable, verifySignedPlan, type FederationView, type PlanDecision } from '@twinfed/shared';
import { SiteAuditLog } from '../../audit/site-audit';
import { coordinatorDecisions, type PlanDecisionChannel } from '../../governance/channel';
import { PlanDecisions, osUser, type CurrentDecision, type DecisionRecord } from '../../governance/decisions';
import { approveHint } from '../../governance/gate';
import { planInWords } from '../../governance/plan-words';
import {
  evaluatePolicy,
  policyLineText,
  failedRules,
  readPolicyFile,
  sitePolicySource,
  type PolicyEvaluation,
  type SitePolicy,
} from '../../governance/policy';
import { loadEnrollment, type Enrollment } from '../../identity/load';
import { CoordinatorClient } from '../../transport/coordinator-client';
import { commandContext, dataDirOption, siteHttp, writeJsonLine, type CliDeps, type CommonFlags } from '../context';
import { textArg, coordinatorOption } from '../parse';

interface PlansFlags extends CommonFlags {
  coordinator?: string[];
  ca?: string;
  insecureHttp?: boolean;
}

interface DecideFlags {
  by?: string;
  note?: string;
}

/** What every `plans` command works with. */
interface PlansContext {
  flags: PlansFlags;
  enrollment: Enrollment;
  api: CoordinatorClient;
  decisions: PlanDecisions;
  /** The policy in force (file + privacy floors), read once per command. */
  policy: SitePolicy;
  policyFile: string;
  channel: PlanDecisionChannel;
}

function plansContext(deps: CliDeps, cmd: Command): PlansContext {
  const flags = cmd.optsWithGlobals<PlansFlags>();
  const { config, logger } = commandContext(deps, {
    ...flags,
  });
  const enrollment = loadEnrollment(config.dataDir);
  const { http } = siteHttp(deps, config, enrollment, logger);
  const api = new CoordinatorClient(http);
  const decisions = new PlanDecisions(new SiteAuditLog(config.dataDir, () => `site:${enrollment.state.siteId}`));
  const policy = sitePolicySource({
    dataDir: config.dataDir,
    floors: config.privacy,
    onFileChange: (digest) => decisions.notePolicy(digest),
  })();
  return {
    flags,
    enrollment,
    api,
    decisions,
    policy,
    policyFile: readPolicyFile(config.dataDir).file,
    channel: coordinatorDecisions(api),
  };
}

/**
 * The federation as served, once its plan verified against the pinned coordinator key; and the plan's hash. A running
 * federation is read from the offers (every enrolled site is offered every running plan, including a site enrolled
 * after the federation started, which may not read the federation itself until a round selects it); an ended one
 * from the federation, which its members may still read.
 */
async function verifiedFederation(
  ctx: PlansContext,
  federationId: string,
): Promise<{ federation: FederationView; planSha256: string }> {
  const offered = (await ctx.channel.offered()).find((o) => o.federation.id === federationId);
  const federation = offered?.federation ?? (await ctx.api.federation(federationId));
  const planSha256 = verifySignedPlan({
    federationId,
    plan: federation.plan,
    signedPlan: federation.signedPlan,
    coordinatorSignPublicKey: ctx.enrollment.coordinator.signPublicKey,
  });
  return { federation, planSha256 };
}

const short = (hash: string): string => `${hash.slice(0, 12)}…`;
const out = (deps: CliDeps, lines: string[]): void =>
  void deps.stdout.write(printable(`${lines.join('\n')}\n`, { keepNewlines: true }));

/** The decision in words: `approved by dr.house on … ("note")`, or what pending means. */
function decisionText(current: CurrentDecision, federationId: string): string {
  const last = current.last;
  if (current.state === 'pending') {
    const earlier =
      last !== null
        ? ` (this site ${last.decision} another version of the plan, ${short(last.planSha256)}, on ${last.at})`
        : '';
    return `pending: nobody decided about this plan yet${earlier}; to approve it: twinfed-site plans approve ${federationId}`;
  }
  const who = last!.decidedBy === 'policy' ? "by this site's policy" : `by ${last!.actor}`;
  return `${current.state} ${who} on ${last!.at}${last!.note ? ` ("${last!.note}")` : ''}`;
}

function verdictLines(evaluation: PolicyEvaluation, policy: SitePolicy, policyFile: string): string[] {
  const automatic = [
    policy.autoApprove ? 'autoApprove: a plan within every rule is approved by the policy when `run` meets it' : null,
    policy.autoReject === false
      ? 'autoReject: false: a plan that breaks a rule is refused but no rejection is recorded'
      : null,
  ].filter((l): l is string => l !== null);
  return [
    `This site's policy (${policyFile}, and the privacy floors of the configuration): ${evaluation.verdict === 'conforms' ? 'the plan CONFORMS' : 'the plan VIOLATES it'}`,
    ...(evaluation.lines.length === 0
      ? ['  (no rules: every plan needs a person’s approval unless autoApprove is set)']
      : evaluation.lines.map((l) => `  ${policyLineText(l)}`)),
    ...automatic.map((l) => `  ${l}`),
  ];
}

/** Refuses to decide on a federation that ended. */
function requireRunning(federation: FederationView): void {
  if (federation.state !== 'running')
    throw new TwinfedError(
      'FEDERATION_NOT_RUNNING',
      `Federation ${federation.id} has ${federation.state}: there is no plan left to decide on.`,
    );
}

/** Tells the coordinator (no name, no note); a failure is a warning: the decision stands and `run` reports it again. */
async function report(
  deps: CliDeps,
  ctx: PlansContext,
  federationId: string,
  decision: PlanDecision,
  planSha256: string,
): Promise<boolean> {
  try {
    await ctx.channel.report(federationId, decision, planSha256);
    return true;
  } catch (e) {
    deps.stderr.write(
      printable(
        `warning: the decision is recorded here, but the coordinator could not be told now: ${e instanceof Error ? e.message : String(e)}${e instanceof TwinfedError ? ` [${e.code}]` : ''}. \`twinfed-site run\` tells it.\n`,
      ),
    );
    return false;
  }
}

function decidedLines(record: DecisionRecord, already: boolean, reported: boolean): string[] {
  return [
    `${already ? `Already ${record.decision}` : `${record.decision[0]!.toUpperCase()}${record.decision.slice(1)}`}: the plan ${short(record.planSha256)} of ${record.federationId}, by ${record.actor} on ${record.at}${record.note ? ` ("${record.note}")` : ''} (site audit chain, entry ${record.seq}).`,
    ...(reported
      ? [`The coordinator was told: ${record.decision} (the decision and the plan hash only, never who or why).`]
      : []),
  ];
}

function coordinatorOptions(cmd: Command): Command {
  return cmd
    .addOption(dataDirOption())
    .addOption(coordinatorOption('override the coordinator URL stored at enrollment'))
    .option('--ca <pem>', 'CA certificate (PEM) to trust for the coordinator (or TWINFED_CA)')
    .option('--insecure-http', 'allow plain http:// to a coordinator that is not on this machine');
}

/** Adds `plans list|show|approve|reject|revoke`. */
export function addPlansCommand(program: Command, deps: CliDeps): void {
  const plans = program
    .command('plans')
    .summary('see the plans of federations offered to this site, and approve, reject or revoke them')
    .description(
      'A federation trains on this site’s data only under a plan this site approved: by a person here, or by the site ' +
        'policy (<data-dir>/policy.json, docs/site-policy.md). A decision is about one plan hash: a plan that changes is ' +
        'pending again. Every plan is checked against the coordinator’s signature (pinned key) before it is shown or ' +
        'decided on. Decisions are recorded in the site audit chain (who, when, the plan hash, a note; ' +
        '`twinfed-site audit list`); the coordinator learns only approved, rejected or revoked and the hash.',
    );

  coordinatorOptions(
    plans
      .command('list')
      .description(
        'The running federations offered to this site: id, name, this site’s decision on the current plan (pending, ' +
          'approved, rejected, revoked; from its audit chain) and the plan hash (verified against the coordinator’s signature).',
      ),
  ).action(async (_opts: unknown, cmd: Command) => {
    const ctx = plansContext(deps, cmd);
    const rows = (await ctx.channel.offered()).map(({ federation, decision }) => {
      let planSha256: string | null = null;
      let problem: string | null = null;
      try {
        planSha256 = verifySignedPlan({
          federationId: federation.id,
          plan: federation.plan,
          signedPlan: federation.signedPlan,
          coordinatorSignPublicKey: ctx.enrollment.coordinator.signPublicKey,
        });
      } catch (e) {
        problem = e instanceof TwinfedError ? e.code : 'PLAN_SIGNATURE_INVALID';
      }
      const state = planSha256 === null ? null : ctx.decisions.current(federation.id, planSha256).state;
      return {
        federationId: federation.id,
        name: federation.name,
        state,
        planSha256,
        problem,
        coordinator: decision.decision,
      };
    });
    if (ctx.flags.json) {
      writeJsonLine(deps.stdout, { federations: rows });
      return;
    }
    if (rows.length === 0) return out(deps, ['(no running federation is offered to this site)']);
    const width = (f: (r: (typeof rows)[number]) => string) => Math.max(...rows.map((r) => f(r).length));
    const id = width((r) => r.federationId);
    const name = width((r) => r.name);
    out(deps, [
      ...rows.map((r) =>
        [
          r.federationId.padEnd(id),
          r.name.padEnd(name),
          (r.state ?? 'REFUSED').padEnd(8),
          r.planSha256 ? short(r.planSha256) : `plan not signed by the pinned coordinator key [${r.problem}]`,
          // The coordinator's record lags only when a report failed; `run` sends it again.
          r.state && r.state !== r.coordinator ? `(the coordinator has: ${r.coordinator})` : '',
        ]
          .join('  ')
          .trimEnd(),
      ),
      'twinfed-site plans show <federation> prints a plan in words with this site’s policy verdict.',
    ]);
  });

  coordinatorOptions(
    plans
      .command('show')
      .argument('<federation>', 'the federation id')
      .description(
        'The plan in words (model, features and label, strategy, rounds, minSites, secure aggregation, the DP ε budget ' +
          'over all rounds, what leaves this site each round), this site’s policy verdict line by line, and its decision.',
      ),
  ).action(async (federationId: string, _opts: unknown, cmd: Command) => {
    const ctx = plansContext(deps, cmd);
    const { federation, planSha256 } = await verifiedFederation(ctx, federationId);
    const plan = federation.plan;
    const words = planInWords(plan, ctx.policy);
    const evaluation = evaluatePolicy(plan, ctx.policy);
    const current = ctx.decisions.current(federationId, planSha256);
    if (ctx.flags.json) {
      writeJsonLine(deps.stdout, {
        federation: {
          id: federation.id,
          name: federation.name,
          state: federation.state,
          round: federation.currentRound,
        },
        planSha256,
        plan: Object.fromEntries(words.facts.map((f) => [f.label, f.text])),
        leaves: words.leaves,
        policy: evaluation,
        decision: current,
      });
      return;
    }
    const width = Math.max(...words.facts.map((f) => f.label.length)) + 2;
    out(deps, [
      `Federation ${federation.id} "${federation.name}": ${federation.state}, round ${federation.currentRound}`,
      `Plan ${planSha256} (signed by the coordinator; signature verified with the pinned key)`,
      ...words.facts.map((f) => `  ${`${f.label}:`.padEnd(width)}${f.text}`),
      'What leaves this site:',
      ...words.leaves.map((l) => `  - ${l}`),
      ...verdictLines(evaluation, ctx.policy, ctx.policyFile),
      `Decision: ${decisionText(current, federationId)}`,
    ]);
  });

  const decide = (name: 'approve' | 'reject' | 'revoke', description: string) =>
    coordinatorOptions(
      plans
        .command(name)
        .argument('<federation>', 'the federation id')
        .description(description)
        .option(
          '--by <name>',
          'who decides (recorded in the site audit chain only; default: the OS user)',
          textArg('the name', 200),
        )
        .option('--note <text>', 'why (recorded in the site audit chain only)', textArg('the note', 2000)),
    );

  decide(
    'approve',
    'Approve the federation’s current plan (its hash) for this site’s data. Refused, listing the failed rules, when the ' +
      'plan breaks the site policy: a person cannot approve past the hospital’s own policy without changing it.',
  ).action(async (federationId: string, opts: DecideFlags, cmd: Command) => {
    const ctx = plansContext(deps, cmd);
    const { federation, planSha256 } = await verifiedFederation(ctx, federationId);
    requireRunning(federation);
    const evaluation = evaluatePolicy(federation.plan, ctx.policy);
    if (evaluation.verdict === 'violates') {
      const broken = evaluation.lines.filter((l) => !l.ok).map((l) => `${l.message} (${l.rule})`);
      throw new TwinfedError(
        'PLAN_REJECTED',
        `The plan ${short(planSha256)} of ${federationId} breaks this site's policy: ${broken.join('; ')}. It cannot be approved past the policy: ask the operator for a plan within it, or change the policy (${ctx.policyFile}, and the privacy floors) first.`,
        { details: { rules: failedRules(evaluation) } },
      );
    }
    await decideAndReport(deps, ctx, { federationId, planSha256, decision: 'approved', opts });
  });

  decide(
    'reject',
    'Reject the federation’s current plan: this site will not train on it (the coordinator leaves it out of the rounds).',
  ).action(async (federationId: string, opts: DecideFlags, cmd: Command) => {
    const ctx = plansContext(deps, cmd);
    const { federation, planSha256 } = await verifiedFederation(ctx, federationId);
    requireRunning(federation);
    await decideAndReport(deps, ctx, { federationId, planSha256, decision: 'rejected', opts });
  });

  decide(
    'revoke',
    'Withdraw this site’s approval of the federation’s current plan: `run` stops at its next round (PLAN_NOT_APPROVED).',
  ).action(async (federationId: string, opts: DecideFlags, cmd: Command) => {
    const ctx = plansContext(deps, cmd);
    const { federation, planSha256 } = await verifiedFederation(ctx, federationId);
    requireRunning(federation);
    const current = ctx.decisions.current(federationId, planSha256);
    if (current.state !== 'approved' && current.state !== 'revoked')
      throw new TwinfedError(
        'PLAN_NOT_APPROVED',
        `This site has not approved the plan ${short(planSha256)} of ${federationId} (${decisionText(current, federationId)}): there is no approval to revoke.`,
      );
    await decideAndReport(deps, ctx, { federationId, planSha256, decision: 'revoked', opts });
  });

  plans.addHelpText(
    'after',
    '\nExamples:\n' +
      '  $ twinfed-site plans list                              (federations offered to this site, with its decisions)\n' +
      '  $ twinfed-site plans show fed-1                        (the plan in words, the policy verdict, the decision)\n' +
      '  $ twinfed-site plans approve fed-1 --by "Dr. Jones" --note "IRB 2024-17"\n' +
      '  $ twinfed-site plans reject fed-1 --note "label not covered by our consent"\n' +
      '  $ twinfed-site plans revoke fed-1\n' +
      `\nUntil a plan is approved, \`twinfed-site run\` refuses it (PLAN_NOT_APPROVED): ${approveHint('<federation>')}.`,
  );
}

/** Records the decision (unless it is already the one in force for this hash) and reports it. */
async function decideAndReport(
  deps: CliDeps,
  ctx: PlansContext,
  d: { federationId: string; planSha256: string; decision: PlanDecision; opts: DecideFlags },
): Promise<void> {
  const current = ctx.decisions.current(d.federationId, d.planSha256);
  const already = current.state === d.decision && current.last?.decidedBy === 'hand';
  const record = already
    ? current.last!
    : ctx.decisions.record({
        federationId: d.federationId,
        decision: d.decision,
        planSha256: d.planSha256,
        decidedBy: 'hand',
        actor: d.opts.by ?? osUser(),
        ...(d.opts.note !== undefined ? { note: d.opts.note } : {}),
      });
  const reported = await report(deps, ctx, d.federationId, d.decision, d.planSha256);
  if (ctx.flags.json) writeJsonLine(deps.stdout, { decision: record, already, reported });
  else out(deps, decidedLines(record, already, reported));
}
