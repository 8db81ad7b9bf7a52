import path from 'node:path';
import { isCoxModel, type Plan } from '@twinfed/shared';
import type { SitePolicy } from '@twinfed/site-client';
import type { RunSite } from '../federation-run';

/** A simulated hospital of the twin scenario: a display name, its simulator profile and seed. */
export interface TwinHospital extends RunSite {
  profile: string;
  seed: number;
}

/** Four non-IID hospitals (see site-client/src/simulate/profiles.ts for their populations). */
export const TWIN_HOSPITALS: TwinHospital[] = [
  { name: 'Metro-Teaching', center: 0, profile: 'urban-teaching', seed: 101 },
  { name: 'Valley-Rural', center: 1, profile: 'rural-elderly', seed: 202 },
  { name: 'Lakeside-Community', center: 2, profile: 'suburban-community', seed: 303 },
  { name: 'Northside-Oncology', center: 3, profile: 'oncology-center', seed: 404 },
];

/**
 * The arguments of `twinfed-site simulate` for a hospital: `patients` patients of its profile and seed, into
 * `sim-<center>`, with `followUpDays` of records after the snapshot when given.
 */
export function simulateArgs(o: {
  workDir: string;
  hospital: TwinHospital;
  patients: number;
  followUpDays?: number;
}): string[] {
  return [
    'simulate',
    '--patients',
    String(o.patients),
    '--hospital',
    o.hospital.profile,
    '--seed',
    String(o.hospital.seed),
    '--out',
    path.join(o.workDir, `sim-${o.hospital.center}`),
    ...(o.followUpDays ? ['--follow-up-days', String(o.followUpDays)] : []),
  ];
}

/**
 * Each demo hospital's policy (docs/site-policy.md): the plan's derived inputs and outcome (what its data protection
 * officer reviewed), logistic regression or an MLP, FedAvg-family strategies, secure aggregation required (unless the
 * demo runs without it), at least 2 hospitals in every round, at most 100 rounds, population reports with cells below
 * 10 suppressed; plans within it are approved without a person (recorded in its audit chain as by policy).
 */
export function twinSitePolicy(plan: Plan): SitePolicy {
  return {
    allowedFeatures: [...plan.data.features],
    allowedLabels: [plan.data.label],
    // The scenario over time (`--model cox`) asks for a Cox model; the hospitals allow it for that plan only.
    allowedModelKinds: isCoxModel(plan.model) ? [plan.model.kind] : ['logistic-regression', 'mlp'],
    allowedStrategies: ['fedavg', 'fedprox', 'scaffold'],
    ...(plan.privacy.secureAggregation ? { requireSecureAggregation: true } : {}),
    maxRounds: 100,
    minSitesPerRound: 2,
    populationReports: { allowed: true, k: 10 },
    autoApprove: true,
  };
}
