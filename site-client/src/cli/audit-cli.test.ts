/** `twinfed-site audit verify|list` on the data directory, and `enroll` starting the chain. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROTOCOL_VERSION, fingerprint, publicPart, routes } from '@twinfed/shared';
import { FakeCoordinator } from '../__tests__/fake-coordinator';
import { cli, enrollArgs, io } from '../__tests__/cli';
import { SITE_AUDIT_FILE, SiteAuditLog } from '../audit/site-audit';
import type { FetchLike } from '../transport/http';

/** Only the public keys and the enrollment route of a fake coordinator. */
function enrollFetch(c: FakeCoordinator): FetchLike {
  const keys = {
    protocol: PROTOCOL_VERSION,
    ...publicPart(c.identity),
    fingerprint: fingerprint(publicPart(c.identity)),
  };
  return async (url) => {
    const p = new URL(url).pathname;
    if (p === routes.coordinatorKeys) return Response.json(keys);
    if (p === routes.enroll) return Response.json({ siteId: 'site-a', name: 'Cleveland', coordinator: keys });
    return Response.json({ error: { code: 'NOT_FOUND', message: 'no' } }, { status: 404 });
  };
}

describe('twinfed-site audit', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-site-audit-cli-')), 'site');
  });

  test('enroll starts the chain; verify says intact (exit 0); list pages it; a tampered line fails verify (exit 1) naming it', async () => {
    const e = io({ fetch: enrollFetch(new FakeCoordinator()) });
    expect(await cli(enrollArgs(dataDir), e.deps)).toBe(0);
    const log = new SiteAuditLog(dataDir);
    log.append({ action: 'round.trained', subject: 'fed-1/1', detail: { round: 1 } });
    log.append({ action: 'update.uploaded', subject: 'fed-1/1', detail: { digest: 'd'.repeat(64) } });

    const ok = io();
    expect(await cli(['audit', 'verify', '--data-dir', dataDir], ok.deps)).toBe(0);
    expect(ok.out()).toMatch(/INTACT/);
    expect(ok.out()).toMatch(/entries verified: 3/);

    const listed = io();
    expect(await cli(['--json', 'audit', 'list', '--data-dir', dataDir, '--limit', '2'], listed.deps)).toBe(0);
    const page = JSON.parse(listed.out()) as {
      entries: Array<{ seq: number; action: string; subject: string }>;
      next: number;
    };
    expect(page.entries.map((x) => x.action)).toEqual(['site.enrolled', 'round.trained']);
    expect(page.entries[0]!.subject).toBe('site-a');
    expect(page.next).toBe(2);
    const text = io();
    expect(await cli(['audit', 'list', '--data-dir', dataDir, '--after', '2'], text.deps)).toBe(0);
    expect(text.out()).toMatch(/^3 {2}\S+ {2}update\.uploaded {2}fed-1\/1/);

    const file = path.join(dataDir, SITE_AUDIT_FILE);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"round":1', '"round":7'));
    const bad = io();
    expect(await cli(['audit', 'verify', '--data-dir', dataDir], bad.deps)).toBe(1);
    expect(bad.out()).toMatch(/first bad entry:\s+seq 2:/);
    expect(bad.err()).toMatch(/AUDIT_CHAIN_INVALID/);
    expect(await cli(['audit', 'list', '--data-dir', dataDir, '--limit', '0'], io().deps)).not.toBe(0);
  });
});
