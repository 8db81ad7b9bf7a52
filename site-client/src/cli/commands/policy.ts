/** `twinfed-site policy check|show`: the site's policy (docs/site-policy.md), offline. */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { PlanSchema, TwinfedError, printable, type Plan } from '@twinfed/shared';
import {
  evaluatePolicy,
  policyLineText,
  parsePolicy,
  readPolicyFile,
  withPrivacyFloors,
  type LoadedPolicy,
} from '../../governance/policy';
import { commandContext, dataDirOption, writeJsonLine, type CliDeps, type CommonFlags } from '../context';

interface PolicyFlags extends CommonFlags {
  policy?: string;
}

/** Exit codes of `policy check`. */
const POLICY_CHECK_EXIT = { conforms: 0, violates: 1 } as const;

const out = (deps: CliDeps, lines: string[]): void =>
  void deps.stdout.write(printable(`${lines.join('\n')}\n`, { keepNewlines: true }));

function readPlan(file: string): Plan {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TwinfedError('INVALID_PLAN', `The plan ${file} cannot be read as JSON: ${(e as Error).message}`);
  }
  const parsed = PlanSchema.safeParse(raw);
  if (!parsed.success)
    throw new TwinfedError(
      'INVALID_PLAN',
      `The plan ${file} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** The policy file to use: `--policy <file>` (a draft), else the data directory's. */
function policyFile(dataDir: string, flags: PolicyFlags): LoadedPolicy {
  if (flags.policy === undefined) return readPolicyFile(dataDir);
  let text: string;
  try {
    text = fs.readFileSync(flags.policy, 'utf8');
  } catch (e) {
    throw new TwinfedError('POLICY_INVALID', `The site policy ${flags.policy} cannot be read: ${(e as Error).message}`);
  }
  return { ...parsePolicy(text, flags.policy), file: flags.policy };
}

/** Adds `policy check <plan.json>` and `policy show`. */
export function addPolicyCommand(program: Command, deps: CliDeps, setExitCode: (code: number) => void): void {
  const policy = program
    .command('policy')
    .summary("check a plan against this site's policy, or show the policy in force")
    .description(
      'The site policy (<data-dir>/policy.json, docs/site-policy.md) says what may run on this site’s data: allowed ' +
        'features, labels, model kinds and strategies, secure aggregation and differential privacy required, a maximum ε, ' +
        'rounds and cohort size, population reports and the site’s own k; and whether plans within it are approved ' +
        '(autoApprove) and plans outside it rejected (autoReject) without a person. The privacy floors of the ' +
        'configuration (TWINFED_REQUIRE_SECURE_AGGREGATION, TWINFED_REQUIRE_DP, TWINFED_MAX_EPSILON, ' +
        'TWINFED_MIN_POPULATION_K) add to it, the stricter winning. Works offline.',
    );
  policy
    .command('check')
    .argument('<plan>', 'a plan file (JSON, as `twinfed federations create --plan` takes it)')
    .description('The policy’s verdict on a plan, line by line. Exit status 0 when it conforms, 1 when it violates.')
    .addOption(dataDirOption())
    .option('--policy <file>', 'check against this policy file (a draft) instead of the data directory’s')
    .action((planFile: string, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<PolicyFlags>();
      const { config } = commandContext(deps, flags);
      const loaded = policyFile(config.dataDir, flags);
      const plan = readPlan(planFile);
      const evaluation = evaluatePolicy(plan, withPrivacyFloors(loaded.policy, config.privacy));
      if (flags.json) writeJsonLine(deps.stdout, { plan: plan.name, policyFile: loaded.file, ...evaluation });
      else
        out(deps, [
          `Plan "${plan.name}" against ${loaded.digest === null ? `no policy file (${loaded.file})` : loaded.file}${hasFloors(config.privacy) ? ' with the privacy floors' : ''}: ${evaluation.verdict === 'conforms' ? 'CONFORMS' : 'VIOLATES'}`,
          ...(evaluation.lines.length === 0
            ? ['  (no rules: every plan conforms, and needs a person’s approval unless autoApprove is set)']
            : evaluation.lines.map((l) => `  ${policyLineText(l)}`)),
        ]);
      setExitCode(evaluation.verdict === 'conforms' ? POLICY_CHECK_EXIT.conforms : POLICY_CHECK_EXIT.violates);
    });
  policy
    .command('show')
    .description('The policy file, the privacy floors of the configuration, and the policy in force (both together).')
    .addOption(dataDirOption())
    .option('--policy <file>', 'show this policy file (a draft) instead of the data directory’s')
    .action((_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<PolicyFlags>();
      const { config } = commandContext(deps, flags);
      const loaded = policyFile(config.dataDir, flags);
      const inForce = withPrivacyFloors(loaded.policy, config.privacy);
      if (flags.json) {
        writeJsonLine(deps.stdout, {
          file: loaded.file,
          digest: loaded.digest,
          policy: loaded.policy,
          floors: config.privacy,
          inForce,
        });
        return;
      }
      out(deps, [
        loaded.digest === null
          ? `Site policy: none (${loaded.file} does not exist): no rules, nothing approved or rejected without a person.`
          : `Site policy: ${loaded.file} (sha256 ${loaded.digest})`,
        `Privacy floors of the configuration: ${hasFloors(config.privacy) ? JSON.stringify(config.privacy) : 'none'}`,
        'In force (the stricter of both):',
        ...JSON.stringify(inForce, null, 2)
          .split('\n')
          .map((l) => `  ${l}`),
        `Without a person: plans within every rule are ${inForce.autoApprove ? 'approved (autoApprove)' : 'not approved (a person runs `twinfed-site plans approve`)'}; plans that break a rule are ${inForce.autoReject === false ? 'refused without recording a rejection (autoReject: false)' : 'rejected, and the rejection reported (autoReject)'}.`,
      ]);
    });
}

function hasFloors(floors: object): boolean {
  return Object.values(floors).some((v) => v !== undefined && v !== false);
}
