import * as fs from 'node:fs';
import * as path from 'node:path';
import { HEART_DISEASE_FEATURES } from '@twinfed/models';
import { fingerprint, generateIdentity, publicPart, toB64 } from '@twinfed/shared';
import { coordinatorFetch } from '../__tests__/coordinator-fetch';
import { FakeCoordinator, testPlan } from '../__tests__/fake-coordinator';
import { cli, enrollArgs, io, tmpSiteDir, writeSitePolicy } from '../__tests__/cli';
import { loadEnrollment } from '../identity/load';
import { readSiteState, writeSiteState } from '../identity/site-state';
import { JOURNAL_FILE, Journal } from '../training/journal';

describe('twinfed-site CLI', () => {
  test('--help explains the commands, with a getting-started section, and exits 0', async () => {
    const t = io();
    expect(await cli(['--help'], t.deps)).toBe(0);
    for (const word of ['enroll', 'run', 'status', 'Getting started', 'TWINFED_SITE_DATA_DIR'])
      expect(t.out()).toContain(word);
    const r = io();
    expect(await cli(['run', '--help'], r.deps)).toBe(0);
    for (const word of [
      '--federation <id>',
      '--heart-disease <center>',
      '--mapping <json>',
      '--test-fraction',
      '--split-seed',
      'Examples:',
      'Exit status',
    ])
      expect(r.out()).toContain(word);
  });

  test('errors are one line on stderr with a non-zero exit and no stack trace', async () => {
    const t = io();
    expect(await cli(['run', '--federation', 'fed-1', '--data-dir', tmpSiteDir('cli')], t.deps)).toBe(1);
    expect(t.err()).toBe(
      'error: Give the local data: --twins, --heart-disease <center>, or both --data <csv> and --mapping <json>. [CONFIG_INVALID]\n',
    );
    const s = io();
    expect(await cli(['status', '--data-dir', tmpSiteDir('cli')], s.deps)).toBe(1);
    expect(s.err().trim().split('\n')).toHaveLength(1);
    expect(s.err()).toMatch(/^error: Not enrolled: .* \[UNKNOWN_SITE\]\n$/);
  });

  test('--debug adds the stack trace', async () => {
    const t = io();
    expect(await cli(['--debug', 'status', '--data-dir', tmpSiteDir('cli')], t.deps)).toBe(1);
    expect(t.err()).toContain('[UNKNOWN_SITE]');
    expect(t.err()).toMatch(/\n\s+at /);
  });

  test('usage mistakes exit non-zero with commander’s message', async () => {
    const bad = io();
    expect(await cli(['run', '--federation', 'f', '--heart-disease', '7'], bad.deps)).toBe(1);
    expect(bad.err()).toContain('center must be 0, 1, 2 or 3');
    const unknown = io();
    expect(await cli(['frobnicate'], unknown.deps)).toBe(1);
    expect(unknown.err()).toContain("unknown command 'frobnicate'");
    const missing = io();
    expect(await cli(['enroll', '--coordinator', 'https://c.test'], missing.deps)).toBe(1);
    expect(missing.err()).toContain("required option '--token <token>'");
  });

  test('enroll prints the pinned fingerprint, refuses a second enrollment, and status shows it', async () => {
    const c = new FakeCoordinator();
    const dataDir = tmpSiteDir('cli');
    const e = io({ fetch: coordinatorFetch(c).fetch });
    expect(await cli(enrollArgs(dataDir), e.deps)).toBe(0);
    const fp = fingerprint(publicPart(c.identity));
    expect(e.out()).toContain(`Coordinator fingerprint (pinned): ${fp}`);
    const again = io({ fetch: coordinatorFetch(c).fetch });
    expect(await cli(enrollArgs(dataDir), again.deps)).toBe(1);
    expect(again.err()).toContain('[ALREADY_EXISTS]');
    const s = io();
    expect(await cli(['status', '--data-dir', dataDir], s.deps)).toBe(0);
    expect(s.out()).toContain(`Pinned fingerprint: ${fp}`);
    expect(s.out()).toContain('Uploads:       0');
    expect(s.out()).toContain('Pinned peers:  0');
    // Peers' keys pinned from the coordinator-signed directory show with their fingerprints, to compare out of band.
    const peer = generateIdentity();
    Journal.open(dataDir).pinPeers([
      { siteId: 'site-b', signPublicKey: toB64(peer.sign.publicKey), boxPublicKey: toB64(peer.box.publicKey) },
    ]);
    const p = io();
    expect(await cli(['status', '--data-dir', dataDir], p.deps)).toBe(0);
    expect(p.out()).toContain(`  site-b: ${fingerprint(publicPart(peer))} (pinned at `);
    const j = io();
    expect(await cli(['status', '--data-dir', dataDir, '--json'], j.deps)).toBe(0);
    expect(JSON.parse(j.out())).toMatchObject({
      site: { siteId: 'site-a', coordinator: { fingerprint: fp } },
      journal: { uploads: [] },
    });
    const machine = io({ fetch: coordinatorFetch(c).fetch });
    expect(
      await cli(
        [
          '--json',
          'enroll',
          '--coordinator',
          'https://coord.test',
          '--token',
          'tok-0123456789abcdef',
          '--data-dir',
          tmpSiteDir('cli'),
        ],
        machine.deps,
      ),
    ).toBe(0);
    const lines = machine.out().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ siteId: 'site-a', name: 'Site A', coordinatorFingerprint: fp });
  });

  test('status prints each evaluation’s metric values (n/a when missing), says when an old journal lacks them, and escapes server text', async () => {
    const c = new FakeCoordinator();
    const dataDir = tmpSiteDir('cli');
    expect(await cli(enrollArgs(dataDir), io({ fetch: coordinatorFetch(c).fetch }).deps)).toBe(0);
    writeSiteState(dataDir, { ...readSiteState(dataDir)!, name: 'Evil\u001b[2J\u001b]0;owned\u0007' });
    const at = '2025-01-01T00:00:00Z';
    fs.writeFileSync(
      path.join(dataDir, JOURNAL_FILE),
      JSON.stringify({
        version: 1,
        uploads: [],
        evaluations: [
          { federationId: 'fed-1', versionId: 'fed-1.v0', n: 120, at },
          {
            federationId: 'fed-1',
            versionId: 'fed-1.v1',
            n: 120,
            metrics: { accuracy: 0.75, auc: 0.8125, loss: 0.51234, brier: 0.18 },
            at,
          },
          {
            federationId: 'fed-1',
            versionId: 'fed-1.v2',
            n: 7,
            metrics: { accuracy: 1, loss: 0.2, 'x\u001b[31m': 2 },
            at,
          },
        ],
      }),
    );
    const s = io();
    expect(await cli(['status', '--data-dir', dataDir], s.deps)).toBe(0);
    // eslint-disable-next-line no-control-regex -- the test asserts that no control character reaches the output
    expect(s.out()).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(s.out()).toContain('Site:          "Evil\\x1b[2J\\x1b]0;owned\\x07" (id site-a)\n');
    expect(s.out()).toContain(
      [
        'Evaluations:   3',
        `  fed-1 version fed-1.v0 on 120 test rows: metric values not recorded (at ${at})`,
        `  fed-1 version fed-1.v1 on 120 test rows: accuracy 0.750, AUC 0.813, loss 0.512, Brier 0.180 (at ${at})`,
        `  fed-1 version fed-1.v2 on 7 test rows: accuracy 1.000, AUC n/a, loss 0.200, Brier n/a, x\\x1b[31m 2.000 (at ${at})`,
      ].join('\n'),
    );
    const j = io();
    expect(await cli(['status', '--data-dir', dataDir, '--json'], j.deps)).toBe(0);
    expect(
      (JSON.parse(j.out()) as { journal: { evaluations: Array<{ metrics?: unknown }> } }).journal.evaluations[1]!
        .metrics,
    ).toEqual({ accuracy: 0.75, auc: 0.8125, loss: 0.51234, brier: 0.18 });
  });

  test('run --heart-disease takes part in a federation until it completes (poll only)', async () => {
    const c = new FakeCoordinator(
      testPlan({
        model: { kind: 'logistic-regression', inputs: 13 },
        data: { features: [...HEART_DISEASE_FEATURES] },
        training: { steps: 5, batchSize: 4, lr: 0.01 },
        rounds: 2,
      }),
    );
    const dataDir = tmpSiteDir('cli');
    const fetch = coordinatorFetch(c).fetch;
    expect(await cli(enrollArgs(dataDir), io({ fetch }).deps)).toBe(0);
    c.trust(loadEnrollment(dataDir));
    writeSitePolicy(dataDir, { autoApprove: true });
    const r = io({ fetch });
    const code = await cli(
      [
        'run',
        '--federation',
        'fed-1',
        '--heart-disease',
        '0',
        '--data-dir',
        dataDir,
        '--no-push',
        '--poll-interval',
        '50',
        '--backend',
        'cpu',
      ],
      r.deps,
    );
    expect(r.err()).toBe('');
    expect(code).toBe(0);
    expect(r.out()).toContain('Local data: 303 rows from UCI Heart Disease, center 0');
    expect(r.out()).toContain('Round 1: trained on 199 examples, 5 steps');
    expect(r.out()).toContain('Round 2: update accepted');
    expect(r.out()).toMatch(/Version v2 \(round 2\) on 104 local test rows: accuracy \d\.\d{3}, AUC \d\.\d{3}/);
    expect(r.out()).toContain('Federation fed-1 completed.');
    expect(c.updates.map((u) => u.numExamples)).toEqual([199, 199]);
    const s = io();
    await cli(['status', '--data-dir', dataDir], s.deps);
    expect(s.out()).toContain('Uploads:       2');
    // status shows the values the site reported, the same as the run printed when it evaluated
    const evaluated = /^Version v2 \(round 2\) on 104 local test rows: (.+)\.$/m.exec(r.out())?.[1];
    expect(evaluated).toMatch(/^accuracy \d\.\d{3}, AUC \d\.\d{3}, loss \d\.\d{3}, Brier \d\.\d{3}$/);
    expect(s.out()).toMatch(
      new RegExp(
        `^  fed-1 version v2 on 104 test rows: ${evaluated!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(at \\S+\\)$`,
        'm',
      ),
    );
    // a restarted site with --json: nothing left to do, one JSON object per line, ends with the summary
    const again = io({ fetch });
    expect(
      await cli(
        [
          'run',
          '--json',
          '--federation',
          'fed-1',
          '--heart-disease',
          '0',
          '--data-dir',
          dataDir,
          '--no-push',
          '--poll-interval',
          '50',
        ],
        again.deps,
      ),
    ).toBe(0);
    const events = again
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(events[0]).toMatchObject({ type: 'data', trainRows: 199, testRows: 104 });
    expect(events.map((e) => e.type)).not.toContain('uploaded');
    expect(events[events.length - 1]).toEqual({
      type: 'done',
      federationId: 'fed-1',
      state: 'completed',
      roundsUploaded: [],
      versionsEvaluated: [],
    });
    expect(s.out()).toContain('fed-1 round 2: accepted');
  });
});
