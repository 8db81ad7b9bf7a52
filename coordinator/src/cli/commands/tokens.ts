/** `twinfed tokens create|list|revoke`: bearer tokens for researchers (read-only) and operators. */
import { Command, Option } from 'commander';
import { TwinfedError, routes } from '@twinfed/shared';
import { createContext, type CliDeps } from '../context';
import { renderKeyValues, renderTable } from '../format';

/** Adds the `tokens` command group to `program`. */
export function registerTokens(program: Command, deps: CliDeps): void {
  const tokens = program
    .command('tokens')
    .description('Bearer tokens for researchers (read-only API and dashboard) and operators: create, list, revoke.')
    .addHelpText(
      'after',
      '\nExamples:\n  $ twinfed tokens create "Dr Ada Lovelace" --role researcher --study study-heart-2026-3fa2c1\n  $ twinfed tokens create "Ops on call" --role operator\n  $ twinfed tokens list\n  $ twinfed tokens revoke tok-3f2a9c\n',
    );

  tokens
    .command('create')
    .description('Create a bearer token. It is shown once and stored only hashed; hand it over a trusted channel.')
    .argument('<name>', 'who holds it (letters, digits, space, dot, @, dash, underscore)')
    .addOption(new Option('--role <role>', 'what it may do').choices(['researcher', 'operator']).default('researcher'))
    .option(
      '--study <id>',
      'researcher tokens: a study whose federations it may read (repeat for several; see `twinfed studies list`)',
      (id: string, previous: string[]) => [...previous, id],
      [] as string[],
    )
    .action(async (name: string, opts: { role: 'researcher' | 'operator'; study: string[] }, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      if (opts.role === 'researcher' && opts.study.length === 0)
        throw new TwinfedError(
          'VALIDATION_FAILED',
          'A researcher token reads only the federations of its studies: pass --study <id> (see `twinfed studies list`).',
        );
      const t = await ctx.client.createToken({
        name,
        role: opts.role,
        ...(opts.study.length > 0 ? { studies: opts.study } : {}),
      });
      const dashboard = `${ctx.url}${routes.dashboard}`;
      ctx.emit({ ...t, dashboardUrl: dashboard }, () =>
        [
          renderKeyValues([
            ['id', t.id],
            ['name', t.name],
            ['role', t.role],
            ['studies', t.role === 'operator' ? 'all' : t.studies.join(', ')],
            ['token', t.token],
          ]),
          'The token is shown only this once.',
          t.role === 'researcher' ? `Researchers sign in to the read-only dashboard at ${dashboard} with it.` : '',
        ]
          .filter(Boolean)
          .join('\n'),
      );
    });

  tokens
    .command('list')
    .description('List tokens (never their values) with role and revocation state.')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const list = await ctx.client.listTokens();
      ctx.emit(list, () =>
        renderTable(
          list,
          [
            { header: 'ID', cell: (t) => t.id },
            { header: 'NAME', cell: (t) => t.name },
            { header: 'ROLE', cell: (t) => t.role },
            { header: 'STUDIES', cell: (t) => (t.role === 'operator' ? 'all' : t.studies.join(',')) },
            { header: 'STATUS', cell: (t) => (t.revokedAt ? 'revoked' : 'active') },
            { header: 'CREATED', cell: (t) => t.createdAt },
          ],
          '(no tokens)',
        ),
      );
    });

  tokens
    .command('revoke')
    .description('Revoke a token: requests with it are refused from now on.')
    .argument('<id>', 'the token id (see `twinfed tokens list`)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const t = await ctx.client.revokeToken(id);
      ctx.emit(t, () => `Revoked token ${t.name} (${t.id}, ${t.role}) at ${t.revokedAt ?? '?'}.`);
    });
}
