#!/usr/bin/env node
/** `npm run bench:store`: SQLite vs PostgreSQL (TWINFED_TEST_PG_URL); writes bench/results/store-backends.{json,md}. */
import { machineMeta, loadAverage, toMarkdown, writeResults } from '../report';
import { benchStoreBackends, storeBackendsTable, type StoreBenchOptions } from './store-backends';
import { runMain } from '../../support/main';

runMain('bench:store', async () => {
  const options: StoreBenchOptions = {
    nonces: 2000,
    uploads: 500,
    uploadBytes: 64 * 1024,
    audits: 200,
    concurrency: 16,
    pgUrl: process.env.TWINFED_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  };
  const result = await benchStoreBackends(options);
  const table = storeBackendsTable(options, result);
  const meta = { ...machineMeta(), load: loadAverage() };
  const md = toMarkdown('Store backends', meta, [table]);
  writeResults('store-backends', { meta, options: { ...options, pgUrl: undefined }, result }, md);
  process.stdout.write(md);
});
