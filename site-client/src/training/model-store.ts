import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import {
  PlanSchema,
  TwinfedError,
  deserializeWeights,
  layoutOf,
  sameLayout,
  verifyModelVersion,
  type ModelVersionMeta,
  type Plan,
  type WeightSet,
} from '@twinfed/shared';
import { readJsonIfExists, writeFileAtomic } from '../fs-atomic';
import type { Preprocessing } from '../scoring/preprocess';
import { neutralizeConstantColumns } from './twin-dataset';
import type { VerifiedModel } from './verified-model';

/** Directory of stored model versions inside the site data dir. */
export const MODELS_DIR = 'models';

const StoredSchema = z.object({
  version: z.literal(1),
  federationId: z.string().min(1),
  meta: z.unknown(),
  signature: z.string().min(1),
  weightsFile: z.string().regex(/^weights-[0-9a-f]{64}\.bin$/),
  plan: z.unknown(),
  preprocessing: z
    .object({
      fill: z.array(z.number()),
      standardizer: z.object({ mean: z.array(z.number()), std: z.array(z.number()) }).nullable(),
    })
    .nullable(),
  at: z.number().int().nullable(),
  savedAt: z.string(),
});

/** A stored model version that verified again on load. */
export interface StoredModel {
  readonly federationId: string;
  readonly meta: ModelVersionMeta;
  readonly weights: WeightSet;
  /** The federation's plan (feature derivations, tiers, population settings). */
  readonly plan: Plan;
  /** Fill values and z-score statistics of the training data the site used with this version (local only). */
  readonly preprocessing: Preprocessing | null;
  /** Fixed snapshot time (ms) the site ran with, or null when it used the clock. */
  readonly at: number | null;
}

/** A stored model with what it takes to re-verify it elsewhere: the coordinator's signature and the signed weights file. */
export interface SignedStoredModel extends StoredModel {
  readonly signature: string;
  readonly weightsBytes: Uint8Array;
}

/** Options of {@link ModelStore.save}. */
interface SaveModelOptions {
  federationId: string;
  model: VerifiedModel;
  plan: Plan;
  preprocessing: Preprocessing | null;
  at: number | null;
}

/** A federation id as a directory name (no separators, no dot names). */
function dirName(federationId: string): string {
  return encodeURIComponent(federationId).replace(/\./g, '%2E');
}

/**
 * The latest verified global model of each federation, kept in `<data-dir>/models/<federation>/`: the signed
 * metadata, the coordinator's signature, the weights, the plan and the site's preprocessing statistics.
 * Scoring works offline from it, and every load verifies the signature and the weights' digest again against
 * the pinned coordinator key, so a file edited on disk is refused rather than used.
 */
export class ModelStore {
  constructor(
    private readonly dataDir: string,
    private readonly coordinatorSignPublicKey: Uint8Array,
  ) {}

  /** Federations with a stored model, sorted; with `twins`, only twin federations (plans with `data.derive`). */
  federations(options: { twins?: boolean } = {}): string[] {
    const root = path.join(this.dataDir, MODELS_DIR);
    if (!fs.existsSync(root)) return [];
    const all = fs
      .readdirSync(root)
      .filter((d) => fs.existsSync(path.join(root, d, 'latest.json')))
      .map((d) => decodeURIComponent(d))
      .sort();
    if (!options.twins) return all;
    return all.filter((fid) => {
      try {
        return PlanSchema.safeParse(this.readRaw(fid)?.plan).data?.data.derive !== undefined;
      } catch {
        return true; // a corrupt file is reported when it is loaded
      }
    });
  }

