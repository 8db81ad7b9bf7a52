import { DAY_MS, featureColumns, type EventSource, type FeatureDerivation } from '@twinfed/shared';
import type { TwinObservation, TwinSnapshot } from '../twins/types';
import { ageAt } from './age';
import { conditionMatches } from './codes';

/** Options of {@link deriveFeatures}. */
interface DeriveFeaturesOptions {
  twin: TwinSnapshot;
  derivations: readonly FeatureDerivation[];
  /** Snapshot time (ms since epoch): nothing recorded after it is seen. */
  at: number;
}

/** One twin's model inputs before the missing-value policy: a value per column (NaN where missing). */
export interface DerivedRow {
  /** One value per column of `featureColumns(derivations)`; clipped, NaN where missing. */
  readonly values: Float64Array;
  /** True where the twin had no data for the column (indicator columns are never missing). */
  readonly missing: boolean[];
}

/**
 * Derives one twin's model inputs exactly as the plan's derivations say (see `FeatureDerivationSchema` for
 * the meaning of each kind and window). Pure: the same twin, derivations and `at` give the same numbers at
 * every site. Raw values are clipped; missing values stay NaN for the missing-value policy (see `imputeRows`),
 * and an `indicator` derivation's extra column holds 1 when the value is missing, else 0.
 */
export function deriveFeatures(options: DeriveFeaturesOptions): DerivedRow {
  const { twin, derivations, at } = options;
  const width = featureColumns(derivations).length;
  const values = new Float64Array(width);
  const missing = new Array<boolean>(width).fill(false);
  let j = 0;
  for (const derivation of derivations) {
    let v = rawValue(twin, derivation, at);
    if (v !== null && derivation.clip) v = Math.min(Math.max(v, derivation.clip[0]), derivation.clip[1]);
    values[j] = v ?? NaN;
    missing[j] = v === null;
    j++;
    if (derivation.missing.policy === 'indicator') {
      values[j] = v === null ? 1 : 0;
      j++;
    }
  }
  return { values, missing };
}

/** True when `t` falls in the window `(at − windowDays·DAY_MS, at]` (or anywhere up to `at` without a window). */
function inWindow(t: number, at: number, windowDays: number | undefined): boolean {
  return t <= at && (windowDays === undefined || t > at - windowDays * DAY_MS);
}

function rawValue(twin: TwinSnapshot, d: FeatureDerivation, at: number): number | null {
  switch (d.kind) {
    case 'latest':
    case 'mean':
    case 'min':
    case 'max':
    case 'slope': {
      const codes = new Set(d.source.loinc);
      const obs = twin.observations.filter(
        (o) => codes.has(o.code) && o.unit === d.unit && Number.isFinite(o.value) && inWindow(o.t, at, d.windowDays),
      );
      return aggregate(d.kind, obs);
    }
    case 'count':
      return countEvents(twin, d.source, (t) => inWindow(t, at, d.windowDays));
    case 'onehot':
      return twin.conditions.some((c) => conditionMatches(c, d.source.conditionCodes) && activeAt(c, at, d.windowDays))
        ? 1
        : 0;
    case 'age':
      return ageAt(twin.birthDate, at);
    case 'sex':
      if (twin.sex === d.equals) return 1;
      return twin.sex === 'female' || twin.sex === 'male' ? 0 : null;
    case 'vaccinated': {
      const cvx = new Set(d.source.cvx);
      return twin.immunizations.some((i) => cvx.has(i.cvx) && inWindow(i.t, at, d.windowDays)) ? 1 : 0;
    }
    case 'exposed': {
      const kinds = new Set(d.source.exposureKind);
      return twin.exposures.some((e) => kinds.has(e.kind) && inWindow(e.t, at, d.windowDays)) ? 1 : 0;
    }
  }
}

function activeAt(c: TwinSnapshot['conditions'][number], at: number, windowDays: number | undefined): boolean {
  if (c.abatement !== null && c.abatement <= at) return false;
  if (windowDays !== undefined) return c.onset !== null && inWindow(c.onset, at, windowDays);
  return c.onset === null || c.onset <= at;
}

function countEvents(twin: TwinSnapshot, source: EventSource, inside: (t: number) => boolean): number {
  if ('loinc' in source) {
    const codes = new Set(source.loinc);
    return twin.observations.filter((o) => codes.has(o.code) && inside(o.t)).length;
  }
  if ('conditionCodes' in source) {
    return twin.conditions.filter(
      (c) => c.onset !== null && inside(c.onset) && conditionMatches(c, source.conditionCodes),
    ).length;
  }
  if ('cvx' in source) {
    const cvx = new Set(source.cvx);
    return twin.immunizations.filter((i) => cvx.has(i.cvx) && inside(i.t)).length;
  }
  const kinds = new Set(source.exposureKind);
  return twin.exposures.filter((e) => kinds.has(e.kind) && inside(e.t)).length;
}

function aggregate(kind: 'latest' | 'mean' | 'min' | 'max' | 'slope', obs: readonly TwinObservation[]): number | null {
  if (obs.length === 0) return null;
  switch (kind) {
    case 'latest': {
      let best = obs[0]!;
      for (const o of obs) if (o.t >= best.t) best = o;
      return best.value;
    }
    case 'mean':
      return obs.reduce((s, o) => s + o.value, 0) / obs.length;
    case 'min':
      return obs.reduce((m, o) => Math.min(m, o.value), Infinity);
    case 'max':
      return obs.reduce((m, o) => Math.max(m, o.value), -Infinity);
    case 'slope':
      return leastSquaresSlopePerDay(obs);
  }
}

/** Ordinary least-squares slope of value against time in days; null with fewer than two distinct times. */
export function leastSquaresSlopePerDay(points: readonly { t: number; value: number }[]): number | null {
  const n = points.length;
  if (n < 2) return null;
  const t0 = points[0]!.t;
  let tMean = 0;
  let vMean = 0;
  for (const p of points) {
    tMean += (p.t - t0) / DAY_MS;
    vMean += p.value;
  }
  tMean /= n;
  vMean /= n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    const dt = (p.t - t0) / DAY_MS - tMean;
    sxy += dt * (p.value - vMean);
    sxx += dt * dt;
  }
  return sxx > 0 ? sxy / sxx : null;
}
