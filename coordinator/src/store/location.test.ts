import path from 'node:path';
import { describeStoreLocation, parseStoreLocation, redactStore } from './location';

const dataDir = '/srv/twinfed';

describe('parseStoreLocation', () => {
  test('sqlite (the default) is the data dir file; memory is memory', () => {
    expect(parseStoreLocation('sqlite', { dataDir })).toEqual({ kind: 'sqlite', path: '/srv/twinfed/coordinator.db' });
    expect(parseStoreLocation('memory', { dataDir })).toEqual({ kind: 'memory' });
  });

  test('a path or a file: URL is a SQLite file', () => {
    expect(parseStoreLocation('/var/lib/c.db', { dataDir })).toEqual({ kind: 'sqlite', path: '/var/lib/c.db' });
    expect(parseStoreLocation('rel/c.db', { dataDir })).toEqual({ kind: 'sqlite', path: path.resolve('rel/c.db') });
    expect(parseStoreLocation('file:///var/lib/c.db', { dataDir })).toEqual({ kind: 'sqlite', path: '/var/lib/c.db' });
  });

  test('a postgres URL: schema from ?schema= (default public), pool size from the option (default 10)', () => {
    expect(parseStoreLocation('postgres://u:pw@db:5432/tf?schema=consortium_a&sslmode=require', { dataDir })).toEqual({
      kind: 'postgres',
      url: 'postgres://u:pw@db:5432/tf?sslmode=require',
      schema: 'consortium_a',
      poolSize: 10,
    });
    expect(parseStoreLocation('postgresql://db/tf', { dataDir, poolSize: 3 })).toMatchObject({
      kind: 'postgres',
      schema: 'public',
      poolSize: 3,
    });
  });

  test('refuses a bad schema name, pool size or scheme with CONFIG_INVALID', () => {
    for (const [value, poolSize] of [
      ['postgres://db/tf?schema=a;drop', 10],
      ['postgres://db/tf?schema=1abc', 10],
      ['postgres://db/tf', 0],
      ['mysql://db/tf', 10],
    ] as const)
      expect(() => parseStoreLocation(value, { dataDir, poolSize })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
  });

  test('never shows a password', () => {
    const loc = parseStoreLocation('postgres://u:secret@db/tf?schema=s', { dataDir });
    expect(describeStoreLocation(loc)).toBe('postgres postgres://u:***@db/tf schema s');
    expect(redactStore('postgres://u:secret@db/tf?schema=s')).not.toContain('secret');
    expect(redactStore('/var/lib/c.db')).toBe('/var/lib/c.db');
  });
});
