/** The round engine writes its transitions into the audit chain, each with the transition, and signs the head at every publish. */
import { verifyStoreAudit } from '../audit/verify';
import { Crash, engineFixture, fixturePlan } from './__tests__/engine-fixture';

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const trail = async (fx: Awaited<ReturnType<typeof engineFixture>>) =>
  (await fx.store.listAudit({ limit: 1000 })).map((e) => `${e.action} ${e.subject}`);

describe('audit trail of the round engine', () => {
  test('plan create, every round open/close, every version publish; one signed head per version; the chain verifies', async () => {
    const fx = await engineFixture({ sites: 3 });
    const e = fx.engine();
    const fed = await e.createFederation(fixturePlan({ rounds: 2 }), 'operator:ops');
    await fx.drive(e, fed.id);
    e.close();
    const f = fed.id;
    expect(await trail(fx)).toEqual([
      `federation.create ${f}`,
      `version.publish ${f}.v0`,
      `round.open ${f}/1`,
      `round.close ${f}/1`,
      `version.publish ${f}.v1`,
      `round.open ${f}/2`,
      `round.close ${f}/2`,
      `version.publish ${f}.v2`,
    ]);
    const entries = await fx.store.listAudit({ limit: 1000 });
    expect(entries[0]).toMatchObject({
      actor: 'operator:ops',
      detail: { rounds: 2, planSha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    const heads = await fx.store.listAuditHeads();
    expect(heads.map((h) => h.seq)).toEqual(entries.filter((x) => x.action === 'version.publish').map((x) => x.seq));
    expect(await verifyStoreAudit(fx.store, fx.identity.sign.publicKey)).toMatchObject({
      ok: true,
      heads: 3,
      lastSignedHead: { seq: 8 },
    });
    // No secrets: weights are referred to by digest only, and no key material appears.
    const text = JSON.stringify(entries);
    expect(text).not.toContain(Buffer.from(fx.identity.sign.secretKey).toString('base64'));
    expect(text).not.toMatch(/"weights"|envelope/);
  });

  test('a round that fails is recorded as round.fail with its reason', async () => {
    const fx = await engineFixture({ sites: 3 });
    const e = fx.engine();
    const fed = await e.createFederation(
      fixturePlan({ rounds: 1, minSites: 2, roundDeadlineSeconds: 1, maxConsecutiveFailedRounds: 1 }),
      'operator:ops',
    );
    await fx.upload(e, fed.id, fx.sites[0]!);
    await waitFor(async () => (await fx.store.getRound(fed.id, 1))!.state === 'failed');
    e.close();
    const fail = (await fx.store.listAudit({ limit: 1000 })).find((x) => x.action === 'round.fail');
    expect(fail).toMatchObject({
      subject: `${fed.id}/1`,
      detail: { round: 1, reason: expect.stringMatching(/1 of 3 selected sites answered/) },
    });
    expect((await verifyStoreAudit(fx.store, fx.identity.sign.publicKey)).ok).toBe(true);
  });

  test('a crash and resume never records a transition twice', async () => {
    const fx = await engineFixture({ sites: 3 });
    const first = fx.engine({ crashAt: { point: 'version.published', nth: 2 } });
    let fid: string | undefined;
    await expect(
      (async () => {
        fid = (await first.createFederation(fixturePlan({ rounds: 2 }), 'operator:ops')).id;
        await fx.drive(first, fid);
      })(),
    ).rejects.toBeInstanceOf(Crash);
    first.close();
    const second = fx.engine();
    await second.resume();
    await fx.drive(second, fid!);
    second.close();
    const lines = await trail(fx);
    expect(new Set(lines).size).toBe(lines.length);
    expect(lines.filter((l) => l.startsWith('version.publish'))).toHaveLength(3);
    expect((await verifyStoreAudit(fx.store, fx.identity.sign.publicKey)).ok).toBe(true);
  });
});
