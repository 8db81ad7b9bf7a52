/** What every importer returns: counts of rows accepted, duplicates, skipped resources, and rejections with reasons. */

/** One refused resource, row item or record, with where to find it and why. Never holds a hospital id value. */
export interface IngestRejection {
  /** FHIR resource type, or the record type a CSV item maps to ('Observation', 'Condition', ...), or 'Row'. */
  resourceType: string;
  /** FHIR resource id when it has one. */
  id?: string;
  /** 1-based line (NDJSON line, CSV line). */
  line?: number;
  /** 0-based index of the Bundle entry. */
  entry?: number;
  /** JSON path inside the resource (e.g. `valueQuantity.unit`), or the CSV column. */
  path?: string;
  reason: string;
}

/** Accepted rows (new or changed) per record kind. */
export interface AcceptedCounts {
  patients: number;
  observations: number;
  conditions: number;
  immunizations: number;
  consents: number;
  exposures: number;
  labels: number;
}

export interface IngestReport {
  /** Rows written (inserted or changed). A blood-pressure panel counts as two observations. */
  accepted: AcceptedCounts;
  /** Of `accepted`, rows that already existed and changed (corrections). */
  updated: number;
  /** Rows identical to what the store already holds (idempotent re-import). */
  duplicates: number;
  /** Resources not imported on purpose, by type (unknown types, or `Type:status` for statuses not imported). */
  skipped: { byType: Record<string, number> };
  rejected: IngestRejection[];
}

/** A report with all counts zero. */
export function emptyReport(): IngestReport {
  return {
    accepted: { patients: 0, observations: 0, conditions: 0, immunizations: 0, consents: 0, exposures: 0, labels: 0 },
    updated: 0,
    duplicates: 0,
    skipped: { byType: {} },
    rejected: [],
  };
}

/** Counts one skipped resource. */
export function skip(report: IngestReport, key: string): void {
  report.skipped.byType[key] = (report.skipped.byType[key] ?? 0) + 1;
}
