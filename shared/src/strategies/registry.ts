/**
 * Every strategy a plan may name, by registration: the plan schema's strategy union, the plan rules and the site's
 * client terms all read this list. Adding a strategy: declare it in its own module (see ./declare.ts), add it here,
 * and register its aggregation under the same name in coordinator/src/strategies/registry.ts.
 */
import type { z } from 'zod';
import { cyclic } from './cyclic';
import type { ClientTerms, StrategyAggregation, StrategyPlanIssue, StrategyPlanView } from './declare';
import { fedavg, fedprox, scaffold } from './fedavg';
import { fedadagrad, fedadam, fedyogi } from './fedopt';
import { centeredclip, fedmedian, fedtrimmedavg, geomed, krum } from './robust';

export const STRATEGIES = [
  fedavg,
  fedprox,
  scaffold,
  fedadam,
  fedyogi,
  fedadagrad,
  cyclic,
  fedmedian,
  fedtrimmedavg,
  krum,
  geomed,
  centeredclip,
] as const;

type Schemas<T extends readonly { schema: unknown }[]> = { -readonly [K in keyof T]: T[K]['schema'] };

/** The `strategy` objects of the registered strategies (for the plan's discriminated union, in registration order). */
export const STRATEGY_SCHEMAS = STRATEGIES.map((s) => s.schema) as Schemas<typeof STRATEGIES>;

/** A strategy selection: the `strategy` object of a plan. */
export type StrategyConfig = z.output<(typeof STRATEGIES)[number]['schema']>;
/** Names of the registered strategies. */
export type StrategyName = (typeof STRATEGIES)[number]['name'];

/** A registered declaration, seen through the fields that do not depend on its options' types. */
interface Declaration {
  readonly name: StrategyName;
  readonly aggregation: StrategyAggregation;
  readonly rules: readonly string[];
  clientTerms(config: StrategyConfig, clientConfig: Record<string, unknown>): ClientTerms;
  checkPlan(config: StrategyConfig, plan: StrategyPlanView): StrategyPlanIssue[];
}

/** The declaration of a registered strategy (each one's functions only ever see its own config). */
export function strategyDeclaration(name: StrategyName): Declaration {
  return STRATEGIES.find((s) => s.name === name) as unknown as Declaration;
}

/** Names of the strategies with the given aggregation, in registration order. */
export function strategiesAggregating(aggregation: StrategyAggregation): StrategyName[] {
  return STRATEGIES.filter((s) => s.aggregation === aggregation).map((s) => s.name);
}

/** What the site's local training adds this round for the plan's strategy (see {@link ClientTerms}). */
export function clientTermsFor(config: StrategyConfig, clientConfig: Record<string, unknown>): ClientTerms {
  return strategyDeclaration(config.name).clientTerms(config, clientConfig);
}
