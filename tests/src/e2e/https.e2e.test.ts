import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { createAdminClient } from '@twinfed/coordinator';
import { PlanSchema, createFetch, type PlanInput } from '@twinfed/shared';
import { watchFederation, type Consortium } from '../demo/federation-run';
import { heartPlan } from '../demo/heart-plan';
import { coordinatorCli, siteCli } from '../support/paths';
import { runNode, startNode, stop, type Child } from '../support/processes';
import { writeSitePolicy } from '../support/site-policy';
import { readOperatorToken } from '../support/operator-token';

/** The fingerprint of the certificate a new TLS connection to 127.0.0.1:`port` sees (trusting `ca`). */
function servedCertificate(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

function json(lines: string[]): Record<string, unknown> {
  for (const l of lines) {
    try {
      const v = JSON.parse(l) as unknown;
      if (v && typeof v === 'object') return v as Record<string, unknown>;
    } catch {
      // a log line
    }
  }
  throw new Error(`no JSON line in:\n${lines.join('\n')}`);
}

/**
 * A consortium over HTTPS + WSS, every party a separate process: `twinfed tls init` makes a private CA, the
 * coordinator serves its certificate, the operator and the sites trust the CA with --ca.
 */
describe('federation over HTTPS with a private consortium CA', () => {
  let workDir: string;
  let tlsDir: string;
  let caFile: string;
  let ca: string;
  let coordinator: Child;
  let url: string;
  let port: number;
  let token: string;
  const sites: Child[] = [];

  const operator = (...args: string[]) => ['--url', url, '--token', token, ...args];

  beforeAll(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-https-e2e-'));
    tlsDir = path.join(workDir, 'tls');
    await runNode({
      name: 'tls init',
      script: coordinatorCli(),
      args: ['tls', 'init', '--out', tlsDir, '--host', 'localhost', '--ip', '127.0.0.1'],
    });
    caFile = path.join(tlsDir, 'ca.pem');
    ca = fs.readFileSync(caFile, 'utf8');
    const dataDir = path.join(workDir, 'coordinator');
    coordinator = startNode({
      name: 'coordinator',
      script: coordinatorCli(),
      args: [
        '--json',
        '--data-dir',
        dataDir,
        'coordinator',
        'start',
        '--port',
        '0',
        '--tls-cert',
        path.join(tlsDir, 'server.pem'),
        '--tls-key',
        path.join(tlsDir, 'server-key.pem'),
      ],
      env: { TWINFED_LOG_LEVEL: 'warn' },
    });
    url = String(JSON.parse(await coordinator.waitForLine(/"url"\s*:/, 30_000)).url);
    port = Number(new URL(url).port);
    token = readOperatorToken(dataDir);
  });

  afterAll(async () => {
    await Promise.all(sites.map((s) => stop(s)));
    if (coordinator) await stop(coordinator);
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  test('the coordinator announces an https URL', () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  test('an operator without the CA gets TLS_UNTRUSTED telling to pass --ca; with --ca the same command works', async () => {
    const without = startNode({
      name: 'twinfed sites list (no CA)',
      script: coordinatorCli(),
      args: operator('sites', 'list'),
    });
    expect(await without.exited).toBe(1);
    expect(without.lines.join('\n')).toMatch(
      /^twinfed: The TLS connection to https:\/\/127\.0\.0\.1:\d+ was refused: .*pass --ca <pem>.*\(TLS_UNTRUSTED\)$/m,
    );
    await runNode({
      name: 'twinfed sites list --ca',
      script: coordinatorCli(),
      args: ['--ca', caFile, ...operator('sites', 'list')],
    });
  });

  test('a site without the CA is refused with the clear error and nothing is enrolled; the token is still unused', async () => {
    const inv = json(
      await runNode({
        name: 'invite',
        script: coordinatorCli(),
        args: ['--json', '--ca', caFile, ...operator('sites', 'invite', 'Cleveland')],
      }),
    );
    const enrollCommand = String(inv.enrollCommand);
    expect(enrollCommand).toBe(
      `twinfed-site enroll --coordinator ${url} --token ${String(inv.token)} --fingerprint ${String(inv.fingerprint)} --ca ca.pem`,
    );
    const dataDir = path.join(workDir, 'site-0');
    const refused = startNode({
      name: 'enroll without CA',
      script: siteCli(),
      args: ['enroll', '--coordinator', url, '--token', String(inv.token), '--data-dir', dataDir],
    });
    expect(await refused.exited).toBe(1);
    expect(refused.lines.join('\n')).toMatch(
      /^error: The TLS connection to https:\/\/127\.0\.0\.1:\d+ was refused: its certificate is not signed by a CA this client trusts .*pass --ca <pem>.* \[TLS_UNTRUSTED\]$/m,
    );
    expect(fs.existsSync(path.join(dataDir, 'site.json'))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'site.key.json'))).toBe(false);
    // The command the operator printed (with the CA file in place of "ca.pem") enrolls with the very same token.
    const args = enrollCommand
      .split(' ')
      .slice(1)
      .map((a) => (a === 'ca.pem' ? caFile : a));
    const enrolled = json(
      await runNode({ name: 'enroll Cleveland', script: siteCli(), args: ['--json', ...args, '--data-dir', dataDir] }),
    );
    expect(enrolled.coordinatorFingerprint).toBe(inv.fingerprint);
  });

  test('two sites federate to completion over HTTPS; round events arrive over WSS; SIGHUP swaps the certificate without dropping the federation', async () => {
    const inv = json(
      await runNode({
        name: 'invite',
        script: coordinatorCli(),
        args: ['--json', '--ca', caFile, ...operator('sites', 'invite', 'Hungarian')],
      }),
    );
    await runNode({
      name: 'enroll Hungarian',
      script: siteCli(),
      args: [
        'enroll',
        '--coordinator',
        url,
        '--token',
        String(inv.token),
        '--fingerprint',
        String(inv.fingerprint),
        '--ca',
        caFile,
        '--data-dir',
        path.join(workDir, 'site-1'),
      ],
    });
    // The renewed certificate (same CA) is made ahead, so that the swap below is a copy and a signal.
    const nextDir = path.join(workDir, 'tls-next');
    await runNode({
      name: 'tls renew',
      script: coordinatorCli(),
      args: [
        'tls',
        'init',
        '--out',
        nextDir,
        '--host',
        'localhost',
        '--ip',
        '127.0.0.1',
        '--ca-cert',
        caFile,
        '--ca-key',
        path.join(tlsDir, 'ca-key.pem'),
      ],
    });
    const renewed = new X509Certificate(fs.readFileSync(path.join(nextDir, 'server.pem'))).fingerprint256;
    const tlsFetch = createFetch({ ca });
    const admin = createAdminClient({ baseUrl: url, token, fetch: tlsFetch });
    try {
      const plan: PlanInput = {
        ...heartPlan({ rounds: 3, minSites: 2 }),
        strategy: { name: 'fedavg' },
        training: { steps: 30, batchSize: 4, optimizer: 'sgd', lr: 0.01 },
      };
      const fed = await admin.createFederation(PlanSchema.parse(plan));
      // No --ca: `run` uses the CA recorded at enrollment. A one-hour poll interval: after its first look, a site only
      // learns of a new round, a new model or the end of the federation from the socket push, so completion proves WSS.
      // Each hospital's policy approves every plan (recorded in its audit chain).
      for (const center of [0, 1]) writeSitePolicy(path.join(workDir, `site-${center}`), { autoApprove: true });
      const runSite = (center: number) =>
        startNode({
          name: `site ${center}`,
          script: siteCli(),
          args: [
            'run',
            '--heart-disease',
            String(center),
            '--federation',
            fed.id,
            '--data-dir',
            path.join(workDir, `site-${center}`),
            '--poll-interval',
            '3600000',
          ],
          env: { TWINFED_LOG_LEVEL: 'info' },
        });
      // Site 0 first: it connects its socket and uploads; round 1 cannot close without site 1.
      sites.push(runSite(0));
      await sites[0]!.waitForLine(/event stream connected/, 60_000);
      for (let i = 0; i < 600 && (await admin.listRounds(fed.id))[0]?.received !== 1; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect((await admin.listRounds(fed.id)).map((r) => [r.round, r.received])).toEqual([[1, 1]]);

      // Swap the certificate files and send SIGHUP: new connections see the renewed certificate.
      const before = await servedCertificate(port, ca);
      expect(before).not.toBe(renewed);
      fs.copyFileSync(path.join(nextDir, 'server-key.pem'), path.join(tlsDir, 'server-key.pem'));
      fs.copyFileSync(path.join(nextDir, 'server.pem'), path.join(tlsDir, 'server.pem'));
      coordinator.proc.kill('SIGHUP');
      let served = before;
      for (let i = 0; i < 100 && served !== renewed; i++) {
        served = await servedCertificate(port, ca);
        if (served !== renewed) await new Promise((r) => setTimeout(r, 100));
      }
      expect(served).toBe(renewed);

      // Site 1 joins over the renewed certificate; the rest of the federation runs after the reload.
      sites.push(runSite(1));
      const consortium: Consortium = {
        url,
        admin,
        sites,
        siteIds: new Map(),
        stopAll: async () => undefined,
      };
      const done = await watchFederation(consortium, { federationId: fed.id, timeoutMs: 150_000 });
      expect(done.federation.state).toBe('completed');
      expect(done.rounds.map((r) => r.state)).toEqual(['published', 'published', 'published']);
      for (const r of done.rounds) expect(r.received).toBe(2);
      for (const s of sites) expect(await s.exited).toBe(0);
      // Site 0's socket from before the reload carried every later event: it connected once and never reconnected.
      for (const s of sites) expect(s.lines.filter((l) => /event stream connected/.test(l))).toHaveLength(1);
      expect(
        sites[0]!.lines.some(
          (l) => /event stream disconnected/.test(l) && !/io client disconnect|io server disconnect/.test(l),
        ),
      ).toBe(false);
      expect(coordinator.proc.exitCode).toBeNull();
    } finally {
      await tlsFetch.close();
    }
  }, 240_000);
});
