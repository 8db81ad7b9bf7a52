import { MemoryStore, type SecaggKind } from '../store';
import { seedFederation } from '../store/__tests__/contract/fixtures';
import { KnownSenders } from './secagg-senders';

const put = (store: MemoryStore, siteId: string, kind: SecaggKind = 'consistency') =>
  store.putSecaggMessage({
    federationId: 'fed-1',
    round: 1,
    siteId,
    kind,
    payload: `{"signature":"${siteId}"}`,
    createdAt: '2026-01-01T00:00:00.000Z',
  });

describe('the senders of a round known to a replica', () => {
  test('lists the store again only when it holds messages not known here, and then knows them with their payloads', async () => {
    const store = new MemoryStore();
    await seedFederation(store, 'fed-1', 1);
    const list = jest.spyOn(store, 'listSecaggMessages');
    const known = new KnownSenders(store, { federationId: 'fed-1', round: 1, kind: 'consistency', payloads: true });
    await put(store, 'site-a');
    known.stored('site-a', '{"signature":"site-a"}');
    await put(store, 'site-b', 'reveal'); // another kind: not counted
    expect([...(await known.current())]).toEqual([['site-a', '{"signature":"site-a"}']]);
    expect(list).not.toHaveBeenCalled();
    // Stored by another replica: counted, so listed.
    await put(store, 'site-c');
    expect([...(await known.current())].sort()).toEqual([
      ['site-a', '{"signature":"site-a"}'],
      ['site-c', '{"signature":"site-c"}'],
    ]);
    expect(list).toHaveBeenCalledTimes(1);
    expect((await known.current()).size).toBe(2);
    expect(list).toHaveBeenCalledTimes(1);
    // Only the payloads of the senders not known here are read (a consistency message carries k MACs: ≈ 8 KB at 500
    // sites, and the whole cohort's were read again whenever the count ran ahead of what is known here).
    expect(list.mock.calls[0]![3]).toEqual(['site-c']);
  });

  test('keeps only the ids of kinds whose payloads are not read back', async () => {
    const store = new MemoryStore();
    await seedFederation(store, 'fed-1', 1);
    await put(store, 'site-a', 'reveal');
    const known = new KnownSenders(store, { federationId: 'fed-1', round: 1, kind: 'reveal', payloads: false });
    expect([...(await known.current())]).toEqual([['site-a', undefined]]);
  });
});
