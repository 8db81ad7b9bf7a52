/**
 * The shape of one endpoint of the coordinator's REST API, and the helpers every side derives from it: concrete
 * paths from a pattern (typed path parameters), the error codes an operation may answer with.
 * The endpoints themselves are in `contract.ts`.
 */
import type { z } from 'zod';
import type { HttpErrorCode } from '../errors';

/** Who may call an operation: anyone (`public`), an enrolled site (signed requests), or a bearer-token holder. */
export type Role = 'public' | 'site' | 'operator' | 'researcher';

/** HTTP methods the API uses (`put`: an idempotent replacement, e.g. a site's decision or a federation's plan). */
export type Method = 'get' | 'post' | 'put';

/** Every {@link Method}, in the order tables list them. */
export const METHODS: readonly Method[] = ['get', 'post', 'put'];

/** How a request body is read: JSON (≤ maxJsonBytes) or binary (≤ maxUpdateBytes). Both are read raw: signatures cover the bytes. */
export type BodyKind = 'json' | 'binary';

/** The request of an operation: its body (none for GET) and its query parameters. */
export type RequestSpec =
  | { readonly body: 'none'; readonly query?: z.ZodObject }
  | { readonly body: 'json'; readonly schema: z.ZodType }
  | { readonly body: 'binary' };

/** The success answer of an operation. */
export type ResponseSpec =
  | { readonly kind: 'json'; readonly status: readonly SuccessStatus[]; readonly schema: z.ZodType }
  | { readonly kind: 'binary'; readonly status: readonly SuccessStatus[] }
  /** A fixed text format (metrics, the dashboard's files). */
  | { readonly kind: 'text'; readonly status: readonly SuccessStatus[]; readonly mediaTypes: readonly string[] };

type SuccessStatus = 200 | 201 | 304;

/** One operation (a method on a path). */
export interface Operation {
  readonly summary: string;
  readonly roles: readonly Role[];
  readonly request: RequestSpec;
  readonly response: ResponseSpec;
  /** Codes the handler itself answers with; those of the common pipeline are added by {@link errorCodesOf}. */
  readonly errors: readonly HttpErrorCode[];
}

/** A path and its operations. `:name` segments are path parameters. */
export interface Resource {
  readonly path: string;
  readonly get?: Operation;
  readonly post?: Operation;
  readonly put?: Operation;
}

/** The names of the `:params` of a path pattern, in order. */
export type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? [Name, ...ParamNames<`/${Rest}`>]
  : P extends `${string}:${infer Name}`
    ? [Name]
    : [];

/** The path parameters of a pattern as an object: `'/a/:fid/b/:round'` → `{ fid, round }`. */
type PathParams<P extends string> = { [K in ParamNames<P>[number]]: string | number };

/** A concrete path builder: a string for a fixed path, else a function of the parameters in order. */
export type PathBuilder<P extends string> =
  ParamNames<P> extends [] ? P : (...args: ParamValues<ParamNames<P>>) => string;

type ParamValues<N extends string[]> = { [I in keyof N]: string | number } & unknown[];

const PARAM = /:([A-Za-z][A-Za-z0-9]*)/g;

/** The parameter names of a path pattern, in order. */
export function paramNames(pattern: string): string[] {
  return [...pattern.matchAll(PARAM)].map((m) => m[1]!);
}

/** A concrete path from a pattern and its parameters (each URI-encoded). */
export function pathOf<P extends string>(pattern: P, params: PathParams<P>): string {
  const values = params as Record<string, string | number>;
  return pattern.replace(PARAM, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`Missing path parameter ${name} of ${pattern}`);
    return encodeURIComponent(String(v));
  });
}

/** The {@link PathBuilder} of a pattern. */
export function pathBuilder<P extends string>(pattern: P): PathBuilder<P> {
  const names = paramNames(pattern);
  if (names.length === 0) return pattern as PathBuilder<P>;
  const build = (...args: Array<string | number>) =>
    pathOf(pattern, Object.fromEntries(names.map((n, i) => [n, args[i]!])) as PathParams<P>);
  return build as PathBuilder<P>;
}

