/**
 * The site's own tamper-evident record of what it did (enrolled, trained round N of federation F, uploaded update
 * digest D, refused version V, refused its data by a guardrail) and decided (approved, rejected or revoked plan P of
 * federation F, by hand or by policy; changed its policy): `audit.jsonl` in the data directory, one hash-chained
 * entry per line (the same chain as the coordinator's, see @twinfed/shared audit), appended with O_APPEND and fsync,
 * mode 0600. No secrets and no patient data: ids, digests, counts and error codes, and for a decision the name and
 * note its author gave (they never leave the site).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  AuditChainVerifier,
  TwinfedError,
  chainAuditEntry,
  type AuditBreak,
  type ChainedAuditEntry,
} from '@twinfed/shared';

/** File name of the site's audit chain inside the data directory. */
export const SITE_AUDIT_FILE = 'audit.jsonl';

/** What the site records. */
export type SiteAuditAction =
  | 'site.enrolled'
  | 'round.trained'
  | 'update.uploaded'
  | 'version.refused'
  | 'data.refused'
  | 'plan.refused'
  | 'secagg.refused'
  | 'cohort.answered'
  | 'cohort.refused'
  | 'cohort.pooled'
  // governance: the site's decisions about plans (by hand or by policy), and changes of its policy file
  | 'plan.approved'
  | 'plan.rejected'
  | 'plan.revoked'
  | 'policy.changed';

/** One entry to append. */
interface SiteAuditInput {
  action: SiteAuditAction;
  subject: string;
  detail?: Record<string, unknown>;
  /** Who: `site:<id>` by default when known. */
  actor?: string;
  at?: string;
}

/** The result of {@link SiteAuditLog.verify}. */
interface SiteAuditReport {
  ok: boolean;
  entries: number;
  head: { seq: number; hash: string } | null;
  firstBad: AuditBreak | null;
}

/** Reads the whole file as lines (empty when absent). */
function readLines(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  return text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
}

/**
 * The file's non-empty lines parsed (null: unreadable) as of one state of the file. An append-only file that grew
 * since is read from where this stopped; any other change (another inode, a shorter file, a rewrite that kept the
 * size) reads it whole again.
 */
interface ChainSnapshot {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly lines: Array<ChainedAuditEntry | null>;
}

/** The non-empty lines of `text`, parsed. */
function parseLines(text: string): Array<ChainedAuditEntry | null> {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(parseLine);
}

/** The file's bytes from `from` to `size` (or to its end, if it is shorter by now), as text. */
function readFrom(fd: number, from: number, size: number): string {
  const buf = Buffer.alloc(Math.max(0, size - from));
  let read = 0;
  while (read < buf.length) {
    const n = fs.readSync(fd, buf, read, buf.length - read, from + read);
    if (n === 0) break;
    read += n;
  }
  return buf.subarray(0, read).toString('utf8');
}

/** Whether `next` is the entry appended right after `last` (next seq, chained to its hash); false when either is unreadable. */
function chainsOnto(last: ChainedAuditEntry | null | undefined, next: ChainedAuditEntry | null | undefined): boolean {
  return !!last && !!next && next.seq === last.seq + 1 && next.prevHash === last.hash;
}

function parseLine(line: string): ChainedAuditEntry | null {
  try {
    const v = JSON.parse(line) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
    const e = v as Record<string, unknown>;
    if (
      typeof e.seq !== 'number' ||
      typeof e.hash !== 'string' ||
      typeof e.prevHash !== 'string' ||
      typeof e.detail !== 'object' ||
      e.detail === null
    )
      return null;
    return v as ChainedAuditEntry;
  } catch {
    return null;
  }
}

/** The site's append-only audit chain in one data directory. */
export class SiteAuditLog {
  readonly file: string;
  /** The chain as last read (this process's appends and other processes' alike are picked up by size). */
  private snapshot: ChainSnapshot | undefined;

