/** The compose files under docker/ name real paths, subcommands, options, variables and volumes (no Docker needed). */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { coordinatorCli, repoRoot, siteCli } from '../support/paths';
import {
  type Bin,
  composeProblems,
  type ComposeContext,
  invocations,
  nginxProblems,
  prometheusProblems,
} from './compose-files';

const PRODUCT_SOURCES = ['coordinator/src', 'site-client/src', 'shared/src'];

/** Every `TWINFED_*` name in product source files (tests excluded: a variable only a test reads configures nothing). */
function productEnvNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== '__tests__') walk(p);
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        for (const m of fs.readFileSync(p, 'utf8').matchAll(/\bTWINFED_[A-Z0-9_]+/g)) names.add(m[0]);
      }
    }
  };
  for (const d of PRODUCT_SOURCES) walk(path.join(repoRoot(), d));
  return names;
}

const helpCache = new Map<string, string>();
/** `<bin> <words…> --help` from the built CLI, stdout and stderr together (a failing exit is an answer too). */
function cliHelp(bin: Bin, words: readonly string[]): string {
  const script = bin === 'twinfed' ? coordinatorCli() : siteCli();
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first`);
  const key = [bin, ...words].join(' ');
  const cached = helpCache.get(key);
  if (cached !== undefined) return cached;
  let text: string;
  try {
    text = execFileSync(process.execPath, [script, ...words, '--help'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    text = `${err.stdout ?? ''}${err.stderr ?? ''}`;
  }
  helpCache.set(key, text);
  return text;
}

const ctx: ComposeContext = { help: cliHelp, envNames: productEnvNames() };
const dockerDir = path.join(repoRoot(), 'docker');
const composeFiles = fs
  .readdirSync(dockerDir)
  .filter((f) => /^compose(\.[\w-]+)*\.ya?ml$/.test(f))
  .sort();

test('docker/ holds the single-coordinator and the replicated compose files', () => {
  expect(composeFiles).toEqual(expect.arrayContaining(['compose.yaml', 'compose.cluster.yaml']));
});

test.each(composeFiles)('docker/%s names real paths, subcommands, options, variables and volumes', (file) => {
  expect(composeProblems(path.join(dockerDir, file), ctx)).toEqual([]);
});

test('the replicated compose file mounts the Prometheus configuration and the Grafana dashboard', () => {
  const doc = parse(fs.readFileSync(path.join(dockerDir, 'compose.cluster.yaml'), 'utf8')) as {
    services: Record<string, { volumes?: string[] }>;
  };
  expect(doc.services.prometheus?.volumes).toContain('./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
  expect(doc.services.grafana?.volumes).toContain(
    './grafana/twinfed-dashboard.json:/var/lib/grafana/dashboards/twinfed-dashboard.json:ro',
  );
});

test('the replicated compose file runs two coordinators with distinct replica ids on PostgreSQL and Redis', () => {
  const doc = parse(fs.readFileSync(path.join(dockerDir, 'compose.cluster.yaml'), 'utf8')) as {
    services: Record<string, { environment?: Record<string, string> }>;
  };
  const replicas = ['coordinator-1', 'coordinator-2'].map((s) => doc.services[s]?.environment ?? {});
  expect(replicas.map((e) => e.TWINFED_REPLICA_ID)).toEqual(['coordinator-1', 'coordinator-2']);
  for (const e of replicas) {
    expect(e.TWINFED_STORE_URL).toMatch(/^postgres:\/\/.*@postgres:5432\/twinfed\?schema=twinfed$/);
    expect(e.TWINFED_REDIS_URL).toBe('redis://redis:6379');
  }
});

describe('composeProblems', () => {
  let dir: string;
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-compose-check-'));
    write('Dockerfile', 'FROM scratch\n');
    write('plans/heart.json', '{}');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const check = (yaml: string) => {
    write('compose.yaml', yaml);
    return composeProblems(path.join(dir, 'compose.yaml'), ctx);
  };
  const service = (body: string) => `services:\n  c:\n    build: .\n${body}\nvolumes:\n  data: {}\n`;

  test('passes a service with real options, variables, paths and volumes', () => {
    expect(
      check(
        service(
          "    command: ['twinfed', 'coordinator', 'start', '--host', '0.0.0.0', '--trust-proxy=10.0.0.1']\n" +
            '    environment: { TWINFED_REDIS_URL: redis://r, TWINFED_REPLICA_ID: c1, OTHER: x }\n' +
            '    volumes: [data:/var/lib/twinfed, ./plans:/plans:ro]',
        ),
      ),
    ).toEqual([]);
  });

  test('fails an unknown subcommand, an unknown option (even one its help mentions) and an unread TWINFED_ variable', () => {
    expect(
      check(
        service(
          "    command: ['sh', '-c', 'test -f /x || twinfed tls inti --out /tls && twinfed-site run --federaton f; twinfed tls init --tls-cert c']\n" +
            "    environment: ['TWINFED_REPLICA=c1']",
        ),
      ),
    ).toEqual([
      'c: `twinfed tls inti` is not a subcommand (its --help prints no "Usage: twinfed tls inti" line)',
      'c: `twinfed-site run` has no option --federaton',
      // named in the description of `tls init`, but not one of its options
      'c: `twinfed tls init` has no option --tls-cert',
      'c: TWINFED_REPLICA is read nowhere in the product source',
    ]);
  });

  test('fails a missing build context, Dockerfile, bind-mounted path and an undeclared volume', () => {
    expect(
      check(
        'services:\n  a:\n    build: ./nowhere\n  b:\n    build: { context: ., dockerfile: docker/Dockerfile }\n' +
          '    volumes: [./missing.conf:/etc/x.conf, keys:/var/lib/twinfed]\n',
      ),
    ).toEqual([
      'a: build context nowhere does not exist',
      'b: Dockerfile docker/Dockerfile does not exist',
      'b: bind-mounted ./missing.conf does not exist',
      'b: volume keys is not declared under volumes:',
    ]);
  });

  test('fails a file that does not parse', () => {
    expect(check('services: [unclosed\n')[0]).toMatch(/^does not parse: /);
  });
});

describe('invocations', () => {
  test('reads exec arrays, strings and sh -c scripts', () => {
    expect(invocations(['twinfed-site', 'run', '--federation', '${FEDERATION:-}', '--heart-disease', '0'])).toEqual([
      { bin: 'twinfed-site', words: ['run'], options: ['--federation', '--heart-disease'] },
    ]);
    expect(
      invocations(['sh', '-c', "test -f /t/ca.pem || twinfed tls init --out /t --host 'proxy'; echo done"]),
    ).toEqual([{ bin: 'twinfed', words: ['tls', 'init'], options: ['--out', '--host'] }]);
    expect(invocations('node server.js')).toEqual([]);
  });
});

describe('prometheusProblems', () => {
  const coordinators = new Set(['coordinator-1', 'coordinator-2']);
  const config = (job: string) => `scrape_configs:\n  - job_name: twinfed\n${job}`;
  const token = '    authorization: { credentials_file: /t }\n';
  test('passes a job that scrapes /metrics of every coordinator on 8470 with a token file', () => {
    expect(
      prometheusProblems(
        config(`${token}    static_configs: [{ targets: ['coordinator-1:8470', 'coordinator-2:8470'] }]\n`),
        coordinators,
      ),
    ).toEqual([]);
  });
  test('fails another path, no token, a target that is not a coordinator on 8470, and a coordinator left out', () => {
    expect(
      prometheusProblems(
        config("    metrics_path: /stats\n    static_configs: [{ targets: ['proxy:8443', 'coordinator-1:9090'] }]\n"),
        coordinators,
      ),
    ).toEqual([
      'job twinfed scrapes /stats, not /metrics',
      'job twinfed sends no bearer token (authorization.credentials_file)',
      'target proxy:8443 is not a coordinator service of this file on port 8470',
      'target coordinator-1:9090 is not a coordinator service of this file on port 8470',
      'coordinator service coordinator-2 is not scraped',
    ]);
  });
});

describe('nginxProblems', () => {
  const services = new Set(['coordinator-1', 'coordinator-2', 'proxy']);
  test('passes an upstream of coordinator services on 8470', () => {
    expect(
      nginxProblems('upstream t { server coordinator-1:8470; server coordinator-2:8470 max_fails=1; }', services),
    ).toEqual([]);
  });
  test('fails unbalanced braces, an unknown upstream host, a wrong port, and no upstream', () => {
    expect(nginxProblems('upstream t { server coordinator-1:8470; ', services)).toEqual(['unbalanced braces']);
    expect(nginxProblems('upstream t { server coordinator-3:8470; server coordinator-2:80; }', services)).toEqual([
      'upstream server coordinator-3:8470 is not a coordinator service of this file on port 8470',
      'upstream server coordinator-2:80 is not a coordinator service of this file on port 8470',
    ]);
    expect(nginxProblems('server { listen 8443; } # upstream x { }', services)).toEqual(['no upstream block']);
  });
});
