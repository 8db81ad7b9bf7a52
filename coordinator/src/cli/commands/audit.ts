/** `twinfed audit verify|list`: the coordinator's tamper-evident audit trail, over the API or straight from the database file. */
import { Command, InvalidArgumentError } from 'commander';
import {
  TwinfedError,
  fromB64,
  loadIdentity,
  verifyAuditTrail,
  type AuditEntryBody,
  type AuditVerifyReport,
  type SignedAuditHead,
} from '@twinfed/shared';
import { createContext, type CliDeps, type CommandContext } from '../context';
import { renderTable } from '../format';

const PAGE = 500;

/** What `list` prints of an entry: the hashed fields without the link (an entry's own hash may ride along). */
type ListedEntry = Omit<AuditEntryBody, 'prevHash'>;

function intArg(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

/** The coordinator's signing public key: --public-key (base64), else the key file in the data dir. */
function publicKeyFor(ctx: CommandContext, given: string | undefined): Uint8Array {
  if (given !== undefined) {
    const key = fromB64(given, 'BAD_REQUEST');
    if (key.length !== 32)
      throw new TwinfedError(
        'BAD_REQUEST',
        '--public-key must be the 32-byte Ed25519 key in base64 (signPublicKey of GET /v1/coordinator).',
      );
    return key;
  }
  return loadIdentity({ dir: ctx.dataDir, name: 'coordinator' }).sign.publicKey;
}

/** The text report; the first broken entry and the first bad head are named. */
function renderAuditReport(r: AuditVerifyReport, source: string): string {
  const lines = [`Audit trail of ${source}: ${r.ok ? 'INTACT' : 'NOT INTACT'}`];
  lines.push(
    `  entries verified: ${r.entries}${r.head ? ` (last seq ${r.head.seq}, hash ${r.head.hash.slice(0, 16)}…)` : ''}`,
  );
  lines.push(
    `  signed heads:     ${r.heads}${r.lastSignedHead ? ` (last good: seq ${r.lastSignedHead.seq}, signed ${r.lastSignedHead.at})` : ''}`,
  );
  if (r.firstBad) lines.push(`  first bad entry:  seq ${r.firstBad.seq}: ${r.firstBad.reason}`);
  if (r.badHead) lines.push(`  bad signed head:  seq ${r.badHead.seq}: ${r.badHead.reason}`);
  return lines.join('\n');
}

/** Both reports must be clean; the earlier break wins. */
function combine(local: AuditVerifyReport, server: AuditVerifyReport | null): AuditVerifyReport {
  if (!server || server.ok) return local;
  const earlier = <T extends { seq: number } | null>(a: T, b: T): T =>
    a === null ? b : b === null ? a : a.seq <= b.seq ? a : b;
  return {
    ...local,
    ok: false,
    firstBad: earlier(local.firstBad, server.firstBad),
    badHead: earlier(local.badHead, server.badHead),
  };
}

function finish(ctx: CommandContext, report: AuditVerifyReport, source: string): void {
  ctx.emit(report, () => renderAuditReport(report, source));
  if (!report.ok) {
    const where = report.firstBad
      ? `first bad entry: seq ${report.firstBad.seq} (${report.firstBad.reason})`
      : `bad signed head: seq ${report.badHead?.seq ?? '?'} (${report.badHead?.reason ?? ''})`;
    throw new TwinfedError('AUDIT_CHAIN_INVALID', `The audit trail does not verify; ${where}.`);
  }
}

/** Adds the `audit` command group to `program`. */
export function registerAudit(program: Command, deps: CliDeps): void {
  const audit = program
    .command('audit')
    .description(
      "The coordinator's tamper-evident audit trail: a hash chain of every security-relevant action, its head signed at every model version.",
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ twinfed audit verify                                   # over the API (operator token)',
        '  $ twinfed audit verify --db copy-of-coordinator.db --public-key <signPublicKey>   # forensics, offline',
        '  $ twinfed audit list --after 120 --limit 50',
      ].join('\n'),
    );

  audit
    .command('verify')
    .description(
      'Check the whole chain and every signed head; names the first bad entry and exits non-zero when anything was altered.',
    )
    .option(
      '--db <file>',
      'verify a coordinator database file directly (opened read-only; the coordinator may be stopped)',
    )
    .option(
      '--public-key <base64>',
      "the coordinator's signing public key (signPublicKey of GET /v1/coordinator, kept apart from the data); default: the key file in --data-dir, or (over the API) the key the coordinator announces",
    )
    .action(async (opts: { db?: string; publicKey?: string }, cmd: Command) => {
      if (opts.db !== undefined) {
        const ctx = createContext(cmd, deps, { offline: true });
        const { verifyAuditDatabase } = await import('../../audit/verify'); // loads SQLite only for --db
        const report = await verifyAuditDatabase(opts.db, publicKeyFor(ctx, opts.publicKey));
        return finish(ctx, report, opts.db);
      }
      const ctx = createContext(cmd, deps);
      const key =
        opts.publicKey !== undefined
          ? publicKeyFor(ctx, opts.publicKey)
          : fromB64((await ctx.client.coordinatorKeys()).signPublicKey, 'BAD_REQUEST');
      const heads: SignedAuditHead[] = await ctx.client.auditHeads();
      const local = await verifyAuditTrail({
        page: async (after) => (await ctx.client.auditPage(after, PAGE)).entries,
        heads,
        signPublicKey: key,
      });
      finish(ctx, combine(local, await ctx.client.auditVerify()), ctx.url);
    });

  audit
    .command('list')
    .description('Page through the chain, oldest first.')
    .option('--after <seq>', 'only entries after this seq', intArg(0, Number.MAX_SAFE_INTEGER), 0)
    .option('--limit <n>', 'at most this many entries (1–1000)', intArg(1, 1000), 50)
    .option('--db <file>', 'read a coordinator database file directly (read-only)')
    .action(async (opts: { after: number; limit: number; db?: string }, cmd: Command) => {
      const ctx = createContext(cmd, deps, opts.db !== undefined ? { offline: true } : {});
      let page: { entries: ListedEntry[]; next: number | null };
      if (opts.db !== undefined) {
        const { openAuditFile } = await import('../../store/sqlite/audit-file'); // loads SQLite only for --db
        const reader = openAuditFile(opts.db);
        try {
          const entries = reader.page(opts.after, opts.limit);
          page = { entries, next: entries.length === opts.limit ? entries[entries.length - 1]!.seq : null };
        } finally {
          reader.close();
        }
      } else {
        page = await ctx.client.auditPage(opts.after, opts.limit);
      }
      ctx.emit(page, () =>
        [
          renderTable(
            page.entries,
            [
              { header: 'SEQ', cell: (e) => String(e.seq) },
              { header: 'AT', cell: (e) => e.at },
              { header: 'ACTOR', cell: (e) => e.actor },
              { header: 'ACTION', cell: (e) => e.action },
              { header: 'SUBJECT', cell: (e) => e.subject },
              { header: 'DETAIL', cell: (e) => JSON.stringify(e.detail) },
            ],
            '(no entries)',
          ),
          page.next !== null ? `More: twinfed audit list --after ${page.next} --limit ${opts.limit}` : '',
        ]
          .filter(Boolean)
          .join('\n'),
      );
    });
}
