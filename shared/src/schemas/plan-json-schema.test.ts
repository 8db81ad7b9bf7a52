import { planJsonSchema, type JsonSchema } from './plan-json-schema';

/** Every property of every object in `schema` (through oneOf/anyOf/items/prefixItems), with its dotted path. */
function properties(schema: JsonSchema, at = ''): Array<{ path: string; schema: JsonSchema }> {
  const out: Array<{ path: string; schema: JsonSchema }> = [];
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  for (const [name, child] of Object.entries(props ?? {})) {
    out.push({ path: `${at}${at ? '.' : ''}${name}`, schema: child });
    out.push(...properties(child, `${at}${at ? '.' : ''}${name}`));
  }
  for (const key of ['oneOf', 'anyOf', 'allOf', 'prefixItems'] as const) {
    for (const [i, member] of ((schema[key] as JsonSchema[] | undefined) ?? []).entries())
      out.push(...properties(member, `${at}<${key}${i}>`));
  }
  if (schema.items && typeof schema.items === 'object') out.push(...properties(schema.items as JsonSchema, `${at}[]`));
  return out;
}

describe('planJsonSchema', () => {
  const schema = planJsonSchema();

  test('every field of the plan, however deep, carries a description', () => {
    const all = properties(schema);
    expect(all.length).toBeGreaterThan(60);
    expect(
      all
        .filter((p) => typeof p.schema.description !== 'string' || p.schema.description.length < 10)
        .map((p) => p.path),
    ).toEqual([]);
  });

  test('is the input side: fields with defaults are optional and show their default', () => {
    expect(schema.required).toEqual(['name', 'model', 'data', 'strategy', 'training', 'rounds']);
    const data = (schema.properties as Record<string, JsonSchema>).data!;
    const min = (data.properties as Record<string, JsonSchema>).minExamplesPerSite!;
    expect(min).toMatchObject({ type: 'integer', default: 20, minimum: 1 });
    expect(data.required).toEqual(['features']);
  });
});
