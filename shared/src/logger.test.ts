import { Writable } from 'node:stream';
import { createLogger } from './logger';

function capture(): { lines: string[]; destination: Writable } {
  const lines: string[] = [];
  return {
    lines,
    destination: new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) }),
  };
}

test('the logger redacts tokens, keys, weights and rows even when a caller passes them', () => {
  const { lines, destination } = capture();
  const log = createLogger({ level: 'info', bindings: { component: 'site-client' }, destination });
  log.info(
    { token: 'secret-token', identity: { signSecretKey: 'k' }, weights: [1, 2], rows: [{ age: 50 }], round: 3 },
    'hello',
  );
  const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
  expect(rec).toMatchObject({
    component: 'site-client',
    token: '[redacted]',
    identity: { signSecretKey: '[redacted]' },
    weights: '[redacted]',
    rows: '[redacted]',
    round: 3,
    msg: 'hello',
  });
  expect(rec).not.toHaveProperty('pid');
  expect(lines[0]).not.toContain('secret-token');
});

test('the same list covers the credentials of a logged request and of a nested object', () => {
  const { lines, destination } = capture();
  const log = createLogger({ level: 'info', bindings: { name: 'twinfed-coordinator' }, destination });
  log.warn(
    {
      req: { headers: { authorization: 'Bearer abc', 'x-twinfed-signature': 'sig', host: 'h' } },
      site: { secretKey: 's', token: 't' },
    },
    'refused',
  );
  const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
  expect(rec).toMatchObject({
    name: 'twinfed-coordinator',
    req: { headers: { authorization: '[redacted]', 'x-twinfed-signature': '[redacted]', host: 'h' } },
    site: { secretKey: '[redacted]', token: '[redacted]' },
  });
  expect(lines[0]).not.toMatch(/Bearer abc|"sig"/);
});
