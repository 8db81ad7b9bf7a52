import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  PROTOCOL_VERSION,
  TwinfedError,
  createFetch,
  fingerprint,
  generateIdentity,
  publicPart,
  requireSecureUrl,
  saveIdentity,
  signEnrollProof,
  type Logger,
} from '@twinfed/shared';
import { CoordinatorClient } from '../transport/coordinator-client';
import { CoordinatorEndpoints } from '../transport/endpoints';
import type { FetchLike } from '../transport/http';
import { JOURNAL_FILE, JOURNAL_LOG_FILE } from '../training/journal';
import { SiteAuditLog } from '../audit/site-audit';
import { SITE_FILES, isEnrolled, readSiteState, writeSiteState, type SiteState } from './site-state';

/** Options of {@link enroll}. */
interface EnrollOptions {
  /** The coordinator's URL, or every replica's (tried in order on connection failures; all recorded). */
  coordinatorUrl: string | readonly string[];
  /** The one-time token the operator created with `twinfed sites invite`. */
  token: string;
  dataDir: string;
  /** Replace an existing enrollment in `dataDir` (its journal is moved aside). */
  force?: boolean;
  /** The coordinator fingerprint the operator gave out of band; enrollment stops before using the token if it differs. */
  expectedFingerprint?: string;
  fetch?: FetchLike;
  /** PEM CA certificate to trust for the coordinator's TLS; recorded in `site.json` for later commands. */
  ca?: string;
  /** Allow plain http to a coordinator that is not on this machine (the token would cross the network in clear). */
  insecureHttp?: boolean;
  timeoutMs?: number;
  logger?: Logger;
  now?: () => Date;
}

/** What enrollment produced. */
interface EnrollResult {
  readonly state: SiteState;
  /** Path of the site's secret key file (mode 0600). */
  readonly identityFile: string;
}

const normalizeFingerprint = (f: string): string =>
  f
    .trim()
    .toLowerCase()
    .replace(/[^0-9a-f]/g, '');

/**
 * Enrolls this site: reads the coordinator's keys (checked against `expectedFingerprint` before the token is used),
 * generates its Ed25519 + X25519 keys, presents the one-time token and the public keys with a proof that it holds
 * both secret keys (bound to the token and that coordinator), checks the coordinator answered with the same keys,
 * then pins them in `site.json` and stores the secret keys in a 0600 key file.
 * Refuses (`ALREADY_EXISTS`) when `dataDir` already holds an enrollment, unless `force`.
 */
export async function enroll(options: EnrollOptions): Promise<EnrollResult> {
  const { dataDir, logger } = options;
  const endpoints = new CoordinatorEndpoints(options.coordinatorUrl);
  for (const url of endpoints.all)
    requireSecureUrl(url, {
      insecureHttp: options.insecureHttp === true,
      what: 'The coordinator URL (--coordinator)',
    });
  if (isEnrolled(dataDir) && !options.force) {
    const existing = safeRead(dataDir);
    const who = existing ? ` (site ${existing.siteId} at ${existing.coordinatorUrls.join(', ')})` : '';
    throw new TwinfedError(
      'ALREADY_EXISTS',
      `${dataDir} already holds an enrollment${who}. Use --force to replace it, or another --data-dir.`,
    );
  }
  const client = new CoordinatorClient({
    baseUrl: endpoints,
    retry: { retries: 2, baseMs: 250, maxMs: 2000 },
    ...(options.fetch
      ? { fetch: options.fetch }
      : options.ca !== undefined
        ? { fetch: createFetch({ ca: options.ca }) }
        : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(logger ? { logger } : {}),
  });
  const keys = await client.coordinatorKeys();
  const announced = { signPublicKey: keys.signPublicKey, boxPublicKey: keys.boxPublicKey };
  if (
    options.expectedFingerprint !== undefined &&
    normalizeFingerprint(fingerprint(announced)) !== normalizeFingerprint(options.expectedFingerprint)
  ) {
    throw new TwinfedError(
      'BAD_SIGNATURE',
      `The coordinator's fingerprint ${fingerprint(announced)} is not the expected ${options.expectedFingerprint}; the token was not used.`,
    );
  }
  const identity = generateIdentity();
  const pub = publicPart(identity);
  const proof = signEnrollProof({ token: options.token, coordinator: announced, identity });
  const res = await client.enroll({ protocol: PROTOCOL_VERSION, token: options.token, ...pub, proof });
  if (res.coordinator.protocol !== PROTOCOL_VERSION) {
    throw new TwinfedError(
      'PROTOCOL_MISMATCH',
      `The coordinator speaks protocol ${res.coordinator.protocol}; this site speaks ${PROTOCOL_VERSION}.`,
    );
  }
  const coordinatorFingerprint = fingerprint(res.coordinator);
  if (coordinatorFingerprint !== fingerprint(announced)) {
    throw new TwinfedError(
      'BAD_SIGNATURE',
      'The coordinator answered the enrollment with other keys than it announced; nothing was pinned.',
    );
  }
  if (normalizeFingerprint(coordinatorFingerprint) !== normalizeFingerprint(res.coordinator.fingerprint)) {
    throw new TwinfedError('BAD_SIGNATURE', "The coordinator's keys do not match the fingerprint it announced.");
  }
  if (
    options.expectedFingerprint !== undefined &&
    normalizeFingerprint(coordinatorFingerprint) !== normalizeFingerprint(options.expectedFingerprint)
  ) {
    throw new TwinfedError(
      'BAD_SIGNATURE',
      `The coordinator answered with fingerprint ${coordinatorFingerprint}, not the expected ${options.expectedFingerprint}.`,
    );
  }
  if (options.force) moveAsideJournal(dataDir, options.now?.() ?? new Date());
  const identityFile = saveIdentity({ dir: dataDir, identity, name: SITE_FILES.identityName });
  const state: SiteState = {
    siteId: res.siteId,
    name: res.name,
    coordinatorUrls: [...endpoints.all],
    enrolledAt: (options.now?.() ?? new Date()).toISOString(),
    fingerprint: fingerprint(pub),
    coordinator: {
      signPublicKey: res.coordinator.signPublicKey,
      boxPublicKey: res.coordinator.boxPublicKey,
      fingerprint: coordinatorFingerprint,
    },
    ...(options.ca !== undefined ? { tlsCa: options.ca } : {}),
  };
  writeSiteState(dataDir, state);
  new SiteAuditLog(dataDir).record(
    {
      action: 'site.enrolled',
      actor: `site:${state.siteId}`,
      at: state.enrolledAt,
      subject: state.siteId,
      detail: {
        name: state.name,
        coordinatorUrls: state.coordinatorUrls,
        coordinatorFingerprint,
        fingerprint: state.fingerprint,
        replaced: options.force === true,
      },
    },
    (err) => logger?.warn({ err }, 'could not append to the site audit chain'),
  );
  logger?.info({ siteId: state.siteId, coordinatorFingerprint }, 'enrolled');
  return { state, identityFile };
}

function safeRead(dataDir: string): SiteState | undefined {
  try {
    return readSiteState(dataDir);
  } catch {
    return undefined;
  }
}

/** A journal belongs to the identity that wrote it: keep it for the record, out of the new site's way. */
function moveAsideJournal(dataDir: string, at: Date): void {
  for (const name of [JOURNAL_FILE, JOURNAL_LOG_FILE]) {
    const file = path.join(dataDir, name);
    if (fs.existsSync(file)) fs.renameSync(file, `${file}.${at.toISOString().replace(/[:.]/g, '-')}.bak`);
  }
}
