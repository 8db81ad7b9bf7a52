/**
 * The ingest core every channel shares (FHIR files, CSV exports, the wearable stream): normalised
 * {@link TwinWrite}s in, an {@link IngestReport} out. Writes are applied in chunks, each one store
 * transaction, in order (so a patient lands before its records); re-applying the same writes changes
 * nothing and counts as duplicates.
 */
import type { ObservationSource, PatientRef, TwinStore, TwinWrite } from '../twins/store-types';
import { emptyReport, type AcceptedCounts, type IngestRejection, type IngestReport } from './report';
import { normalizeQuantity, type NormalizeOptions } from './units';

/** Where a write came from, for the rejection entry (without `reason`). */
export type IngestOrigin = Omit<IngestRejection, 'reason'>;

/** A write and its origin. Writes of one source record share the same origin object. */
export interface IngestItem {
  write: TwinWrite;
  origin: IngestOrigin;
}

const ACCEPTED_KEY: Record<TwinWrite['type'], keyof AcceptedCounts> = {
  patient: 'patients',
  observation: 'observations',
  condition: 'conditions',
  immunization: 'immunizations',
  consent: 'consents',
  exposure: 'exposures',
  label: 'labels',
};

interface IngestWritesOptions {
  /** Adds to this report instead of a new one. */
  report?: IngestReport;
  /** Writes per store transaction (default 5000). */
  chunkSize?: number;
}

/**
 * Applies the writes and accounts each outcome in the report. A source record refused by the store is
 * listed once, however many of its writes were refused.
 */
export async function ingestWrites(
  store: TwinStore,
  items: readonly IngestItem[],
  options: IngestWritesOptions = {},
): Promise<IngestReport> {
  const report = options.report ?? emptyReport();
  const chunk = Math.max(1, Math.floor(options.chunkSize ?? 5000));
  let lastRejected: IngestOrigin | null = null;
  for (let start = 0; start < items.length; start += chunk) {
    const slice = items.slice(start, start + chunk);
    const outcomes = await store.apply(slice.map((i) => i.write));
    outcomes.forEach((o, k) => {
      const item = slice[k]!;
      if (o.status === 'rejected') {
        if (item.origin !== lastRejected) report.rejected.push({ ...item.origin, reason: o.reason });
        lastRejected = item.origin;
        return;
      }
      if (o.status === 'duplicate') {
        report.duplicates += 1;
        return;
      }
      report.accepted[ACCEPTED_KEY[item.write.type]] += 1;
      if (o.status === 'updated') report.updated += 1;
    });
  }
  return report;
}

/** A raw measurement before unit normalisation (what a CSV cell or a wearable sample carries). */
interface RawObservation {
  patient: PatientRef;
  sourceId: string;
  /** LOINC code. */
  code: string;
  /** Milliseconds since epoch. */
  t: number;
  value: number;
  unit: string | undefined;
  source: ObservationSource;
}

/** The observation write with its value in the canonical unit of its code, or why it is refused. */
export function observationWrite(
  raw: RawObservation,
  options: NormalizeOptions = {},
): { write: TwinWrite } | { reason: string } {
  if (!Number.isSafeInteger(raw.t)) return { reason: 'time is not a valid instant' };
  const q = normalizeQuantity({ code: raw.code, value: raw.value, unit: raw.unit }, options);
  if (!q.ok) return { reason: q.reason };
  return {
    write: {
      type: 'observation',
      patient: raw.patient,
      sourceId: raw.sourceId,
      code: raw.code,
      t: raw.t,
      value: q.value,
      unit: q.unit,
      source: raw.source,
    },
  };
}
