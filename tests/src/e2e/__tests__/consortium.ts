import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startConsortium, type Consortium, type RunSite } from '../../demo/federation-run';

/**
 * Registers beforeAll/afterAll hooks: one consortium (a coordinator process and a site process per entry of `sites`)
 * in a fresh temp dir `twinfed-<prefix>-…` for the whole suite, stopped and removed afterwards.
 */
export function suiteConsortium(
  prefix: string,
  sites: RunSite[],
): { readonly c: Consortium; readonly workDir: string } {
  let c: Consortium | undefined;
  let workDir = '';
  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), `twinfed-${prefix}-`));
    c = await startConsortium({ workDir, sites });
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