  constructor(
    dataDir: string,
    private readonly actor: () => string = () => 'site',
  ) {
    this.file = path.join(dataDir, SITE_AUDIT_FILE);
  }

  /**
   * The chain's lines as the file holds them now: re-read only from where the last read stopped when the file merely
   * grew (entries are appended at its end, by this process or by the CLI's) and its first new entry chains onto the
   * last one read, else whole.
   */
  private lines(): ReadonlyArray<ChainedAuditEntry | null> {
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      this.snapshot = undefined;
      return [];
    }
    try {
      const st = fs.fstatSync(fd);
      const was = this.snapshot;
      if (was && was.ino === st.ino && was.size === st.size && was.mtimeMs === st.mtimeMs) return was.lines;
      let from = was && was.ino === st.ino && was.size < st.size ? was.size : 0;
      let text = readFrom(fd, from, st.size);
      let complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
      let added = parseLines(complete);
      if (from > 0 && added.length > 0 && !chainsOnto(was!.lines[was!.lines.length - 1], added[0])) {
        // Not an append to what was read (a file rewritten or replaced in place, larger): read it whole.
        from = 0;
        text = readFrom(fd, 0, st.size);
        complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
        added = parseLines(complete);
      }
      const lines = [...(from > 0 ? was!.lines : []), ...added];
      // A last line still being written (no newline yet) is read whole next time, not kept half.
      const size = from + Buffer.byteLength(complete);
      if (complete.length < text.length) {
        this.snapshot = { ino: st.ino, size, mtimeMs: Number.NaN, lines };
        return [...lines, parseLine(text.slice(complete.length))];
      }
      this.snapshot = { ino: st.ino, size, mtimeMs: st.mtimeMs, lines };
      return lines;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The last entry (null when the chain is empty). */
  private last(): { seq: number; hash: string } | null {
    const lines = this.lines();
    if (lines.length === 0) return null;
    const e = lines[lines.length - 1];
    if (!e)
      throw new TwinfedError(
        'CONFIG_INVALID',
        `The site audit chain ${this.file} ends with a damaged entry; run \`twinfed-site audit verify\`.`,
      );
    return { seq: e.seq, hash: e.hash };
  }

  /** Appends one entry durably (fsync) before returning it. */
  append(input: SiteAuditInput): ChainedAuditEntry {
    const entry = chainAuditEntry(this.last(), {
      at: input.at ?? new Date().toISOString(),
      actor: input.actor ?? this.actor(),
      action: input.action,
      subject: input.subject,
      detail: input.detail ?? {},
    });
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const fd = fs.openSync(this.file, 'a', 0o600);
    try {
      fs.writeSync(fd, `${JSON.stringify(entry)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    return entry;
  }

  /** Appends, but never lets a failure to record stop the site's work (it is reported through `onError`). */
  record(input: SiteAuditInput, onError?: (e: unknown) => void): void {
    try {
      this.append(input);
    } catch (e) {
      onError?.(e);
    }
  }

  /** Entries after `after` (seq), oldest first, at most `limit`; unreadable lines are skipped (verify names them). */
  list(options: { after?: number; limit?: number } = {}): ChainedAuditEntry[] {
    const after = options.after ?? 0;
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
    const out: ChainedAuditEntry[] = [];
    for (const e of this.lines()) {
      if (e && e.seq > after) out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Checks the whole chain: names the first line that was edited, removed, inserted, moved or damaged. */
  verify(): SiteAuditReport {
    const v = new AuditChainVerifier();
    let lineNo = 0;
    for (const line of readLines(this.file)) {
      lineNo++;
      const e = parseLine(line);
      if (!e) {
        v.fail({ seq: (v.head?.seq ?? 0) + 1, reason: `line ${lineNo} is not a valid entry` });
        break;
      }
      if (!v.push(e)) break;
    }
    return { ok: v.firstBad === null, entries: v.checked, head: v.head, firstBad: v.firstBad };
  }
}
