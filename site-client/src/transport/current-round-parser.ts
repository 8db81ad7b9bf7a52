import { z } from 'zod';
import { CurrentRoundSchema, PlanSchema, type CurrentRound, type Plan } from '@twinfed/shared';

/** `rounds/current` with the plan left as it came (checked apart, see {@link CurrentRoundParser}). */
const WithRawPlan = CurrentRoundSchema.extend({
  federation: CurrentRoundSchema.shape.federation.extend({ plan: z.unknown() }),
});

/**
 * Validates the `rounds/current` answers of one site as `CurrentRoundSchema` does, with the same result, but parses the
 * plan, by far its largest part and the same in every answer of a federation, only when its JSON differs from the
 * last one parsed; otherwise the answer gets a copy of that parse (PlanSchema is a pure function of its input). Every
 * other field is parsed at every answer.
 */
export class CurrentRoundParser {
  private last: { json: string; plan: Plan } | undefined;

  safeParse(value: unknown): { success: true; data: CurrentRound } | { success: false } {
    const rest = WithRawPlan.safeParse(value);
    if (!rest.success) return { success: false };
    const raw = rest.data.federation.plan;
    const json = JSON.stringify(raw);
    let plan: Plan;
    if (this.last !== undefined && json !== undefined && this.last.json === json) plan = copyOf(this.last.plan);
    else {
      const parsed = PlanSchema.safeParse(raw);
      if (!parsed.success) return { success: false };
      plan = parsed.data;
      if (json !== undefined) this.last = { json, plan: copyOf(plan) };
    }
    return { success: true, data: { ...rest.data, federation: { ...rest.data.federation, plan } } };
  }
}

/**
 * A deep copy of a parsed plan (JSON values only: it came from JSON through the schema) made of this realm's plain
 * objects. Not structuredClone: inside a vm context (jest's, for one) its copy has the outer realm's prototypes, which
 * the plan digest (canonicalJson) refuses as not plain.
 */
function copyOf(plan: Plan): Plan {
  return JSON.parse(JSON.stringify(plan)) as Plan;
}
