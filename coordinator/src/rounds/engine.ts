import { randomBytes } from 'node:crypto';
import {
  PlanSchema,
  TwinfedError,
  deserializeWeights,
  initialWeights,
  layoutOf,
  type CurrentRound,
  type Identity,
  type Plan,
  type UploadAck,
  type WeightSet,
} from '@twinfed/shared';
import type { Logger } from '../logger';
import type { Federation, Round, Store } from '../store';
import { createStrategy, type Strategy, type StrategyState } from '../strategies';
import { buildVersion } from '../registry/registry';
import { KeyedMutex } from '../util/keyed-mutex';
import { AccumulatorCache } from './accumulators';
import { noEvents, type EngineEvents } from './events';
import { UpdateOpener, type OpenedUpdate } from './update-opener';
import { federationView, roundView } from './views';
import { checkRoundAccepts } from './upload-check';

/** What the round engine needs. */
export interface EngineDeps {
  store: Store;
  identity: Identity;
  logger: Logger;
  events?: EngineEvents;
  now?: () => number;
  maxConcurrentUploads?: number;
  maxUpdateBytes?: number;
}

interface Loaded {
  federation: Federation;
  plan: Plan;
  strategy: Strategy;
}

/**
 * Runs every federation's rounds: open → collecting → aggregating → published (or failed), with each
 * transition persisted before it is announced. All transitions of one federation are serialised; the store
 * is the truth, so {@link RoundEngine.resume} continues every round after a restart.
 */
export class RoundEngine {
  private readonly mutex = new KeyedMutex();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly accumulators = new AccumulatorCache();
  private readonly globals = new Map<string, WeightSet>();
  private readonly events: EngineEvents;
  private readonly now: () => number;
  private readonly opener: UpdateOpener;
  private closed = false;

  constructor(private readonly deps: EngineDeps) {
    this.events = deps.events ?? noEvents;
    this.now = deps.now ?? Date.now;
    this.opener = new UpdateOpener({
      store: deps.store,
      identity: deps.identity,
      maxConcurrent: deps.maxConcurrentUploads ?? 4,
      maxUpdateBytes: deps.maxUpdateBytes ?? 64 * 1024 * 1024,
    });
  }

