import fs from 'node:fs';

/** Makes a file's written data durable (fsync), off the main thread. */
type FsyncFile = (file: string) => Promise<void>;

/**
 * fsyncs of the file at `path` in libuv's thread pool, through a descriptor of its own opened at the first sync and
 * kept for the next ones: opening and closing it around every fsync were two more trips through the thread pool, each
 * a wake-up of the main thread (measured: open, fsync and close were 13 % of the coordinator's busy time over signed
 * requests). fsync flushes the inode, so it covers what SQLite's connection wrote. Before each fsync the path is
 * checked (a stat on the main thread, microseconds): a missing file is nothing to sync (SQLite removes the WAL only
 * after a checkpoint copied and synced every frame into the database file), and a file that is no longer the one the
 * descriptor holds (removed and created again) is opened again, so the fsync always reaches the file SQLite writes.
 */
export class FileSync {
  private held: { fd: number; dev: number; ino: number } | undefined;
  private closed = false;

  constructor(private readonly path: string) {}

  /** One fsync of the file (resolves at once when it does not exist). Never called again before it settles. */
  async sync(): Promise<void> {
    const now = fs.statSync(this.path, { throwIfNoEntry: false });
    if (this.held && (!now || now.dev !== this.held.dev || now.ino !== this.held.ino)) this.release();
    if (!now) return;
    if (!this.held) {
      let fd: number;
      try {
        fd = await openForReading(this.path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      const opened = fs.fstatSync(fd);
      this.held = { fd, dev: opened.dev, ino: opened.ino };
    }
    const { fd } = this.held;
    try {
      await fsyncOf(fd);
    } finally {
      if (this.closed) this.release();
    }
  }

  /** Closes the descriptor now, or after the fsync that runs; a later sync opens and closes its own. */
  close(running: boolean): void {
    this.closed = true;
    if (!running) this.release();
  }

  private release(): void {
    const held = this.held;
    this.held = undefined;
    if (held) fs.closeSync(held.fd);
  }
}

const openForReading = (path: string) =>
  new Promise<number>((resolve, reject) => fs.open(path, 'r', (err, fd) => (err ? reject(err) : resolve(fd))));

const fsyncOf = (fd: number) =>
  new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));

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

  private readonly file: FileSync;

  constructor(
    private readonly walPath: string,
    private readonly fsync?: FsyncFile,
  ) {
    this.file = new FileSync(walPath);
  }

  /** Releases the WAL's descriptor (after the fsync that runs, if any); called when the database closes. */
  close(): void {
    this.file.close(this.running);
  }

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
    (this.fsync ? this.fsync(this.walPath) : this.file.sync()).then(
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
