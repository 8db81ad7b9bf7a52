import {
  PROTOCOL_VERSION,
  SeededRandom,
  deserializeWeights,
  generateIdentity,
  hashToken,
  publicPart,
  sealUpdate,
  type Identity,
  type PlanInput,
  type UploadAck,
  silentLogger,
} from '@twinfed/shared';
import { MemoryStore, type Store } from '../../store';
import type { CrashPoint } from '../crash-points';
import { RoundEngine } from '../engine';
import type { EngineDeps } from '../core';
import { CoordinatorMetrics } from '../../metrics/registry';

/** An in-process site: an enrolled identity that trains deterministically (no tfjs). */
export interface FixtureSite {
  index: number;
  id: string;
  identity: Identity;
}

/** A crash at a crash point, thrown instead of killing the process. */
export class Crash extends Error {
  constructor(readonly point: CrashPoint) {
    super(`crash at ${point}`);
  }
}

/** A small plan: logistic regression over 3 inputs, FedAdam (its server state must survive restarts). */
export function fixturePlan(overrides: Partial<PlanInput> = {}): PlanInput {
  return {
    name: 'engine fixture',
    model: { kind: 'logistic-regression', inputs: 3 },
    data: { features: ['a', 'b', 'c'] },
    strategy: { name: 'fedadam', serverLr: 0.05 },
    training: { steps: 1 },
    rounds: 3,
    minSites: 2,
    roundDeadlineSeconds: 60,
    ...overrides,
  };
}

/** The weights site `index` uploads in `round`: a seeded step away from the base, a pure function of its inputs. */
export function trainedWeights(base: Float32Array, index: number, round: number): Float32Array {
  const rng = new SeededRandom(1000 * index + round);
  return base.map((w) => w * 0.9 + rng.normal() * 0.3 + index * 0.01);
}

/** A memory store (or the one given), a coordinator identity and `sites` enrolled sites named site-a, site-b, … */
export async function engineFixture(opts: { sites: number; store?: Store }) {
  const store: Store = opts.store ?? new MemoryStore();
  const identity = generateIdentity();
  const at = new Date().toISOString();
  const sites: FixtureSite[] = [];
  for (let i = 0; i < opts.sites; i++) {
    const id = `site-${String.fromCharCode(97 + i)}`;
    const site = generateIdentity();
    const token = `token-of-${id}-0123456789`;
    await store.createInvitation({
      id: `inv-${id}`,
      siteName: id,
      tokenHash: hashToken(token),
      createdAt: at,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const pub = publicPart(site);
    await store.enrollSite({
      tokenHash: hashToken(token),
      now: at,
      site: { id, name: id, signPublicKey: pub.signPublicKey, boxPublicKey: pub.boxPublicKey, enrolledAt: at },
    });
    sites.push({ index: i, id, identity: site });
  }
  const sealed = new Map<string, Uint8Array>();

  /** A new engine on the same store (a "restart"), optionally throwing {@link Crash} at the nth hit of a point. */
  let crashed: CrashPoint | null = null;
  function engine(o: { crashAt?: { point: CrashPoint; nth: number }; deps?: Partial<EngineDeps> } = {}): RoundEngine {
    let seen = 0;
    crashed = null;
    return new RoundEngine({
      store,
      identity,
      logger: silentLogger(),
      metrics: new CoordinatorMetrics(),
      retryDelayMs: 50,
      crashPoints: {
        hit: (p) => {
          if (!o.crashAt || p !== o.crashAt.point || ++seen !== o.crashAt.nth) return;
          crashed = p; // the engine may catch the throw (to retry later); the driver checks this flag too
          throw new Crash(p);
        },
      },
      ...o.deps,
    });
  }

  /** Seals (once; a retry sends the same bytes) and submits site's update for a round (default: the current one). */
  async function upload(e: RoundEngine, fid: string, site: FixtureSite, roundNo?: number): Promise<UploadAck> {
    const fed = (await store.getFederation(fid))!;
    const round = (await store.getRound(fid, roundNo ?? fed.currentRound))!;
    const key = `${fid}/${round.round}/${site.id}`;
    let bytes = sealed.get(key);
    if (!bytes) {
      const base = deserializeWeights((await store.getVersionWeights(round.baseVersionId))!);
      bytes = sealUpdate({
        header: {
          protocol: PROTOCOL_VERSION,
          federationId: fid,
          round: round.round,
          siteId: site.id,
          baseVersionId: round.baseVersionId,
          numExamples: 10 * (site.index + 1),
          metrics: { steps: 1, trainLoss: 1 / (site.index + 1) },
          sentAt: '2025-01-01T00:00:00.000Z',
        },
        weights: { layout: base.layout, data: trainedWeights(base.data, site.index, round.round) },
        identity: site.identity,
        coordinatorBoxPublicKey: identity.box.publicKey,
      });
      sealed.set(key, bytes);
    }
    return e.submitUpdate({ federationId: fid, round: round.round, siteId: site.id, bytes });
  }

  /** Every selected site that has not answered uploads, round after round, until the federation ends. */
  async function drive(e: RoundEngine, fid: string, who: FixtureSite[] = sites): Promise<void> {
    // A round whose updates are all stored closes at the driver's next step, which may run after the last upload
    // returned (an upload stored while the driver's poll was already reading is picked up by the poll it triggers).
    let idleSince: number | null = null;
    for (let guard = 0; guard < 10_000; guard++) {
      const fed = (await store.getFederation(fid))!;
      if (fed.state !== 'running') return;
      const round = (await store.getRound(fid, fed.currentRound))!;
      const stored = new Set((await store.listUpdateSummaries(fid, round.round)).map((u) => u.siteId));
      // Reverse order: live folds see the sites out of order, a rebuild after a crash sees them sorted.
      const todo = who.filter((s) => round.selectedSiteIds.includes(s.id) && !stored.has(s.id)).reverse();
      if (todo.length === 0) {
        idleSince ??= Date.now();
        if (Date.now() - idleSince > 10_000)
          throw new Error(`round ${round.round} (${round.state}) is waiting for nobody the test drives`);
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      idleSince = null;
      for (const s of todo) {
        await upload(e, fid, s);
        if (crashed) throw new Crash(crashed);
      }
    }
  }

  /** The weights of the federation's latest version, as stored bytes. */
  async function finalBytes(fid: string): Promise<Buffer> {
    const fed = (await store.getFederation(fid))!;
    return Buffer.from((await store.getVersionWeights(fed.latestVersionId!))!);
  }

  return { store, identity, sites, engine, upload, drive, finalBytes, crashed: () => crashed };
}
