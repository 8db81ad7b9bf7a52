import { pgTestUrl } from '@twinfed/coordinator/store/__tests__/pg';
import { benchStoreBackends, storeBackendsTable } from './store-backends';

describe('benchStoreBackends', () => {
  test('runs the workload on SQLite and PostgreSQL and reports both (no timing asserted)', async () => {
    const o = { nonces: 20, uploads: 5, uploadBytes: 1024, audits: 3, concurrency: 4, pgUrl: pgTestUrl() };
    const r = await benchStoreBackends(o);
    const table = storeBackendsTable(o, r);
    expect(table.rows.map((row) => row[0])).toEqual(['20 nonce uses', '5 × 1 KiB uploads', '3 audit appends']);
    for (const row of table.rows) for (const v of row.slice(1)) expect(v).toBeGreaterThan(0);
  });
});
