import * as path from 'node:path';
import { loadSiteConfig } from './config';

describe('loadSiteConfig', () => {
  test('defaults', () => {
    const c = loadSiteConfig({});
    expect(c).toEqual({
      dataDir: path.resolve('.twinfed-site'),
      coordinatorUrls: undefined,
      logLevel: 'info',
      pollIntervalMs: 3000,
      requestTimeoutMs: 30_000,
      httpRetries: 5,
      caFile: undefined,
      insecureHttp: false,
      requestAuth: 'mac',
      populationEpsilonBudget: 10,
      privacy: { requireSecureAggregation: false, requireDp: false },
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.privacy)).toBe(true);
  });

  test('TWINFED_REQUEST_AUTH forces signatures; anything but mac or signature is CONFIG_INVALID', () => {
    expect(loadSiteConfig({ TWINFED_REQUEST_AUTH: 'signature' }).requestAuth).toBe('signature');
    expect(loadSiteConfig({ TWINFED_REQUEST_AUTH: 'mac' }).requestAuth).toBe('mac');
    expect(() => loadSiteConfig({ TWINFED_REQUEST_AUTH: 'none' })).toThrow(/requestAuth/);
  });

  test('environment, then overrides win', () => {
    const env = {
      TWINFED_SITE_DATA_DIR: '/tmp/a',
      TWINFED_COORDINATOR_URL: 'http://c.test:8470/',
      TWINFED_LOG_LEVEL: 'debug',
      TWINFED_POLL_INTERVAL_MS: '500',
      TWINFED_HTTP_RETRIES: '0',
    };
    expect(loadSiteConfig(env)).toMatchObject({
      dataDir: '/tmp/a',
      coordinatorUrls: ['http://c.test:8470'],
      logLevel: 'debug',
      pollIntervalMs: 500,
      httpRetries: 0,
    });
    expect(
      loadSiteConfig(env, { dataDir: 'rel', logLevel: undefined, coordinatorUrls: ['https://other.test'] }),
    ).toMatchObject({
      dataDir: path.resolve('rel'),
      logLevel: 'debug',
      coordinatorUrls: ['https://other.test'],
    });
  });

  test('several coordinator URLs (replicas): comma-separated in the environment, in order, duplicates dropped', () => {
    expect(
      loadSiteConfig({ TWINFED_COORDINATOR_URL: 'https://a.test/, https://b.test:8470,,https://a.test' })
        .coordinatorUrls,
    ).toEqual(['https://a.test', 'https://b.test:8470']);
    expect(() => loadSiteConfig({ TWINFED_COORDINATOR_URL: 'https://a.test,ftp://b.test' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('coordinatorUrls.1') }),
    );
  });

  test('privacy floors: environment, then flags', () => {
    const env = {
      TWINFED_REQUIRE_SECURE_AGGREGATION: '1',
      TWINFED_REQUIRE_DP: 'no',
      TWINFED_MAX_EPSILON: '4.5',
      TWINFED_MIN_POPULATION_K: '15',
    };
    expect(loadSiteConfig(env).privacy).toEqual({
      requireSecureAggregation: true,
      requireDp: false,
      maxEpsilon: 4.5,
      minPopulationK: 15,
    });
    expect(loadSiteConfig(env, { privacy: { requireDp: true, minPopulationK: 20 } }).privacy).toEqual({
      requireSecureAggregation: true,
      requireDp: true,
      maxEpsilon: 4.5,
      minPopulationK: 20,
    });
  });

  test('population ε budget: default 10, then environment, then flags', () => {
    expect(loadSiteConfig({}).populationEpsilonBudget).toBe(10);
    expect(loadSiteConfig({ TWINFED_POPULATION_EPSILON_BUDGET: '2.5' }).populationEpsilonBudget).toBe(2.5);
    expect(
      loadSiteConfig({ TWINFED_POPULATION_EPSILON_BUDGET: '2.5' }, { populationEpsilonBudget: 0 })
        .populationEpsilonBudget,
    ).toBe(0);
  });

  test.each([
    [{ TWINFED_POPULATION_EPSILON_BUDGET: '-1' }, 'populationEpsilonBudget'],
    [{ TWINFED_MAX_EPSILON: '0' }, 'privacy.maxEpsilon'],
    [{ TWINFED_MIN_POPULATION_K: '1' }, 'privacy.minPopulationK'],
    [{ TWINFED_MIN_POPULATION_K: '2.5' }, 'privacy.minPopulationK'],
    [{ TWINFED_COORDINATOR_URL: 'ftp://x' }, 'coordinatorUrls'],
    [{ TWINFED_COORDINATOR_URL: 'not a url' }, 'coordinatorUrls'],
    [{ TWINFED_LOG_LEVEL: 'loud' }, 'logLevel'],
    [{ TWINFED_POLL_INTERVAL_MS: 'soon' }, 'pollIntervalMs'],
    [{ TWINFED_HTTP_RETRIES: '-1' }, 'httpRetries'],
  ])('rejects %j with CONFIG_INVALID naming %s', (env, field) => {
    expect(() => loadSiteConfig(env)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining(field) }),
    );
  });
});
