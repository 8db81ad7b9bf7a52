import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createAdminClient,
  loadConfig,
  startCoordinator,
  type AdminClient,
  type RunningCoordinator,
} from '@twinfed/coordinator';
import { silentLogger } from '@twinfed/shared';
import { enroll, loadEnrollment, type Enrollment } from '@twinfed/site-client';

/** One enrolled benchmark site: the FLamby center it holds and its enrollment (keys, pinned coordinator keys). */
export interface BenchSite {
  center: number;
  name: string;
  dataDir: string;
  enrollment: Enrollment;
}

/** A coordinator on 127.0.0.1:0 (memory store, silent) and the four Fed-Heart-Disease sites enrolled with it. */
export interface BenchConsortium {
  coordinator: RunningCoordinator;
  admin: AdminClient;
  sites: BenchSite[];
  workDir: string;
  /** Stops the coordinator and removes the work dir. */
  close(): Promise<void>;
}

/** FLamby's four clients, in center order. */
export const FLAMBY_SITES = [
  { center: 0, name: 'Cleveland' },
  { center: 1, name: 'Hungarian' },
  { center: 2, name: 'Switzerland' },
  { center: 3, name: 'VA-Long-Beach' },
] as const;

/**
 * Starts the product's coordinator in this process (`startCoordinator`, memory store, port 0, silent logs) and
 * enrolls one site per FLamby center through the real flow: the operator invites it over the admin API, the site
 * runs `enroll` (its own keys, one-time token, pinned coordinator keys) into its own data dir.
 */
export async function startBenchConsortium(): Promise<BenchConsortium> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-flamby-'));
  const config = loadConfig(
    {},
    { dataDir: path.join(workDir, 'coordinator'), host: '127.0.0.1', port: 0, store: 'memory', logLevel: 'silent' },
  );
  const coordinator = await startCoordinator(config, { logger: silentLogger() });
  try {
    const token = fs.readFileSync(coordinator.operatorTokenFile, 'utf8').trim();
    const admin = createAdminClient({ baseUrl: coordinator.url, token });
    const sites: BenchSite[] = [];
    for (const s of FLAMBY_SITES) {
      const dataDir = path.join(workDir, `site-${s.center}`);
      const invitation = await admin.createInvitation({ siteName: s.name });
      await enroll({
        coordinatorUrl: coordinator.url,
        token: invitation.token,
        dataDir,
        expectedFingerprint: coordinator.fingerprint,
      });
      sites.push({ ...s, dataDir, enrollment: loadEnrollment(dataDir) });
    }
    return {
      coordinator,
      admin,
      sites,
      workDir,
      close: async () => {
        await coordinator.close();
        fs.rmSync(workDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await coordinator.close();
    fs.rmSync(workDir, { recursive: true, force: true });
    throw e;
  }
}
