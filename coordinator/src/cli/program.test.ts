import { createProgram } from './program';
import { buffer, run } from './__tests__/harness';

const LEAVES = [
  'coordinator start',
  'sites invite',
  'sites list',
  'sites revoke',
  'plan schema',
  'plan check',
  'federations create',
  'federations amend',
  'federations status',
  'federations report',
  'models list',
  'models show',
  'models export',
];

describe('twinfed help', () => {
  test('lists every command group and a typical session at the top level', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const group of ['coordinator', 'sites', 'federations', 'models'])
      expect(r.stdout).toMatch(new RegExp(`^\\s+${group}\\b`, 'm'));
    for (const flag of ['--url', '--token', '--data-dir', '--json', '--debug']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('Typical session');
    expect(r.stderr).toBe('');
  });

  test.each(LEAVES)('`%s --help` explains the command, shows an example and the global options', async (leaf) => {
    const r = await run([...leaf.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: twinfed ${leaf}`);
    expect(r.stdout).toMatch(/Examples?:\n\s+\$ twinfed /);
    expect(r.stdout).toContain(`$ twinfed ${leaf}`);
    expect(r.stdout).toContain('--url <url>');
  });

  test('each group lists its subcommands', () => {
    const program = createProgram({ env: {}, stdout: buffer(), stderr: buffer() });
    const names = program.commands.map((c) => `${c.name()}: ${c.commands.map((s) => s.name()).join(',')}`);
    expect(names).toEqual([
      'coordinator: start,copy-store',
      'sites: invite,list,revoke',
      'tokens: create,list,revoke',
      'studies: create,list',
      'plan: schema,check',
      'federations: create,amend,status,report',
      'models: list,show,export',
      'population: ',
      'stats: query,list,show',
      'tls: init',
      'audit: verify,list',
    ]);
  });

  test('invite help tells how the hospital uses the token', async () => {
    const r = await run(['sites', 'invite', '--help']);
    expect(r.stdout).toContain('twinfed-site enroll --coordinator <url> --token <token>');
  });
});

describe('usage errors', () => {
  test('an unknown option is one line with a code and exit status 2', async () => {
    const r = await run(['sites', 'list', '--nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("twinfed: unknown option '--nope'; see --help (BAD_REQUEST)\n");
    expect(r.stdout).toBe('');
  });

  test('a missing argument is reported without contacting anything', async () => {
    const fetch = jest.fn();
    const r = await run(['sites', 'invite'], { fetch });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^twinfed: missing required argument 'name'.*\(BAD_REQUEST\)\n$/);
    expect(fetch).not.toHaveBeenCalled();
  });

  test('a non-numeric --ttl is refused by the parser', async () => {
    const r = await run(['sites', 'invite', 'X', '--ttl', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('expected a whole number of seconds');
  });

  test('a group without a subcommand prints its help to stderr and fails', async () => {
    const r = await run(['models']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Usage: twinfed models');
  });

  test('a URL that is not http(s) is refused', async () => {
    const r = await run(['--url', 'ftp://x', 'sites', 'list', '--token', 't']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('twinfed: The coordinator URL must be http(s): ftp://x (BAD_REQUEST)\n');
  });
});
