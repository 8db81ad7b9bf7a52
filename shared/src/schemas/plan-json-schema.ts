/** The federation plan as JSON Schema (draft 2020-12), generated from {@link PlanSchema}: what a user writes. */
import { z } from 'zod';
import { PlanSchema } from './plan';

/** A JSON Schema document (loosely typed: it is printed and walked, never trusted as input). */
export type JsonSchema = { [key: string]: unknown };

/**
 * The JSON Schema of a zod schema's input side (fields with defaults are optional), with descriptions,
 * defaults, bounds and allowed values. Cross-field rules (refinements) cannot be expressed and are left out.
 */
export function inputJsonSchema(schema: z.ZodType, title: string): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  const { $schema, ...rest } = json;
  return { $schema, title, ...rest };
}

/** The JSON Schema of a federation plan file (`twinfed plan schema`). */
export function planJsonSchema(): JsonSchema {
  return inputJsonSchema(PlanSchema, 'twinfed federation plan');
}
