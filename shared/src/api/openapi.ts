/**
 * The OpenAPI 3.1 document of the coordinator's REST API, generated from the contract (`contract.ts`) with zod's
 * JSON Schema output (OpenAPI 3.1 schemas are JSON Schema 2020-12). Served at `GET /openapi.json` and checked in as
 * docs/openapi.json (`npm run docs`).
 */
import { z } from 'zod';
import * as auditSchemas from '../audit/schemas';
import * as signedHead from '../audit/signed-head';
import { HTTP_ERROR_CODES, type HttpErrorCode } from '../errors';
import { PROTOCOL_VERSION } from '../protocol';
import * as apiSchemas from '../schemas/api';
import { PlanSchema } from '../schemas/plan';
import * as governanceSchemas from '../schemas/governance';
import * as populationSchemas from '../schemas/population';
import * as secaggSchemas from '../schemas/secagg';
import { api, PATH_PARAMETERS } from './contract';
import { errorCodesOf, operationsOf, paramNames, type Operation, type Role } from './endpoint';

type Json = Record<string, unknown>;

/** The names of the shared schemas (export name less `Schema`), so the document's components read like the code. */
function schemaNames(): Map<z.ZodType, string> {
  const names = new Map<z.ZodType, string>();
  for (const mod of [
    apiSchemas,
    governanceSchemas,
    secaggSchemas,
    populationSchemas,
    auditSchemas,
    signedHead,
  ] as Array<Record<string, unknown>>) {
    for (const [key, value] of Object.entries(mod)) {
      if (key.endsWith('Schema') && value instanceof z.ZodType && !names.has(value))
        names.set(value, key.slice(0, -'Schema'.length));
    }
  }
  return names;
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The operationId of an operation: `getFederations`, `postFederations`, `getCurrentRound`… */
function operationId(method: string, name: string): string {
  return `${method}${capitalise(name)}`;
}

/** A JSON Schema from zod without the keys that only make sense at a document's root. */
function bare(schema: Json): Json {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

const toSchema = (s: z.ZodType, io: 'input' | 'output'): Json =>
  bare(z.toJSONSchema(s, { target: 'draft-2020-12', io, unrepresentable: 'any' }));

/** Names request (input) and response (output) schemas and turns each set into components that refer to each other. */
function components(ops: Array<{ name: string; method: string; op: Operation }>) {
  const known = schemaNames();
  const input = z.registry<{ id: string }>();
  const output = z.registry<{ id: string }>();
  const taken = new Set<string>();
  const add = (reg: typeof input, schema: z.ZodType, fallback: string, io: 'input' | 'output'): string => {
    const existing = reg.get(schema)?.id;
    if (existing) return existing;
    let id = known.get(schema) ?? fallback;
    if (taken.has(id)) id = `${id}${io === 'input' ? 'Input' : 'Output'}`;
    taken.add(id);
    reg.add(schema, { id });
    return id;
  };
  const request = new Map<Operation, string>();
  const response = new Map<Operation, string>();
  // The plan is large and in several answers (a federation's view, a site's round instructions): one component.
  add(output, PlanSchema, 'Plan', 'output');
  for (const { name, method, op } of ops) {
    const opName = capitalise(operationId(method, name));
    if (op.request.body === 'json') request.set(op, add(input, op.request.schema, `${opName}Request`, 'input'));
    if (op.response.kind === 'json') response.set(op, add(output, op.response.schema, `${opName}Response`, 'output'));
  }
  const uri = (id: string) => `#/components/schemas/${id}`;
  const schemas: Record<string, Json> = {};
  for (const [reg, io] of [
    [input, 'input'],
    [output, 'output'],
  ] as const) {
    const out = z.toJSONSchema(reg, { target: 'draft-2020-12', io, unrepresentable: 'any', uri }) as {
      schemas: Record<string, Json>;
    };
    for (const [id, schema] of Object.entries(out.schemas)) schemas[id] = bare(schema);
  }
  schemas.ErrorBody = toSchema(
    z.object({
      error: z.object({
        code: z.enum(Object.keys(HTTP_ERROR_CODES) as [HttpErrorCode, ...HttpErrorCode[]]),
        message: z.string(),
        details: z.unknown().optional(),
      }),
    }),
    'output',
  );
  const sorted = Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b)));
  return { schemas: sorted, request, response, ref: (id: string) => ({ $ref: uri(id) }) };
}

