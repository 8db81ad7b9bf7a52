import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TwinfedError, type CohortAnswer } from '@twinfed/shared';
import { SiteAuditLog } from '../audit/site-audit';
import { COHORT_OUTBOX_FILE, CohortOutbox, answerDigest, sendCohortAnswer, type CohortAnswerApi } from './outbox';

const table = (total: number): CohortAnswer => ({
  kind: 'table',
  table: { k: 10, epsilon: 1, cells: [{ levels: [], count: total }], total, suppressedCells: 0 },
});

/** A coordinator that stores one answer per query like the real one, and can fail once before answering. */
function fakeApi(opts: { failFirst?: boolean } = {}) {
  const stored = new Map<string, string>();
  const sent: CohortAnswer[] = [];
  let fail = opts.failFirst === true;
  const api: CohortAnswerApi = {
    answerCohortQuery: async (qid, answer) => {
      sent.push(answer);
      if (fail) {
        fail = false;
        throw new TwinfedError('NETWORK');
      }
      const digest = answerDigest(answer);
      const before = stored.get(qid);
      if (before && before !== digest) throw new TwinfedError('ALREADY_EXISTS');
      stored.set(qid, digest);
      return { status: before ? 'duplicate' : 'accepted', digest };
    },
  };
  return { api, sent };
}

describe('cohort answers: stored before sent, sent once, recorded in the audit chain', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-cohort-outbox-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const now = () => '2026-01-01T00:00:00.000Z';

  test('a failed send keeps the answer; the next run sends the same one (no second noise draw), then audits once', async () => {
    const { api, sent } = fakeApi({ failFirst: true });
    const audit = new SiteAuditLog(dir, () => 'site:a');
    const first = table(41);
    await expect(
      sendCohortAnswer({
        outbox: CohortOutbox.open(dir),
        api,
        audit,
        queryId: 'cq-1',
        answer: first,
        by: 'Dr Rossi',
        now,
      }),
    ).rejects.toMatchObject({ code: 'NETWORK' });
    expect(audit.list()).toEqual([]);
    expect(fs.statSync(path.join(dir, COHORT_OUTBOX_FILE)).mode & 0o777).toBe(0o600);

    // A new run computes a new table (a fresh draw would give 43); the stored one is sent instead.
    const again = await sendCohortAnswer({
      outbox: CohortOutbox.open(dir),
      api,
      audit,
      queryId: 'cq-1',
      answer: table(43),
      now,
    });
    expect(again).toMatchObject({ status: 'accepted', earlier: true });
    expect(sent).toEqual([first, first]);
    const entries = audit.list();
    expect(entries.map((e) => [e.action, e.subject])).toEqual([['cohort.answered', 'cq-1']]);
    expect(entries[0]!.detail).toEqual({
      digest: answerDigest(first),
      k: 10,
      epsilon: 1,
      cells: 1,
      suppressedCells: 0,
      by: 'Dr Rossi',
    });

    // Sending once more is a duplicate at the coordinator and no new audit entry.
    const third = await sendCohortAnswer({
      outbox: CohortOutbox.open(dir),
      api,
      audit,
      queryId: 'cq-1',
      answer: first,
      now,
    });
    expect(third.status).toBe('duplicate');
    expect(audit.list()).toHaveLength(1);
  });

  test('a refusal carries only its reason and is recorded as cohort.refused', async () => {
    const { api } = fakeApi();
    const audit = new SiteAuditLog(dir);
    const r = await sendCohortAnswer({
      outbox: CohortOutbox.open(dir),
      api,
      audit,
      queryId: 'cq-2',
      answer: { kind: 'refusal', reason: 'NOT_ALLOWED_BY_POLICY' },
      now,
    });
    expect(r.status).toBe('accepted');
    expect(audit.list().map((e) => [e.action, e.detail])).toEqual([
      ['cohort.refused', { digest: r.entry.digest, reason: 'NOT_ALLOWED_BY_POLICY' }],
    ]);
  });

  test('a damaged file is CONFIG_INVALID', () => {
    fs.writeFileSync(path.join(dir, COHORT_OUTBOX_FILE), '{"version":1,"entries":[{"queryId":1}]}');
    expect(() => CohortOutbox.open(dir)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
