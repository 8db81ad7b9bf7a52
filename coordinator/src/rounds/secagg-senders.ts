import type { SecaggKind, Store } from '../store';

type SendersStore = Pick<Store, 'countSecaggMessages' | 'listSecaggMessages' | 'listSecaggSenders'>;

/**
 * What this replica knows of one round's stored secure-aggregation messages of one kind: who sent one and, for the
 * kinds read back (consistency signatures), its payload. Messages are insert-once and never removed, so what is known
 * here is always a subset of the store, and equal to it when the store counts as many senders: a read then costs a
 * count instead of listing the cohort's rows (O(n) on each share message, signature, reveal and state read, O(n²) per
 * round). Only when another replica (or an earlier process) stored messages unknown here are they listed again.
 */
export class KnownSenders {
  private readonly known = new Map<string, string | undefined>();

  constructor(
    private readonly store: SendersStore,
    private readonly where: { federationId: string; round: number; kind: SecaggKind; payloads: boolean },
  ) {}

  /** Notes a message the store has just answered for as stored (taken, or the same one already there). */
  stored(siteId: string, payload: string): void {
    this.known.set(siteId, this.where.payloads ? payload : undefined);
  }

  /** Every sender of the round's messages of this kind as the store has them now (with payloads when kept). */
  async current(): Promise<ReadonlyMap<string, string | undefined>> {
    const { federationId, round, kind, payloads } = this.where;
    if ((await this.store.countSecaggMessages(federationId, round, kind)) !== this.known.size) {
      if (payloads) {
        // Only the payloads not known here: a known one never changes (insert-once), and a consistency message with
        // its k MACs is ≈ 8 KB at 500 sites — the whole cohort's were read whenever a count ran ahead (a group commit
        // in flight).
        const unknown = (await this.store.listSecaggSenders(federationId, round, kind)).filter(
          (id) => !this.known.has(id),
        );
        if (unknown.length > 0)
          for (const m of await this.store.listSecaggMessages(federationId, round, kind, unknown))
            this.known.set(m.siteId, m.payload);
      } else
        for (const id of await this.store.listSecaggSenders(federationId, round, kind)) this.known.set(id, undefined);
    }
    return this.known;
  }
}
