/**
 * Markdown reference tables from a JSON Schema (as zod's `toJSONSchema` writes it, input side): one table per
 * object, one row per field with its type, whether it is required or its default, the allowed values and the
 * meaning (the field's description). Nested objects, array items and the variants of a union get their own
 * section, titled by their path.
 */
import type { JsonSchema } from '@twinfed/shared';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Code span that survives a table cell. */
const code = (v: unknown): string => `\`${(typeof v === 'string' ? v : JSON.stringify(v)).replace(/\|/g, '\\|')}\``;
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const props = (s: JsonSchema): Record<string, JsonSchema> =>
  (s.properties as Record<string, JsonSchema> | undefined) ?? {};
const variants = (s: JsonSchema): JsonSchema[] | undefined => (s.oneOf ?? s.anyOf) as JsonSchema[] | undefined;
const isObject = (s: JsonSchema): boolean => s.type === 'object' && s.properties !== undefined;

/** The discriminator of a union member (`kind = "mlp"`, `kind is one of …`), or its required keys (`{ loinc }`). */
function variantName(v: JsonSchema): string {
  for (const [key, p] of Object.entries(props(v)))
    if (p.const !== undefined) return `${key} = ${JSON.stringify(p.const)}`;
  for (const key of ['kind', 'name']) {
    const values = props(v)[key]?.enum as unknown[] | undefined;
    if (values) return `${key} is one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
  }
  const required = (v.required as string[] | undefined) ?? Object.keys(props(v));
  return `{ ${required.join(', ')} }`;
}

/** The description of a union member's discriminator (what `kind: "mlp"` means). */
function constDescription(v: JsonSchema): string | undefined {
  const d = Object.values(props(v)).find((p) => p.const !== undefined)?.description ?? props(v).kind?.description;
  return typeof d === 'string' ? d : undefined;
}

function typeOf(s: JsonSchema): string {
  const u = variants(s);
  if (u)
    return u.every((m) => !isObject(m) && m.type !== undefined) ? u.map(typeOf).join(' or ') : 'one of (see below)';
  if (s.const !== undefined) return typeof s.const;
  if (Array.isArray(s.prefixItems)) return `[${(s.prefixItems as JsonSchema[]).map(typeOf).join(', ')}]`;
  if (s.type === 'array')
    return `array of ${s.items && typeof s.items === 'object' ? typeOf(s.items as JsonSchema) : 'any'}`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object')
    return `object (${typeOf((s.propertyNames as JsonSchema | undefined) ?? { type: 'string' })} → ${typeOf(s.additionalProperties as JsonSchema)})`;
  if (isObject(s)) return 'object (see below)';
  if (Array.isArray(s.type)) return (s.type as string[]).join(' or ');
  return typeof s.type === 'string' ? s.type : 'any';
}

function bounds(s: JsonSchema): string[] {
  const out: string[] = [];
  const lo = s.minimum as number | undefined;
  const hi = s.maximum as number | undefined;
  const xlo = s.exclusiveMinimum as number | undefined;
  const xhi = s.exclusiveMaximum as number | undefined;
  const low = lo !== undefined && lo > -MAX_SAFE ? `≥ ${lo}` : xlo !== undefined ? `> ${xlo}` : undefined;
  const high = hi !== undefined && hi < MAX_SAFE ? `≤ ${hi}` : xhi !== undefined ? `< ${xhi}` : undefined;
  if (low && high) out.push(`${low} and ${high}`);
  else if (low ?? high) out.push((low ?? high)!);
  const minLength = s.minLength as number | undefined;
  const maxLength = s.maxLength as number | undefined;
  if (minLength !== undefined || maxLength !== undefined) {
    if (minLength === maxLength) out.push(`exactly ${minLength} character${minLength === 1 ? '' : 's'}`);
    else if (maxLength === undefined) out.push(minLength === 1 ? 'non-empty' : `at least ${minLength} characters`);
    else out.push(`${minLength ?? 0}–${maxLength} characters`);
  }
  if (s.pattern !== undefined) out.push(`pattern ${code(s.pattern)}`);
  if (s.enum !== undefined) out.push((s.enum as unknown[]).map(code).join(', '));
  if (s.const !== undefined) out.push(code(s.const));
  return out;
}

function allowed(s: JsonSchema): string {
  const u = variants(s);
  if (u && u.every((m) => !isObject(m))) return u.flatMap(bounds).join('; ');
  const out = bounds(s);
  if (s.type === 'array' && !Array.isArray(s.prefixItems)) {
    const minItems = s.minItems as number | undefined;
    const maxItems = s.maxItems as number | undefined;
    if (minItems !== undefined || maxItems !== undefined)
      out.push(
        maxItems === undefined
          ? `at least ${minItems} item${minItems === 1 ? '' : 's'}`
          : `${minItems ?? 0}–${maxItems} items`,
      );
    const items = s.items as JsonSchema | undefined;
    if (items && typeof items === 'object' && !isObject(items) && !variants(items)) {
      const each = bounds(items);
      if (each.length) out.push(`each ${each.join(', ')}`);
    }
  }
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') {
    const each = bounds(s.additionalProperties as JsonSchema);
    if (each.length) out.push(`values ${each.join(', ')}`);
  }
  return out.join('; ');
}

/** The sections of a schema: `title` then one table per object it contains (depth first, in field order). */
export function schemaSections(schema: JsonSchema, opts: { path: string; level: number; title?: string }): string[] {
  const out: string[] = [];
  const queue: Array<{ path: string; schema: JsonSchema; title?: string }> = [
    { path: opts.path, schema, ...(opts.title ? { title: opts.title } : {}) },
  ];
  const heading = '#'.repeat(opts.level);
  // The same nested object under the same path (a field shared by several union members) is described once.
  const seen = new Set<string>();
  while (queue.length > 0) {
    const { path, schema: s, title } = queue.shift()!;
    const key = `${title ?? path}\u0000${JSON.stringify(s)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const required = new Set((s.required as string[] | undefined) ?? []);
    out.push(`${heading} ${title ?? `\`${path}\``}`, '');
    if (typeof s.description === 'string') out.push(s.description, '');
    out.push('| Field | Type | Required / default | Allowed values | Meaning |', '|---|---|---|---|---|');
    const nested: typeof queue = [];
    for (const [name, p] of Object.entries(props(s))) {
      const field = path ? `${path}.${name}` : name;
      const need = required.has(name)
        ? 'required'
        : p.default !== undefined
          ? `default ${code(p.default)}`
          : 'optional';
      out.push(
        `| ${code(field)} | ${cell(typeOf(p))} | ${need} | ${cell(allowed(p))} | ${cell(typeof p.description === 'string' ? p.description : '')} |`,
      );
      const inner =
        p.type === 'array' && p.items && typeof p.items === 'object'
          ? { path: `${field}[]`, schema: p.items as JsonSchema }
          : { path: field, schema: p };
      const u = variants(inner.schema);
      if (u && u.some(isObject)) {
        for (const v of u)
          nested.push({
            path: inner.path,
            schema: { ...v, description: v.description ?? constDescription(v) },
            title: `\`${inner.path}\` when ${variantName(v)}`,
          });
      } else if (isObject(inner.schema)) nested.push(inner);
    }
    out.push('');
    queue.unshift(...nested);
  }
  return out;
}
