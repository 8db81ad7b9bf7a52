import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqlContext } from './context';
import { openDatabase } from './db';
import { FileSync, WalSync } from './wal-sync';
import { WriteBatch } from './write-batch';

/** An fsync the test finishes by hand: every call is recorded with its file and the moment it can complete. */
function manualFsync() {
  const calls: Array<{ file: string; done: () => void; fail: (e: Error) => void }> = [];
  const fsync = (file: string) =>
    new Promise<void>((resolve, reject) => calls.push({ file, done: resolve, fail: reject }));
  return { calls, fsync };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('WalSync (the durable half of group commit)', () => {
  test('one fsync at a time; commits made while it runs share the next one, and wait for it', async () => {
    const { calls, fsync } = manualFsync();
    const wal = new WalSync('/db/coordinator.db-wal', fsync);
    const settled: string[] = [];
    const a = wal.afterCommit().then(() => settled.push('a'));
    // b and c commit while a's fsync runs (it may have begun before their frames were written): they wait for the next.
    const b = wal.afterCommit().then(() => settled.push('b'));
    const c = wal.afterCommit().then(() => settled.push('c'));
    await tick();
    expect(calls.map((x) => x.file)).toEqual(['/db/coordinator.db-wal']);
    calls[0]!.done();
    await a;
    await tick();
    expect(settled).toEqual(['a']);
    expect(calls).toHaveLength(2); // one fsync for b and c together
    calls[1]!.done();
    await Promise.all([b, c]);
    expect(settled).toEqual(['a', 'b', 'c']);
    expect(calls).toHaveLength(2);
  });

  test('a failed fsync rejects the commits that waited for it; the next commit gets a new fsync', async () => {
    const { calls, fsync } = manualFsync();
    const wal = new WalSync('/db/x-wal', fsync);
    const first = wal.afterCommit();
    await tick();
    calls[0]!.fail(new Error('EIO'));
    await expect(first).rejects.toThrow('EIO');
    const second = wal.afterCommit();
    await tick();
    calls[1]!.done();
    await expect(second).resolves.toBeUndefined();
  });

  test('the real fsync: a WAL file that exists is synced, a missing one (checkpointed and removed) is nothing to do', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-wal-'));
    try {
      const file = path.join(dir, 'db-wal');
      fs.writeFileSync(file, 'frames');
      await expect(new WalSync(file).afterCommit()).resolves.toBeUndefined();
      await expect(new WalSync(path.join(dir, 'absent-wal')).afterCommit()).resolves.toBeUndefined();
      await expect(new WalSync(path.join(file, 'under-a-file')).afterCommit()).rejects.toMatchObject({
        code: 'ENOTDIR',
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('FileSync (the WAL fsync through a descriptor kept between fsyncs)', () => {
  afterEach(() => jest.restoreAllMocks());

  test('opens the file once for many fsyncs, opens it again when it was replaced, and closes it when told', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-filesync-'));
    try {
      const file = path.join(dir, 'db-wal');
      const opens = jest.spyOn(fs, 'open');
      const closes = jest.spyOn(fs, 'closeSync');
      const sync = new FileSync(file);
      await sync.sync(); // no file yet: nothing to sync, nothing opened
      expect(opens).toHaveBeenCalledTimes(0);
      fs.writeFileSync(file, 'frames');
      for (let i = 0; i < 3; i++) await sync.sync();
      expect(opens).toHaveBeenCalledTimes(1);
      expect(closes).toHaveBeenCalledTimes(0);
      // Removed and created again at the same path: the old descriptor is closed, the new file opened.
      fs.rmSync(file);
      fs.writeFileSync(file, 'other frames');
      await sync.sync();
      expect(opens).toHaveBeenCalledTimes(2);
      expect(closes).toHaveBeenCalledTimes(1);
      // Removed: nothing to sync, and the descriptor of the removed file is not kept.
      fs.rmSync(file);
      await sync.sync();
      expect(closes).toHaveBeenCalledTimes(2);
      fs.writeFileSync(file, 'frames again');
      await sync.sync();
      sync.close(false);
      expect(closes).toHaveBeenCalledTimes(3);
      // After close, a late fsync (writes flushed at close) opens and closes a descriptor of its own.
      await sync.sync();
      expect(opens).toHaveBeenCalledTimes(4);
      expect(closes).toHaveBeenCalledTimes(4);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('closed while an fsync runs: the descriptor is closed once that fsync settles', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-filesync-close-'));
    try {
      const file = path.join(dir, 'db-wal');
      fs.writeFileSync(file, 'frames');
      const closes = jest.spyOn(fs, 'closeSync');
      const sync = new FileSync(file);
      const running = sync.sync();
      sync.close(true);
      expect(closes).toHaveBeenCalledTimes(0);
      await running;
      expect(closes).toHaveBeenCalledTimes(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('WriteBatch with WalSync', () => {
  test('commits with synchronous NORMAL, acknowledges only after the WAL fsync, and leaves the connection FULL', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-batch-wal-'));
    try {
      const c = new SqlContext(openDatabase({ path: path.join(dir, 'a.db') }));
      c.db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
      const { calls, fsync } = manualFsync();
      const syncDuringCommit: number[] = [];
      const batch = new WriteBatch(() => c, new WalSync(`${c.db.name}-wal`, fsync));
      let acknowledged = false;
      const write = batch
        .run((ctx) => {
          syncDuringCommit.push(ctx.db.pragma('synchronous', { simple: true }) as number);
          return ctx.stmt('INSERT INTO t (k) VALUES (?)').run('a').changes;
        })
        .then((n) => ((acknowledged = true), n));
      await tick();
      await tick();
      expect(c.stmt('SELECT COUNT(*) FROM t').pluck().get()).toBe(1); // committed…
      expect(acknowledged).toBe(false); // …but not acknowledged before the fsync
      expect(calls.map((x) => x.file)).toEqual([`${path.join(dir, 'a.db')}-wal`]);
      calls[0]!.done();
      expect(await write).toBe(1);
      expect(syncDuringCommit).toEqual([1]); // NORMAL inside the batch
      expect(c.db.pragma('synchronous', { simple: true })).toBe(2); // FULL for every other write
      c.db.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('writes that arrive while an fsync runs are held, then share one transaction and the next fsync; none is acknowledged before its fsync', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-batch-held-'));
    try {
      const c = new SqlContext(openDatabase({ path: path.join(dir, 'a.db') }));
      c.db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
      let transactions = 0;
      const tx = c.tx.bind(c);
      c.tx = (fn) => {
        transactions++;
        return tx(fn);
      };
      const { calls, fsync } = manualFsync();
      const batch = new WriteBatch(() => c, new WalSync(`${c.db.name}-wal`, fsync));
      const acknowledged: string[] = [];
      const insert = (k: string) =>
        batch.run((ctx) => ctx.stmt('INSERT INTO t (k) VALUES (?)').run(k).changes).then(() => acknowledged.push(k));
      const first = insert('a');
      await tick();
      await tick();
      expect(transactions).toBe(1);
      expect(calls).toHaveLength(1); // the first commit's fsync runs…
      // …while three more writes arrive, in three turns of the event loop.
      const later = [insert('b')];
      await tick();
      later.push(insert('c'));
      await tick();
      later.push(insert('d'));
      await tick();
      expect(transactions).toBe(1); // held: nothing committed while the fsync runs
      expect(c.stmt('SELECT COUNT(*) FROM t').pluck().get()).toBe(1);
      calls[0]!.done();
      await first;
      await tick();
      expect(acknowledged).toEqual(['a']);
      expect(transactions).toBe(2); // the held writes: one transaction…
      expect(calls).toHaveLength(2); // …and one fsync
      expect(c.stmt('SELECT COUNT(*) FROM t').pluck().get()).toBe(4);
      calls[1]!.done();
      await Promise.all(later);
      expect(acknowledged).toEqual(['a', 'b', 'c', 'd']);
      c.db.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a held write that throws rejects alone: the others of its transaction commit and are acknowledged after the fsync', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-batch-fail-'));
    try {
      const c = new SqlContext(openDatabase({ path: path.join(dir, 'a.db') }));
      c.db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
      const { calls, fsync } = manualFsync();
      const batch = new WriteBatch(() => c, new WalSync(`${c.db.name}-wal`, fsync));
      const insert = (k: string) => (ctx: SqlContext) => ctx.stmt('INSERT INTO t (k) VALUES (?)').run(k).changes;
      const first = batch.run(insert('a'));
      await tick();
      await tick();
      expect(calls).toHaveLength(1);
      // Held while the fsync runs: a good write, a duplicate key, a multi-statement write (own savepoint) that fails
      // after its first insert, and another good write.
      const settled = Promise.allSettled([
        batch.run(insert('b')),
        batch.run(insert('a')),
        batch.run((ctx) =>
          ctx.tx(() => {
            insert('x')(ctx);
            throw new Error('validation');
          }),
        ),
        batch.run(insert('c')),
      ]);
      await tick();
      calls[0]!.done();
      await first;
      await tick();
      expect(calls).toHaveLength(2);
      let done = false;
      void settled.then(() => (done = true));
      await tick();
      expect(done).toBe(false); // nothing of the held transaction is answered before its own fsync
      calls[1]!.done();
      const [b, dup, multi, last] = await settled;
      expect(b).toEqual({ status: 'fulfilled', value: 1 });
      expect(dup).toMatchObject({ status: 'rejected', reason: { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' } });
      expect(multi).toMatchObject({ status: 'rejected', reason: { message: 'validation' } });
      expect(last).toEqual({ status: 'fulfilled', value: 1 });
      expect(c.stmt('SELECT k FROM t ORDER BY k').pluck().all()).toEqual(['a', 'b', 'c']);
      c.db.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('closing while writes are held commits them, and they are acknowledged and found after reopening', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-batch-close-'));
    const file = path.join(dir, 'a.db');
    try {
      let c: SqlContext | null = new SqlContext(openDatabase({ path: file }));
      c.db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
      const { calls, fsync } = manualFsync();
      const batch = new WriteBatch(
        () => {
          if (!c) throw new Error('closed');
          return c;
        },
        new WalSync(`${c.db.name}-wal`, fsync),
      );
      const insert = (k: string) => batch.run((ctx) => ctx.stmt('INSERT INTO t (k) VALUES (?)').run(k).changes);
      const first = insert('a');
      await tick();
      await tick();
      const held = [insert('b'), insert('c')];
      await tick();
      expect(c.stmt('SELECT COUNT(*) FROM t').pluck().get()).toBe(1);
      batch.flush(); // what SqliteContext.close does before closing the database
      const db = c.db;
      c = null;
      db.close();
      const afterClose = insert('d').then(
        () => 'acknowledged',
        (e: Error) => e.message,
      );
      calls[0]!.done();
      await tick();
      for (const call of calls.slice(1)) call.done();
      await expect(Promise.all([first, ...held])).resolves.toEqual([1, 1, 1]);
      expect(await afterClose).toBe('closed');
      const again = openDatabase({ path: file });
      expect(again.prepare('SELECT k FROM t ORDER BY k').pluck().all()).toEqual(['a', 'b', 'c']);
      again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
