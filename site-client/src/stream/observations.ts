/**
 * What the stream endpoint accepts, turned into twin-store writes: a compact wearable batch
 * `{deviceId, patientRef, samples:[{id, t, code, value, unit}]}` or a FHIR Observation / Bundle of Observations.
 * Each item keeps its index, so the answer can say which ones were refused and why.
 */
import { z } from 'zod';
import { TwinfedError } from '@twinfed/shared';
import { observationWrite } from '../ingest/core';
import { convertObservation } from '../ingest/fhir/observation';
import { patientAlias, ReferenceResolver } from '../ingest/fhir/references';
import { parseInstant } from '../ingest/time';
import type { PatientRef, TwinWrite } from '../twins/store-types';

/** Most samples (or Bundle entries) one request may carry. */
export const MAX_STREAM_BATCH = 5000;

const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

/** A wearable batch: one device, one patient, up to {@link MAX_STREAM_BATCH} samples. */
const WearableBatchSchema = z.object({
  deviceId: id,
  /** The patient as the FHIR import registered it (`Patient/<id>`, a `urn:uuid:` full URL) or its pseudonymous id. */
  patientRef: z.string().min(1).max(200),
  samples: z.array(z.unknown()).min(1).max(MAX_STREAM_BATCH),
});

/** One wearable sample: `t` is an ISO 8601 instant with a zone or milliseconds since epoch; value in `unit`. */
const WearableSampleSchema = z.object({
  id,
  t: z.union([z.string().min(4).max(40), z.number().int()]),
  code: z.string().min(1).max(32),
  value: z.number(),
  unit: z.string().min(1).max(40).optional(),
});

/** One item of a request: its write, or why it is refused. */
type StreamItem = { index: number; write: TwinWrite } | { index: number; reason: string };

const PID = /^[0-9a-f]{64}$/;

function patientOf(ref: string): PatientRef | null {
  const alias = patientAlias(ref);
  if (alias) return { alias };
  return PID.test(ref) ? { pid: ref } : null;
}

function zodReason(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.join('.') || '(item)'}: ${issue?.message ?? 'invalid'}`;
}

function wearableItems(body: unknown): StreamItem[] {
  const parsed = WearableBatchSchema.safeParse(body);
  if (!parsed.success) {
    const tooBig = parsed.error.issues.some((i) => i.path[0] === 'samples' && i.code === 'too_big');
    throw new TwinfedError(
      tooBig ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_FAILED',
      tooBig
        ? `A batch carries at most ${MAX_STREAM_BATCH} samples.`
        : `The wearable batch is invalid: ${zodReason(parsed.error)}.`,
    );
  }
  const batch = parsed.data;
  const patient = patientOf(batch.patientRef);
  if (!patient)
    throw new TwinfedError(
      'VALIDATION_FAILED',
      'patientRef must be a FHIR reference (Patient/<id> or urn:uuid:…) or a pseudonymous id.',
    );
  return batch.samples.map((raw, index): StreamItem => {
    const s = WearableSampleSchema.safeParse(raw);
    if (!s.success) return { index, reason: zodReason(s.error) };
    const t = typeof s.data.t === 'number' ? s.data.t : parseInstant(s.data.t);
    if (t === null) return { index, reason: 't: not an ISO 8601 instant with a zone' };
    const w = observationWrite({
      patient,
      sourceId: `stream:${batch.deviceId}:${s.data.id}`,
      code: s.data.code,
      t,
      value: s.data.value,
      unit: s.data.unit,
      source: 'stream',
    });
    return 'write' in w ? { index, write: w.write } : { index, reason: w.reason };
  });
}

function fhirItems(body: Record<string, unknown>): StreamItem[] {
  let resources: unknown[];
  if (body.resourceType === 'Observation') resources = [body];
  else if (body.resourceType === 'Bundle') {
    if (!Array.isArray(body.entry))
      throw new TwinfedError('VALIDATION_FAILED', 'Bundle.entry must be an array of Observations.');
    if (body.entry.length > MAX_STREAM_BATCH)
      throw new TwinfedError('PAYLOAD_TOO_LARGE', `A Bundle carries at most ${MAX_STREAM_BATCH} entries.`);
    resources = body.entry.map((e: unknown) =>
      typeof e === 'object' && e !== null ? (e as { resource?: unknown }).resource : undefined,
    );
  } else
    throw new TwinfedError(
      'VALIDATION_FAILED',
      'Send a FHIR Observation, a Bundle of Observations, or a wearable batch.',
    );
  const ctx = { resolver: new ReferenceResolver(), units: {} };
  const items: StreamItem[] = [];
  resources.forEach((resource, index) => {
    if (
      typeof resource !== 'object' ||
      resource === null ||
      (resource as { resourceType?: unknown }).resourceType !== 'Observation'
    ) {
      items.push({ index, reason: 'only Observation resources are accepted here' });
      return;
    }
    const converted = convertObservation({ resource, entry: index }, ctx);
    if ('writes' in converted) {
      const writes = converted.writes.map((w) => (w.type === 'observation' ? { ...w, source: 'stream' as const } : w));
      for (const write of writes) items.push({ index, write });
    } else if ('skip' in converted) items.push({ index, reason: `not imported (${converted.skip})` });
    else items.push({ index, reason: converted.reject.reason });
  });
  return items;
}

/**
 * The items of a posted body, in order. Throws `VALIDATION_FAILED` for a body that is neither form,
 * `PAYLOAD_TOO_LARGE` for more than {@link MAX_STREAM_BATCH} items. A FHIR Observation may become several
 * items with the same index (a blood pressure panel's components).
 */
export function streamItems(body: unknown): StreamItem[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new TwinfedError('VALIDATION_FAILED', 'The body must be a JSON object.');
  const o = body as Record<string, unknown>;
  return 'resourceType' in o ? fhirItems(o) : wearableItems(o);
}
