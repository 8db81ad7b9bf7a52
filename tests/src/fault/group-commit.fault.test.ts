import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { routes, type CurrentRound } from '@twinfed/shared';
import type { Child } from '../support/processes';
import { adminOf, checkDatabase, spawnCoordinator, until } from './__tests__/coordinator-process';
import { freePort } from '../support/net';
import { LightSite, lightPlan } from './__tests__/light-site';

const SITES = 16;

/**
 * Group commit across a SIGKILL: uploads that arrive together share one SQLite commit and one fsync of the WAL, and
 * each is acknowledged only after it. Killing the coordinator right after an acknowledgement (from outside, the
 * moment a site reads it; and from inside, at the crash point after the acknowledgement is handed to HTTP) must
 * leave every acknowledged upload in the database with the acknowledged digest.
 */
describe('group commit survives SIGKILL right after an acknowledged upload', () => {
  let dataDir: string;
  beforeAll(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-group-commit-'))));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  test('a burst of concurrent uploads, killed at the first acknowledgement and at the third: nothing acknowledged is lost', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const start = async (crashAt?: string): Promise<Child> => {
      const c = spawnCoordinator({ dataDir, port, ...(crashAt ? { crashAt } : {}) });
      await until(async () => (await fetch(`${url}/healthz`)).ok, { timeoutMs: 30_000, what: 'coordinator start' });
      return c;
    };
    let child = await start();
    const admin = adminOf({ dataDir, port });
    const sites: LightSite[] = [];
    for (let i = 0; i < SITES; i++) {
      const inv = await admin.createInvitation({ siteName: `Site ${i}` });
      sites.push(await LightSite.enroll({ index: i, token: inv.token, url: () => url }));
    }
    const fed = await admin.createFederation(
      lightPlan({ name: 'group commit', rounds: 1, minSites: SITES, roundDeadlineSeconds: 600 }),
    );
    for (const s of sites) {
      const cur = (await (await s.request('GET', routes.currentRound(fed.id))).json()) as CurrentRound;
      await s.prepare(fed.id, cur.round!);
    }
    const acks = () => sites.flatMap((s) => s.acks);
    /** Every site not yet acknowledged delivers at once; `onAck` runs when a site reads its acknowledgement. */
    const burst = (onAck: () => void) =>
      Promise.all(
        sites
          .filter((s) => s.acks.length === 0)
          .map((s) =>
            s.deliver(fed.id, 1).then(
              (res) => {
                if (res.ok) onAck();
              },
              () => undefined, // the coordinator died under this request
            ),
          ),
      );

    // 1. SIGKILL from outside the moment the first acknowledgement is read.
    await burst(() => child.proc.kill('SIGKILL'));
    await child.exited;
    const first = acks().length;
    expect(first).toBeGreaterThan(0);
    expect((await checkDatabase({ dataDir, acks: acks() })).acksChecked).toBe(first);

    // 2. The coordinator kills itself right after handing its third acknowledgement to HTTP.
    child = await start('upload.responded:3');
    await burst(() => undefined);
    await child.exited;
    expect(child.proc.exitCode !== 0 || child.proc.signalCode !== null).toBe(true);
    expect(acks().length).toBeGreaterThan(first);
    expect((await checkDatabase({ dataDir, acks: acks() })).acksChecked).toBe(acks().length);
  }, 120_000);
});
