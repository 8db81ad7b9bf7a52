import { initialWeights } from '@twinfed/shared';
import { syntheticDataset, syntheticSplit } from '../__tests__/fixtures';
import { testPlan } from '../__tests__/fake-coordinator';
import { FederationSession } from './federation-session';

/** The synthetic dataset with times: y becomes the event indicator. */
function timed(): ReturnType<typeof syntheticDataset> {
  const withTime = (seed: number, n: number) => {
    const s = syntheticSplit(n, seed);
    return { ...s, time: Float32Array.from({ length: n }, (_, i) => 1 + ((i * 7) % 13)) };
  };
  return { ...syntheticDataset(), train: withTime(1, 40), test: withTime(2, 20) };
}

const coxPlan = () => testPlan({ model: { kind: 'cox', inputs: 3 } });

describe('FederationSession and the outcome kind', () => {
  test('a Cox plan on binary labels, or a binary plan on times and events, is refused with the fix', async () => {
    await expect(
      FederationSession.create({ plan: coxPlan(), dataset: syntheticDataset(), siteId: 'site-a' }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/trains a cox model on time-to-event data.*"label": \{"time"/),
    });
    await expect(
      FederationSession.create({ plan: testPlan(), dataset: timed(), siteId: 'site-a' }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/binary label, but the local data map a time and an event/),
    });
  });

  test('a Cox plan trains on time-to-event rows and reports the C-index and loss', async () => {
    const session = await FederationSession.create({ plan: coxPlan(), dataset: timed(), siteId: 'site-a' });
    try {
      const report = await session.evaluate(initialWeights(session.plan.model, 1));
      expect(report.n).toBe(20);
      expect(Object.keys(report.metrics).sort()).toEqual(['cIndex', 'loss']);
    } finally {
      session.dispose();
    }
  });
});
