/**
 * Writing and reading model bundle directories: `manifest.json`, `weights.twfw` (the signed weights file, as
 * served) and `tfjs/model.json` + `tfjs/group1-shard1of1.bin` (TensorFlow.js layers format). A bundle is written
 * into a temporary sibling directory and renamed into place, so a reader sees a whole bundle or none.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TwinfedError } from '../errors';
import { sha256Hex } from '../crypto/hash';
import type { CoordinatorKeys } from '../schemas/api';
import type { ModelVersionMeta } from '../envelope/model-version';
import type { Plan } from '../schemas/plan';
import type { WeightSet } from '../weights/types';
import { LAYERS_SHARD_FILE, layersModelJson, layersShard } from './layers-model';
import {
  BUNDLE_FILES,
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  describeVersion,
  preprocessingFor,
  type BundleManifest,
  type SiteMetrics,
  type StatisticsInput,
} from './manifest';

/** What a bundle is made of. The caller has verified `signature` over `meta` and the weights' digest. */
export interface BundleInput {
  meta: ModelVersionMeta;
  signature: string;
  coordinator: Pick<CoordinatorKeys, 'signPublicKey' | 'boxPublicKey' | 'fingerprint'>;
  plan: Plan;
  /** The signed weights file (its sha256 is `meta.weightsSha256`) and its decoded weights. */
  weightsBytes: Uint8Array;
  weights: WeightSet;
  statistics: StatisticsInput;
  exportedBy: 'coordinator' | 'site';
  siteId?: string;
  siteMetrics: SiteMetrics[] | null;
  ancestors?: string[];
  now?: () => Date;
}

/** The bundle's files (paths relative to the bundle directory) and its manifest. */
interface BundleFiles {
  manifest: BundleManifest;
  files: Map<string, Uint8Array>;
}

const ref = (p: string, bytes: Uint8Array) => ({ path: p, sha256: sha256Hex(bytes), bytes: bytes.byteLength });

/** Builds the manifest and file contents of a bundle (nothing is written). */
export function buildBundle(input: BundleInput): BundleFiles {
  const modelJson = new TextEncoder().encode(`${JSON.stringify(layersModelJson(input.plan.model), null, 2)}\n`);
  const shard = layersShard(input.weights);
  const shardPath = `${BUNDLE_FILES.tfjsDir}/${LAYERS_SHARD_FILE}`;
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    exported: {
      by: input.exportedBy,
      siteId: input.siteId ?? null,
      at: (input.now ?? (() => new Date()))().toISOString(),
    },
    description: describeVersion(input.meta, input.plan),
    preprocessing: preprocessingFor(input.plan, input.statistics),
    siteMetrics: input.siteMetrics,
    ancestors: input.ancestors ?? [],
    files: {
      weights: ref(BUNDLE_FILES.weights, input.weightsBytes),
      tfjsModel: ref(BUNDLE_FILES.tfjsModel, modelJson),
      tfjsShards: [ref(shardPath, shard)],
    },
    signature: {
      algorithm: 'ed25519',
      signs: 'sha256("TWINFED-MODEL-V1\\n" + canonicalJson(meta))',
      value: input.signature,
      meta: input.meta,
      coordinator: {
        signPublicKey: input.coordinator.signPublicKey,
        boxPublicKey: input.coordinator.boxPublicKey,
        fingerprint: input.coordinator.fingerprint,
      },
    },
    plan: input.plan,
  };
  const files = new Map<string, Uint8Array>([
    [BUNDLE_FILES.manifest, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`)],
    [BUNDLE_FILES.weights, input.weightsBytes],
    [BUNDLE_FILES.tfjsModel, modelJson],
    [shardPath, shard],
  ]);
  return { manifest, files };
}

/**
 * Writes a bundle to directory `dir`: into a temporary sibling first, then renamed into place. Throws
 * `ALREADY_EXISTS` when `dir` exists and is not empty, unless `force` (the old directory is then replaced).
 * `private` makes the directories 0700 and the files 0600 (a site's export holds its own statistics).
 */
export function writeBundle(
  dir: string,
  bundle: BundleFiles,
  options: { force?: boolean; private?: boolean } = {},
): void {
  const fileMode = options.private ? 0o600 : 0o644;
  const dirMode = options.private ? 0o700 : 0o755;
  const target = path.resolve(dir);
  const occupied = existsSync(target) && readdirSync(target).length > 0;
  if (occupied && !options.force)
    throw new TwinfedError('ALREADY_EXISTS', `${target} already exists and is not empty; pass --force to replace it.`);
  const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
  try {
    for (const [rel, bytes] of bundle.files) {
      const file = path.join(tmp, rel);
      mkdirSync(path.dirname(file), { recursive: true, mode: dirMode });
      writeFileSync(file, bytes, { flag: 'wx', mode: fileMode });
    }
    if (existsSync(target)) {
      const old = `${target}.${process.pid}.${Date.now()}.old`;
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      mkdirSync(path.dirname(target), { recursive: true });
      renameSync(tmp, target);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** A bundle's raw files as read from disk (not yet verified). */
export interface RawBundle {
  dir: string;
  manifest: unknown;
  read(rel: string): Uint8Array;
}

/** Opens a bundle directory: parses `manifest.json` (as JSON only). Throws `BUNDLE_INVALID` when it is missing or not JSON. */
export function openBundle(dir: string): RawBundle {
  const root = path.resolve(dir);
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(path.join(root, BUNDLE_FILES.manifest), 'utf8'));
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR';
    throw new TwinfedError(
      'BUNDLE_INVALID',
      missing
        ? `${root} is not a model bundle (no ${BUNDLE_FILES.manifest}).`
        : `${path.join(root, BUNDLE_FILES.manifest)} is not valid JSON.`,
    );
  }
  return {
    dir: root,
    manifest,
    read(rel: string): Uint8Array {
      const file = path.resolve(root, rel);
      if (path.relative(root, file).startsWith('..') || path.isAbsolute(rel))
        throw new TwinfedError('BUNDLE_INVALID', `The manifest names a file outside the bundle: ${rel}.`);
      try {
        return new Uint8Array(readFileSync(file));
      } catch {
        throw new TwinfedError('BUNDLE_INVALID', `The bundle file ${rel} is missing.`);
      }
    },
  };
}
