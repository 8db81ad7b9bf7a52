import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAdminClient } from '@twinfed/coordinator';
import { enrollTestSite, testPlan } from '@twinfed/coordinator/__tests__/harness';
import { deserializeWeights, fromB64, verifyModelVersion } from '@twinfed/shared';
import { startCoordinatorProcess } from '../demo/federation-run';
import { currentRound, rebind, uploadConstant } from './__tests__/signed-site';
import type { Child } from '../support/processes';

/** The coordinator process is killed (SIGKILL) between rounds and restarted on the same data dir. */
describe('coordinator restart', () => {
  let dataDir: string;
  let child: Child | null = null;

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-restart-'));
  });
  afterAll(() => {
    child?.proc.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('keeps sites, signed versions and the next round', async () => {
    const first = await startCoordinatorProcess({ dataDir });
    child = first.child;
    const admin = createAdminClient({ baseUrl: first.url, token: first.token });
    const a = await enrollTestSite({ url: first.url, operatorToken: first.token }, 'Alpha');
    const b = await enrollTestSite({ url: first.url, operatorToken: first.token }, 'Beta');
    const fed = await admin.createFederation(testPlan({ rounds: 3, minSites: 2 }) as never);
    expect(await uploadConstant(a, fed.id, 1)).toBe(201);
    expect(await uploadConstant(b, fed.id, 3)).toBe(201);
    const before = await admin.getFederation(fed.id);
    expect(before.currentRound).toBe(2);

    child.proc.kill('SIGKILL');
    await child.exited;
    const second = await startCoordinatorProcess({ dataDir });
    child = second.child;
    const admin2 = createAdminClient({ baseUrl: second.url, token: second.token });
    const sites = await admin2.listSites();
    expect(sites.map((s) => s.id).sort()).toEqual([a.siteId, b.siteId].sort());
    const versions = await admin2.listModels({ federationId: fed.id });
    expect(versions.map((v) => v.id)).toEqual([`${fed.id}.v0`, `${fed.id}.v1`]);
    const keys = await admin2.coordinatorKeys();
    expect(fromB64(keys.signPublicKey)).toEqual(a.coordinatorSignPublicKey);
    for (const v of versions) {
      const dl = await admin2.downloadWeights(v.id);
      verifyModelVersion({
        meta: v.meta,
        signature: v.signature,
        weightsBytes: dl.bytes,
        coordinatorSignPublicKey: a.coordinatorSignPublicKey,
      });
    }
    const after = await admin2.getFederation(fed.id);
    expect(after.currentRound).toBe(2);
    expect(after.latestVersionId).toBe(`${fed.id}.v1`);

    // The sites carry on against the restarted process (same keys, same data).
    const a2 = rebind(a, second.url);
    const b2 = rebind(b, second.url);
    expect((await currentRound(a2, fed.id)).round?.round).toBe(2);
    expect(await uploadConstant(a2, fed.id, 2)).toBe(201);
    expect(await uploadConstant(b2, fed.id, 4)).toBe(201);
    const end = await admin2.getFederation(fed.id);
    expect(end.latestVersionId).toBe(`${fed.id}.v2`);
    const v2 = deserializeWeights((await admin2.downloadWeights(`${fed.id}.v2`)).bytes);
    for (const x of v2.data) expect(x).toBeCloseTo(3, 5);
  }, 90_000);
});
