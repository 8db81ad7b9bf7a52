/**
 * How a strategy declares itself (name, plan options, client-side terms, plan rules) in one module; the plan schema and
 * the site pick declarations up from the registry (./registry.ts), the coordinator registers its aggregation by name.
 */
import { z } from 'zod';

/**
 * What a site's local training adds for a strategy (each term kind is implemented once by the site's trainer):
 * FedProx's proximal term, SCAFFOLD's control-variate correction. Empty: plain local training.
 */
export interface ClientTerms {
  /** Add (mu/2)·‖w − w_round_start‖² to the local loss. */
  proximal?: { mu: number };
  /** Correct each local step by the site's control variates (SCAFFOLD), which need the server learning rate. */
  controlVariates?: { serverLr: number };
}

/**
 * What the coordinator aggregates, which fixes what a plan may combine the strategy with:
 * 'mean': a weighted mean of the deltas (works with secure aggregation and DP);
 * 'individual': needs every site's update on its own (robust aggregation: no secure aggregation, no DP);
 * 'relay': passes one site's model on (no secure aggregation, no DP).
 */
export type StrategyAggregation = 'mean' | 'individual' | 'relay';

/** The plan fields a strategy's own rules may look at. */
export interface StrategyPlanView {
  minSites: number;
  training: { optimizer: 'sgd' | 'adam' };
}

/** A cross-field plan problem: the path inside the plan and the message. */
export interface StrategyPlanIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Declares a strategy: `meaning` describes its name in the plan's JSON schema, `options` are its hyperparameters
 * (zod fields). The returned schema keeps its static type, so the plan's strategy union stays fully typed.
 */
export function declareStrategy<const N extends string, O extends z.ZodRawShape>(d: {
  name: N;
  meaning: string;
  options: O;
  aggregation: StrategyAggregation;
  clientTerms?: (
    config: z.output<z.ZodObject<{ name: z.ZodLiteral<N> } & O>>,
    clientConfig: Record<string, unknown>,
  ) => ClientTerms;
  rules?: readonly string[];
  checkPlan?: (
    config: z.output<z.ZodObject<{ name: z.ZodLiteral<N> } & O>>,
    plan: StrategyPlanView,
  ) => StrategyPlanIssue[];
}) {
  const shape = { name: z.literal(d.name).describe(d.meaning), ...d.options } as { name: z.ZodLiteral<N> } & O;
  const schema = z.object(shape).strict();
  type Config = z.output<typeof schema>;
  return {
    name: d.name,
    schema,
    aggregation: d.aggregation,
    clientTerms: (config: Config, clientConfig: Record<string, unknown>): ClientTerms =>
      d.clientTerms?.(config, clientConfig) ?? {},
    rules: d.rules ?? [],
    checkPlan: (config: Config, plan: StrategyPlanView): StrategyPlanIssue[] => d.checkPlan?.(config, plan) ?? [],
  };
}

const lr = z.number().positive().max(100);
const SERVER_LR =
  'Server learning rate: the global model moves by serverLr × the aggregated update (1 = plain averaging).';
/** `serverLr`, required (FedOpt). */
export const serverLrRequired = lr.describe(SERVER_LR);
/** `serverLr`, default 1 (FedAvg and its variants). */
export const serverLr1 = lr.default(1).describe(SERVER_LR);
