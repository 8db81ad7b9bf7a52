import fs from 'node:fs';
import path from 'node:path';
import type { AdminClient } from '@twinfed/coordinator';
import { deserializeWeights, fromB64, verifyModelVersion, type WeightSet } from '@twinfed/shared';
import { meanScore, type SiteComparison } from './compare';
import type { Consortium, Progress } from './federation-run';
import { comparisonTable } from './render';

/** Downloads a published version and verifies it against the coordinator's key, as a site would. */
export async function verifiedWeights(admin: AdminClient, versionId: string): Promise<WeightSet> {
  const meta = await admin.getModel(versionId);
  const dl = await admin.downloadWeights(versionId);
  const keys = await admin.coordinatorKeys();
  const verified = verifyModelVersion({
    meta: meta.meta,
    signature: meta.signature,
    weightsBytes: dl.bytes,
    coordinatorSignPublicKey: fromB64(keys.signPublicKey),
  });
  return deserializeWeights(dl.bytes, { expectedLayout: verified.layout });
}

/** Writes the demo's JSON summary when `file` is given, then prints the run time. */
export function finish(summary: { seconds: number }, file: string | undefined): void {
  if (file) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
    console.log(`summary written to ${file}`);
  }
  console.log(`done in ${summary.seconds} s`);
}

/**
 * Prints the federated vs local-only table and returns the summary's common part: published rounds, versions,
 * each site's scores (with its enrolled id) and the mean scores.
 */
export async function comparisonSummary(c: Consortium, final: Progress, rows: SiteComparison[]) {
  const mean = {
    federated: meanScore(rows.map((r) => r.federated)),
    localOnly: meanScore(rows.map((r) => r.localOnly)),
  };
  console.log(comparisonTable(rows, mean));
  return {
    rounds: final.rounds.filter((r) => r.state === 'published').length,
    versions: (await c.admin.listModels({ federationId: final.federation.id })).length,
    sites: rows.map((r) => ({
      name: r.site,
      siteId: c.siteIds.get(r.site),
      federated: r.federated,
      localOnly: r.localOnly,
    })),
    federated: mean.federated,
    localOnly: mean.localOnly,
  };
}

/** Seconds since `started` (a Date.now()), to one decimal. */
export const secondsSince = (started: number): number => Math.round((Date.now() - started) / 100) / 10;
