import { PROTOCOL_VERSION, type ModelVersionMeta } from '@twinfed/shared';
import { ScaffoldState } from './scaffold';

const meta = (versionId: string, parentVersionId: string | null): ModelVersionMeta => ({
  protocol: PROTOCOL_VERSION,
  federationId: 'f',
  versionId,
  parentVersionId,
  round: 1,
  strategy: 'scaffold',
  layout: [{ name: 'w', shape: [2], dtype: 'float32' }],
  weightsSha256: '0'.repeat(64),
  contributors: [],
  metrics: {},
  createdAt: '2025-01-01T00:00:00.000Z',
});

describe('ScaffoldState', () => {
  test('starts at zero, then d_i ← d_i + (mean_j y_j − y_i)/(lr·K): the corrections of all sites sum to zero', () => {
    const lr = 0.1;
    const K = 10;
    const s = 0.5;
    const x0 = new Float32Array([1, -1]);
    const ys = [new Float32Array([2, 0]), new Float32Array([0, -4])];
    const sites = ys.map(() => new ScaffoldState());
    sites.forEach((st) =>
      expect(
        Array.from(st.correctionFor({ meta: meta('v0', null), base: x0, serverLr: s, clientLr: lr, localSteps: K })),
      ).toEqual([0, 0]),
    );
    sites.forEach((st, i) => st.remember({ baseVersionId: 'v0', base: x0, trained: ys[i]! }));
    // server: x1 = x0 + s · mean(y − x0)
    const x1 = x0.map((v, k) => v + s * ((ys[0]![k]! + ys[1]![k]!) / 2 - v));
    const d = sites.map((st) =>
      st.correctionFor({ meta: meta('v1', 'v0'), base: x1, serverLr: s, clientLr: lr, localSteps: K }),
    );
    const meanY = [1, -2];
    d.forEach((di, i) => di.forEach((v, k) => expect(v).toBeCloseTo((meanY[k]! - ys[i]![k]!) / (lr * K), 5)));
    for (let k = 0; k < 2; k++) expect(d[0]![k]! + d[1]![k]!).toBeCloseTo(0, 5);
  });

  test('keeps the state unchanged when the new global is not the aggregate of the round it trained in', () => {
    const st = new ScaffoldState();
    const x = new Float32Array([0, 0]);
    st.correctionFor({ meta: meta('v0', null), base: x, serverLr: 1, clientLr: 0.1, localSteps: 1 });
    st.remember({ baseVersionId: 'v0', base: x, trained: new Float32Array([1, 1]) });
    // a failed round re-opens from v0 itself (parent is not v0): no update
    expect(
      Array.from(st.correctionFor({ meta: meta('v0', null), base: x, serverLr: 1, clientLr: 0.1, localSteps: 1 })),
    ).toEqual([0, 0]);
  });
});
