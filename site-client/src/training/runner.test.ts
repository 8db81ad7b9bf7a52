import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TwinfedError, deserializeWeights, generateIdentity } from '@twinfed/shared';
import { FakeCoordinator, testEnrollment, testPlan } from '../__tests__/fake-coordinator';
import { APPROVE_EVERY_PLAN, fakeModelOps, siteRecords, syntheticDataset } from '../__tests__/fixtures';
import type { SitePolicy } from '../governance/policy';
import { Journal } from './journal';
import type { RunnerProgress } from './progress';
import { SiteRunner } from './runner';

function setup(coordinator = new FakeCoordinator()) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-runner-'));
  const enrollment = testEnrollment(coordinator.identity);
  coordinator.trust(enrollment);
  return { dir, enrollment, coordinator };
}

function runner(opts: {
  coordinator: FakeCoordinator;
  enrollment: ReturnType<typeof testEnrollment>;
  dir: string;
  ops?: ReturnType<typeof fakeModelOps>;
  policy?: SitePolicy;
}) {
  const events: RunnerProgress[] = [];
  const ops = opts.ops ?? fakeModelOps();
  const r = new SiteRunner({
    federationId: opts.coordinator.federationId,
    enrollment: opts.enrollment,
    api: opts.coordinator,
    dataset: syntheticDataset(),
    ...siteRecords(opts.dir),
    policy: opts.policy ?? APPROVE_EVERY_PLAN,
    pollIntervalMs: 10,
    modelOps: ops,
    onProgress: (e) => events.push(e),
  });
  return { runner: r, events, ops };
}

