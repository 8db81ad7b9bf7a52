import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SiteAuditLog } from '../audit/site-audit';
import { PlanDecisions } from './decisions';

const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);

let dir: string;
let audit: SiteAuditLog;
let decisions: PlanDecisions;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-decisions-'));
  audit = new SiteAuditLog(dir, () => 'site:site-a');
  decisions = new PlanDecisions(audit);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('plan decisions, derived from the audit chain', () => {
  test('none recorded: pending', () => {
    expect(decisions.current('fed-1', H1)).toEqual({ state: 'pending', last: null });
  });

  test('approved → the plan hash changes → pending again (the approval stays in the chain, about the old hash)', () => {
    decisions.record({
      federationId: 'fed-1',
      decision: 'approved',
      planSha256: H1,
      decidedBy: 'hand',
      actor: 'dr.house',
      note: 'reviewed with the DPO',
    });
    const approved = decisions.current('fed-1', H1);
    expect(approved).toMatchObject({
      state: 'approved',
      last: {
        decision: 'approved',
        planSha256: H1,
        actor: 'dr.house',
        decidedBy: 'hand',
        note: 'reviewed with the DPO',
      },
    });
    expect(decisions.current('fed-1', H2)).toMatchObject({ state: 'pending', last: { planSha256: H1 } });
    expect(decisions.current('fed-2', H1)).toEqual({ state: 'pending', last: null });
    const entry = audit.list().at(-1)!;
    expect(entry).toMatchObject({
      action: 'plan.approved',
      subject: 'fed-1',
      actor: 'dr.house',
      detail: { federationId: 'fed-1', planSha256: H1, decidedBy: 'hand', note: 'reviewed with the DPO' },
    });
    expect(Date.parse(entry.at)).not.toBeNaN();
  });

  test('the latest decision wins: approved, revoked, approved again, rejected by policy', () => {
    decisions.record({ federationId: 'fed-1', decision: 'approved', planSha256: H1, decidedBy: 'hand', actor: 'a' });
    decisions.record({ federationId: 'fed-1', decision: 'revoked', planSha256: H1, decidedBy: 'hand', actor: 'b' });
    expect(decisions.current('fed-1', H1).state).toBe('revoked');
    decisions.record({ federationId: 'fed-1', decision: 'approved', planSha256: H1, decidedBy: 'hand', actor: 'a' });
    expect(decisions.current('fed-1', H1).state).toBe('approved');
    decisions.record({
      federationId: 'fed-1',
      decision: 'rejected',
      planSha256: H1,
      decidedBy: 'policy',
      rules: ['requireSecureAggregation'],
    });
    expect(decisions.current('fed-1', H1)).toMatchObject({
      state: 'rejected',
      last: { actor: 'site:site-a', decidedBy: 'policy', rules: ['requireSecureAggregation'] },
    });
    expect(decisions.all().map((d) => d.decision)).toEqual(['approved', 'revoked', 'approved', 'rejected']);
    expect([...decisions.latest().keys()]).toEqual(['fed-1']);
    expect(audit.verify().ok).toBe(true);
  });

  test('other entries of the chain are not decisions, nor is a decision entry without a plan hash', () => {
    audit.append({ action: 'round.trained', subject: 'fed-1/1', detail: { round: 1 } });
    audit.append({ action: 'plan.approved', subject: 'fed-1', detail: { federationId: 'fed-1' } });
    expect(decisions.current('fed-1', H1).state).toBe('pending');
  });

  test('policy.changed is appended only when the policy digest differs from the last recorded one', () => {
    expect(decisions.notePolicy(null)).toBe(false); // no file, nothing recorded: nothing changed
    expect(decisions.notePolicy(H1)).toBe(true);
    expect(decisions.notePolicy(H1)).toBe(false);
    expect(decisions.notePolicy(H2)).toBe(true);
    expect(decisions.notePolicy(null)).toBe(true); // the file was removed
    expect(
      audit
        .list()
        .filter((e) => e.action === 'policy.changed')
        .map((e) => e.detail),
    ).toEqual([
      { policySha256: H1, previousSha256: null },
      { policySha256: H2, previousSha256: H1 },
      { policySha256: null, previousSha256: H2 },
    ]);
  });
});
