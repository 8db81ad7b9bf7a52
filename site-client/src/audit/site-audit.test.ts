/** The site's audit chain: appends chain, and editing, deleting, inserting, reordering or damaging a line is named. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AUDIT_GENESIS, auditEntryHash } from '@twinfed/shared';
import { SITE_AUDIT_FILE, SiteAuditLog } from './site-audit';

let dir: string;
let log: SiteAuditLog;
const lines = () => fs.readFileSync(path.join(dir, SITE_AUDIT_FILE), 'utf8').trimEnd().split('\n');
const write = (ls: string[]) => fs.writeFileSync(path.join(dir, SITE_AUDIT_FILE), `${ls.join('\n')}\n`);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-site-audit-'));
  log = new SiteAuditLog(dir, () => 'site:site-a');
  log.append({ action: 'site.enrolled', subject: 'site-a', detail: { name: 'Cleveland' } });
  log.append({ action: 'round.trained', subject: 'fed-1/1', detail: { round: 1, numExamples: 40 } });
  log.append({ action: 'update.uploaded', subject: 'fed-1/1', detail: { digest: 'a'.repeat(64), status: 'accepted' } });
  log.append({ action: 'version.refused', subject: 'v1', detail: { code: 'MODEL_SIGNATURE_INVALID' } });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('site audit chain', () => {
  test('entries are chained from the genesis hash, private to the site user, and verify', () => {
    const all = log.list();
    expect(all.map((e) => [e.seq, e.action, e.actor])).toEqual([
      [1, 'site.enrolled', 'site:site-a'],
      [2, 'round.trained', 'site:site-a'],
      [3, 'update.uploaded', 'site:site-a'],
      [4, 'version.refused', 'site:site-a'],
    ]);
    expect(all[0]!.prevHash).toBe(AUDIT_GENESIS);
    all.forEach((e, i) => {
      expect(e.hash).toBe(auditEntryHash(e));
      if (i > 0) expect(e.prevHash).toBe(all[i - 1]!.hash);
    });
    expect(fs.statSync(log.file).mode & 0o777).toBe(0o600);
    expect(log.verify()).toEqual({ ok: true, entries: 4, head: { seq: 4, hash: all[3]!.hash }, firstBad: null });
    expect(log.list({ after: 1, limit: 2 }).map((e) => e.seq)).toEqual([2, 3]);
    // A fresh instance continues the chain from the file.
    expect(new SiteAuditLog(dir).append({ action: 'data.refused', subject: 'fed-1' })).toMatchObject({
      seq: 5,
      prevHash: all[3]!.hash,
    });
  });

  test('an edited entry is named', () => {
    const ls = lines();
    ls[1] = ls[1]!.replace('"numExamples":40', '"numExamples":4000');
    write(ls);
    expect(log.verify()).toMatchObject({
      ok: false,
      entries: 1,
      firstBad: { seq: 2, reason: expect.stringMatching(/changed/) },
    });
  });

  test('a deleted entry is named', () => {
    const ls = lines();
    ls.splice(2, 1);
    write(ls);
    expect(log.verify().firstBad).toMatchObject({ seq: 4, reason: expect.stringMatching(/missing/) });
  });

  test('two swapped entries are named', () => {
    const ls = lines();
    [ls[1], ls[2]] = [ls[2]!, ls[1]!];
    write(ls);
    expect(log.verify().firstBad).toMatchObject({ seq: 3, reason: expect.stringMatching(/missing or were moved/) });
  });

  test('an inserted entry (even a correctly hashed copy) and a damaged line are named', () => {
    const ls = lines();
    write([...ls.slice(0, 2), ls[1]!, ...ls.slice(2)]);
    expect(log.verify().firstBad).toMatchObject({ seq: 2 });
    write([ls[0]!, '{"seq":2,', ...ls.slice(2)]);
    expect(log.verify().firstBad).toMatchObject({ seq: 2, reason: 'line 2 is not a valid entry' });
  });

  test('a missing file is an empty, intact chain', () => {
    expect(new SiteAuditLog(path.join(dir, 'none')).verify()).toEqual({
      ok: true,
      entries: 0,
      head: null,
      firstBad: null,
    });
  });
});

describe('site audit chain read by a long-running site', () => {
  test('sees entries another writer appended (the CLI, another process) and chains after them', () => {
    expect(log.list()).toHaveLength(4); // read once: the next reads start where this one stopped
    const cli = new SiteAuditLog(dir, () => 'user:ana');
    cli.append({ action: 'plan.approved', subject: 'fed-1', detail: { planSha256: 'b'.repeat(64) } });
    expect(log.list().map((e) => [e.seq, e.actor])).toEqual([
      [1, 'site:site-a'],
      [2, 'site:site-a'],
      [3, 'site:site-a'],
      [4, 'site:site-a'],
      [5, 'user:ana'],
    ]);
    log.append({ action: 'round.trained', subject: 'fed-1/2', detail: { round: 2, numExamples: 40 } });
    expect(log.list({ after: 4 }).map((e) => e.seq)).toEqual([5, 6]);
    expect(log.verify()).toMatchObject({ ok: true, entries: 6 });
  });

  test('a file rewritten in between (same size or not, half-written last line) is read again, not trusted from before', () => {
    const before = lines();
    expect(log.list()).toHaveLength(4);
    write(before.slice(0, 2)); // shorter
    expect(log.list().map((e) => e.seq)).toEqual([1, 2]);
    write(before); // longer again, but not by appending to what was read
    fs.utimesSync(path.join(dir, SITE_AUDIT_FILE), new Date(), new Date(Date.now() + 5000));
    expect(log.list().map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    const edited = [...before];
    edited[3] = edited[3]!.replace('MODEL_SIGNATURE_INVALID', 'MODEL_SIGNATURE_INVALIX'); // same size
    write(edited);
    fs.utimesSync(path.join(dir, SITE_AUDIT_FILE), new Date(), new Date(Date.now() + 10_000));
    expect(log.list()[3]!.detail).toEqual({ code: 'MODEL_SIGNATURE_INVALIX' });
    // A last line without its newline yet is not kept half: once complete it is read whole.
    const file = path.join(dir, SITE_AUDIT_FILE);
    const extra = new SiteAuditLog(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-site-audit-x-')));
    const next = JSON.stringify(extra.append({ action: 'site.enrolled', subject: 'x' }));
    fs.appendFileSync(file, next.slice(0, 20));
    expect(log.list()).toHaveLength(4);
    fs.appendFileSync(file, `${next.slice(20)}\n`);
    expect(log.list()).toHaveLength(5);
    fs.rmSync(extra.file, { force: true });
  });

  test('a file replaced by a longer one (a new chain, the same inode) is read whole, not as an append to what was read', () => {
    expect(log.list()).toHaveLength(4);
    const other = new SiteAuditLog(
      fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-site-audit-o-')),
      () => 'site:site-b',
    );
    for (let i = 1; i <= 6; i++) other.append({ action: 'round.trained', subject: `fed-2/${i}`, detail: { round: i } });
    const replacement = fs.readFileSync(other.file);
    expect(replacement.byteLength).toBeGreaterThan(fs.statSync(log.file).size);
    fs.writeFileSync(log.file, replacement); // truncated and rewritten in place: same inode, larger
    expect(log.list().map((e) => [e.seq, e.actor])).toEqual([1, 2, 3, 4, 5, 6].map((seq) => [seq, 'site:site-b']));
    const appended = log.append({ action: 'round.trained', subject: 'fed-2/7' });
    expect(appended.seq).toBe(7);
    expect(log.verify()).toMatchObject({ ok: true, entries: 7 });
    fs.rmSync(other.file, { force: true });
  });

  test('a damaged last line still stops an append', () => {
    expect(log.list()).toHaveLength(4);
    fs.appendFileSync(path.join(dir, SITE_AUDIT_FILE), '{"not an entry"\n');
    expect(() => log.append({ action: 'round.trained', subject: 'fed-1/2' })).toThrow(/damaged entry/);
  });
});