describe('SiteRunner', () => {
  test('trains, uploads a sealed update per round, evaluates each published version, ends with the federation', async () => {
    const { dir, enrollment, coordinator } = setup();
    const { runner: r, events, ops } = runner({ coordinator, enrollment, dir });
    const summary = await r.run();
    expect(summary).toEqual({
      federationId: 'fed-1',
      state: 'completed',
      roundsUploaded: [1, 2],
      versionsEvaluated: expect.arrayContaining(['v0', 'v1', 'v2']),
    });
    expect(coordinator.updates.map((u) => [u.round, u.baseVersionId, u.numExamples])).toEqual([
      [1, 'v0', 40],
      [2, 'v1', 40],
    ]);
    // The fake trainer adds 0.5: the decrypted updates are the verified bases + 0.5, so the right weights were used.
    const v0 = deserializeWeights(coordinator.versions.get('v0')!.bytes).data;
    coordinator.updates[0]!.weights.data.forEach((v, i) => expect(v).toBeCloseTo(v0[i]! + 0.5, 5));
    coordinator.updates[1]!.weights.data.forEach((v, i) => expect(v).toBeCloseTo(v0[i]! + 1.0, 5));
    expect(ops.trainCalls).toBe(2);
    const evaluated = coordinator.evaluations.map((e) => e.versionId).sort();
    expect(evaluated).toEqual(['v0', 'v1', 'v2']);
    // v0's report (carried by round 1's update): non-finite metrics (AUC of a one-class split) are dropped, the rest are reported.
    // The calibration goes along: the bin of 8 rows is under the plan's population k (10), so only its count is sent.
    const empty = { n: 0, meanPredicted: null, observedRate: null };
    expect(coordinator.evaluations[0]!.report).toEqual({
      n: 20,
      metrics: { accuracy: 0.75, loss: 0.5, brier: 0.2 },
      calibration: {
        ece: expect.closeTo((8 * 0.05) / 20, 12),
        bins: [
          empty,
          empty,
          { n: 12, meanPredicted: 0.25, observedRate: 0.25 },
          empty,
          empty,
          empty,
          empty,
          { n: 8, meanPredicted: null, observedRate: null },
          empty,
          empty,
        ],
      },
    });
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['started', 'training', 'trained', 'uploaded', 'evaluated', 'ended']),
    );
    expect(events[events.length - 1]).toEqual({ type: 'ended', federationId: 'fed-1', state: 'completed' });
  });

  test("a site policy's larger population k also withholds the rates of larger reliability bins", async () => {
    const { dir, enrollment, coordinator } = setup();
    const policy: SitePolicy = { ...APPROVE_EVERY_PLAN, populationReports: { allowed: true, k: 15 } };
    await runner({ coordinator, enrollment, dir, policy }).runner.run();
    const bins = coordinator.evaluations[0]!.report.calibration!.bins;
    expect(bins.map((b) => b.n)).toEqual([0, 0, 12, 0, 0, 0, 0, 8, 0, 0]);
    expect(bins.every((b) => b.meanPredicted === null && b.observedRate === null)).toBe(true);
  });

  test('under DP the site evaluates each version for itself but sends no evaluation (ε does not cover it)', async () => {
    const { dir, enrollment, coordinator } = setup(
      new FakeCoordinator(testPlan({ privacy: { dp: { clip: 1, noiseMultiplier: 1.1, delta: 1e-5 } } })),
    );
    const { runner: r, events } = runner({ coordinator, enrollment, dir });
    const summary = await r.run();
    expect(summary.state).toBe('completed');
    expect(summary.versionsEvaluated).toEqual(expect.arrayContaining(['v0', 'v1', 'v2']));
    expect(coordinator.evaluations).toEqual([]);
    expect(coordinator.calls.filter((c) => c.startsWith('evaluate:'))).toEqual([]);
    expect(coordinator.updates.filter((u) => u.baseEvaluation)).toEqual([]);
    expect(events.filter((e) => e.type === 'evaluated')).toHaveLength(3);
    expect(Journal.open(dir).hasEvaluation('v1')).toBe(true); // kept locally, so it is not evaluated again after a restart
  });

  test('normalises per site with the train statistics before training', async () => {
    const { dir, enrollment, coordinator } = setup();
    const { runner: r, ops } = runner({ coordinator, enrollment, dir });
    await r.run();
    const train = ops.trainData[0]!;
    for (let j = 0; j < 3; j++) {
      let mean = 0;
      for (let i = 0; i < train.n; i++) mean += train.x[i * 3 + j]!;
      expect(Math.abs(mean / train.n)).toBeLessThan(1e-4);
    }
  });

  describe.each([
    ['served with the current round', true],
    ['downloaded apart', false],
  ])('a tampered base model (%s)', (_, withRound) => {
    const tampered = () => {
      const { dir, enrollment, coordinator } = setup();
      if (!withRound) coordinator.currentRoundWithVersion = undefined;
      return { dir, enrollment, coordinator };
    };
    /** How v0 reached the site: with rounds/current and no request of its own, or by its own download. */
    const reachedBy = (coordinator: FakeCoordinator) => {
      expect(coordinator.servedWithRound.includes('v0')).toBe(withRound);
      expect(coordinator.calls.includes('download:v0')).toBe(!withRound);
    };

    test('refuses a base model signed by another key: no training, no upload, model-rejected event', async () => {
      const { dir, enrollment, coordinator } = tampered();
      coordinator.tamper.signWith = generateIdentity();
      const { runner: r, events, ops } = runner({ coordinator, enrollment, dir });
      const done = r.run();
      await waitFor(() => events.some((e) => e.type === 'skipped' && e.reason === 'model-rejected'));
      r.stop();
      await done;
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'model-rejected', versionId: 'v0', code: 'MODEL_SIGNATURE_INVALID' }),
      );
      expect(ops.trainCalls).toBe(0);
      expect(coordinator.calls.some((c) => c.startsWith('upload'))).toBe(false);
      expect(coordinator.calls.some((c) => c.startsWith('weights'))).toBe(false); // no second request for the weights
      expect(coordinator.evaluations).toEqual([]);
      reachedBy(coordinator);
    });

    test('refuses weights whose bytes do not match the signed digest', async () => {
      const { dir, enrollment, coordinator } = tampered();
      coordinator.tamper.flipWeightByte = true;
      const { runner: r, events, ops } = runner({ coordinator, enrollment, dir });
      const done = r.run();
      await waitFor(() => events.some((e) => e.type === 'model-rejected'));
      r.stop();
      await done;
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'model-rejected', versionId: 'v0', code: 'MODEL_DIGEST_MISMATCH' }),
      );
      expect(ops.trainCalls).toBe(0);
      expect(coordinator.updates).toEqual([]);
      expect(coordinator.evaluations).toEqual([]);
      reachedBy(coordinator);
    });
  });

  test('the journal prevents a second upload of the same round after a restart', async () => {
    // The plan is fixed at creation: the coordinator signs it and every version with its digest.
    const { dir, enrollment, coordinator } = setup(new FakeCoordinator(testPlan({ rounds: 5 })));
    coordinator.reportSubmitted = false;
    // Accept round 1 but keep the round open and forget the submission, as if the ack had raced a crash.
    const upload = coordinator.uploadUpdate.bind(coordinator);
    coordinator.uploadUpdate = async (o) => {
      const ack = await upload(o);
      coordinator.round = 1;
      coordinator.baseVersionId = 'v0';
      return ack;
    };
    const first = runner({ coordinator, enrollment, dir });
    const done = first.runner.run();
    await waitFor(() => first.events.some((e) => e.type === 'uploaded'));
    first.runner.stop();
    await done;
    expect(coordinator.updates).toHaveLength(1);
    expect(Journal.open(dir).upload('fed-1', 1)).toEqual(
      expect.objectContaining({ round: 1, status: 'accepted', baseVersionId: 'v0' }),
    );

    const second = runner({ coordinator, enrollment, dir });
    const done2 = second.runner.run();
    await waitFor(() => coordinator.calls.filter((c) => c === 'currentRound').length > 10);
    coordinator.state = 'completed';
    const summary = await done2;
    expect(summary.state).toBe('completed');
    expect(coordinator.updates).toHaveLength(1);
    expect(second.ops.trainCalls).toBe(0);
    expect(coordinator.calls.filter((c) => c === 'upload:1')).toHaveLength(1);
  });

  test('stop while an update is being uploaded: the upload finishes and is journalled, nothing new starts', async () => {
    // The plan is fixed at creation: the coordinator signs it and every version with its digest.
    const { dir, enrollment, coordinator } = setup(new FakeCoordinator(testPlan({ rounds: 5 })));
    const upload = coordinator.uploadUpdate.bind(coordinator);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inFlight = false;
    coordinator.uploadUpdate = async (o) => {
      inFlight = true;
      // Like a real request, the upload is cancelled if the runner aborts its signal.
      const signal = (o as { signal?: AbortSignal }).signal;
      await new Promise<void>((resolve, reject) => {
        void held.then(resolve);
        signal?.addEventListener('abort', () => reject(new TwinfedError('NETWORK', 'cancelled')));
      });
      return upload(o);
    };
    const { runner: r, events, ops } = runner({ coordinator, enrollment, dir });
    const done = r.run();
    await waitFor(() => inFlight);
    r.stop(); // SIGTERM while the upload is in flight
    await new Promise((res) => setTimeout(res, 30));
    release();
    expect((await done).state).toBe('stopped');
    expect(coordinator.updates.map((u) => u.round)).toEqual([1]);
    expect(Journal.open(dir).upload('fed-1', 1)).toEqual(expect.objectContaining({ status: 'accepted' }));
    expect(events.some((e) => e.type === 'uploaded')).toBe(true);
    expect(ops.trainCalls).toBe(1); // round 2 had opened, but no new training started after stop
  });

  test('a second stop cancels an upload that would not finish', async () => {
    const { dir, enrollment, coordinator } = setup();
    let uploading = false;
    coordinator.uploadUpdate = (o) => {
      uploading = true;
      return new Promise((_resolve, reject) =>
        (o as { signal?: AbortSignal }).signal?.addEventListener('abort', () =>
          reject(new TwinfedError('NETWORK', 'cancelled')),
        ),
      );
    };
    const { runner: r } = runner({ coordinator, enrollment, dir });
    const done = r.run();
    await waitFor(() => uploading); // the upload that will never finish is in flight
    r.stop();
    r.stop();
    expect((await done).state).toBe('stopped');
    expect(Journal.open(dir).upload('fed-1', 1)).toBeUndefined();
  });

  test('a site that is not selected never trains and says so once', async () => {
    const { dir, enrollment, coordinator } = setup();
    coordinator.selected = false;
    const { runner: r, events, ops } = runner({ coordinator, enrollment, dir });
    const done = r.run();
    await waitFor(() => coordinator.calls.filter((c) => c === 'currentRound').length > 5);
    coordinator.state = 'stopped';
    expect((await done).state).toBe('stopped');
    expect(ops.trainCalls).toBe(0);
    expect(events.filter((e) => e.type === 'skipped')).toEqual([{ type: 'skipped', round: 1, reason: 'not-selected' }]);
  });

  test('rejects at once when the local features are not the plan’s', async () => {
    const { dir, enrollment, coordinator } = setup();
    const r = new SiteRunner({
      federationId: 'fed-1',
      enrollment,
      api: coordinator,
      dataset: { ...syntheticDataset(), features: ['age', 'thalach', 'chol'] },
      ...siteRecords(dir),
      policy: APPROVE_EVERY_PLAN,
      pollIntervalMs: 10,
      modelOps: fakeModelOps(),
    });
    await expect(r.run()).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('Feature 2'),
    });
  });

  test('stops with the error when the coordinator says the site is revoked', async () => {
    const { dir, enrollment, coordinator } = setup();
    coordinator.currentRound = async () => {
      throw new TwinfedError('SITE_REVOKED');
    };
    const { runner: r } = runner({ coordinator, enrollment, dir });
    await expect(r.run()).rejects.toMatchObject({ code: 'SITE_REVOKED' });
  });

  test('stops when an evaluation is answered with a code fatal for the federation (not a refusal of one evaluation)', async () => {
    const { dir, enrollment, coordinator } = setup();
    coordinator.postEvaluation = async () => {
      throw new TwinfedError('UNKNOWN_FEDERATION');
    };
    const { runner: r, events } = runner({ coordinator, enrollment, dir });
    await expect(r.run()).rejects.toMatchObject({ code: 'UNKNOWN_FEDERATION' });
    expect(events.filter((e) => e.type === 'warning' && e.code === 'UNKNOWN_FEDERATION')).toEqual([]);
  });

  test('keeps going after a transient failure of the coordinator', async () => {
    const { dir, enrollment, coordinator } = setup();
    const current = coordinator.currentRound.bind(coordinator);
    let failures = 2;
    coordinator.currentRound = async (fid) => {
      if (failures-- > 0) throw new TwinfedError('NETWORK');
      return current(fid);
    };
    const { runner: r, events } = runner({ coordinator, enrollment, dir });
    const summary = await r.run();
    expect(summary.state).toBe('completed');
    expect(events.filter((e) => e.type === 'warning' && e.code === 'NETWORK')).toHaveLength(2);
  });
});

