/** `twinfed sites invite|list|revoke`: enrollment invitations and the sites of the consortium. */
import { Command, InvalidArgumentError } from 'commander';
import { createContext, type CliDeps } from '../context';
import { renderKeyValues, renderTable } from '../format';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a whole number of seconds.');
  return n;
}

/** Adds the `sites` command group to `program`. */
export function registerSites(program: Command, deps: CliDeps): void {
  const sites = program
    .command('sites')
    .description('Invite hospitals (sites) to the consortium, list them, revoke them.')
    .addHelpText(
      'after',
      '\nExamples:\n  $ twinfed sites invite "St Mary Hospital" --ttl 3600\n  $ twinfed sites list\n  $ twinfed sites revoke site-3f2a\n',
    );

  sites
    .command('invite')
    .description(
      'Create a one-time enrollment token for a new site. The token is shown once; hand it to the hospital over a trusted channel.',
    )
    .argument('<name>', 'the site name shown to operators (letters, digits, space, dot, dash, underscore)')
    .option('--ttl <seconds>', 'how long the token stays valid (60 s … 30 days)', seconds, 24 * 3600)
    .addHelpText(
      'after',
      '\nExample:\n  $ twinfed sites invite "St Mary Hospital" --ttl 3600\n\n' +
        'The hospital then enrolls with the command it prints:\n  $ twinfed-site enroll --coordinator <url> --token <token> --fingerprint <fp> [--ca ca.pem]\n' +
        'Enrollment stops before the token is used when the coordinator keys do not match the fingerprint.\n',
    )
    .action(async (name: string, opts: { ttl: number }, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      // The fingerprint first (a public route): the hospital checks the keys it pins against it before using the token.
      const { fingerprint } = await ctx.client.coordinatorKeys();
      const inv = await ctx.client.createInvitation({ siteName: name, ttlSeconds: opts.ttl });
      const https = ctx.url.startsWith('https:');
      const enroll = `twinfed-site enroll --coordinator ${ctx.url} --token ${inv.token} --fingerprint ${fingerprint}${https ? ' --ca ca.pem' : ''}`;
      ctx.emit({ ...inv, coordinatorUrl: ctx.url, fingerprint, enrollCommand: enroll }, () =>
        [
          renderKeyValues([
            ['invitation', inv.invitationId],
            ['site', inv.siteName],
            ['expires', inv.expiresAt],
            ['token', inv.token],
            ['fingerprint', fingerprint],
          ]),
          'The token is shown only this once. At the hospital, run:',
          `  ${enroll}`,
          ...(https
            ? [
                "  (ca.pem: the consortium CA certificate from `twinfed tls init`; leave --ca out when the coordinator's certificate is publicly trusted.)",
              ]
            : []),
        ].join('\n'),
      );
    });

  sites
    .command('list')
    .description('List enrolled sites with their key fingerprint, last contact and revocation state.')
    .addHelpText('after', '\nExample:\n  $ twinfed sites list\n  $ twinfed sites list --json\n')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const list = await ctx.client.listSites();
      ctx.emit(list, () =>
        renderTable(
          list,
          [
            { header: 'ID', cell: (s) => s.id },
            { header: 'NAME', cell: (s) => s.name },
            { header: 'STATUS', cell: (s) => (s.revokedAt ? 'revoked' : 'active') },
            { header: 'FINGERPRINT', cell: (s) => s.fingerprint },
            { header: 'ENROLLED', cell: (s) => s.enrolledAt },
            { header: 'LAST SEEN', cell: (s) => s.lastSeenAt },
            { header: 'MISSED', cell: (s) => s.missedRounds, right: true },
          ],
          '(no sites enrolled yet — invite one with `twinfed sites invite <name>`)',
        ),
      );
    });

  sites
    .command('revoke')
    .description('Revoke a site: its signed requests are refused from now on and it is no longer selected for rounds.')
    .argument('<id>', 'the site id (see `twinfed sites list`)')
    .addHelpText('after', '\nExample:\n  $ twinfed sites revoke site-3f2a\n')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const site = await ctx.client.revokeSite(id);
      ctx.emit(
        site ?? { id, revoked: true },
        () =>
          `Revoked site ${site ? `${site.name} (${site.id})` : id}${site?.revokedAt ? ` at ${site.revokedAt}` : ''}.`,
      );
    });
}
