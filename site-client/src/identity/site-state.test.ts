import * as fs from 'node:fs';
import { coordinatorFetch } from '../__tests__/coordinator-fetch';
import { FakeCoordinator } from '../__tests__/fake-coordinator';
import { cli, io, tmpSiteDir } from '../__tests__/cli';
import { loadEnrollment } from './load';
import { readSiteState, siteStatePath, writeSiteState } from './site-state';

/** Enrolls a site with the CLI (against the fake coordinator at https://coord.test, and more URLs when given). */
async function enrolled(prefix: string, urls: string[] = ['https://coord.test']): Promise<string> {
  const dataDir = tmpSiteDir(prefix);
  const c = new FakeCoordinator();
  const t = io({ fetch: coordinatorFetch(c).fetch });
  const args = ['enroll', '--token', 'tok-0123456789abcdef', '--data-dir', dataDir];
  expect(await cli([...args, ...urls.flatMap((u) => ['--coordinator', u])], t.deps)).toBe(0);
  return dataDir;
}

/** Rewrites site.json as a version before replicas wrote it: one `coordinatorUrl`, no `coordinatorUrls`. */
function downgrade(dataDir: string): void {
  const { coordinatorUrls, ...rest } = JSON.parse(fs.readFileSync(siteStatePath(dataDir), 'utf8')) as {
    coordinatorUrls: string[];
  };
  fs.writeFileSync(siteStatePath(dataDir), JSON.stringify({ ...rest, coordinatorUrl: coordinatorUrls[0] }));
}

describe('site.json and the coordinator URLs', () => {
  test('enrollment records every --coordinator URL (repeated and comma-separated), in order', async () => {
    const dataDir = await enrolled('urls', ['https://coord.test', 'https://b.test,https://c.test/']);
    expect(readSiteState(dataDir)?.coordinatorUrls).toEqual(['https://coord.test', 'https://b.test', 'https://c.test']);
    const s = io();
    expect(await cli(['status', '--data-dir', dataDir], s.deps)).toBe(0);
    expect(s.out()).toContain('Coordinator:   https://coord.test, https://b.test, https://c.test');
  });

  test('a data dir written before replicas (one coordinatorUrl) keeps working: read as a list of one', async () => {
    const dataDir = await enrolled('old-state');
    downgrade(dataDir);
    expect(JSON.parse(fs.readFileSync(siteStatePath(dataDir), 'utf8'))).toHaveProperty('coordinatorUrl');
    expect(loadEnrollment(dataDir).state.coordinatorUrls).toEqual(['https://coord.test']);
    const s = io();
    expect(await cli(['status', '--data-dir', dataDir], s.deps)).toBe(0);
    expect(s.out()).toContain('Coordinator:   https://coord.test\n');
    // Written again, it is in the new layout only.
    writeSiteState(dataDir, readSiteState(dataDir)!);
    const stored = JSON.parse(fs.readFileSync(siteStatePath(dataDir), 'utf8')) as Record<string, unknown>;
    expect(stored.coordinatorUrls).toEqual(['https://coord.test']);
    expect(stored).not.toHaveProperty('coordinatorUrl');
  });

  test('a site.json with neither, or an empty list, is CONFIG_INVALID', async () => {
    const dataDir = await enrolled('bad-state');
    const state = JSON.parse(fs.readFileSync(siteStatePath(dataDir), 'utf8')) as Record<string, unknown>;
    for (const bad of [
      { ...state, coordinatorUrls: [] },
      { ...state, coordinatorUrls: undefined },
    ]) {
      fs.writeFileSync(siteStatePath(dataDir), JSON.stringify(bad));
      expect(() => readSiteState(dataDir)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
  });

  test('every URL of the list must be https (or loopback) unless --insecure-http', async () => {
    const t = io();
    const args = ['enroll', '--token', 'tok-0123456789abcdef', '--data-dir', tmpSiteDir('insecure-list')];
    expect(await cli([...args, '--coordinator', 'https://a.test,http://remote.test:8470'], t.deps)).toBe(1);
    expect(t.err()).toContain('INSECURE_URL');
  });
});
