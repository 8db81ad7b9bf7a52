import { deserializeWeights, routes, serializeWeights, type CurrentRound } from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';
import { sealRawUpdate } from '../__tests__/hostile-envelope';

/** Updates from a client that does not use our library: the server's own checks must hold. */
describe('hostile update envelopes', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let site: TestSite;
  let fid: string;
  let cur: CurrentRound;
  let finite: Uint8Array;

  beforeAll(async () => {
    c = await startTestCoordinator();
    site = await enrollTestSite(c, 'Mallory');
    await enrollTestSite(c, 'Other');
    fid = ((await (await operator(c, 'POST', routes.federations, { plan: testPlan() })).json()) as { id: string }).id;
    cur = (await (await site.request('GET', routes.currentRound(fid))).json()) as CurrentRound;
    const base = deserializeWeights(
      new Uint8Array(await (await site.request('GET', routes.modelWeights(cur.round!.baseVersionId))).arrayBuffer()),
    );
    finite = serializeWeights(base);
  });
  afterAll(async () => c.close());

  const send = async (plaintext: Uint8Array) => {
    const bytes = sealRawUpdate({
      header: {
        federationId: fid,
        round: cur.round!.round,
        siteId: site.siteId,
        baseVersionId: cur.round!.baseVersionId,
        numExamples: 7,
      },
      plaintext,
      identity: site.identity,
      coordinatorBoxPublicKey: site.coordinatorBoxPublicKey,
    });
    const res = await site.request('POST', routes.updates(fid, cur.round!.round), bytes);
    return `${res.status} ${((await res.json()) as { error?: { code: string } }).error?.code ?? 'ok'}`;
  };

  test.each([
    ['NaN', Number.NaN],
    ['+Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ])('%s in the weights → 400 NON_FINITE_WEIGHTS, nothing stored', async (_name, value) => {
    const bad = finite.slice();
    new DataView(bad.buffer).setFloat32(bad.length - 4, value, true);
    expect(await send(bad)).toBe('400 NON_FINITE_WEIGHTS');
    expect(await c.store.countUpdates(fid, cur.round!.round)).toBe(0);
  });

  test('truncated weights → 400 INVALID_WEIGHTS', async () => {
    expect(await send(finite.slice(0, finite.length - 4))).toBe('400 INVALID_WEIGHTS');
  });

  test('garbage plaintext → 400 INVALID_WEIGHTS', async () => {
    expect(await send(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).toBe('400 INVALID_WEIGHTS');
  });

  test('a well-formed update from the same client is accepted afterwards', async () => {
    expect(await send(finite)).toBe('201 ok');
    expect(await c.store.countUpdates(fid, cur.round!.round)).toBe(1);
  });
});
