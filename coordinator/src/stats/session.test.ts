import type { Federation, Site } from '../store';
import { statsCohort } from './session';

const site = (id: string, enrolledAt: string, revokedAt: string | null = null): Site => ({
  id,
  name: id,
  signPublicKey: 'x',
  boxPublicKey: 'y',
  enrolledAt,
  revokedAt,
  lastSeenAt: null,
  missedRounds: 0,
});
const fed = { id: 'fed-1', createdAt: '2026-01-01T00:00:10.000Z' } as Federation;

describe('statsCohort', () => {
  test('is frozen at federation creation: enrolled by then and not yet revoked, sorted by id', () => {
    const sites = [
      site('site-c', '2026-01-01T00:00:01.000Z', '2026-01-01T00:05:00.000Z'), // revoked later: still a member (the sum then never completes)
      site('site-a', '2026-01-01T00:00:10.000Z'), // enrolled in the same millisecond
      site('site-b', '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:09.000Z'), // revoked before
      site('site-d', '2026-01-01T00:00:11.000Z'), // enrolled after
    ];
    expect(statsCohort(fed, sites).map((s) => s.id)).toEqual(['site-a', 'site-c']);
  });
});
