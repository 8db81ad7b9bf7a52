import { describeTwinStoreContract } from './__tests__/contract';
import { MemoryTwinStore } from './memory-store';

describeTwinStoreContract('memory', async ({ secret, clock }) => {
  const store = new MemoryTwinStore({ secret, now: clock.now });
  return { store, clock, cleanup: () => store.close() };
});
