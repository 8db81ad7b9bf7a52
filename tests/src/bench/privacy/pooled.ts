import { evaluate, type Split } from '@twinfed/models';
import type { ModelSpec, WeightSet } from '@twinfed/shared';
import { defaultModelOps, type ModelOps, type SiteRunner } from '@twinfed/site-client';

type VersionHook = NonNullable<ConstructorParameters<typeof SiteRunner>[0]['afterVersion']>;

/** One evaluation a site ran: the weights it scored, its own test rows as it normalised them, and its accuracy. */
interface RecordedEvaluation {
  spec: ModelSpec;
  weights: Float32Array;
  data: Split;
  accuracy: number;
  auc: number;
}

const sameWeights = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((w, i) => w === b[i]);

/**
 * Wraps one site's model operations (the product's own) and version hook: records every evaluation the site runs on
 * its test rows and the weights of every version it verified, so the bench can score the final version on the four
 * centres' test rows pooled. Under DP the sites keep their evaluations local; this is how the bench reads them.
 */
export class SiteRecorder {
  private readonly evaluations: RecordedEvaluation[] = [];
  private readonly versions = new Map<string, WeightSet>();
  readonly ops: ModelOps = {
    createTrainer: (o) => defaultModelOps.createTrainer(o),
    evaluate: async (o) => {
      const e = await defaultModelOps.evaluate(o);
      if ('accuracy' in e)
        this.evaluations.push({
          spec: o.spec,
          weights: Float32Array.from(o.weights.data),
          data: o.data,
          accuracy: e.accuracy,
          auc: e.auc,
        });
      return e;
    },
  };
  readonly afterVersion: VersionHook = async ({ versionId, model }) => {
    this.versions.set(versionId, { layout: model.weights.layout, data: Float32Array.from(model.weights.data) });
  };

  /** The site's evaluation of version `versionId` (it verified the version and scored exactly its weights). */
  evaluationOf(versionId: string): RecordedEvaluation & { weightSet: WeightSet } {
    const weightSet = this.versions.get(versionId);
    if (!weightSet) throw new Error(`the site did not verify ${versionId}`);
    const hit = this.evaluations.find((e) => sameWeights(e.weights, weightSet.data));
    if (!hit) throw new Error(`the site did not evaluate ${versionId}`);
    return { ...hit, weightSet };
  }
}

function concat(splits: readonly Split[]): Split {
  const d = splits[0]!.d;
  if (splits.some((s) => s.d !== d)) throw new Error('test splits of different widths');
  const n = splits.reduce((a, s) => a + s.n, 0);
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  let row = 0;
  for (const s of splits) {
    x.set(s.x.subarray(0, s.n * d), row * d);
    y.set(s.y.subarray(0, s.n), row);
    row += s.n;
  }
  return { x, y, n, d };
}

/**
 * Accuracy and AUC of one version on the four centres' test rows pooled (each centre's rows as its site normalised
 * them), with the product's evaluator; every centre must have evaluated the same weights.
 */
export async function pooledScores(
  finals: ReadonlyArray<RecordedEvaluation & { weightSet: WeightSet }>,
): Promise<{ accuracy: number; auc: number; n: number }> {
  const first = finals[0]!;
  if (finals.some((f) => !sameWeights(f.weights, first.weights)))
    throw new Error('the centres evaluated different weights');
  const e = await evaluate({ spec: first.spec, weights: first.weightSet, data: concat(finals.map((f) => f.data)) });
  return { accuracy: e.accuracy, auc: e.auc, n: e.n };
}
