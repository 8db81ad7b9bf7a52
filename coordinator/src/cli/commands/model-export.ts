/**
 * `twinfed models export`: downloads a version's weights, checks them against the digest its signed metadata
 * declares (and the ETag) and the signature, and only then writes `<out>` and `<out>.json` (temp file + rename).
 */
import { access, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TwinfedError, fromB64, sha256Hex, verifyModelVersion } from '@twinfed/shared';
import type { CommandContext } from '../context';
import { metaFields } from '../model-version';

/** What was written. */
export interface ExportResult {
  versionId: string;
  weightsFile: string;
  metaFile: string;
  bytes: number;
  sha256: string;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function writeAtomically(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, data, { flag: 'wx' });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Exports one version. Writes nothing and throws `MODEL_DIGEST_MISMATCH` when the bytes do not hash to the
 * digest the version declares (or its ETag), `MODEL_SIGNATURE_INVALID` when the coordinator's signature over
 * the metadata does not verify against the coordinator's current signing key.
 */
export async function exportModel(ctx: CommandContext, opts: { versionId: string; out: string; force: boolean }): Promise<ExportResult> {
  const weightsFile = path.resolve(opts.out);
  const metaFile = `${weightsFile}.json`;
  if (!opts.force) {
    for (const f of [weightsFile, metaFile]) {
      if (await exists(f)) throw new TwinfedError('ALREADY_EXISTS', `${f} already exists; pass --force to overwrite it.`);
    }
  }
  const version = await ctx.client.getModel(opts.versionId);
  const declared = metaFields(version).weightsSha256;
  if (declared !== undefined && declared !== version.weightsSha256) {
    throw new TwinfedError('MODEL_DIGEST_MISMATCH', `Version ${version.id} declares two different weight digests; nothing was written.`);
  }
  const [download, coordinator] = await Promise.all([ctx.client.downloadWeights(version.id), ctx.client.coordinatorKeys()]);
  const actual = sha256Hex(download.bytes);
  if (actual !== version.weightsSha256) {
    throw new TwinfedError(
      'MODEL_DIGEST_MISMATCH',
      `The downloaded weights of ${version.id} have sha256 ${actual.slice(0, 16)}… but the version metadata says ${version.weightsSha256.slice(0, 16)}…; nothing was written.`,
    );
  }
  if (download.etag !== null && download.etag !== actual) {
    throw new TwinfedError('MODEL_DIGEST_MISMATCH', `The coordinator's ETag for ${version.id} does not match the weights it sent; nothing was written.`);
  }
  try {
    verifyModelVersion({
      meta: version.meta,
      signature: version.signature,
      weightsBytes: download.bytes,
      coordinatorSignPublicKey: fromB64(coordinator.signPublicKey, 'MODEL_SIGNATURE_INVALID'),
    });
  } catch (e) {
    const code = e instanceof TwinfedError && e.code === 'MODEL_DIGEST_MISMATCH' ? e.code : 'MODEL_SIGNATURE_INVALID';
    const what = code === 'MODEL_DIGEST_MISMATCH' ? 'the weights do not match the digest signed by' : 'the signature does not verify against';
    throw new TwinfedError(code, `Version ${version.id}: ${what} coordinator key ${coordinator.fingerprint}; nothing was written.`, { cause: e });
  }
  const sidecar = {
    version,
    signature: version.signature,
    weightsSha256: actual,
    weightsFile: path.basename(weightsFile),
    coordinator,
    exportedFrom: ctx.url,
    exportedAt: new Date().toISOString(),
  };
  await writeAtomically(weightsFile, download.bytes);
  await writeAtomically(metaFile, `${JSON.stringify(sidecar, null, 2)}\n`);
  return { versionId: version.id, weightsFile, metaFile, bytes: download.bytes.byteLength, sha256: actual };
}
