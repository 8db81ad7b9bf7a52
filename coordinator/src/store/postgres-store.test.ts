import { describeStoreContract } from './__tests__/contract';
import { openPgStore, pgSchemaPerFile } from './__tests__/pg';
import type { Store } from './types';

// One schema for this file, dropped at the end; every test starts from the freshly migrated state.
const pg = pgSchemaPerFile();
afterAll(() => pg.drop());

describeStoreContract('postgres', async () => {
  await pg.fresh();
  let current: Store = await openPgStore(pg.schema);
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await openPgStore(pg.schema);
      return current;
    },
    cleanup: () => current.close(),
  };
});
