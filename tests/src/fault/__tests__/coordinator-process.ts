import path from 'node:path';
import { createAdminClient, SqliteStore, type AdminClient } from '@twinfed/coordinator';
import { sha256Hex } from '@twinfed/shared';
import { coordinatorCli } from '../../support/paths';
import { startNode, type Child } from '../../support/processes';
import type { Ack } from './light-site';
import { readOperatorToken } from '../../support/operator-token';

/** `twinfed coordinator start` as a child process on a fixed port; optionally dying at a crash point. */
export function spawnCoordinator(o: {
  dataDir: string;
  port: number;
  crashAt?: string;
  env?: NodeJS.ProcessEnv;
  logLevel?: string;
}): Child {
  return startNode({
    name: 'coordinator',
    script: coordinatorCli(),
    args: ['--json', '--data-dir', o.dataDir, 'coordinator', 'start', '--port', String(o.port)],
    env: {
      TWINFED_LOG_LEVEL: o.logLevel ?? 'warn',
      ...(o.crashAt ? { TWINFED_TEST_CRASH_AT: o.crashAt } : {}),
      ...o.env,
    },
  });
}

/** The operator client of a coordinator data dir (the token file exists after the first start). */
export function adminOf(o: { dataDir: string; port: number }): AdminClient {
  const token = readOperatorToken(o.dataDir);
  return createAdminClient({ baseUrl: `http://127.0.0.1:${o.port}`, token, timeoutMs: 5000 });
}

/** Resolves once `check` is true (errors count as false), or rejects after `timeoutMs`. */
export async function until(
  check: () => Promise<boolean> | boolean,
  o: { timeoutMs: number; what: string; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    if (Date.now() > deadline) throw new Error(`timed out after ${o.timeoutMs} ms waiting for ${o.what}`);
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 50));
  }
}

/** What a dead coordinator left in its database. */
export interface DbCheck {
  acksChecked: number;
  versions: number;
}

/** What {@link checkStore} reads: the part of a store (SQLite or PostgreSQL) a dead coordinator left behind. */
type CheckedStore = Pick<
  SqliteStore,
  'getUpdate' | 'listVersions' | 'getVersionWeights' | 'listFederations' | 'listRounds'
>;

/**
 * Checks a coordinator's store: every acknowledged upload is stored with the acknowledged digest, every version's
 * weights match its signed digest (publication is atomic) and every published round points at an existing version.
 */
export async function checkStore(db: CheckedStore, acks: Ack[]): Promise<DbCheck> {
  for (const ack of acks) {
    const stored = await db.getUpdate(ack.federationId, ack.round, ack.siteId);
    if (!stored) throw new Error(`acknowledged upload of ${ack.siteId} for round ${ack.round} is not in the database`);
    if (stored.digest !== ack.digest)
      throw new Error(`stored upload of ${ack.siteId} round ${ack.round} has another digest`);
  }
  const versions = await db.listVersions();
  for (const v of versions) {
    const weights = await db.getVersionWeights(v.id);
    if (!weights || sha256Hex(weights) !== v.weightsSha256) throw new Error(`version ${v.id} is incomplete`);
  }
  for (const fed of await db.listFederations()) {
    for (const r of await db.listRounds(fed.id)) {
      if (r.state === 'published' && !versions.some((v) => v.id === r.versionId))
        throw new Error(`round ${r.round} is published without its version`);
    }
    if (fed.latestVersionId && !versions.some((v) => v.id === fed.latestVersionId))
      throw new Error('the federation points at a missing version');
  }
  return { acksChecked: acks.length, versions: versions.length };
}

/** {@link checkStore} on the store of a coordinator that is not running (by default the SQLite file in its data dir). */
export async function checkDatabase(o: {
  dataDir: string;
  acks: Ack[];
  /** Opens the store to check (default: the SQLite file in the data dir). */
  open?: () => Promise<CheckedStore & { close(): Promise<void> }>;
}): Promise<DbCheck> {
  const db = await (o.open ?? (() => SqliteStore.open({ path: path.join(o.dataDir, 'coordinator.db') })))();
  try {
    return await checkStore(db, o.acks);
  } finally {
    await db.close();
  }
}
