import { describeStoreContract } from './__tests__/contract';
import { dropPgSchema, freshSchema, openPgStore } from './__tests__/pg';
import type { Store } from './types';

describeStoreContract('postgres', async () => {
  const schema = freshSchema();
  let current: Store = await openPgStore(schema);
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await openPgStore(schema);
      return current;
    },
    cleanup: async () => {
      await current.close();
      await dropPgSchema(schema);
    },
  };
});
