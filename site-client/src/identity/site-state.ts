import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { IdSchema, TwinfedError, identityPath as keyFilePath } from '@twinfed/shared';
import { readJsonIfExists, writeFileAtomic } from '../fs-atomic';

/** File names inside the site's data directory (the key file is `<identityName>.key.json`, mode 0600). */
export const SITE_FILES = { state: 'site.json', identityName: 'site' } as const;

const b64 = z.string().min(1).max(200);

/** Most coordinator URLs (replicas of one coordinator) a site keeps. */
const MAX_COORDINATOR_URLS = 16;

/** A `site.json` written before replicas (one `coordinatorUrl`) reads as a list of one. */
function migrateSingleUrl(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const { coordinatorUrl, ...rest } = raw as Record<string, unknown>;
  if (coordinatorUrl === undefined || 'coordinatorUrls' in rest) return raw;
  return { ...rest, coordinatorUrls: [coordinatorUrl] };
}

/** What enrollment leaves on disk besides the key file: who we are and the coordinator keys we pinned. */
const SiteStateObjectSchema = z.object({
  siteId: IdSchema,
  name: z.string(),
  /** The coordinator's URLs: one, or every replica's, tried in order (the site fails over on connection failures). */
  coordinatorUrls: z.array(z.string().url()).min(1).max(MAX_COORDINATOR_URLS),
  enrolledAt: z.string(),
  /** The site's own public-key fingerprint (the operator sees it in `twinfed sites list`). */
  fingerprint: z.string(),
  coordinator: z.object({ signPublicKey: b64, boxPublicKey: b64, fingerprint: z.string() }),
  /** The CA certificate (PEM) given with `--ca` at enrollment: later commands trust it for the coordinator's TLS. */
  tlsCa: z.string().max(100_000).optional(),
});
/** `site.json`, read from either layout (the single `coordinatorUrl` of older versions becomes `coordinatorUrls`). */
const SiteStateSchema = z.preprocess(migrateSingleUrl, SiteStateObjectSchema);
/** The enrollment record (`site.json`). */
export type SiteState = z.infer<typeof SiteStateObjectSchema>;

/** Path of `site.json` in `dataDir`. */
export function siteStatePath(dataDir: string): string {
  return path.join(dataDir, SITE_FILES.state);
}

/** Path of the site's secret key file in `dataDir`. */
export function identityPath(dataDir: string): string {
  return keyFilePath({ dir: dataDir, name: SITE_FILES.identityName });
}

/** True when `dataDir` already holds an enrollment (either file). */
export function isEnrolled(dataDir: string): boolean {
  return fs.existsSync(siteStatePath(dataDir)) || fs.existsSync(identityPath(dataDir));
}

/** Reads `site.json`, or `undefined` when the site is not enrolled. Throws `CONFIG_INVALID` when corrupt. */
export function readSiteState(dataDir: string): SiteState | undefined {
  const file = siteStatePath(dataDir);
  let raw: unknown;
  try {
    raw = readJsonIfExists(file);
  } catch (e) {
    throw new TwinfedError('CONFIG_INVALID', `${file} is not valid JSON.`, { cause: e });
  }
  if (raw === undefined) return undefined;
  const parsed = SiteStateSchema.safeParse(raw);
  if (!parsed.success) throw new TwinfedError('CONFIG_INVALID', `${file} is malformed.`);
  return parsed.data;
}

/** Writes `site.json` atomically (mode 0600: it is not secret, but it is nobody else's business). */
export function writeSiteState(dataDir: string, state: SiteState): void {
  writeFileAtomic(siteStatePath(dataDir), `${JSON.stringify(SiteStateSchema.parse(state), null, 2)}\n`, {
    mode: 0o600,
  });
}
