import { loadConfig, storeLocation } from './config';

const base = { dataDir: '/srv/twinfed' };

describe('the store location in the configuration', () => {
  test('SQLite in the data dir by default; TWINFED_STORE_URL wins over TWINFED_STORE; a flag wins over both', () => {
    expect(storeLocation(loadConfig({}, base))).toEqual({ kind: 'sqlite', path: '/srv/twinfed/coordinator.db' });
    expect(storeLocation(loadConfig({ TWINFED_STORE: 'memory' }, base))).toEqual({ kind: 'memory' });
    const env = {
      TWINFED_STORE: 'memory',
      TWINFED_STORE_URL: 'postgres://db/tf?schema=c1',
      TWINFED_STORE_POOL_SIZE: '4',
    };
    expect(storeLocation(loadConfig(env, base))).toEqual({
      kind: 'postgres',
      url: 'postgres://db/tf',
      schema: 'c1',
      poolSize: 4,
    });
    expect(storeLocation(loadConfig(env, { ...base, store: '/var/lib/c.db' }))).toEqual({
      kind: 'sqlite',
      path: '/var/lib/c.db',
    });
  });

  test('a malformed location or pool size is CONFIG_INVALID at load time', () => {
    expect(() => loadConfig({ TWINFED_STORE_URL: 'postgres://db/tf?schema=no-dash' }, base)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => loadConfig({ TWINFED_STORE_POOL_SIZE: '0' }, base)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
