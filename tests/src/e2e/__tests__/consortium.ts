import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SitePolicy } from '@twinfed/site-client';
import { startConsortium, type RunSite, type SingleConsortium } from '../../demo/federation-run';

/**
 * Three heart-disease hospitals as the e2e suites federate them: secure aggregation and federated statistics need a
 * cohort of at least three sites. federation.e2e looks the last one's site id up by its name, `VA`.
 */
export const THREE_SITES: RunSite[] = [
  { name: 'Cleveland', center: 0 },
  { name: 'Hungarian', center: 1 },
  { name: 'VA', center: 3 },
];

/**
 * Registers beforeAll/afterAll hooks: one consortium (a coordinator process and a site process per entry of `sites`,
 * each with `sitePolicy` as its policy file, null for none) in a fresh temp dir `twinfed-<prefix>-…` for the whole
 * suite, stopped and removed afterwards.
 */
export function suiteConsortium(
  prefix: string,
  sites: RunSite[],
  sitePolicy: SitePolicy | null,
): { readonly c: SingleConsortium; readonly workDir: string } {
  let c: SingleConsortium | undefined;
  let workDir = '';
  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), `twinfed-${prefix}-`));
    c = await startConsortium({ workDir, sites, sitePolicy });
  });
  afterAll(async () => {
    await c?.stopAll();
    fs.rmSync(workDir, { recursive: true, force: true });
  });
  return {
    get c() {
      return c!;
    },
    get workDir() {
      return workDir;
    },
  };
}
