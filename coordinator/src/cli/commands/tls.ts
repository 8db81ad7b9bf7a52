/** `twinfed tls init`: a private consortium CA and a server certificate for the coordinator. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TwinfedError } from '@twinfed/shared';
import { InvalidArgumentError, type Command } from 'commander';
import { createContext, type CliDeps } from '../context';
import { renderKeyValues } from '../format';

function days(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 3650)
    throw new InvalidArgumentError('expected a whole number of days (1–3650).');
  return n;
}

interface TlsInitFlags {
  out: string;
  host: string[];
  ip: string[];
  days: number;
  caCert?: string;
  caKey?: string;
  force?: boolean;
}

async function readText(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new TwinfedError(
      'CONFIG_INVALID',
      `${flag} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'unreadable'}).`,
    );
  }
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
    .option(
      '--ca-cert <pem>',
      'renewal: sign with this existing CA certificate (the ca.pem of an earlier run) instead of creating a new CA; needs --ca-key',
    )
    .option('--ca-key <pem>', 'renewal: the private key of --ca-cert (ca-key.pem)')
    .option('--force', 'overwrite existing files in --out')
    .addHelpText(
      'after',
      '\nExample:\n' +
        '  $ twinfed tls init --out /etc/twinfed/tls --host coordinator.consortium.example --ip 10.20.0.5\n' +
        '  $ twinfed coordinator start --host 0.0.0.0 --tls-cert /etc/twinfed/tls/server.pem --tls-key /etc/twinfed/tls/server-key.pem\n' +
        '  $ twinfed-site enroll --coordinator https://coordinator.consortium.example:8470 --ca ca.pem --token … --fingerprint …\n' +
        '\nRenewal (same CA, so sites keep their ca.pem), then reload without dropping the federation:\n' +
        '  $ twinfed tls init --out /etc/twinfed/tls --force --host coordinator.consortium.example \\\n' +
        '      --ca-cert /etc/twinfed/tls/ca.pem --ca-key /etc/twinfed/tls/ca-key.pem\n' +
        '  $ kill -HUP <coordinator pid>\n' +
        'Without --ca-cert each run creates a new CA, and every site and operator needs the new ca.pem.\n',
    )
    .action(async (opts: TlsInitFlags, cmd: Command) => {
      const ctx = createContext(cmd, deps, { offline: true });
      if ((opts.caCert === undefined) !== (opts.caKey === undefined))
        throw new TwinfedError(
          'CONFIG_INVALID',
          'Give both --ca-cert and --ca-key (renewal with an existing CA), or neither (a new CA).',
        );
      const { createCertificates, renewServerCertificate, writeCertificates } = await import('../../tls/certificates');
      const names = { hosts: opts.host, ips: opts.ip, serverDays: opts.days };
      const set =
        opts.caCert !== undefined && opts.caKey !== undefined
          ? await renewServerCertificate({
              ...names,
              caCert: await readText(opts.caCert, '--ca-cert'),
              caKey: await readText(opts.caKey, '--ca-key'),
            })
          : await createCertificates(names);
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
