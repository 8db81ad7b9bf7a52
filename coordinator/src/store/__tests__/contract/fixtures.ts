/** Record builders and the harness handle shared by the store contract suites. */
import type { Evaluation, ModelVersion, NewFederation, NewRound, NewSite, Store, Update } from '../../types';

/** What a store factory hands the contract suite. */
export interface StoreHarness {
  store: Store;
  /** Closes the current store and opens the same data again (durable stores only). */
  reopen?: () => Promise<Store>;
  cleanup: () => Promise<void>;
}

export type StoreFactory = () => Promise<StoreHarness>;

/** The live harness of the running test. */
export class HarnessRef {
  private harness: StoreHarness | null = null;

  set(h: StoreHarness): void {
    this.harness = h;
  }

  private get h(): StoreHarness {
    if (!this.harness) throw new Error('no store harness');
    return this.harness;
  }

  get store(): Store {
    return this.h.store;
  }

  /** The store to read back from: a reopened one when the store is durable, else the same one. */
  async again(): Promise<Store> {
    const h = this.h;
    if (h.reopen) h.store = await h.reopen();
    return h.store;
  }

  async cleanup(): Promise<void> {
    const h = this.harness;
    this.harness = null;
    await h?.cleanup();
  }
}

/** An ISO time `seconds` after 2025-01-01T00:00:00Z. */
export function t(seconds: number): string {
  return new Date(Date.UTC(2025, 0, 1) + seconds * 1000).toISOString();
}

export function site(id: string, enrolledAt = t(0)): NewSite {
  return { id, name: `hospital ${id}`, signPublicKey: `sign-${id}`, boxPublicKey: `box-${id}`, enrolledAt };
}

export function federation(id: string, createdAt = t(0)): NewFederation {
  return { id, name: `federation ${id}`, plan: { model: { kind: 'logreg', features: 13 }, rounds: 5 }, createdAt };
}

export function round(federationId: string, n: number, extra: Partial<NewRound> = {}): NewRound {
  return {
    federationId,
    round: n,
    baseVersionId: `v${n - 1}`,
    selectedSiteIds: ['site-b', 'site-a'],
    clientConfig: { epochs: 1, lr: 0.05 },
    openedAt: t(100 * n),
    deadlineAt: t(100 * n + 60),
    ...extra,
  };
}

export function bytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7) & 0xff;
  return out;
}

export function update(federationId: string, n: number, siteId: string, digest = `d-${siteId}`): Update {
  return {
    federationId,
    round: n,
    siteId,
    digest,
    envelope: bytes(64, digest.length),
    numExamples: 120,
    metrics: { loss: 0.5, accuracy: 0.75 },
    receivedAt: t(100 * n + 10),
  };
}

export function version(id: string, federationId: string, n: number, parent: string | null = null): ModelVersion {
  return {
    id,
    federationId,
    parentVersionId: parent,
    round: n,
    meta: { strategy: 'fedavg', contributors: [{ siteId: 'site-a', numExamples: 120 }] },
    signature: `sig-${id}`,
    weightsSha256: `sha-${id}`,
    createdAt: t(100 * n + 90),
  };
}

export function evaluation(versionId: string, siteId: string, auc = 0.8): Evaluation {
  return { versionId, siteId, metrics: { auc, brier: 0.2 }, calibration: null, n: 50, createdAt: t(1000) };
}

/** Sets up a federation with rounds 1..n in state 'open'. */
export async function seedFederation(store: Store, fid = 'fed-1', rounds = 1): Promise<void> {
  await store.createFederation(federation(fid));
  for (let n = 1; n <= rounds; n++) await store.createRound(round(fid, n));
}
