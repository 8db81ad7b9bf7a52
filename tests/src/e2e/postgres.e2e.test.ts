import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAdminClient } from '@twinfed/coordinator';
import { enrollTestSite, testPlan } from '@twinfed/coordinator/__tests__/harness';
import { dropPgSchema, freshSchema, pgTestUrl } from '@twinfed/coordinator/store/__tests__/pg';
import { deserializeWeights, verifyModelVersion } from '@twinfed/shared';
import { startCoordinatorProcess } from '../demo/federation-run';
import { rebind, uploadConstant } from './__tests__/signed-site';
import type { Child } from '../support/processes';

/** `twinfed coordinator start --store postgres://…?schema=…` as a real process: a federation, a SIGKILL, a restart. */
describe('coordinator on PostgreSQL', () => {
  const schema = freshSchema('tf_e2e');
  const store = `${pgTestUrl()}${pgTestUrl().includes('?') ? '&' : '?'}schema=${schema}`;
  let dataDir: string;
  let child: Child | null = null;

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-pg-e2e-'));
  });
  afterAll(async () => {
    child?.proc.kill('SIGKILL');
    await child?.exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
    await dropPgSchema(schema);
  });

  test('runs a federation, survives a SIGKILL and carries on from the database; no SQLite file is written', async () => {
    const first = await startCoordinatorProcess({ dataDir, store });
    child = first.child;
    const admin = createAdminClient({ baseUrl: first.url, token: first.token });
    const a = await enrollTestSite({ url: first.url, operatorToken: first.token }, 'Alpha');
    const b = await enrollTestSite({ url: first.url, operatorToken: first.token }, 'Beta');
    const fed = await admin.createFederation(testPlan({ rounds: 2, minSites: 2 }) as never);
    expect(await uploadConstant(a, fed.id, 1)).toBe(201);
    expect(await uploadConstant(b, fed.id, 3)).toBe(201);
    expect((await admin.getFederation(fed.id)).currentRound).toBe(2);

    child.proc.kill('SIGKILL');
    await child.exited;
    const second = await startCoordinatorProcess({ dataDir, store });
    child = second.child;
    const admin2 = createAdminClient({ baseUrl: second.url, token: second.token });
    expect((await admin2.listSites()).map((s) => s.id).sort()).toEqual([a.siteId, b.siteId].sort());
    const a2 = rebind(a, second.url);
    const b2 = rebind(b, second.url);
    expect(await uploadConstant(a2, fed.id, 2)).toBe(201);
    expect(await uploadConstant(b2, fed.id, 4)).toBe(201);
    const end = await admin2.getFederation(fed.id);
    expect(end.state).toBe('completed');
    expect(end.latestVersionId).toBe(`${fed.id}.v2`);
    const versions = await admin2.listModels({ federationId: fed.id });
    expect(versions.map((v) => v.id)).toEqual([`${fed.id}.v0`, `${fed.id}.v1`, `${fed.id}.v2`]);
    for (const v of versions) {
      const dl = await admin2.downloadWeights(v.id);
      verifyModelVersion({
        meta: v.meta,
        signature: v.signature,
        weightsBytes: dl.bytes,
        coordinatorSignPublicKey: a.coordinatorSignPublicKey,
      });
    }
    for (const x of deserializeWeights((await admin2.downloadWeights(`${fed.id}.v2`)).bytes).data)
      expect(x).toBeCloseTo(3, 5);
    expect((await admin2.auditVerify()).ok).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'coordinator.db'))).toBe(false);
  }, 120_000);
});
