/**
 * The site's training clients follow the error table, code by code: for every code (HTTP and local), the reaction of
 * the runner, the round worker (upload and evaluation) and the model check is the one its `client` behaviour names.
 * A client with a list of its own would disagree with the table on some code here.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ERROR_CODES, TwinfedError, clientBehaviour, isFatal, type ErrorCode } from '@twinfed/shared';
import { FakeCoordinator, testEnrollment } from '../__tests__/fake-coordinator';
import { APPROVE_EVERY_PLAN, fakeModelOps, siteRecords, syntheticDataset } from '../__tests__/fixtures';
import type { RunnerProgress } from './progress';
import { SiteRunner } from './runner';
import { isModelRejection } from './verified-model';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

function site() {
  const coordinator = new FakeCoordinator();
  const enrollment = testEnrollment(coordinator.identity);
  coordinator.trust(enrollment);
  const events: RunnerProgress[] = [];
  const runner = new SiteRunner({
    federationId: coordinator.federationId,
    enrollment,
    api: coordinator,
    dataset: syntheticDataset(),
    ...siteRecords(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-policy-'))),
    policy: APPROVE_EVERY_PLAN,
    pollIntervalMs: 1,
    modelOps: fakeModelOps(),
    onProgress: (e) => events.push(e),
  });
  const warned = (code: ErrorCode) => events.filter((e) => e.type === 'warning' && e.code === code);
  return { coordinator, runner, events, warned };
}

describe('the runner stops exactly on the codes the table makes fatal', () => {
  test.each(CODES)('%s from rounds/current', async (code) => {
    const { coordinator, runner, warned } = site();
    const current = coordinator.currentRound.bind(coordinator);
    let failures = 1;
    coordinator.currentRound = async (fid) => {
      if (failures-- > 0) throw new TwinfedError(code);
      return current(fid);
    };
    if (isFatal(clientBehaviour(code))) {
      await expect(runner.run()).rejects.toMatchObject({ code });
      expect(warned(code)).toEqual([]);
    } else {
      expect((await runner.run()).state).toBe('completed');
      expect(warned(code)).toHaveLength(1);
    }
  });
});

describe('an upload answered with a code: skip the round, reject the base version, stop, or report and try again', () => {
  test.each(CODES)('%s', async (code) => {
    const { coordinator, runner, events, warned } = site();
    coordinator.uploadUpdate = async () => {
      coordinator.state = 'completed'; // the federation ends behind the refusal, so every run comes to an end
      throw new TwinfedError(code);
    };
    const behaviour = clientBehaviour(code);
    if (isFatal(behaviour)) return void (await expect(runner.run()).rejects.toMatchObject({ code }));
    await runner.run();
    const skipped = events.filter((e) => e.type === 'skipped' && e.round === 1);
    const rejected = events.filter((e) => e.type === 'model-rejected');
    expect({ skipped: skipped.length > 0, rejected: rejected.length > 0, warned: warned(code).length > 0 }).toEqual({
      skipped: behaviour === 'skip-round' || behaviour === 'reject-version',
      rejected: behaviour === 'reject-version',
      warned: behaviour !== 'skip-round' && behaviour !== 'reject-version',
    });
  });
});

describe('an evaluation answered with a code: dropped when refused, sent again when transient, the end when fatal', () => {
  test.each(CODES)('%s', async (code) => {
    const { coordinator, runner, events } = site();
    const sent: string[] = [];
    let failures = 1;
    coordinator.postEvaluation = async ({ versionId }) => {
      sent.push(versionId);
      if (versionId === 'v2' && failures-- > 0) throw new TwinfedError(code);
    };
    const behaviour = clientBehaviour(code);
    if (isFatal(behaviour)) return void (await expect(runner.run()).rejects.toMatchObject({ code }));
    const summary = await runner.run();
    const refusedWarning = events.some(
      (e) => e.type === 'warning' && e.code === code && e.message.includes('refused the evaluation'),
    );
    if (behaviour === 'retry' || behaviour === 'retry-later') {
      expect(sent.filter((v) => v === 'v2')).toHaveLength(2);
      expect(summary.versionsEvaluated).toContain('v2');
    } else {
      expect(sent.filter((v) => v === 'v2')).toHaveLength(1);
      // ALREADY_EXISTS: the coordinator has it, the site records it as done; any other refusal is reported
      expect(summary.versionsEvaluated.includes('v2')).toBe(code === 'ALREADY_EXISTS');
      expect(refusedWarning).toBe(code !== 'ALREADY_EXISTS');
    }
  });
});

test.each(CODES)('%s rejects the model version exactly when the table says reject-version', (code) => {
  expect(isModelRejection(new TwinfedError(code))).toBe(clientBehaviour(code) === 'reject-version');
});
