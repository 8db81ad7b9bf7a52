import type { FederationEvaluations, RecalibrationSession } from '@twinfed/shared';
import { calibrationReport, calibrationReportText } from './calibration-report';

const at = '2026-01-01T00:00:00.000Z';
const bins = Array.from({ length: 10 }, () => ({ n: 0, meanPredicted: null, observedRate: null }));
const evaluation = (versionId: string, siteId: string, n: number, ece?: number) => ({
  versionId,
  siteId,
  n,
  metrics: {},
  ...(ece === undefined ? {} : { calibration: { ece, bins } }),
  createdAt: at,
});
const evaluations: FederationEvaluations = {
  federationId: 'fed-1',
  versions: [
    { versionId: 'fed-1.v1', round: 1, createdAt: at, evaluations: [evaluation('fed-1.v1', 'site-a', 10, 0.5)] },
    {
      versionId: 'fed-1.v2',
      round: 2,
      createdAt: at,
      evaluations: [evaluation('fed-1.v2', 'site-a', 100, 0.2), evaluation('fed-1.v2', 'site-b', 300, 0.1)],
    },
    {
      versionId: 'fed-1.v2.recalibrated',
      round: 2,
      createdAt: at,
      evaluations: [
        evaluation('fed-1.v2.recalibrated', 'site-a', 100, 0.05),
        evaluation('fed-1.v2.recalibrated', 'site-b', 300),
      ],
    },
  ],
};
const session: RecalibrationSession = {
  federationId: 'fed-1',
  method: 'temperature',
  state: 'fitted',
  baseVersionId: 'fed-1.v2',
  deadlineAt: at,
  length: 1024,
  fractionBits: 20,
  cohort: [],
  contributed: [],
  versionId: 'fed-1.v2.recalibrated',
  params: { method: 'temperature', a: 0.5, b: 0, baseVersionId: 'fed-1.v2', rows: 400 },
  reason: null,
};

describe('the calibration part of federations report', () => {
  test("pairs each site's ECE of the final version with the recalibrated one's; means weighted by rows", () => {
    const r = calibrationReport(evaluations, session);
    expect(r.finalVersionId).toBe('fed-1.v2');
    expect(r.sites).toEqual([
      { siteId: 'site-a', n: 100, before: 0.2, after: 0.05 },
      { siteId: 'site-b', n: 300, before: 0.1, after: null },
    ]);
    expect(r.mean.before).toBeCloseTo((100 * 0.2 + 300 * 0.1) / 400, 12);
    expect(r.mean.after).toBeCloseTo(0.05, 12);
    const text = calibrationReportText(r);
    expect(text).toContain(
      'recalibration (temperature): fitted, 0 of 0 sites sent their masked histograms; T = 2.0000 on 400 held-out rows → fed-1.v2.recalibrated',
    );
    expect(text).toMatch(/site-a\s+100\s+0\.200\s+0\.050\s+-0\.150/);
    expect(text).toMatch(/site-b\s+300\s+0\.100\s+-\s+-/);
  });

  test('without recalibration: the newest version, before only', () => {
    const r = calibrationReport(evaluations, null);
    expect(r.finalVersionId).toBe('fed-1.v2.recalibrated');
    expect(calibrationReportText(calibrationReport({ federationId: 'fed-1', versions: [] }, null))).toContain(
      'recalibration: not in the plan',
    );
    const expired = calibrationReportText(
      calibrationReport(evaluations, {
        ...session,
        state: 'expired',
        versionId: null,
        params: null,
        reason: '2 of 4 sites sent their histograms by the deadline',
      }),
    );
    expect(expired).toContain(
      'expired, 0 of 0 sites sent their masked histograms; 2 of 4 sites sent their histograms by the deadline',
    );
    expect(expired).toMatch(/site-a\s+100\s+0\.200\s+-\s+-/);
  });
});
