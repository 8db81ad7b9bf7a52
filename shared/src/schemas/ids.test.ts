import { ID_RE, IdSchema } from './ids';
import { UpdateHeaderSchema } from '../envelope/update-header';
import { EnrollResponseSchema } from './api';

describe('the identifier grammar', () => {
  test('takes every id the coordinator mints', () => {
    for (const id of [
      'fed-1a2b3c4d',
      'fed-1a2b3c4d.v12',
      'site-hopital-central-3f9a0c',
      'tok-0123456789ab',
      'inv-0123456789ab',
      'v0',
      'a:b_c.d-e',
      'x'.repeat(128),
    ]) {
      expect(IdSchema.safeParse(id).success).toBe(true);
    }
  });

  test('refuses what could break a header, a log line or a signed statement', () => {
    for (const id of [
      '',
      'x'.repeat(129),
      '-leading-dash',
      '.hidden',
      'a b',
      'a\nb',
      'a,b',
      'a=b',
      'a"b',
      'a/b',
      'héllo',
    ]) {
      expect(ID_RE.test(id)).toBe(false);
      expect(IdSchema.safeParse(id).success).toBe(false);
    }
  });

  test('is the one grammar of API bodies and envelopes', () => {
    const coordinator = { protocol: 1, signPublicKey: 'AA==', boxPublicKey: 'AA==', fingerprint: 'f' };
    expect(EnrollResponseSchema.safeParse({ siteId: 'a/b', name: 'n', coordinator }).success).toBe(false);
    const header = UpdateHeaderSchema.safeParse({ siteId: 'a/b' });
    expect(header.success).toBe(false);
    expect(header.error?.issues.some((i) => i.path[0] === 'siteId')).toBe(true);
  });
});