  /**
   * Stores `model` as the federation's latest unless a later round is already stored (the same version is
   * stored again, with the preprocessing given now); true when stored.
   * Weights first, then the pointer file (atomic), so a crash leaves the old or the new version.
   */
  save(options: SaveModelOptions): boolean {
    const { federationId, model, plan } = options;
    const current = this.readRaw(federationId);
    const currentRound = current ? ModelRound.safeParse(current.meta) : undefined;
    if (currentRound?.success && currentRound.data.round > model.meta.round) return false;
    const dir = path.join(this.dataDir, MODELS_DIR, dirName(federationId));
    const weightsFile = `weights-${model.meta.weightsSha256}.bin`;
    writeFileAtomic(path.join(dir, weightsFile), model.bytes, { mode: 0o600 });
    const stored: z.infer<typeof StoredSchema> = {
      version: 1,
      federationId,
      meta: model.meta,
      signature: model.signature,
      weightsFile,
      plan,
      preprocessing: options.preprocessing
        ? {
            fill: [...options.preprocessing.fill],
            standardizer: options.preprocessing.standardizer
              ? { mean: [...options.preprocessing.standardizer.mean], std: [...options.preprocessing.standardizer.std] }
              : null,
          }
        : null,
      at: options.at,
      savedAt: new Date().toISOString(),
    };
    writeFileAtomic(path.join(dir, 'latest.json'), `${JSON.stringify(stored)}\n`, { mode: 0o600 });
    for (const f of fs.readdirSync(dir))
      if (/^weights-[0-9a-f]{64}\.bin$/.test(f) && f !== weightsFile) fs.rmSync(path.join(dir, f), { force: true });
    return true;
  }

  /**
   * The federation's latest stored version, verified again against the pinned key; null when none is stored.
   * Throws `MODEL_SIGNATURE_INVALID` / `MODEL_DIGEST_MISMATCH` / `INVALID_WEIGHTS` when the files were altered.
   */
  load(federationId: string): StoredModel | null {
    const signed = this.loadSigned(federationId);
    if (!signed) return null;
    const { federationId: fid, meta, weights, plan, preprocessing, at } = signed;
    return { federationId: fid, meta, weights, plan, preprocessing, at };
  }

  /** Like {@link load}, with the signature and the signed weights file (for a bundle export). */
  loadSigned(federationId: string): SignedStoredModel | null {
    const stored = this.readRaw(federationId);
    if (!stored) return null;
    const dir = path.join(this.dataDir, MODELS_DIR, dirName(federationId));
    let bytes: Uint8Array;
    try {
      bytes = fs.readFileSync(path.join(dir, stored.weightsFile));
    } catch {
      throw new TwinfedError('MODEL_DIGEST_MISMATCH', `The stored weights of federation ${federationId} are missing.`);
    }
    const meta = verifyModelVersion({
      meta: stored.meta,
      signature: stored.signature,
      weightsBytes: bytes,
      coordinatorSignPublicKey: this.coordinatorSignPublicKey,
    });
    if (meta.federationId !== federationId)
      throw new TwinfedError(
        'MODEL_SIGNATURE_INVALID',
        `The stored model is signed for federation ${meta.federationId}, not ${federationId}.`,
      );
    const plan = PlanSchema.safeParse(stored.plan);
    if (!plan.success)
      throw new TwinfedError('CONFIG_INVALID', `The stored plan of federation ${federationId} is malformed.`);
    const layout = layoutOf(plan.data.model);
    if (!sameLayout(meta.layout, layout))
      throw new TwinfedError('INVALID_WEIGHTS', `The stored model of ${federationId} does not fit its plan's model.`);
    const weights = deserializeWeights(bytes, { expectedLayout: layout });
    const preprocessing = stored.preprocessing ? neutralizeConstantColumns(stored.preprocessing) : null;
    return {
      federationId,
      meta,
      weights,
      plan: plan.data,
      preprocessing,
      at: stored.at,
      signature: stored.signature,
      weightsBytes: bytes,
    };
  }

  private readRaw(federationId: string): z.infer<typeof StoredSchema> | null {
    const file = path.join(this.dataDir, MODELS_DIR, dirName(federationId), 'latest.json');
    let raw: unknown;
    try {
      raw = readJsonIfExists(file);
    } catch {
      throw new TwinfedError('CONFIG_INVALID', `${file} is not valid JSON.`);
    }
    if (raw === undefined) return null;
    const parsed = StoredSchema.safeParse(raw);
    if (!parsed.success || parsed.data.federationId !== federationId)
      throw new TwinfedError('CONFIG_INVALID', `${file} is malformed.`);
    return parsed.data;
  }
}

const ModelRound = z.object({ round: z.number().int() });
