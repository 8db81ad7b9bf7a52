import type { WriteOutcome } from '../twins/store-types';
import type { IngestQueue } from './ingest-queue';
import { streamItems } from './observations';

/** The answer to one posted batch: counts per item (sample or Observation) and the refused items with reasons. */
interface StreamIngestResult {
  /** Items written (new, or a corrected value for a known sample id). */
  accepted: number;
  /** Items already stored identically (same sample id): ignored. */
  duplicates: number;
  /** Refused items by their index in the batch (sample index, or Bundle entry index). */
  rejected: { index: number; reason: string }[];
}

/**
 * Validates a posted body (see `streamItems`), queues its writes and answers per item once they are
 * committed. An item is rejected when any of its writes is; a duplicate when all of them were already stored.
 * Throws what `streamItems` and `IngestQueue.submit` throw (`VALIDATION_FAILED`, `PAYLOAD_TOO_LARGE`, `OVERLOADED`).
 */
export async function ingestStream(queue: IngestQueue, body: unknown): Promise<StreamIngestResult> {
  const items = streamItems(body);
  const writes = items.flatMap((item) => ('write' in item ? [item.write] : []));
  const outcomes = await queue.submit(writes);
  const byIndex = new Map<number, { reason?: string; written: boolean }>();
  let k = 0;
  for (const item of items) {
    const state = byIndex.get(item.index) ?? { written: false };
    byIndex.set(item.index, state);
    if ('reason' in item) {
      state.reason ??= item.reason;
      continue;
    }
    const o: WriteOutcome = outcomes[k++]!;
    if (o.status === 'rejected') state.reason ??= o.reason;
    else if (o.status !== 'duplicate') state.written = true;
  }
  const result: StreamIngestResult = { accepted: 0, duplicates: 0, rejected: [] };
  for (const [index, state] of [...byIndex.entries()].sort((a, b) => a[0] - b[0])) {
    if (state.reason !== undefined) result.rejected.push({ index, reason: state.reason });
    else if (state.written) result.accepted += 1;
    else result.duplicates += 1;
  }
  return result;
}
