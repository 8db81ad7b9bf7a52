/** `twinfed-site privacy ledger` against the fake coordinator (signed site requests over its fetch). */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PrivacyLedger } from '@twinfed/shared';
import { coordinatorFetch } from '../__tests__/coordinator-fetch';
import { FakeCoordinator } from '../__tests__/fake-coordinator';
import { cli, enrollArgs, io } from '../__tests__/cli';
import { loadEnrollment } from '../identity/load';

const spend = {
  federationName: 'Sepsis risk',
  studyId: 'default',
  state: 'completed',
  releases: 15,
  versionsContributed: 14,
  latestVersionId: 'fed-1.v15',
} as const;

async function site() {
  const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-privacy-cli-')), 'site');
  const c = new FakeCoordinator();
  const coord = coordinatorFetch(c);
  expect(await cli(enrollArgs(dataDir), io({ fetch: coord.fetch }).deps)).toBe(0);
  c.trust(loadEnrollment(dataDir));
  const run = async (args: string[]) => {
    const r = io({ fetch: coord.fetch });
    const code = await cli([...args, '--data-dir', dataDir], r.deps);
    return { code, out: r.out(), err: r.err(), lines: code === 0 && args[0] === '--json' ? r.lines() : [] };
  };
  return { c, coord, run };
}

describe('twinfed-site privacy ledger', () => {
  test('each federation this site contributed to with its ε and δ, then the Σ ε, Σ δ total', async () => {
    const s = await site();
    const ledger: PrivacyLedger = {
      composition: 'basic',
      scope: 'site',
      sites: [
        {
          siteId: 'site-a',
          siteName: 'Site A',
          federations: [
            { ...spend, federationId: 'fed-1', mechanism: 'gaussian', epsilon: 2.5, plannedEpsilon: 2.5, delta: 1e-5 },
            {
              ...spend,
              federationId: 'fed-2',
              federationName: 'Readmission',
              state: 'running',
              mechanism: 'skellam',
              epsilon: 1.25,
              plannedEpsilon: 3,
              delta: 1e-6,
              releases: 4,
            },
          ],
          total: { epsilon: 3.75, plannedEpsilon: 5.5, delta: 1.1e-5, federationsWithoutDp: 0 },
        },
      ],
    };
    s.c.ledger = ledger;
    const r = await s.run(['privacy', 'ledger']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        `Privacy ledger of "Site A" (site-level DP: add/remove of this site's whole data)`,
        '  Sepsis risk (fed-1, completed): ε 2.50 after 15 release(s) (2.50 when complete), δ 0.00001, central DP (Gaussian); 14 version(s) contributed',
        '  Readmission (fed-2, running): ε 1.25 after 4 release(s) (3.00 when complete), δ 0.000001, distributed DP (Skellam); 14 version(s) contributed',
        'Total (basic composition, Σ ε and Σ δ): ε 3.75, δ 0.000011; ε 5.50 when every plan completes',
        '',
      ].join('\n'),
    );
    // The request is the site's own, signed.
    const req = s.coord.requests.find((q) => q.url.endsWith('/v1/sites/self/privacy'))!;
    expect(req.method).toBe('GET');
    expect(Object.keys(req.headers).some((h) => /^x-twinfed-(signature|mac)$/i.test(h))).toBe(true);
    expect((await s.run(['--json', 'privacy', 'ledger'])).lines[0]).toEqual(ledger);
  });

  test('a federation without DP makes the total unbounded; nothing contributed says so', async () => {
    const s = await site();
    expect((await s.run(['privacy', 'ledger'])).out).toBe(
      'This site has not contributed to any federation: no privacy spent.\n',
    );
    s.c.ledger = {
      composition: 'basic',
      scope: 'site',
      sites: [
        {
          siteId: 'site-a',
          siteName: 'Site A',
          federations: [
            { ...spend, federationId: 'fed-1', mechanism: null, epsilon: null, plannedEpsilon: null, delta: null },
          ],
          total: { epsilon: null, plannedEpsilon: null, delta: 0, federationsWithoutDp: 1 },
        },
      ],
    };
    const out = (await s.run(['privacy', 'ledger'])).out;
    expect(out).toContain(
      'Sepsis risk (fed-1, completed): no differential privacy: ε unbounded; 14 version(s) contributed',
    );
    expect(out).toContain('Total: ε unbounded: 1 federation(s) without differential privacy; Σ δ 0 over the others');
  });
});
