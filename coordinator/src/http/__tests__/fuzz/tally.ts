import { httpStatus, isErrorCode } from '@twinfed/shared';
import { targetOf, type FuzzCase } from './cases';
import { mayAuthenticate } from './credentials';
import { routeOf } from './paths';
import type { Outcome } from './send';

/** Where in the pipeline a request was decided (from its answer). */
export type Stage = 'before-auth' | 'refused-at-auth' | 'past-auth' | 'no-answer' | 'hung-up';

/** Codes the credential stage answers with. */
const AUTH_CODES = new Set([
  'UNAUTHENTICATED',
  'BAD_SIGNATURE',
  'STALE_REQUEST',
  'REPLAYED_REQUEST',
  'INVALID_TOKEN',
  'UNKNOWN_SITE',
  'FORBIDDEN',
  'SITE_REVOKED',
]);

export function stageOf(c: FuzzCase, o: Outcome): Stage {
  if (o.aborted) return 'hung-up';
  if (o.status === null) return 'no-answer';
  if (o.code && AUTH_CODES.has(o.code)) return 'refused-at-auth';
  if (c.transport === 'http' && o.status < 300 && routeOf(c.method, targetOf(c))) return 'past-auth';
  // Decided before a credential was looked at: no route for it, malformed path (400), media type or encoding (415),
  // node's parser (no JSON code), Expect (417), header size (431), engine.io.
  if (
    c.transport === 'raw' ||
    !routeOf(c.method, targetOf(c)) ||
    !o.code ||
    o.status === 415 ||
    (o.status === 400 && o.code === 'BAD_REQUEST')
  )
    return 'before-auth';
  return 'past-auth';
}

/** What the coordinator promises every request, or null when it kept it. */
export function violation(c: FuzzCase, o: Outcome): string | null {
  if (o.timedOut) return 'no answer within the deadline';
  if (o.aborted) return null;
  if (o.status === null)
    return c.transport === 'raw' || o.error?.startsWith('client refused') ? null : `no answer (${o.error})`;
  if (o.status >= 500) return `${o.status} ${o.code ?? ''}`;
  // Every route that creates something answers 201; the fuzz never sends a request that may write (cases.ts).
  if (o.status === 201) return '201: the request wrote something';
  if (c.transport === 'http' && c.route && o.status < 300) {
    // The route that answered: express serves HEAD with the GET route of the path, and a path may have both methods.
    const answered = routeOf(c.method, targetOf(c));
    if (!answered) return `${o.status} to ${c.method} ${targetOf(c)}, which no route serves`;
    if (!mayAuthenticate(c.credential, answered.roles))
      return `${o.status} without a credential valid for ${answered.key}`;
  }
  // engine.io answers its own errors ({code: 0}); a HEAD answer has no body to read a code from.
  const noCode = c.transport === 'http' && (targetOf(c).startsWith('/socket.io') || c.method === 'HEAD');
  if (o.status >= 400 && o.type?.startsWith('application/json') && !noCode) {
    if (!o.code || !isErrorCode(o.code)) return `error body without a known code (${o.code})`;
    if (httpStatus(o.code) !== o.status) return `${o.code} answered with ${o.status}`;
  }
  return null;
}

const bump = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

/** Counts by target (route key, `stray`, `raw`), by status, by error code and by stage. */
export class Tally {
  readonly byTarget = new Map<string, number>();
  /** Requests to a route with the route's own method. */
  readonly byRoute = new Map<string, number>();
  readonly byStatus = new Map<string, number>();
  readonly byCode = new Map<string, number>();
  readonly byStage = new Map<Stage, number>();
  /** Per route: statuses seen. */
  readonly routeStatuses = new Map<string, Map<string, number>>();
  total = 0;

  add(c: FuzzCase, o: Outcome): void {
    this.total++;
    const status = o.aborted ? 'hung-up' : o.status === null ? 'no-answer' : String(o.status);
    bump(this.byTarget, c.target);
    if (c.transport === 'http' && c.route && c.method === c.route.method.toUpperCase()) bump(this.byRoute, c.route.key);
    bump(this.byStatus, status);
    if (o.code) bump(this.byCode, o.code);
    bump(this.byStage, stageOf(c, o));
    const per = this.routeStatuses.get(c.target) ?? new Map<string, number>();
    bump(per, status);
    this.routeStatuses.set(c.target, per);
  }

  count(status: string): number {
    return this.byStatus.get(status) ?? 0;
  }

  /** A plain-text report for the log. */
  report(extra: Record<string, unknown> = {}): string {
    const sorted = (m: Map<string, number>) =>
      [...m.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');
    const lines = [
      `requests: ${this.total}`,
      `by status: ${sorted(this.byStatus)}`,
      `by stage: ${sorted(this.byStage)}`,
      `by code: ${sorted(this.byCode)}`,
      ...Object.entries(extra).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`),
      'by target:',
      ...[...this.routeStatuses.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([t, m]) => `  ${t} (${this.byTarget.get(t)}): ${sorted(m)}`),
    ];
    return lines.join('\n');
  }
}
