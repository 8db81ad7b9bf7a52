import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadOrCreateSiteSecret, SITE_SECRET_FILE } from './site-secret';
import { tempDirEach } from '../__tests__/temp-dir';

describe('site secret', () => {
  const tmp = tempDirEach('secret');

  test('is created once with 32 random bytes and mode 0600, then loaded unchanged', () => {
    const sub = path.join(tmp.path, 'data');
    const a = loadOrCreateSiteSecret(sub);
    expect(a).toHaveLength(32);
    expect(fs.statSync(path.join(sub, SITE_SECRET_FILE)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(sub).mode & 0o777).toBe(0o700);
    expect(loadOrCreateSiteSecret(sub).equals(a)).toBe(true);
    expect(fs.readdirSync(sub)).toEqual([SITE_SECRET_FILE]);
    const other = loadOrCreateSiteSecret(path.join(tmp.path, 'other'));
    expect(other.equals(a)).toBe(false);
  });

  test('refuses a secret readable by other users and a malformed one', () => {
    loadOrCreateSiteSecret(tmp.path);
    const file = path.join(tmp.path, SITE_SECRET_FILE);
    fs.chmodSync(file, 0o644);
    expect(() => loadOrCreateSiteSecret(tmp.path)).toThrow(/readable by other users/);
    fs.chmodSync(file, 0o600);
    fs.writeFileSync(file, 'not-hex');
    expect(() => loadOrCreateSiteSecret(tmp.path)).toThrow(/malformed/);
  });
});
