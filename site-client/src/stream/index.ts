/** The wearable stream at the site: validation of posted batches, the bounded ingest queue, and event-driven live scores. */
export { ingestStream, type StreamIngestResult } from './ingest';
export { IngestQueue, type IngestQueueOptions } from './ingest-queue';
export { LiveScorer, type LiveScorerOptions, type ScoringModel } from './live-scorer';
export { MAX_STREAM_BATCH, streamItems, WearableBatchSchema, WearableSampleSchema, type StreamItem, type WearableBatchBody } from './observations';
