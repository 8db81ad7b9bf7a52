import { Writable } from 'node:stream';
import { createLogger } from './logger';

test('the logger redacts tokens, keys, weights and rows even when a caller passes them', () => {
  const lines: string[] = [];
  const destination = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(chunk.toString()), cb()) });
  const log = createLogger({ level: 'info', destination });
  log.info({ token: 'secret-token', identity: { signSecretKey: 'k' }, weights: [1, 2], rows: [{ age: 50 }], round: 3 }, 'hello');
  const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
  expect(rec).toMatchObject({ token: '[redacted]', identity: { signSecretKey: '[redacted]' }, weights: '[redacted]', rows: '[redacted]', round: 3, msg: 'hello' });
  expect(lines[0]).not.toContain('secret-token');
});
