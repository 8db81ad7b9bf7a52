import fs from 'node:fs';

/** Makes a file's written data durable (fsync), off the main thread. */
type FsyncFile = (file: string) => Promise<void>;

/**
 * fsync of the file at `file` through a descriptor of its own, in libuv's thread pool. fsync flushes the inode, so it
 * covers what SQLite's connection wrote. A missing WAL file is nothing to sync: SQLite removes it only after a
 * checkpoint copied (and synced) every frame into the database file.
 */
const fsyncFile: FsyncFile = async (file) => {
  let handle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};

/**
 * Group commit's durable half: the write batch commits with `synchronous = NORMAL` (the WAL frames are written, not
 * yet fsynced: a process crash keeps them, a power loss might not), then waits here before acknowledging. At most one
 * fsync of the WAL runs at a time; commits made while it runs share the next one. So a burst of requests costs a few
 * fsyncs, and none of them blocks the event loop (better-sqlite3 would fsync on the main thread, ~5 ms each here).
 */
export class WalSync {
  private running = false;
  private waiting: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private idle: Array<() => void> = [];

  constructor(
    private readonly walPath: string,
    private readonly fsync: FsyncFile = fsyncFile,
  ) {}

  /** Resolves once an fsync of the WAL that began after this call has completed (rejects if it failed). */
  afterCommit(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.running) this.start();
    });
  }

  /** True while an fsync of the WAL runs. */
  get syncing(): boolean {
    return this.running;
  }

  /** Calls `fn` once the running fsync has settled (before the next one starts); at once when none runs. */
  whenIdle(fn: () => void): void {
    if (this.running) this.idle.push(fn);
    else fn();
  }

  private start(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.running = true;
    this.fsync(this.walPath).then(
      () => this.settle(batch, (w) => w.resolve()),
      (e: unknown) => this.settle(batch, (w) => w.reject(e)),
    );
  }

  private settle(
    batch: Array<{ resolve: () => void; reject: (e: unknown) => void }>,
    how: (w: { resolve: () => void; reject: (e: unknown) => void }) => void,
  ): void {
    this.running = false;
    batch.forEach(how);
    const idle = this.idle;
    this.idle = [];
    for (const fn of idle) fn(); // e.g. the write batch commits what it held, and waits for the next fsync
    if (this.waiting.length > 0 && !this.running) this.start();
  }
}
