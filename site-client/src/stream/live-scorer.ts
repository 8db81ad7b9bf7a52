import { deriveFeatures } from '../features/derive';
import { twinSchemaOf } from '../features/dataset';
import { silentLogger, type Logger } from '@twinfed/shared';
import { resolveExplainMethod } from '@twinfed/models';
import { backgroundSample } from '../scoring/background';
import { fitPreprocessing, modelInput, type Preprocessing } from '../scoring/preprocess';
import { scoreTwins, scoringAllowed, type TwinScore } from '../scoring/score';
import type { StoredModel } from '../training/model-store';
import { neutralizeConstantColumns, readTwins } from '../training/twin-dataset';
import type { PatientChange, TwinStore } from '../twins/store-types';

/** The model the live scorer uses: a verified version with its plan and the site's preprocessing. */
export type ScoringModel = Pick<StoredModel, 'meta' | 'weights' | 'plan' | 'preprocessing' | 'at'>;

/** Options of {@link LiveScorer}. */
interface LiveScorerOptions {
  store: TwinStore;
  /** Quiet time after a change before recomputing (default 20 ms). */
  debounceMs?: number;
  /** Longest a change waits under a continuous stream of changes (default 200 ms). */
  maxDelayMs?: number;
  /** Contributions kept per score (default 5). */
  top?: number;
  /** Clock for the snapshot time when the model has no fixed one (default Date.now). */
  now?: () => number;
  logger?: Logger;
}

/**
 * Event-driven scores of the site's twins: listens to the twin store's change events and recomputes the
 * features and score of exactly the twins that changed, with the current verified model, a few tens of
 * milliseconds after the change (debounced, bounded by `maxDelayMs`). A new model rescores every twin.
 * Twins whose scoring consent is denied have no score.
 */
export class LiveScorer {
  private model: ScoringModel | null = null;
  private preprocessing: Preprocessing | undefined;
  /** Shapley background of the model in use: a seeded sample of the whole store, not of the twins rescored. */
  private background: Float32Array | undefined;
  private readonly scores = new Map<string, TwinScore>();
  private dirty = new Set<string>();
  private inFlight: ReadonlySet<string> = new Set();
  private timer: NodeJS.Timeout | undefined;
  private firstDirtyAt = 0;
  private flushing: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly logger: Logger;
  private closed = false;

  constructor(private readonly options: LiveScorerOptions) {
    this.logger = options.logger ?? silentLogger();
  }

  /** Starts listening to the store's changes. */
  start(): void {
    this.unsubscribe ??= this.options.store.onChange((changes) => this.onChanges(changes));
  }

  /** The model in use, or null before the first verified version. */
  current(): ScoringModel | null {
    return this.model;
  }

  /**
   * Uses `model` from now on (unless an older round than the one in use) and rescores every twin; resolves
   * when done. Scores of the previous version stay readable until each twin is rescored.
   */
  async setModel(model: ScoringModel): Promise<void> {
    if (this.model && this.model.meta.round > model.meta.round) return;
    this.model = model;
    this.preprocessing = model.preprocessing
      ? neutralizeConstantColumns(model.preprocessing)
      : await this.fitOnStore(model);
    this.background = await this.backgroundOf(model);
    for (const pid of await this.options.store.listPids()) this.dirty.add(pid);
    this.schedule(0);
    await this.settle();
  }

  /** The latest score of a twin, if it has one. */
  get(pid: string): TwinScore | undefined {
    return this.scores.get(pid);
  }

  /** True while the twin has a change not yet scored. */
  isPending(pid: string): boolean {
    return this.dirty.has(pid) || this.inFlight.has(pid);
  }

  /** The `n` highest scores, highest first (ties by pid). */
  top(n: number): TwinScore[] {
    return [...this.scores.values()]
      .sort((a, b) => b.score - a.score || (a.pid < b.pid ? -1 : 1))
      .slice(0, Math.max(0, n));
  }

  /** How many twins have a score, and how many changes wait. */
  status(): { versionId: string | null; scored: number; pending: number } {
    return { versionId: this.model?.meta.versionId ?? null, scored: this.scores.size, pending: this.dirty.size };
  }