  /** Creates a federation from a plan, publishes its signed initial version (round 0) and opens round 1. */
  async createFederation(planInput: unknown, actor: string): Promise<Federation> {
    const parsed = PlanSchema.safeParse(planInput);
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      throw new TwinfedError('INVALID_PLAN', undefined, { details });
    }
    const plan = parsed.data;
    const id = `fed-${randomBytes(4).toString('hex')}`;
    const at = this.iso();
    await this.deps.store.createFederation({ id, name: plan.name, plan, state: 'running', createdAt: at, updatedAt: at, currentRound: 0, latestVersionId: null });
    const strategy = createStrategy(plan.strategy);
    const weights = initialWeights(plan.model, plan.seed);
    const built = buildVersion(
      { federationId: id, parentVersionId: null, round: 0, strategy: plan.strategy.name, weights, contributors: [], metrics: {}, createdAt: at },
      this.deps.identity,
    );
    await this.deps.store.publishVersion({
      version: built.version,
      weights: built.weights,
      strategyState: strategy.encodeState(strategy.initialState(weights.data.length)),
      federationPatch: { latestVersionId: built.version.id },
    });
    await this.deps.store.appendAudit({ at, actor, action: 'federation.create', subject: id, detail: { name: plan.name, strategy: plan.strategy.name, rounds: plan.rounds } });
    await this.mutex.run(id, () => this.openNextRound(id));
    return (await this.deps.store.getFederation(id))!;
  }

  /** Resumes every running federation from its stored state (after a restart or crash). */
  async resume(): Promise<void> {
    for (const fed of await this.deps.store.listFederations()) {
      if (fed.state !== 'running') continue;
      await this.mutex.run(fed.id, () => this.resumeFederation(fed.id));
    }
  }

  /**
   * Accepts one site's encrypted, signed update: verified and decrypted (bounded concurrency), then stored
   * durably, then folded into the round's aggregate, then acknowledged. Idempotent per (round, site, bytes).
   */
  async submitUpdate(opts: { federationId: string; round: number; siteId: string; bytes: Uint8Array }): Promise<UploadAck> {
    const { federationId, round, siteId } = opts;
    const loaded = await this.load(federationId);
    const parsed = this.opener.parse(opts);
    const ack = (status: UploadAck['status'], receivedAt: string): UploadAck => ({ federationId, round, siteId, digest: parsed.digest, status, receivedAt });
    const earlier = await this.earlierUpload(opts, parsed.digest);
    if (earlier) return ack('duplicate', earlier);
    checkRoundAccepts({ round: await this.deps.store.getRound(federationId, round), siteId, baseVersion: parsed.header.baseVersion });
    const opened = await this.opener.decrypt(parsed, layoutOf(loaded.plan.model));
    return this.mutex.run(federationId, async () => {
      const again = await this.earlierUpload(opts, parsed.digest);
      if (again) return ack('duplicate', again);
      const current = checkRoundAccepts({ round: await this.deps.store.getRound(federationId, round), siteId, baseVersion: parsed.header.baseVersion });
      const receivedAt = this.iso();
      const put = await this.deps.store.putUpdate({
        federationId, round, siteId, digest: parsed.digest, envelope: opts.bytes,
        numExamples: parsed.header.numExamples, metrics: parsed.header.metrics, receivedAt,
      }, { acceptStates: ['open', 'collecting'] });
      if (put.status === 'conflict') throw new TwinfedError('UPDATE_CONFLICT');
      if (put.status === 'round-closed') throw new TwinfedError('ROUND_CLOSED');
      if (put.status === 'duplicate') return ack('duplicate', put.existing?.receivedAt ?? receivedAt);
      await this.deps.store.transitionRound({ federationId, round, from: ['open'], to: 'collecting' });
      this.accumulators.fold({ federationId, strategy: loaded.strategy, ctx: await this.context(loaded, current), result: toResult(siteId, opened) });
      const count = await this.deps.store.countUpdates(federationId, round);
      if (count >= current.selectedSiteIds.length) await this.closeRound(federationId, round, 'all selected sites answered');
      return ack('accepted', receivedAt);
    });
  }

  /** The receipt time of this site's stored update for the round if it has the same digest; CONFLICT if another. */
  private async earlierUpload(opts: { federationId: string; round: number; siteId: string }, digest: string): Promise<string | null> {
    const stored = await this.deps.store.getUpdate(opts.federationId, opts.round, opts.siteId);
    if (!stored) return null;
    if (stored.digest !== digest) throw new TwinfedError('UPDATE_CONFLICT');
    return stored.receivedAt;
  }

  /** What a site should do now in a federation. */
  async currentRoundFor(federationId: string, siteId: string): Promise<CurrentRound> {
    const { federation } = await this.load(federationId);
    const round = federation.currentRound > 0 ? await this.deps.store.getRound(federationId, federation.currentRound) : null;
    const updates = round ? await this.deps.store.listUpdateHeaders(federationId, round.round) : [];
    return {
      federation: federationView(federation),
      round: round ? roundView(round, updates.length) : null,
      selected: round ? round.selectedSiteIds.includes(siteId) : false,
      submitted: updates.some((u) => u.siteId === siteId),
      clientConfig: round && round.selectedSiteIds.includes(siteId) ? (round.clientConfig as Record<string, unknown>) : {},
    };
  }

  /** Stops timers; in-flight work finishes on its own. */
  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private async resumeFederation(federationId: string): Promise<void> {
    const { federation } = await this.load(federationId);
    const next = await this.deps.store.getRound(federationId, federation.currentRound + 1);
    if (next) await this.deps.store.updateFederation(federationId, { currentRound: next.round, updatedAt: this.iso() });
    const round = await this.deps.store.getRound(federationId, next ? next.round : federation.currentRound);
    if (!round || round.state === 'published' || round.state === 'failed') return this.openNextRound(federationId);
    if (round.state === 'aggregating') return this.closeRound(federationId, round.round, 'resumed after restart');
    const count = await this.deps.store.countUpdates(federationId, round.round);
    if (count >= round.selectedSiteIds.length) return this.closeRound(federationId, round.round, 'all selected sites answered');
    this.scheduleDeadline(round);
  }

  private async openNextRound(federationId: string): Promise<void> {
    const { federation, plan, strategy } = await this.load(federationId);
    if (federation.state !== 'running' || this.closed) return;
    const rounds = await this.deps.store.listRounds(federationId);
    const published = rounds.filter((r) => r.state === 'published').length;
    if (published >= plan.rounds) return this.endFederation(federationId, 'completed');
    let failedInRow = 0;
    for (let i = rounds.length - 1; i >= 0 && rounds[i]!.state === 'failed'; i--) failedInRow++;
    if (failedInRow >= plan.maxConsecutiveFailedRounds) return this.endFederation(federationId, 'failed');

    const roundNo = federation.currentRound + 1;
    let round = await this.deps.store.getRound(federationId, roundNo);
    if (!round) {
      const baseVersionId = federation.latestVersionId!;
      const global = await this.global(baseVersionId);
      const state = await this.strategyState(federationId, strategy, global.data.length);
      const available = (await this.deps.store.listSites()).filter((s) => !s.revokedAt).map((s) => s.id).sort();
      // Too few sites: the round still opens with those there are and fails at its deadline (never wait forever).
      const { selected, clientConfig } = available.length === 0
        ? { selected: [], clientConfig: {} }
        : strategy.configureRound({
            round: roundNo, global: global.data, state, seed: plan.seed, available,
            minSites: Math.min(plan.minSites, available.length), ...(plan.sitesPerRound ? { sitesPerRound: plan.sitesPerRound } : {}),
          });
      const openedAt = this.now();
      round = {
        federationId, round: roundNo, state: 'open', baseVersionId, selectedSiteIds: selected, clientConfig,
        openedAt: new Date(openedAt).toISOString(), deadlineAt: new Date(openedAt + plan.roundDeadlineSeconds * 1000).toISOString(),
        closedAt: null, failureReason: null, versionId: null,
      };
      await this.deps.store.createRound(round);
    }
    await this.deps.store.updateFederation(federationId, { currentRound: roundNo, updatedAt: this.iso() });
    this.deps.logger.info({ federationId, round: roundNo, selected: round.selectedSiteIds.length }, 'round opened');
    this.scheduleDeadline(round);
    this.events.roundOpened({ federationId, round: roundNo, baseVersionId: round.baseVersionId, deadlineAt: round.deadlineAt });
  }

  private async closeRound(federationId: string, roundNo: number, reason: string): Promise<void> {
    const loaded = await this.load(federationId);
    const round = await this.deps.store.getRound(federationId, roundNo);
    if (!round || (round.state !== 'open' && round.state !== 'collecting' && round.state !== 'aggregating')) return;
    this.clearDeadline(federationId);
    const updates = await this.deps.store.listUpdateHeaders(federationId, roundNo);
    if (round.state !== 'aggregating' && updates.length < loaded.plan.minSites) {
      const failureReason = `${reason}: ${updates.length} of ${round.selectedSiteIds.length} selected sites answered, minSites is ${loaded.plan.minSites}`;
      await this.deps.store.transitionRound({ federationId, round: roundNo, from: ['open', 'collecting'], to: 'failed', patch: { closedAt: this.iso(), failureReason } });
      this.accumulators.drop(federationId);
      await this.recordAttendance(round, updates.map((u) => u.siteId));
      this.deps.logger.warn({ federationId, round: roundNo, reason: failureReason }, 'round failed');
      this.events.roundFailed({ federationId, round: roundNo, reason: failureReason });
      return this.openNextRound(federationId);
    }
    if (round.state !== 'aggregating') {
      await this.deps.store.transitionRound({ federationId, round: roundNo, from: ['open', 'collecting'], to: 'aggregating' });
    }
    await this.aggregateAndPublish(loaded, round, updates.map((u) => u.siteId));
    await this.recordAttendance(round, updates.map((u) => u.siteId));
    return this.openNextRound(federationId);
  }

  private async aggregateAndPublish(loaded: Loaded, round: Round, siteIds: string[]): Promise<void> {
    const { federation, plan, strategy } = loaded;
    const ctx = await this.context(loaded, round);
    const acc = await this.accumulators.ensure({
      federationId: federation.id, strategy, ctx, siteIds,
      load: async (siteId) => toResult(siteId, await this.opener.openStored({ federationId: federation.id, round: round.round, siteId, layout: layoutOf(plan.model) })),
    });
    const out = strategy.aggregate(ctx, acc, round.selectedSiteIds.filter((s) => !siteIds.includes(s)).map((siteId) => ({ siteId, reason: 'no update before the round closed' })));
    const updates = await this.deps.store.listUpdateHeaders(federation.id, round.round);
    // Contributors are the sites whose updates the strategy kept (Krum keeps a subset), with their example counts.
    const kept = new Set(out.contributors);
    const contributors = updates.filter((u) => kept.has(u.siteId)).map((u) => ({ siteId: u.siteId, numExamples: u.numExamples })).sort((a, b) => a.siteId.localeCompare(b.siteId));
    const at = this.iso();
    const built = buildVersion(
      { federationId: federation.id, parentVersionId: round.baseVersionId, round: round.round, strategy: plan.strategy.name, weights: { layout: layoutOf(plan.model), data: out.weights }, contributors, metrics: { ...out.metrics, ...trainingMetrics(updates) }, createdAt: at },
      this.deps.identity,
    );
    const published = await this.deps.store.publishVersion({
      version: built.version, weights: built.weights, strategyState: strategy.encodeState(out.state),
      round: { federationId: federation.id, round: round.round, from: ['aggregating'] },
      federationPatch: { latestVersionId: built.version.id, updatedAt: at },
    });
    this.accumulators.drop(federation.id);
    if (!published) return;
    this.globals.set(built.version.id, { layout: layoutOf(plan.model), data: out.weights });
    this.deps.logger.info({ federationId: federation.id, round: round.round, versionId: built.version.id, contributors: contributors.length }, 'model version published');
    this.events.modelPublished({ federationId: federation.id, round: round.round, versionId: built.version.id });
  }

  private async recordAttendance(round: Round, answered: string[]): Promise<void> {
    for (const siteId of round.selectedSiteIds) {
      const site = await this.deps.store.getSite(siteId);
      if (!site) continue;
      await this.deps.store.setMissedRounds(siteId, answered.includes(siteId) ? 0 : site.missedRounds + 1);
    }
  }

  private async endFederation(federationId: string, state: 'completed' | 'failed'): Promise<void> {
    await this.deps.store.updateFederation(federationId, { state, updatedAt: this.iso() });
    this.clearDeadline(federationId);
    this.deps.logger.info({ federationId, state }, 'federation ended');
    this.events.federationEnded({ federationId, state });
  }

  private scheduleDeadline(round: Round): void {
    this.clearDeadline(round.federationId);
    if (this.closed) return;
    const delay = Math.max(0, Date.parse(round.deadlineAt) - this.now());
    const timer = setTimeout(() => {
      this.timers.delete(round.federationId);
      this.mutex
        .run(round.federationId, () => this.closeRound(round.federationId, round.round, 'deadline reached'))
        .catch((err: unknown) => this.deps.logger.error({ err, federationId: round.federationId, round: round.round }, 'closing a round at its deadline failed'));
    }, Math.min(delay, 2 ** 31 - 1));
    this.timers.set(round.federationId, timer);
  }

  private clearDeadline(federationId: string): void {
    const t = this.timers.get(federationId);
    if (t) clearTimeout(t);
    this.timers.delete(federationId);
  }

  private async load(federationId: string): Promise<Loaded> {
    const federation = await this.deps.store.getFederation(federationId);
    if (!federation) throw new TwinfedError('UNKNOWN_FEDERATION');
    const plan = PlanSchema.parse(federation.plan);
    return { federation, plan, strategy: createStrategy(plan.strategy) };
  }

  private async context(loaded: Loaded, round: Round) {
    const global = await this.global(round.baseVersionId);
    const state = await this.strategyState(loaded.federation.id, loaded.strategy, global.data.length);
    return { round: round.round, global: global.data, state, seed: loaded.plan.seed };
  }

  private async global(versionId: string): Promise<WeightSet> {
    const cached = this.globals.get(versionId);
    if (cached) return cached;
    const bytes = await this.deps.store.getVersionWeights(versionId);
    if (!bytes) throw new TwinfedError('UNKNOWN_MODEL_VERSION');
    const ws = deserializeWeights(bytes);
    this.globals.set(versionId, ws);
    return ws;
  }

  private async strategyState(federationId: string, strategy: Strategy, size: number): Promise<StrategyState> {
    const bytes = await this.deps.store.getStrategyState(federationId);
    return bytes ? strategy.decodeState(bytes, size) : strategy.initialState(size);
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }
}

function toResult(siteId: string, opened: OpenedUpdate) {
  return { siteId, numExamples: opened.header.numExamples, weights: opened.weights.data, metrics: opened.header.metrics };
}

function trainingMetrics(updates: Array<{ numExamples: number; metrics: unknown }>): Record<string, number> {
  const total = updates.reduce((n, u) => n + u.numExamples, 0);
  let loss = 0;
  let have = 0;
  for (const u of updates) {
    const m = u.metrics as Record<string, number> | null;
    if (m && typeof m.loss === 'number' && Number.isFinite(m.loss)) {
      loss += m.loss * u.numExamples;
      have += u.numExamples;
    }
  }
  return have > 0 ? { trainLoss: loss / have, numExamples: total } : { numExamples: total };
}