/** The security schemes of each role, any one of which suffices (a site signs or MACs, never both). */
const SECURITY: Record<Exclude<Role, 'public'>, readonly string[]> = {
  site: ['siteSignature', 'siteMac'],
  operator: ['bearerToken'],
  researcher: ['bearerToken'],
};

function security(roles: readonly Role[]): Array<Record<string, string[]>> {
  if (roles.includes('public')) return [];
  const schemes = [...new Set(roles.flatMap((r) => SECURITY[r as Exclude<Role, 'public'>]))];
  return schemes.map((s) => ({ [s]: [] }));
}

function parameters(path: string, op: Operation): Json[] {
  const out: Json[] = paramNames(path).map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: toSchema(PATH_PARAMETERS[name] ?? z.string(), 'input'),
  }));
  if (op.request.body === 'none' && op.request.query) {
    const q = toSchema(op.request.query, 'input') as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(q.properties ?? {}))
      out.push({ name, in: 'query', required: (q.required ?? []).includes(name), schema });
  }
  return out;
}

function errorResponses(op: Operation, ref: (id: string) => Json): Record<string, Json> {
  const byStatus = new Map<number, HttpErrorCode[]>();
  for (const code of errorCodesOf(op)) {
    const status = HTTP_ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, Json> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(status)] = {
      description: codes.join(', '),
      'x-twinfed-error-codes': codes,
      content: { 'application/json': { schema: ref('ErrorBody') } },
    };
  }
  return out;
}

/** The OpenAPI 3.1 document of the whole contract. */
export function openApiDocument(): Json {
  const ops = operationsOf(api);
  const c = components(ops);
  const paths: Record<string, Json> = {};
  for (const { name, method, path, op } of ops) {
    const success: Record<string, Json> = {};
    for (const status of op.response.status) {
      const description =
        status === 304 ? 'Not modified (the If-None-Match ETag matches).' : status === 201 ? 'Created.' : 'OK.';
      const r = op.response;
      const content =
        status === 304
          ? undefined
          : r.kind === 'json'
            ? { 'application/json': { schema: c.ref(c.response.get(op)!) } }
            : r.kind === 'binary'
              ? {
                  'application/octet-stream': {
                    schema: { type: 'string', contentMediaType: 'application/octet-stream' },
                  },
                }
              : Object.fromEntries(r.mediaTypes.map((m) => [m, { schema: { type: 'string' } }]));
      success[String(status)] = content ? { description, content } : { description };
    }
    const requestBody =
      op.request.body === 'json'
        ? { required: true, content: { 'application/json': { schema: c.ref(c.request.get(op)!) } } }
        : op.request.body === 'binary'
          ? {
              required: true,
              content: {
                'application/octet-stream': {
                  schema: { type: 'string', contentMediaType: 'application/octet-stream' },
                },
              },
            }
          : undefined;
    const params = parameters(path, op);
    const operation: Json = {
      operationId: operationId(method, name),
      summary: op.summary,
      'x-twinfed-roles': [...op.roles],
      security: security(op.roles),
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses: { ...success, ...errorResponses(op, c.ref) },
    };
    const key = path.replace(/:([A-Za-z][A-Za-z0-9]*)/g, '{$1}');
    paths[key] = { ...(paths[key] ?? {}), [method]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'twinfed coordinator API',
      version: String(PROTOCOL_VERSION),
      description:
        'The REST API of the twinfed coordinator. Sites authenticate every request with their enrolled Ed25519 key or with a MAC under a key derived from their enrolled X25519 key and the coordinator’s (x-twinfed-* headers); operators and researchers send a bearer token. A researcher token reads only the federations of its studies (and their rounds, versions, evaluations and population views): any other federation, version or study answers exactly as a missing one (404 `UNKNOWN_FEDERATION`, `UNKNOWN_MODEL_VERSION`, `UNKNOWN_STUDY`), and lists leave it out. Errors are `{ error: { code, message, details? } }` with the codes of docs/errors.md. Generated from shared/src/api/contract.ts.',
    },
    paths,
    components: {
      schemas: c.schemas,
      securitySchemes: {
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'An operator token, or a researcher token scoped to studies (`twinfed tokens create`).',
        },
        siteSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'x-twinfed-signature',
          description:
            'A site request signature over method, path, timestamp, nonce and body digest (shared/src/auth/request-signing.ts).',
        },
        siteMac: {
          type: 'apiKey',
          in: 'header',
          name: 'x-twinfed-mac',
          description:
            "Instead of the signature: an HMAC-SHA256 over method, path, timestamp, nonce and body digest under the site's request MAC key (shared/src/auth/request-mac.ts).",
        },
      },
    },
  };
}