describe('the evaluation of the base version travels with the update', () => {
  const posted = (c: FakeCoordinator) => c.calls.filter((x) => x.startsWith('evaluate:'));

  test('a plain round carries it (no request of its own); the last version, trained from by no round, is posted', async () => {
    const { dir, enrollment, coordinator } = setup();
    const { runner: r, events } = runner({ coordinator, enrollment, dir });
    expect((await r.run()).state).toBe('completed');
    expect(posted(coordinator)).toEqual(['evaluate:v2']);
    const carried = coordinator.updates.map((u) => [u.round, u.baseVersionId, u.baseEvaluation?.n]);
    expect(carried).toEqual([
      [1, 'v0', 20],
      [2, 'v1', 20],
    ]);
    // Reported once per version (v0's carried report is the one the first test checks in full), journalled: a restart does not evaluate again.
    const evaluated = events
      .filter((e) => e.type === 'evaluated')
      .map((e) => e.type === 'evaluated' && [e.versionId, e.round]);
    expect(evaluated).toEqual([
      ['v0', 0],
      ['v1', 1],
      ['v2', 2],
    ]);
    const journal = Journal.open(dir);
    expect(['v0', 'v1', 'v2'].map((v) => journal.hasEvaluation(v))).toEqual([true, true, true]);
  });

  test('an upload that is not taken (the round closed) leaves the evaluation to its own request', async () => {
    const { dir, enrollment, coordinator } = setup();
    coordinator.refuseUploads.push('ROUND_CLOSED');
    const { runner: r, events } = runner({ coordinator, enrollment, dir });
    const done = r.run();
    await waitFor(() => posted(coordinator).length > 0);
    coordinator.state = 'stopped';
    expect((await done).state).toBe('stopped');
    expect(coordinator.updates).toEqual([]);
    expect(posted(coordinator)).toEqual(['evaluate:v0']);
    expect(events.filter((e) => e.type === 'evaluated')).toHaveLength(1);
  });

  test('a coordinator from before baseEvaluation gets each update without it, and every evaluation on its own', async () => {
    const { dir, enrollment, coordinator } = setup();
    coordinator.takesBaseEvaluation = false;
    const { runner: r, events } = runner({ coordinator, enrollment, dir });
    expect((await r.run()).state).toBe('completed');
    // Refused once with the evaluation, then sent without it; the next round does not try again.
    expect(coordinator.calls.filter((c) => c.startsWith('upload:'))).toEqual(['upload:1', 'upload:1', 'upload:2']);
    expect(coordinator.updates.map((u) => [u.round, u.baseEvaluation])).toEqual([
      [1, undefined],
      [2, undefined],
    ]);
    expect(posted(coordinator).sort()).toEqual(['evaluate:v0', 'evaluate:v1', 'evaluate:v2']);
    expect(events.filter((e) => e.type === 'evaluated')).toHaveLength(3);
  });
});

