/** Contract: metric counts per (replica, name) add up, stay apart per replica, and survive a reopen (durable stores). */
import { describe, expect, test } from '@jest/globals';
import type { HarnessRef } from './fixtures';

export function countContract(h: HarnessRef): void {
  describe('metric counts', () => {
    test('start empty, add up per name and keep replicas apart', async () => {
      expect(await h.store.listCounts('r1')).toEqual({});
      await h.store.addToCount({ replica: 'r1', name: 'uploads.late', by: 1 });
      await Promise.all([
        h.store.addToCount({ replica: 'r1', name: 'uploads.late', by: 2 }),
        h.store.addToCount({ replica: 'r1', name: 'rounds.failed', by: 1 }),
        h.store.addToCount({ replica: 'r2', name: 'uploads.late', by: 5 }),
      ]);
      const store = await h.again();
      expect(await store.listCounts('r1')).toEqual({ 'uploads.late': 3, 'rounds.failed': 1 });
      expect(await store.listCounts('r2')).toEqual({ 'uploads.late': 5 });
      expect(await store.listCounts('r')).toEqual({});
    });
  });
}