/** Codes the common request pipeline may answer with before or around any handler (coordinator/src/http/app.ts). */
const PIPELINE_ERRORS: readonly HttpErrorCode[] = [
  'BAD_REQUEST',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'REQUEST_TIMEOUT',
  'RATE_LIMITED',
  'NOT_READY',
  'INTERNAL',
];
const TOKEN_ERRORS: readonly HttpErrorCode[] = ['UNAUTHENTICATED', 'INVALID_TOKEN', 'FORBIDDEN'];
/** A bearer token is checked before the role, so a site route may refuse one too. */
const SITE_ERRORS: readonly HttpErrorCode[] = [
  'UNAUTHENTICATED',
  'INVALID_TOKEN',
  'BAD_SIGNATURE',
  'STALE_REQUEST',
  'REPLAYED_REQUEST',
  'UNKNOWN_SITE',
  'SITE_REVOKED',
  'FORBIDDEN',
];
const JSON_BODY_ERRORS: readonly HttpErrorCode[] = ['INVALID_JSON', 'VALIDATION_FAILED'];

/** Every code an operation may answer with: its own, its authentication's, its body's and the pipeline's. */
export function errorCodesOf(op: Operation): HttpErrorCode[] {
  const codes = new Set<HttpErrorCode>(op.errors);
  const roles = new Set(op.roles);
  if (!roles.has('public')) {
    if (roles.has('operator') || roles.has('researcher')) TOKEN_ERRORS.forEach((c) => codes.add(c));
    if (roles.has('site')) SITE_ERRORS.forEach((c) => codes.add(c));
  }
  if (op.request.body === 'json') JSON_BODY_ERRORS.forEach((c) => codes.add(c));
  if (op.request.body === 'none' && op.request.query) codes.add('VALIDATION_FAILED');
  PIPELINE_ERRORS.forEach((c) => codes.add(c));
  return [...codes];
}

/** The operations of a contract as a flat list, in table order. */
export function operationsOf<C extends Record<string, Resource>>(
  contract: C,
): Array<{ name: keyof C & string; method: Method; path: string; op: Operation }> {
  const out: Array<{ name: keyof C & string; method: Method; path: string; op: Operation }> = [];
  for (const [name, resource] of Object.entries(contract)) {
    for (const method of METHODS) {
      const op = resource[method];
      if (op) out.push({ name, method, path: resource.path, op });
    }
  }
  return out;
}

/** The parsed JSON answer of an operation (`never` for binary and text answers). */
export type ResponseOf<O> = O extends {
  readonly response: { readonly kind: 'json'; readonly schema: infer S extends z.ZodType };
}
  ? z.output<S>
  : never;

/** The JSON body an operation takes, as a caller writes it (`never` for none and binary bodies). */
export type BodyOf<O> = O extends {
  readonly request: { readonly body: 'json'; readonly schema: infer S extends z.ZodType };
}
  ? z.input<S>
  : never;

/** One call of an operation: the HTTP method and concrete path to send, and the operation (its response schema). */
export interface Call<O extends Operation> {
  readonly method: Uppercase<Method>;
  readonly path: string;
  readonly operation: O;
}

/** The {@link Call} of `resource`'s `method` with its path parameters filled; a query, when given, is appended. */
export function callOf<R extends Resource, M extends Method & keyof R>(
  resource: R,
  method: M,
  params: PathParams<R['path']>,
  query?: Record<string, string | undefined>,
): Call<NonNullable<R[M]> & Operation> {
  const operation = resource[method];
  if (!operation) throw new Error(`${method.toUpperCase()} ${resource.path} is not in the contract`);
  const entries = Object.entries(query ?? {}).filter((e): e is [string, string] => e[1] !== undefined);
  const search = entries.length > 0 ? `?${new URLSearchParams(entries).toString()}` : '';
  return { method: method.toUpperCase() as Uppercase<Method>, path: pathOf(resource.path, params) + search, operation };
}

/** The zod schema of an operation's JSON answer. */
export function responseSchema<O extends Operation>(operation: O): z.ZodType<ResponseOf<O>> {
  if (operation.response.kind !== 'json') throw new Error(`The answer of "${operation.summary}" is not JSON`);
  return operation.response.schema as z.ZodType<ResponseOf<O>>;
}
