import { upsertScaleRows, type ScaleDocument, type ScaleRow } from './scale-report';

const row = (sites: number, secure: boolean, roundP50s: number): ScaleRow => ({
  sites,
  params: 17,
  secure,
  roundP50s,
  roundP95s: roundP50s,
  coordinatorCpuMsPerSiteRound: 1,
  siteCpuMsPerSiteRound: 1,
  errors: 0,
  retried503: 0,
});

describe('scale report rows', () => {
  test('replaces the rows a section measured again and keeps the others, plain before secure, by size', () => {
    const doc: ScaleDocument = { rows: [row(1000, false, 9), row(500, true, 7)], aggregation: [], sections: {} };
    upsertScaleRows(doc, [row(1000, false, 3), row(500, false, 2)]);
    expect(doc.rows.map((r) => [r.sites, r.secure, r.roundP50s])).toEqual([
      [500, false, 2],
      [1000, false, 3],
      [500, true, 7],
    ]);
  });
});
