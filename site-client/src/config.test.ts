import * as path from 'node:path';
import { loadSiteConfig } from './config';

describe('loadSiteConfig', () => {
  test('defaults', () => {
    const c = loadSiteConfig({});
    expect(c).toEqual({ dataDir: path.resolve('.twinfed-site'), coordinatorUrl: undefined, logLevel: 'info', pollIntervalMs: 3000, requestTimeoutMs: 30_000, httpRetries: 5, caFile: undefined, insecureHttp: false });
    expect(Object.isFrozen(c)).toBe(true);
  });

  test('environment, then overrides win', () => {
    const env = { TWINFED_SITE_DATA_DIR: '/tmp/a', TWINFED_COORDINATOR_URL: 'http://c.test:8470/', TWINFED_LOG_LEVEL: 'debug', TWINFED_POLL_INTERVAL_MS: '500', TWINFED_HTTP_RETRIES: '0' };
    expect(loadSiteConfig(env)).toMatchObject({ dataDir: '/tmp/a', coordinatorUrl: 'http://c.test:8470', logLevel: 'debug', pollIntervalMs: 500, httpRetries: 0 });
    expect(loadSiteConfig(env, { dataDir: 'rel', logLevel: undefined, coordinatorUrl: 'https://other.test' })).toMatchObject({
      dataDir: path.resolve('rel'),
      logLevel: 'debug',
      coordinatorUrl: 'https://other.test',
    });
  });

  test.each([
    [{ TWINFED_COORDINATOR_URL: 'ftp://x' }, 'coordinatorUrl'],
    [{ TWINFED_COORDINATOR_URL: 'not a url' }, 'coordinatorUrl'],
    [{ TWINFED_LOG_LEVEL: 'loud' }, 'logLevel'],
    [{ TWINFED_POLL_INTERVAL_MS: 'soon' }, 'pollIntervalMs'],
    [{ TWINFED_HTTP_RETRIES: '-1' }, 'httpRetries'],
  ])('rejects %j with CONFIG_INVALID naming %s', (env, field) => {
    expect(() => loadSiteConfig(env)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(field) }));
  });
});
