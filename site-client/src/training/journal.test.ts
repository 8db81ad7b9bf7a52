import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JOURNAL_FILE, JOURNAL_LOG_FILE, Journal } from './journal';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-journal-'));
const upload = {
  federationId: 'fed-1',
  round: 1,
  baseVersionId: 'v0',
  digest: 'ab'.repeat(32),
  status: 'accepted' as const,
  receivedAt: '2025-01-01T00:00:00Z',
};

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
    expect((fs.statSync(path.join(dir, JOURNAL_LOG_FILE)).mode & 0o777).toString(8)).toBe('600');
  });

  test('keeps the metric values of an evaluation, and still opens a journal written before they were recorded', () => {
    const dir = tmp();
    Journal.open(dir).recordEvaluation({
      federationId: 'fed-1',
      versionId: 'v1',
      n: 10,
      metrics: { accuracy: 0.75, auc: 0.5 },
      at: '2025-01-01T00:00:00Z',
    });
    expect(Journal.open(dir).snapshot().evaluations[0]?.metrics).toEqual({ accuracy: 0.75, auc: 0.5 });
    const old = tmp();
    fs.writeFileSync(
      path.join(old, JOURNAL_FILE),
      JSON.stringify({
        version: 1,
        uploads: [],
        evaluations: [{ federationId: 'fed-1', versionId: 'v1', n: 10, at: '2025-01-01T00:00:00Z' }],
      }),
    );
    expect(Journal.open(old).snapshot().evaluations).toEqual([
      { federationId: 'fed-1', versionId: 'v1', n: 10, at: '2025-01-01T00:00:00Z' },
    ]);
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

describe('Journal: what holds against a lying coordinator', () => {
  test('secure-aggregation fields are set once: the same value is a no-op, another one is refused and nothing is written', () => {
    const dir = tmp();
    const j = Journal.open(dir);
    j.recordSecagg('fed-1', 1, { baseVersionId: 'v0', cohort: ['a', 'b', 'c'], threshold: 3 });
    j.recordSecagg('fed-1', 1, { cohort: ['a', 'b', 'c'], consistency: { u3: ['a', 'b', 'c'], digest: 'd1' } });
    expect(() => j.recordSecagg('fed-1', 1, { consistency: { u3: ['a', 'b'], digest: 'd2' } })).toThrow(
      expect.objectContaining({ code: 'SECAGG_INCONSISTENT' }),
    );
    expect(() => j.recordSecagg('fed-1', 1, { threshold: 2 })).toThrow(
      expect.objectContaining({ code: 'SECAGG_INCONSISTENT' }),
    );
    const again = Journal.open(dir);
    expect(again.secagg('fed-1', 1)).toEqual({
      federationId: 'fed-1',
      round: 1,
      baseVersionId: 'v0',
      cohort: ['a', 'b', 'c'],
      threshold: 3,
      consistency: { u3: ['a', 'b', 'c'], digest: 'd1' },
    });
    expect(again.secagg('fed-1', 2)).toBeUndefined();
  });

  test('a masked envelope is stored (0600) before it is sent; another one for the round, or lost bytes, are refused', () => {
    const dir = tmp();
    const j = Journal.open(dir);
    const envelope = Uint8Array.from([1, 2, 3]);
    j.storeMaskedEnvelope('fed-1', 1, envelope);
    j.storeMaskedEnvelope('fed-1', 1, envelope); // the same bytes again
    expect(() => j.storeMaskedEnvelope('fed-1', 1, Uint8Array.from([1, 2, 4]))).toThrow(
      expect.objectContaining({ code: 'SECAGG_MASK_REUSE' }),
    );
    expect(Journal.open(dir).maskedEnvelope('fed-1', 1)).toEqual(envelope);
    const file = fs.readdirSync(path.join(dir, 'secagg'))[0]!;
    expect((fs.statSync(path.join(dir, 'secagg', file)).mode & 0o777).toString(8)).toBe('600');
    fs.writeFileSync(path.join(dir, 'secagg', file), Uint8Array.from([9]));
    expect(() => Journal.open(dir).maskedEnvelope('fed-1', 1)).toThrow(
      expect.objectContaining({ code: 'SECAGG_MASK_REUSE' }),
    );
    j.dropMaskedEnvelope('fed-1', 1);
    expect(() => j.maskedEnvelope('fed-1', 1)).toThrow(expect.objectContaining({ code: 'SECAGG_MASK_REUSE' }));
    expect(j.maskedEnvelope('fed-1', 2)).toBeUndefined();
  });

  test('peers are pinned on first sight; a changed key is refused without pinning anything; a statistics contribution is recorded once', () => {
    const dir = tmp();
    const j = Journal.open(dir);
    j.pinPeers([{ siteId: 'b', signPublicKey: 'S1', boxPublicKey: 'B1' }]);
    expect(() =>
      Journal.open(dir).pinPeers([
        { siteId: 'c', signPublicKey: 'S2', boxPublicKey: 'B2' },
        { siteId: 'b', signPublicKey: 'S1', boxPublicKey: 'B9' },
      ]),
    ).toThrow(expect.objectContaining({ code: 'SECAGG_UNTRUSTED_KEY' }));
    expect(Journal.open(dir).peer('c')).toBeUndefined();
    expect(Journal.open(dir).peer('b')).toMatchObject({ signPublicKey: 'S1', boxPublicKey: 'B1' });
    // A new site listed twice in one call: once with the same keys, refused with others.
    const d = { siteId: 'd', signPublicKey: 'S3', boxPublicKey: 'B3' };
    expect(() => j.pinPeers([d, { ...d, signPublicKey: 'S4' }])).toThrow(
      expect.objectContaining({ code: 'SECAGG_UNTRUSTED_KEY' }),
    );
    j.pinPeers([d, d]);
    expect(
      Journal.open(dir)
        .snapshot()
        .peers.map((p) => p.siteId),
    ).toEqual(['b', 'd']);
    j.recordStatsContribution('fed-1', 'AAAA');
    j.recordStatsContribution('fed-1', 'AAAA');
    expect(() => j.recordStatsContribution('fed-1', 'BBBB')).toThrow(
      expect.objectContaining({ code: 'SECAGG_MASK_REUSE' }),
    );
    expect(Journal.open(dir).statsContribution('fed-1')).toBe('AAAA');
  });
});

describe('Journal: secure-aggregation records are appended, not rewritten', () => {
  const entry = { federationId: 'fed-1', round: 1, baseVersionId: 'v0', cohort: ['a', 'b', 'c'], threshold: 3 };

  test('a record is appended to the log (the journal file is not rewritten) and replayed on reopening', () => {
    const dir = tmp();
    const j = Journal.open(dir);
    j.recordStatsContribution('fed-1', 'AAAA'); // a full write
    j.recordUpload(upload);
    const before = fs.readFileSync(path.join(dir, JOURNAL_FILE), 'utf8');
    j.recordSecagg('fed-1', 1, { baseVersionId: 'v0', cohort: ['a', 'b', 'c'], threshold: 3 });
    j.recordSecagg('fed-1', 1, { u2: [{ siteId: 'a', maskPublicKey: 'k' }, { siteId: 'b' }] });
    expect(fs.readFileSync(path.join(dir, JOURNAL_FILE), 'utf8')).toBe(before);
    expect(fs.readFileSync(path.join(dir, JOURNAL_LOG_FILE), 'utf8').split('\n')).toHaveLength(4);
    expect((fs.statSync(path.join(dir, JOURNAL_LOG_FILE)).mode & 0o777).toString(8)).toBe('600');
    const again = Journal.open(dir);
    expect(again.secagg('fed-1', 1)).toEqual({ ...entry, u2: [{ siteId: 'a', maskPublicKey: 'k' }, { siteId: 'b' }] });
    expect(again.upload('fed-1', 1)).toEqual(upload);
    expect(() => again.recordSecagg('fed-1', 1, { threshold: 2 })).toThrow(
      expect.objectContaining({ code: 'SECAGG_INCONSISTENT' }),
    );
  });

  test('a torn last record (a crash while appending) is ignored, not fatal, and later records survive it', () => {
    const dir = tmp();
    Journal.open(dir).recordSecagg('fed-1', 1, { baseVersionId: 'v0', cohort: ['a', 'b', 'c'], threshold: 3 });
    fs.appendFileSync(path.join(dir, JOURNAL_LOG_FILE), '{"federationId":"fed-1","round":1,"fields":{"maskedSha');
    const j = Journal.open(dir);
    expect(j.secagg('fed-1', 1)).toEqual(entry);
    j.recordSecagg('fed-1', 1, { maskedSha256: 'ff' });
    expect(Journal.open(dir).secagg('fed-1', 1)).toEqual({ ...entry, maskedSha256: 'ff' });
  });

  test('a damaged record before the last one is refused rather than skipped', () => {
    const dir = tmp();
    const j = Journal.open(dir);
    j.recordSecagg('fed-1', 1, { baseVersionId: 'v0' });
    j.recordSecagg('fed-1', 1, { threshold: 3 });
    const log = path.join(dir, JOURNAL_LOG_FILE);
    fs.writeFileSync(log, fs.readFileSync(log, 'utf8').replace('"round":1', '"round":"x"'));
    expect(() => Journal.open(dir)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  test('a full write folds the log into the journal file; replaying a log that was already folded changes nothing', () => {
    const dir = tmp();
    const j = Journal.open(dir);
    j.recordSecagg('fed-1', 1, { ...entry, shares: '{"body":1}' });
    j.recordSecagg('fed-1', 1, { reveal: { seedOf: ['a'], maskKeyOf: [], body: '{"r":1}' } });
    j.closeSecagg('fed-1', 1);
    j.recordUpload(upload);
    const log = fs.readFileSync(path.join(dir, JOURNAL_LOG_FILE));
    j.recordStatsContribution('fed-1', 'AAAA'); // a full write
    expect(fs.readFileSync(path.join(dir, JOURNAL_LOG_FILE), 'utf8')).toBe('');
    expect((fs.statSync(path.join(dir, JOURNAL_FILE)).mode & 0o777).toString(8)).toBe('600');
    const closed = { ...entry, reveal: { seedOf: ['a'], maskKeyOf: [] }, closed: true };
    expect(Journal.open(dir).secagg('fed-1', 1)).toEqual(closed);
    // A crash between writing the journal file and emptying the log: the log is replayed over what it already holds.
    fs.writeFileSync(path.join(dir, JOURNAL_LOG_FILE), log);
    expect(Journal.open(dir).secagg('fed-1', 1)).toEqual(closed);
    expect(Journal.open(dir).snapshot().uploads).toEqual([upload]);
  });

  test('a record keeps a copy of what it was given; the same S again is a no-op, another S or a bad field is refused', () => {
    const dir = tmp();
    const j = Journal.open(dir);
    const cohort = ['a', 'b', 'c'];
    j.recordSecagg('fed-1', 1, { baseVersionId: 'v0', cohort, threshold: 3 });
    cohort.push('d'); // the caller's array changes after: the record does not
    expect(j.secagg('fed-1', 1)?.cohort).toEqual(['a', 'b', 'c']);
    const log = fs.readFileSync(path.join(dir, JOURNAL_LOG_FILE), 'utf8');
    j.recordSecagg('fed-1', 1, { baseVersionId: 'v0', cohort: ['a', 'b', 'c'], threshold: 3 });
    expect(fs.readFileSync(path.join(dir, JOURNAL_LOG_FILE), 'utf8')).toBe(log);
    expect(() => j.recordSecagg('fed-1', 1, { cohort: ['a', 'b', 'd'] })).toThrow(
      expect.objectContaining({ code: 'SECAGG_INCONSISTENT' }),
    );
    expect(() => j.recordSecagg('fed-1', 1, { cohort: ['a', 'b'] })).toThrow(
      expect.objectContaining({ code: 'SECAGG_INCONSISTENT' }),
    );
    expect(() => j.recordSecagg('fed-1', 1, { maskedSha256: 5 as unknown as string })).toThrow();
    expect(fs.readFileSync(path.join(dir, JOURNAL_LOG_FILE), 'utf8')).toBe(log);
    expect(Journal.open(dir).secagg('fed-1', 1)).toEqual(entry);
  });

  test("a round's upload, evaluation and newly pinned peers are appended too, and replayed once", () => {
    const dir = tmp();
    const j = Journal.open(dir);
    j.recordStatsContribution('fed-1', 'AAAA'); // the journal file exists
    const before = fs.readFileSync(path.join(dir, JOURNAL_FILE), 'utf8');
    const evaluation = { federationId: 'fed-1', versionId: 'v1', n: 10, at: '2025-01-01T00:00:00Z' };
    const peer = { siteId: 'b', signPublicKey: 'S1', boxPublicKey: 'B1' };
    j.recordUpload(upload);
    j.recordEvaluation(evaluation);
    j.pinPeers([peer], '2025-01-01T00:00:00Z');
    j.pinPeers([peer]); // already pinned: nothing appended
    expect(fs.readFileSync(path.join(dir, JOURNAL_FILE), 'utf8')).toBe(before);
    expect(fs.readFileSync(path.join(dir, JOURNAL_LOG_FILE), 'utf8').split('\n')).toHaveLength(4);
    const again = Journal.open(dir);
    expect(again.upload('fed-1', 1)).toEqual(upload);
    expect(again.hasEvaluation('v1')).toBe(true);
    expect(again.peer('b')).toEqual({ ...peer, pinnedAt: '2025-01-01T00:00:00Z' });
    expect(() => again.pinPeers([{ ...peer, boxPublicKey: 'B2' }])).toThrow(
      expect.objectContaining({ code: 'SECAGG_UNTRUSTED_KEY' }),
    );
    // Folded by a full write, then the same log replayed (a crash before it was emptied): nothing twice.
    const log = fs.readFileSync(path.join(dir, JOURNAL_LOG_FILE));
    again.pinPlan({ federationId: 'fed-2', planSha256: 'ab'.repeat(32), at: '2025-01-01T00:00:00Z' });
    fs.writeFileSync(path.join(dir, JOURNAL_LOG_FILE), log);
    const replayed = Journal.open(dir).snapshot();
    expect(replayed.uploads).toEqual([upload]);
    expect(replayed.evaluations).toEqual([evaluation]);
    expect(replayed.peers).toEqual([{ ...peer, pinnedAt: '2025-01-01T00:00:00Z' }]);
  });
});