  /** Resolves once no change waits to be scored (or `timeoutMs` passed). */
  async settle(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.dirty.size > 0 || this.flushing) && this.model && Date.now() < deadline && !this.closed) {
      if (this.flushing) await this.flushing;
      else {
        this.schedule(0);
        await new Promise((r) => setTimeout(r, 1));
      }
    }
  }

  /** Stops listening and drops pending work. */
  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.dirty.clear();
  }

  private onChanges(changes: readonly PatientChange[]): void {
    if (this.closed || !this.model) return; // without a model there is nothing to score; setModel scores everyone
    if (this.dirty.size === 0) this.firstDirtyAt = Date.now();
    for (const c of changes) this.dirty.add(c.pid);
    const waited = Date.now() - this.firstDirtyAt;
    const max = this.options.maxDelayMs ?? 200;
    this.schedule(waited >= max ? 0 : Math.min(this.options.debounceMs ?? 20, max - waited));
  }

  private schedule(delayMs: number): void {
    if (this.closed || !this.model) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
  }

  private async flush(): Promise<void> {
    if (this.flushing || !this.model || this.dirty.size === 0) return;
    const model = this.model;
    const pids = [...this.dirty];
    this.inFlight = this.dirty;
    this.dirty = new Set();
    this.flushing = this.rescore(model, pids)
      .catch((e: unknown) => {
        this.logger.error({ err: e instanceof Error ? e.message : String(e), twins: pids.length }, 'rescoring failed');
      })
      .finally(() => {
        this.flushing = undefined;
        this.inFlight = new Set();
        if (this.dirty.size > 0) this.schedule(0);
      });
    await this.flushing;
  }

  private async rescore(model: ScoringModel, pids: readonly string[]): Promise<void> {
    const twins = await readTwins(this.options.store, pids);
    const at = model.at ?? (this.options.now ?? Date.now)();
    const scored = await scoreTwins({
      twins,
      plan: model.plan,
      weights: model.weights,
      baseline: model.meta.coxBaseline,
      versionId: model.meta.versionId,
      at,
      top: this.options.top ?? 5,
      ...(model.meta.recalibration ? { recalibration: model.meta.recalibration } : {}),
      ...(this.preprocessing ? { preprocessing: this.preprocessing } : {}),
      ...(this.background ? { background: this.background } : {}),
    });
    if (this.model !== model) return; // a newer model arrived meanwhile and rescores everyone
    const byPid = new Map(scored.map((s) => [s.pid, s]));
    for (const pid of pids) {
      const s = byPid.get(pid);
      if (s) this.scores.set(pid, s);
      else this.scores.delete(pid);
    }
  }

  /**
   * The Shapley background of a model that needs one: the seeded sample of every pid in the store, derived and
   * preprocessed like scored twins (twins who refused scoring left out); undefined for other explanations.
   */
  private async backgroundOf(model: ScoringModel): Promise<Float32Array | undefined> {
    const pre = this.preprocessing;
    if (!pre || resolveExplainMethod(model.plan.model) !== 'shapley') return undefined;
    const pids = await this.options.store.listPids();
    const sample = await readTwins(
      this.options.store,
      backgroundSample(pids).map((i) => pids[i]!),
    );
    const twins = sample.filter((t) => scoringAllowed(t.consent));
    if (twins.length === 0) return undefined;
    const { derivations } = twinSchemaOf(model.plan);
    const at = model.at ?? (this.options.now ?? Date.now)();
    const d = pre.fill.length;
    const out = new Float32Array(twins.length * d);
    twins.forEach((twin, i) => out.set(modelInput(deriveFeatures({ twin, derivations, at }), pre), i * d));
    return out;
  }

  /** Preprocessing fitted on every twin in the store, for a model stored without the site's training statistics. */
  private async fitOnStore(model: ScoringModel): Promise<Preprocessing | undefined> {
    const twins = await readTwins(this.options.store);
    if (twins.length === 0) return undefined;
    const { derivations } = twinSchemaOf(model.plan);
    const at = model.at ?? (this.options.now ?? Date.now)();
    const rows = twins.map((twin) => deriveFeatures({ twin, derivations, at }));
    return neutralizeConstantColumns(
      fitPreprocessing({ rows, derivations, normalization: model.plan.data.normalization }),
    );
  }
}
