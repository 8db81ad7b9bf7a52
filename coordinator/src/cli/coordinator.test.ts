import path from 'node:path';
import { TwinfedError } from '@twinfed/shared';
import type { CoordinatorRuntime, OnSignal, StartOverrides } from './program';
import { startFakeCoordinator, type FakeCoordinator } from './__tests__/fake-coordinator';
import { buffer } from './__tests__/harness';
import { runCli } from './program';

let fake: FakeCoordinator;
beforeEach(async () => {
  fake = await startFakeCoordinator();
});
afterEach(() => fake.close());

/** A signal source the test fires by hand, resolving `subscribed` once the CLI waits for a signal. */
function signals() {
  let handler: ((s: NodeJS.Signals) => void) | null = null;
  let subscribed!: () => void;
  const ready = new Promise<void>((resolve) => (subscribed = resolve));
  const onSignal: OnSignal = (sigs, h) => {
    expect(sigs).toEqual(['SIGINT', 'SIGTERM']);
    handler = h;
    subscribed();
    return () => (handler = null);
  };
  return { onSignal, ready, fire: (s: NodeJS.Signals) => handler?.(s), active: () => handler !== null };
}

function runtime(over: { fingerprint?: string; fail?: Error } = {}) {
  const seen: Array<{ env: NodeJS.ProcessEnv; overrides: StartOverrides }> = [];
  const close = jest.fn(async () => undefined);
  const rt: CoordinatorRuntime = {
    async start({ env, overrides }) {
      seen.push({ env, overrides });
      if (over.fail) throw over.fail;
      return {
        config: {
          dataDir: overrides.dataDir ?? '/srv/twinfed',
          host: overrides.host ?? '127.0.0.1',
          port: overrides.port ?? 8470,
          store: overrides.store ?? 'sqlite',
        },
        coordinator: { url: fake.url, close, ...(over.fingerprint ? { fingerprint: over.fingerprint } : {}) },
      };
    },
  };
  return { rt, seen, close };
}

describe('coordinator start', () => {
  test('starts with the flags as overrides, prints URL, fingerprint and token file, and closes on SIGTERM', async () => {
    const { rt, seen, close } = runtime();
    const sig = signals();
    const stdout = buffer();
    const stderr = buffer();
    const env = { TWINFED_LOG_LEVEL: 'warn' };
    const done = runCli(
      ['coordinator', 'start', '--data-dir', 'consortium', '--host', '0.0.0.0', '--port', '0', '--memory'],
      {
        env,
        stdout,
        stderr,
        runtime: async () => rt,
        onSignal: sig.onSignal,
      },
    );
    await sig.ready;
    expect(seen).toEqual([
      { env, overrides: { dataDir: path.resolve('consortium'), host: '0.0.0.0', port: 0, store: 'memory' } },
    ]);
    expect(stdout.text).toContain(`twinfed coordinator listening on ${fake.url}\n`);
    expect(stdout.text).toMatch(new RegExp(`^fingerprint:\\s+${fake.keys.fingerprint}$`, 'm'));
    expect(stdout.text).toMatch(
      new RegExp(
        `^operator token:\\s+${path.resolve('consortium', 'operator.token').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} `,
        'm',
      ),
    );
    expect(stdout.text).toMatch(/^data dir:\s+\S+ \(memory\)$/m);
    expect(close).not.toHaveBeenCalled();
    sig.fire('SIGTERM');
    expect(await done).toBe(0);
    expect(close).toHaveBeenCalledTimes(1);
    expect(sig.active()).toBe(false);
    expect(stdout.text).toMatch(/Stopping the coordinator…\nStopped\.\n$/);
    expect(stderr.text).toBe('');
  });

  test('leaves unset flags to the environment and prefers the fingerprint the coordinator reports', async () => {
    const { rt, seen } = runtime({ fingerprint: 'abcd-1234' });
    const sig = signals();
    const stdout = buffer();
    const done = runCli(['coordinator', 'start', '--json'], {
      env: {},
      stdout,
      stderr: buffer(),
      runtime: async () => rt,
      onSignal: sig.onSignal,
    });
    await sig.ready;
    expect(seen[0]?.overrides).toEqual({});
    const first = JSON.parse(stdout.text.split('\n')[0]!) as Record<string, unknown>;
    expect(first).toEqual({
      url: fake.url,
      fingerprint: 'abcd-1234',
      dataDir: '/srv/twinfed',
      store: 'sqlite',
      tokenFile: '/srv/twinfed/operator.token',
    });
    expect(fake.seen).toHaveLength(0);
    sig.fire('SIGINT');
    expect(await done).toBe(0);
  });

  test('--store passes a PostgreSQL URL through and never prints its password', async () => {
    const { rt, seen } = runtime({ fingerprint: 'abcd-1234' });
    const sig = signals();
    const stdout = buffer();
    const url = 'postgres://twinfed:s3cret@db.example.org:5432/tf?schema=consortium';
    const done = runCli(['coordinator', 'start', '--store', url], {
      env: {},
      stdout,
      stderr: buffer(),
      runtime: async () => rt,
      onSignal: sig.onSignal,
    });
    await sig.ready;
    expect(seen[0]?.overrides).toEqual({ store: url });
    expect(stdout.text).toMatch(
      /^data dir:\s+\S+ \(postgres:\/\/twinfed:\*\*\*@db\.example\.org:5432\/tf\?schema=consortium\)$/m,
    );
    expect(stdout.text).not.toContain('s3cret');
    sig.fire('SIGINT');
    expect(await done).toBe(0);
  });

  test('a configuration error is one line and a non-zero exit', async () => {
    const { rt } = runtime({
      fail: new TwinfedError('CONFIG_INVALID', 'Invalid coordinator configuration: port: Too big'),
    });
    const stderr = buffer();
    const code = await runCli(['coordinator', 'start'], {
      env: {},
      stdout: buffer(),
      stderr,
      runtime: async () => rt,
      onSignal: signals().onSignal,
    });
    expect(code).toBe(1);
    expect(stderr.text).toBe('twinfed: Invalid coordinator configuration: port: Too big (CONFIG_INVALID)\n');
  });

  test('refuses a port that is not a number', async () => {
    const { rt, seen } = runtime();
    const stderr = buffer();
    const code = await runCli(['coordinator', 'start', '--port', '99999'], {
      env: {},
      stdout: buffer(),
      stderr,
      runtime: async () => rt,
    });
    expect(code).toBe(2);
    expect(stderr.text).toContain('expected a port number');
    expect(seen).toHaveLength(0);
  });
});

