import { benchStream } from './stream';

describe('benchStream', () => {
  test('posts every sample through the local API into SQLite and reports a rate (no timing asserted)', async () => {
    const r = await benchStream({ samples: 250, batch: 40, concurrency: 3, patients: 4 });
    expect(r).toMatchObject({
      samples: 250,
      batch: 40,
      concurrency: 3,
      requests: 7,
      accepted: 250,
      duplicates: 0,
      rejected: 0,
    });
    expect(r.samplesPerSecond).toBeGreaterThan(0);
  });

  test('runs against the memory store too', async () => {
    const r = await benchStream({ samples: 5, batch: 2, store: 'memory' });
    expect(r).toMatchObject({ requests: 3, accepted: 5 });
  });
});
