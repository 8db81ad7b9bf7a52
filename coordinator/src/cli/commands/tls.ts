/** `twinfed tls init`: a private consortium CA and a server certificate for the coordinator. */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { createContext, type CliDeps } from '../context';
import { renderKeyValues } from '../format';

function days(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 3650) throw new InvalidArgumentError('expected a whole number of days (1–3650).');
  return n;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Adds the `tls` command group to `program`. */
export function registerTls(program: Command, deps: CliDeps): void {
  const tls = program.command('tls').description('Certificates for serving the coordinator over HTTPS.');
  tls
    .command('init')
    .description(
      'Create a private consortium CA (ca.pem, ca-key.pem) and a server certificate signed by it (server.pem, server-key.pem) ' +
        'for the host names and addresses the coordinator is reached by. For trials and private consortia; in production the ' +
        "coordinator may use a certificate from the hospital's own PKI instead (any PEM certificate and key work with --tls-cert/--tls-key). " +
        'Private keys are written mode 0600: keep ca-key.pem offline, it can sign certificates every site trusts. ' +
        'Give ca.pem (the certificate only) to each site and operator, who pass it as --ca.',
    )
    .requiredOption('--out <dir>', 'directory to write the four PEM files to (created mode 0700)')
    .option('--host <name>', 'DNS name of the coordinator (repeatable)', collect, [])
    .option('--ip <address>', 'IP address of the coordinator (repeatable)', collect, [])
    .option('--days <n>', 'validity of the server certificate in days', days, 397)
    .option('--force', 'overwrite existing files in --out')
    .addHelpText(
      'after',
      '\nExample:\n' +
        '  $ twinfed tls init --out /etc/twinfed/tls --host coordinator.consortium.example --ip 10.20.0.5\n' +
        '  $ twinfed coordinator start --host 0.0.0.0 --tls-cert /etc/twinfed/tls/server.pem --tls-key /etc/twinfed/tls/server-key.pem\n' +
        '  $ twinfed-site enroll --coordinator https://coordinator.consortium.example:8470 --ca ca.pem --token … --fingerprint …\n' +
        'Each run creates a new CA: sites trust only the ca.pem they were given. To replace the server certificate, put the\n' +
        'new server.pem and server-key.pem in place and `kill -HUP <coordinator pid>`: connected sites stay connected.\n',
    )
    .action(async (opts: { out: string; host: string[]; ip: string[]; days: number; force?: boolean }, cmd: Command) => {
      const ctx = createContext(cmd, deps, { offline: true });
      const { createCertificates, writeCertificates } = await import('../../tls/certificates');
      const set = await createCertificates({ hosts: opts.host, ips: opts.ip, serverDays: opts.days });
      const files = writeCertificates(path.resolve(opts.out), set, { force: opts.force === true });
      ctx.emit({ ...files, hosts: opts.host, ips: opts.ip }, () =>
        [
          renderKeyValues([
            ['CA certificate', `${files.caCert} (give it to sites and operators: --ca)`],
            ['CA key', `${files.caKey} (mode 0600; keep it offline)`],
            ['server certificate', files.serverCert],
            ['server key', `${files.serverKey} (mode 0600)`],
            ['names', [...opts.host, ...opts.ip].join(', ')],
          ]).trimEnd(),
          'Start the coordinator with:',
          `  twinfed coordinator start --tls-cert ${files.serverCert} --tls-key ${files.serverKey}`,
        ].join('\n'),
      );
    });
}