describe('strategy terms', () => {
  test('FedProx: the proximal mu comes from the round instructions', async () => {
    const { dir, enrollment, coordinator } = setup(
      new FakeCoordinator(testPlan({ strategy: { name: 'fedprox', mu: 0.01 }, rounds: 1 })),
    );
    coordinator.clientConfig = { proximalMu: 0.3 };
    const { runner: r, ops } = runner({ coordinator, enrollment, dir });
    await r.run();
    expect(ops.rounds.map((o) => o.proximal)).toEqual([{ mu: 0.3 }]);
  });

  test('SCAFFOLD: zero correction first, then (x − (s·y + (1 − s)·x_prev)) / (s·lr·K) from the aggregate', async () => {
    const { dir, enrollment, coordinator } = setup(
      new FakeCoordinator(testPlan({ strategy: { name: 'scaffold' }, rounds: 2 })),
    );
    coordinator.clientConfig = { scaffold: { serverLr: 1 } };
    coordinator.aggregate = (w) => ({ layout: w.layout, data: w.data.map((v) => v + 1) }); // the others pulled the model up by 1
    const { runner: r, ops } = runner({ coordinator, enrollment, dir });
    await r.run();
    expect(ops.rounds).toHaveLength(2);
    expect(Array.from(ops.rounds[0]!.scaffold!.correction).every((v) => v === 0)).toBe(true);
    // lr 0.1 (plan), K 3 (fake trainer), s 1: (x1 − y1) / 0.3 = 1 / 0.3
    ops.rounds[1]!.scaffold!.correction.forEach((v) => expect(v).toBeCloseTo(1 / 0.3, 4));
  });
});

