import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JOURNAL_FILE, Journal } from './journal';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-journal-'));
const upload = { federationId: 'fed-1', round: 1, baseVersionId: 'v0', digest: 'ab'.repeat(32), status: 'accepted' as const, receivedAt: '2025-01-01T00:00:00Z' };

describe('Journal', () => {
  test('records uploads and evaluations durably and finds them after reopening', () => {
    const dir = tmp();
    const j = Journal.open(dir);
    expect(j.upload('fed-1', 1)).toBeUndefined();
    j.recordUpload(upload);
    j.recordEvaluation({ federationId: 'fed-1', versionId: 'v1', n: 10, at: '2025-01-01T00:00:00Z' });
    const again = Journal.open(dir);
    expect(again.upload('fed-1', 1)).toEqual(upload);
    expect(again.upload('fed-1', 2)).toBeUndefined();
    expect(again.upload('fed-2', 1)).toBeUndefined();
    expect(again.hasEvaluation('v1')).toBe(true);
    expect(again.hasEvaluation('v2')).toBe(false);
    expect((fs.statSync(path.join(dir, JOURNAL_FILE)).mode & 0o777).toString(8)).toBe('600');
  });

  test('keeps the metric values of an evaluation, and still opens a journal written before they were recorded', () => {
    const dir = tmp();
    Journal.open(dir).recordEvaluation({ federationId: 'fed-1', versionId: 'v1', n: 10, metrics: { accuracy: 0.75, auc: 0.5 }, at: '2025-01-01T00:00:00Z' });
    expect(Journal.open(dir).snapshot().evaluations[0]?.metrics).toEqual({ accuracy: 0.75, auc: 0.5 });
    const old = tmp();
    fs.writeFileSync(path.join(old, JOURNAL_FILE), JSON.stringify({ version: 1, uploads: [], evaluations: [{ federationId: 'fed-1', versionId: 'v1', n: 10, at: '2025-01-01T00:00:00Z' }] }));
    expect(Journal.open(old).snapshot().evaluations).toEqual([{ federationId: 'fed-1', versionId: 'v1', n: 10, at: '2025-01-01T00:00:00Z' }]);
  });

  test('recording the same round twice keeps the first entry', () => {
    const j = Journal.open(tmp());
    j.recordUpload(upload);
    j.recordUpload({ ...upload, digest: 'cd'.repeat(32) });
    expect(j.snapshot().uploads).toEqual([upload]);
  });

  test('a corrupt journal is refused rather than silently reset', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, JOURNAL_FILE), '{"version":1,"uploads":[{"round":"x"}]}');
    expect(() => Journal.open(dir)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    fs.writeFileSync(path.join(dir, JOURNAL_FILE), '{not json');
    expect(() => Journal.open(dir)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
