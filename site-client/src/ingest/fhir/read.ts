/** Splits a FHIR file (a Bundle, a single resource, or NDJSON) into resources with their position. */
import { TwinfedError } from '@twinfed/shared';
import type { IngestRejection } from '../report';

/** One resource of the file and where it was. */
export interface FhirEntry {
  resource: unknown;
  /** The Bundle entry's fullUrl, when it had one. */
  fullUrl?: string;
  line?: number;
  entry?: number;
}

interface ReadFhirResult {
  entries: FhirEntry[];
  /** Lines or entries that are not resources at all. */
  rejected: IngestRejection[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Expands a parsed JSON value: a Bundle into its entries' resources (nested Bundles too), a resource into itself. */
function expand(value: unknown, at: { line?: number }, out: ReadFhirResult): void {
  const where = at.line !== undefined ? { line: at.line } : {};
  if (!isObject(value) || typeof value.resourceType !== 'string') {
    out.rejected.push({ resourceType: 'unknown', ...where, reason: 'not a FHIR resource (no resourceType)' });
    return;
  }
  if (value.resourceType !== 'Bundle') {
    out.entries.push({ resource: value, ...where });
    return;
  }
  const entries = value.entry === undefined ? [] : value.entry;
  if (!Array.isArray(entries)) {
    out.rejected.push({ resourceType: 'Bundle', ...where, path: 'entry', reason: 'Bundle.entry must be an array' });
    return;
  }
  entries.forEach((e: unknown, i) => {
    const resource = isObject(e) ? e.resource : undefined;
    if (isObject(resource) && resource.resourceType === 'Bundle') return expand(resource, at, out);
    if (!isObject(resource) || typeof resource.resourceType !== 'string') {
      out.rejected.push({
        resourceType: 'unknown',
        ...where,
        entry: i,
        path: `entry[${i}].resource`,
        reason: 'the entry has no resource with a resourceType',
      });
      return;
    }
    const fullUrl = isObject(e) && typeof e.fullUrl === 'string' ? { fullUrl: e.fullUrl } : {};
    out.entries.push({ resource, ...fullUrl, ...where, entry: i });
  });
}

/**
 * Reads FHIR JSON text: one JSON document (a Bundle or a resource) or NDJSON (one resource or Bundle per
 * line; blank lines ignored; a line that is not JSON is rejected and the others still count). A file none of
 * whose lines is JSON (e.g. a truncated pretty-printed Bundle) is refused as a whole (INVALID_JSON).
 */
export function readFhirText(text: string): ReadFhirResult {
  const out: ReadFhirResult = { entries: [], rejected: [] };
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const trimmed = body.trim();
  const firstBreak = trimmed.indexOf('\n');
  // NDJSON when the first line alone is a JSON value and more follows; otherwise try one JSON document.
  const ndjson = firstBreak >= 0 && parses(trimmed.slice(0, firstBreak));
  if (!ndjson) {
    try {
      const value = JSON.parse(body) as unknown;
      // A one-line file is a one-line NDJSON file as much as a JSON document: keep its line number.
      expand(value, firstBreak >= 0 ? {} : { line: 1 }, out);
      return out;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
    }
  }
  const lines = body.split(/\r?\n/);
  const parsed: { line: number; value?: unknown }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    try {
      parsed.push({ line: i + 1, value: JSON.parse(line) as unknown });
    } catch {
      parsed.push({ line: i + 1 });
    }
  }
  if (parsed.length > 0 && parsed.every((p) => !('value' in p))) {
    throw new TwinfedError('INVALID_JSON', 'The file is neither a JSON document nor NDJSON (no line is a JSON value).');
  }
  for (const p of parsed) {
    if ('value' in p) expand(p.value, { line: p.line }, out);
    else out.rejected.push({ resourceType: 'unknown', line: p.line, reason: 'the line is not valid JSON' });
  }
  return out;
}

function parses(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
