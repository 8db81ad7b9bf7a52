import path from 'node:path';
import { Journal, type UploadEntry } from '@twinfed/site-client';
import { siteCli } from '../../support/paths';
import { jsonLine, runNode, startNode, type Child } from '../../support/processes';
import { writeSitePolicy } from '../../support/site-policy';

/** A hospital of the bundled heart-disease data, run as a real `twinfed-site` process. */
export interface RealSite {
  name: string;
  center: number;
  dir: string;
  siteId: string;
}

/**
 * Enrolls a site with `twinfed-site enroll` (its keys and the pinned coordinator key land in `dir`), with a policy that
 * approves every plan (these tests are about faults, not about who approves).
 */
export async function enrollRealSite(o: {
  name: string;
  center: number;
  workDir: string;
  url: string;
  token: string;
}): Promise<RealSite> {
  const dir = path.join(o.workDir, `site-${o.center}`);
  const lines = await runNode({
    name: `enroll ${o.name}`,
    script: siteCli(),
    args: ['--json', 'enroll', '--coordinator', o.url, '--token', o.token, '--data-dir', dir],
  });
  const info = lines.map(jsonLine).find((j) => typeof j?.siteId === 'string');
  if (!info) throw new Error(`enroll ${o.name}: no site id:\n${lines.join('\n')}`);
  writeSitePolicy(dir, { autoApprove: true });
  return { name: o.name, center: o.center, dir, siteId: String(info.siteId) };
}

/** `twinfed-site --json run` in the federation (through `url`, e.g. a fault proxy); progress events are JSON lines. */
export function runRealSite(
  site: RealSite,
  o: { federationId: string; url: string; pollMs?: number; push?: boolean; requestTimeoutMs?: number },
): Child {
  return startNode({
    name: site.name,
    script: siteCli(),
    args: [
      '--json',
      'run',
      '--heart-disease',
      String(site.center),
      '--federation',
      o.federationId,
      '--data-dir',
      site.dir,
      '--coordinator',
      o.url,
      '--poll-interval',
      String(o.pollMs ?? 300),
      ...(o.push === false ? ['--no-push'] : []),
    ],
    env: {
      TWINFED_LOG_LEVEL: 'warn',
      TWINFED_HTTP_RETRIES: '3',
      ...(o.requestTimeoutMs !== undefined ? { TWINFED_REQUEST_TIMEOUT_MS: String(o.requestTimeoutMs) } : {}),
    },
  });
}

/** The progress events a site process printed (JSON lines with a `type`). */
export function events(child: Child): Array<Record<string, unknown> & { type: string }> {
  return child.lines
    .map(jsonLine)
    .filter((j): j is Record<string, unknown> & { type: string } => typeof j?.type === 'string');
}

/** The site's journalled uploads in a federation. */
export function journalUploads(site: RealSite, federationId: string): UploadEntry[] {
  return Journal.open(site.dir)
    .snapshot()
    .uploads.filter((u) => u.federationId === federationId);
}
