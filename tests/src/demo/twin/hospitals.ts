import path from 'node:path';
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

/** The arguments of `twinfed-site simulate` for a hospital: `patients` patients of its profile and seed, into `sim-<center>`. */
export function simulateArgs(o: { workDir: string; hospital: TwinHospital; patients: number }): string[] {
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
  ];
}