describe('SiteRunner with the real models package', () => {
  test('trains a logistic regression from the signed base and reports finite test metrics', async () => {
    // The plan is fixed at creation: the coordinator signs it and every version with its digest.
    const { dir, enrollment, coordinator } = setup(new FakeCoordinator(testPlan({ rounds: 1 })));
    const events: RunnerProgress[] = [];
    const r = new SiteRunner({
      federationId: 'fed-1',
      enrollment,
      api: coordinator,
      dataset: syntheticDataset(),
      ...siteRecords(dir),
      policy: APPROVE_EVERY_PLAN,
      pollIntervalMs: 10,
      onProgress: (e) => events.push(e),
    });
    const summary = await r.run();
    expect(summary.roundsUploaded).toEqual([1]);
    const v0 = deserializeWeights(coordinator.versions.get('v0')!.bytes).data;
    const trained = coordinator.updates[0]!.weights.data;
    expect(trained.some((v, i) => Math.abs(v - v0[i]!) > 1e-4)).toBe(true);
    const v1 = coordinator.evaluations.find((e) => e.versionId === 'v1')!.report;
    expect(v1.n).toBe(20);
    for (const k of ['accuracy', 'auc', 'loss', 'brier']) expect(Number.isFinite(v1.metrics[k])).toBe(true);
    expect(events).toContainEqual(expect.objectContaining({ type: 'trained', round: 1, numExamples: 40, steps: 3 }));
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}
