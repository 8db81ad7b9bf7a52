import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SeededRandom, fromB64, verifyModelVersion, type PlanInput } from '@twinfed/shared';
import type { Child } from '../support/processes';
import { adminOf, checkDatabase, spawnCoordinator, until } from './__tests__/coordinator-process';
import { freePort } from '../support/net';
import { LightSite, lightPlan } from './__tests__/light-site';

const SEED = 20_251;
const KILLS = 20;
const SITES = 4;
const ROUNDS = 10;

/** FedAdam: its server moments are state that must survive every crash too. */
const PLAN: PlanInput = lightPlan({
  name: 'kill test',
  strategy: { name: 'fedadam', serverLr: 0.05 },
  rounds: ROUNDS,
  minSites: SITES,
  roundDeadlineSeconds: 300,
  seed: 7,
});

/** A moment to die: a named crash point (its nth hit in that process), or SIGKILL from outside after a delay. */
type Moment = { kind: 'point'; spec: string } | { kind: 'timer'; afterReadyMs: number };

/**
 * Seeded moments: the first kills the federation's creation; then crash points inside the upload path and
 * the round transitions, and SIGKILLs from outside at random times, so that each process lifetime makes a
 * little progress (10 rounds × 4 uploads have to last for 20 kills).
 */
function moments(seed: number): Moment[] {
  const rng = new SeededRandom(seed);
  const out: Moment[] = [{ kind: 'point', spec: 'federation.created:1' }];
  const upload = ['upload.verified', 'upload.stored', 'upload.responded'];
  const round = ['round.aggregating', 'version.published', 'round.created', 'round.opened'];
  while (out.length < KILLS) {
    const x = rng.next();
    if (x < 0.45) out.push({ kind: 'point', spec: `${upload[rng.int(upload.length)]}:${1 + rng.int(2)}` });
    else if (x < 0.75) out.push({ kind: 'point', spec: `${round[rng.int(round.length)]}:1` });
    else out.push({ kind: 'timer', afterReadyMs: rng.int(40) });
  }
  return out;
}

interface RunResult {
  finalWeights: Buffer;
  kills: number;
  acksChecked: number;
  killLog: string[];
}

async function runFederation(o: { dataDir: string; kills: Moment[] }): Promise<RunResult> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const queue = [...o.kills];
  let child: Child | null = null;
  let kills = 0;
  let acksChecked = 0;
  const killLog: string[] = [];
  const sites: LightSite[] = [];
  const acks = () => sites.flatMap((s) => s.acks);

  /** Starts the next lifetime; resolves when it answers /healthz (or died before). */
  const spawn = async (): Promise<void> => {
    const m = queue.shift();
    const c = spawnCoordinator({ dataDir: o.dataDir, port, ...(m?.kind === 'point' ? { crashAt: m.spec } : {}) });
    child = c;
    const ready = until(
      async () => c.proc.exitCode !== null || c.proc.signalCode !== null || (await fetch(`${url}/healthz`)).ok,
      { timeoutMs: 30_000, what: 'coordinator start', intervalMs: 10 },
    );
    await ready;
    killLog.push(m ? (m.kind === 'point' ? m.spec : `SIGKILL +${m.afterReadyMs} ms`) : 'no fault');
    if (m?.kind === 'timer') setTimeout(() => c.proc.kill('SIGKILL'), m.afterReadyMs);
  };
  /** After a death: every acknowledged upload must be in the database; then the next lifetime. */
  const restart = async (): Promise<void> => {
    await child!.exited;
    kills++;
    acksChecked += (await checkDatabase({ dataDir: o.dataDir, acks: acks() })).acksChecked;
    await spawn();
  };
  const dead = () => child !== null && (child.proc.exitCode !== null || child.proc.signalCode !== null);

  await spawn();
  const admin = adminOf({ dataDir: o.dataDir, port });
  for (let i = 0; i < SITES; i++) {
    const inv = await admin.createInvitation({ siteName: `Site ${String.fromCharCode(65 + i)}` });
    sites.push(await LightSite.enroll({ index: i, token: inv.token, url: () => url }));
  }
  await admin.createFederation(PLAN).catch(() => undefined); // the first moment kills the coordinator right here
  let fid: string | undefined;
  const loops: Array<Promise<unknown>> = [];
  try {
    for (;;) {
      if (dead()) await restart();
      if (!fid) {
        fid = await admin
          .listFederations()
          .then((f) => f[0]?.id)
          .catch(() => undefined);
        if (fid) for (const s of sites) loops.push(s.run(fid, { intervalMs: 100 }));
      }
      const state = fid
        ? await admin
            .getFederation(fid)
            .then((f) => f.state)
            .catch(() => 'unknown')
        : 'unknown';
      if (state === 'completed') break;
      if (state === 'failed') throw new Error('the federation failed');
      await new Promise((r) => setTimeout(r, 20));
    }
    const fed = await admin.getFederation(fid!);
    const keys = await admin.coordinatorKeys();
    const versions = await admin.listModels({ federationId: fid! });
    expect(versions.map((v) => v.round)).toEqual(Array.from({ length: ROUNDS + 1 }, (_, i) => i));
    for (const v of versions) {
      const dl = await admin.downloadWeights(v.id);
      verifyModelVersion({
        meta: v.meta,
        signature: v.signature,
        weightsBytes: dl.bytes,
        coordinatorSignPublicKey: fromB64(keys.signPublicKey),
      });
      if (v.round > 0) expect((v.meta.contributors as unknown[]).length).toBe(SITES);
    }
    const finalWeights = Buffer.from((await admin.downloadWeights(fed.latestVersionId!)).bytes);
    return { finalWeights, kills, acksChecked, killLog };
  } finally {
    for (const s of sites) s.stop();
    await Promise.all(loops);
    const c = child as Child | null;
    if (c && !dead()) {
      c.proc.kill('SIGTERM');
      await c.exited;
    }
  }
}

describe('the coordinator is killed with SIGKILL at 20 seeded moments', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-kill-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  test('every restart resumes, every acknowledged upload survives, and the final weights are bit-identical to an uninterrupted run', async () => {
    const t0 = Date.now();
    const reference = await runFederation({ dataDir: tmp(), kills: [] });
    const t1 = Date.now();
    expect(reference.kills).toBe(0);
    const plan = moments(SEED);
    const killed = await runFederation({ dataDir: tmp(), kills: plan });
    // Every seeded moment happened: the federation outlived 20 kills.
    expect(killed.kills).toBe(KILLS);
    expect(killed.killLog.slice(0, KILLS)).toEqual(
      plan.map((m) => (m.kind === 'point' ? m.spec : `SIGKILL +${m.afterReadyMs} ms`)),
    );
    expect(killed.acksChecked).toBeGreaterThan(0);
    expect(killed.finalWeights.equals(reference.finalWeights)).toBe(true);
    process.stdout.write(
      `kill test: uninterrupted run ${t1 - t0} ms; ${killed.kills} kills survived in ${Date.now() - t1} ms, ${killed.acksChecked} acknowledged-upload checks; moments: ${killed.killLog.join(', ')}\n`,
    );
  }, 180_000);
});