describe('coordinator start with TLS', () => {
  /** A signal source for several signal sets; `fire` calls every handler subscribed to the signal. */
  function multiSignals() {
    const handlers = new Map<NodeJS.Signals, (s: NodeJS.Signals) => void>();
    let waiting!: () => void;
    const ready = new Promise<void>((resolve) => (waiting = resolve));
    const onSignal: OnSignal = (sigs, h) => {
      for (const s of sigs) handlers.set(s, h);
      if (sigs.includes('SIGTERM')) waiting();
      return () => sigs.forEach((s) => handlers.delete(s));
    };
    return {
      onSignal,
      ready,
      fire: (s: NodeJS.Signals) => handlers.get(s)?.(s),
      subscribed: () => [...handlers.keys()],
    };
  }

  function tlsRuntime(reloadTls: () => void) {
    const seen: StartOverrides[] = [];
    const close = jest.fn(async () => undefined);
    const rt: CoordinatorRuntime = {
      async start({ overrides }) {
        seen.push(overrides);
        return {
          config: { dataDir: '/srv/twinfed', host: '0.0.0.0', port: 8470, store: 'sqlite' },
          coordinator: {
            url: 'https://coordinator.invalid:8470',
            fingerprint: 'abcd-1234',
            tls: true,
            reloadTls,
            close,
          },
        };
      },
    };
    return { rt, seen, close };
  }

  test('passes --tls-cert/--tls-key/--trust-proxy, prints the https URL, and reloads the certificate on SIGHUP while it keeps running', async () => {
    let reloads = 0;
    const { rt, seen, close } = tlsRuntime(() => {
      reloads++;
      if (reloads === 2)
        throw new TwinfedError('CONFIG_INVALID', 'The TLS key k.pem does not fit the certificate c.pem.');
    });
    const sig = multiSignals();
    const stdout = buffer();
    const stderr = buffer();
    const done = runCli(
      [
        'coordinator',
        'start',
        '--tls-cert',
        'tls/server.pem',
        '--tls-key',
        'tls/server-key.pem',
        '--trust-proxy',
        '10.0.0.5, 10.1.0.0/16',
      ],
      {
        env: {},
        stdout,
        stderr,
        runtime: async () => rt,
        onSignal: sig.onSignal,
      },
    );
    await sig.ready;
    expect(seen).toEqual([
      {
        tlsCert: path.resolve('tls/server.pem'),
        tlsKey: path.resolve('tls/server-key.pem'),
        trustProxy: ['10.0.0.5', '10.1.0.0/16'],
      },
    ]);
    expect(stdout.text).toContain('twinfed coordinator listening on https://coordinator.invalid:8470\n');
    expect(sig.subscribed().sort()).toEqual(['SIGHUP', 'SIGINT', 'SIGTERM']);
    sig.fire('SIGHUP');
    expect(reloads).toBe(1);
    expect(stderr.text).toBe('');
    sig.fire('SIGHUP'); // a failing reload: reported, the coordinator keeps running on the old certificate
    expect(reloads).toBe(2);
    expect(stderr.text).toBe(
      'twinfed: TLS reload failed, still serving the previous certificate: The TLS key k.pem does not fit the certificate c.pem.\n',
    );
    expect(close).not.toHaveBeenCalled();
    sig.fire('SIGTERM');
    expect(await done).toBe(0);
    expect(close).toHaveBeenCalledTimes(1);
    expect(sig.subscribed()).toEqual([]);
  });

  test('refuses an invalid --trust-proxy before starting', async () => {
    const { rt, seen } = tlsRuntime(() => undefined);
    const stderr = buffer();
    const code = await runCli(['coordinator', 'start', '--trust-proxy', 'proxy.example.org'], {
      env: {},
      stdout: buffer(),
      stderr,
      runtime: async () => rt,
    });
    expect(code).toBe(1);
    expect(stderr.text).toMatch(/"proxy\.example\.org" is not an IP address or CIDR .*\(CONFIG_INVALID\)/);
    expect(seen).toHaveLength(0);
  });
});
