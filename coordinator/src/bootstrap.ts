import fs from 'node:fs';
import path from 'node:path';
import { TwinfedError, generateToken, hashToken } from '@twinfed/shared';
import type { Store } from './store';

/**
 * Binds the store to this coordinator's key on first start, and refuses (CONFIG_INVALID) a store that belongs to
 * another key: replicas sharing one database must all hold the same key files, or they would sign versions and
 * answers under a key the sites never confirmed.
 */
export async function claimStoreKey(opts: {
  store: Store;
  fingerprint: string;
  dataDir: string;
  now: () => number;
}): Promise<void> {
  const claim = await opts.store.claimCoordinatorKey({
    fingerprint: opts.fingerprint,
    claimedAt: new Date(opts.now()).toISOString(),
  });
  if (claim.fingerprint === opts.fingerprint) return;
  throw new TwinfedError(
    'CONFIG_INVALID',
    `This store belongs to coordinator key ${claim.fingerprint} (since ${claim.claimedAt}), but the key in ` +
      `${opts.dataDir} is ${opts.fingerprint}. Every replica sharing a store needs the same key files: copy ` +
      `coordinator.key.json from the data dir of the replica that first started on this store.`,
  );
}

/** Where the first operator token is written (mode 0600), for the operator CLI on the same host. */
/** The id of the operator token a coordinator creates on its first start. */
const BOOTSTRAP_TOKEN_ID = 'tok-bootstrap-operator';

export function operatorTokenPath(dataDir: string): string {
  return path.join(dataDir, 'operator.token');
}

/**
 * On first start, creates an operator bearer token, stores only its hash and writes the token to
 * `<dataDir>/operator.token` with mode 0600. Returns the path when a token was created.
 */
export async function ensureOperatorToken(opts: {
  store: Store;
  dataDir: string;
  now: () => number;
}): Promise<string | null> {
  if ((await opts.store.listApiTokens()).length > 0) return null;
  const token = generateToken('tfo_');
  const at = new Date(opts.now()).toISOString();
  // One fixed id: replicas starting together on an empty store race to insert it, and exactly one wins.
  const id = BOOTSTRAP_TOKEN_ID;
  try {
    await opts.store.createApiToken(
      { id, name: 'bootstrap-operator', role: 'operator', tokenHash: hashToken(token), createdAt: at },
      {
        at,
        actor: 'system',
        action: 'token.create',
        subject: id,
        detail: { name: 'bootstrap-operator', role: 'operator' },
      },
    );
  } catch (e) {
    if (e instanceof TwinfedError && e.code === 'ALREADY_EXISTS') return null; // another replica created it
    throw e;
  }
  const file = operatorTokenPath(opts.dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
  return file;
}
