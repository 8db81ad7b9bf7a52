/**
 * Robust aggregation: every site's update on its own (aggregation: coordinator/src/strategies/robust.ts, krum.ts,
 * geomed.ts, centered-clip.ts).
 */
import { z } from 'zod';
import { declareStrategy } from './declare';

export const fedmedian = declareStrategy({
  name: 'fedmedian',
  meaning: 'FedMedian: the coordinate-wise median of the site models (robust to outliers).',
  options: {},
  aggregation: 'individual',
});

export const fedtrimmedavg = declareStrategy({
  name: 'fedtrimmedavg',
  meaning: 'Trimmed mean: per coordinate, drop the beta share of highest and lowest values, average the rest.',
  options: { beta: z.number().min(0).lt(0.5).default(0.2).describe('Share trimmed at each end, in [0, 0.5).') },
  aggregation: 'individual',
});

export const krum = declareStrategy({
  name: 'krum',
  meaning: 'Krum / Multi-Krum: keep the update(s) closest to their neighbours, robust to byzantine sites.',
  options: {
    byzantine: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Number of byzantine (malicious or broken) sites to tolerate, f.'),
    multi: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe('How many of the best-scored updates are averaged (1 = Krum, more = Multi-Krum).'),
  },
  aggregation: 'individual',
  rules: ['`krum` needs `minSites` ≥ 2 × `byzantine` + 3.'],
  checkPlan: (config, plan) =>
    plan.minSites < 2 * config.byzantine + 3
      ? [{ path: ['minSites'], message: 'krum needs minSites ≥ 2·byzantine + 3' }]
      : [],
});

export const geomed = declareStrategy({
  name: 'geomed',
  meaning:
    'Geometric median (RFA, Pillutla et al. 2022): the point with the least summed distance to the site models, one vote per site, by smoothed Weiszfeld; while fewer than half the sites are byzantine they move it a bounded distance.',
  options: {
    maxIterations: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(100)
      .describe('Most Weiszfeld steps per round (it stops earlier once the summed distance no longer decreases).'),
    smoothing: z
      .number()
      .positive()
      .max(1)
      .default(1e-6)
      .describe(
        'ν: a distance below ν counts as ν, which keeps a step defined when the estimate reaches a site model (in weight units).',
      ),
  },
  aggregation: 'individual',
});

export const centeredclip = declareStrategy({
  name: 'centeredclip',
  meaning:
    'Centered clipping (Karimireddy et al. 2021): from the previous round’s aggregate update, move towards each site’s update by at most `radius`, averaged over the sites; one site shifts a round by at most radius × iterations ÷ sites.',
  options: {
    radius: z
      .number()
      .positive()
      .finite()
      .max(1e6)
      .describe(
        'τ: L2 bound on each site’s deviation from the centre (weight units). Choose it near the honest sites’ typical update norm (the `updateNorm` and `centeredClipClipped` round metrics show its effect).',
      ),
    iterations: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(1)
      .describe('L: clipping iterations per round (the paper uses 1).'),
  },
  aggregation: 'individual',
});
