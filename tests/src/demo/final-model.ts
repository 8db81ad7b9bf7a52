import fs from 'node:fs';
import path from 'node:path';
import type { AdminClient } from '@twinfed/coordinator';
import { deserializeWeights, fromB64, verifyModelVersion, type WeightSet } from '@twinfed/shared';

/** Downloads a published version and verifies it against the coordinator's key, as a site would. */
export async function verifiedWeights(admin: AdminClient, versionId: string): Promise<WeightSet> {
  const meta = await admin.getModel(versionId);
  const dl = await admin.downloadWeights(versionId);
  const keys = await admin.coordinatorKeys();
  const verified = verifyModelVersion({ meta: meta.meta, signature: meta.signature, weightsBytes: dl.bytes, coordinatorSignPublicKey: fromB64(keys.signPublicKey) });
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
