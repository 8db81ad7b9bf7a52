import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  PlanSchema,
  fromB64,
  generateIdentity,
  initialWeights,
  serializeWeights,
  signSiteDirectoryEntry,
  toB64,
  type CrossSiteAnswer,
  type CrossSiteResult,
  type CrossSiteSession,
  type Plan,
} from '@twinfed/shared';
import type { TrainRoundOptions } from '@twinfed/models';
import { silentLogger } from '@twinfed/shared';
import { TEST_FEATURES, testEnrollment } from '../__tests__/fake-coordinator';
import { syntheticDataset } from '../__tests__/fixtures';
import type { Enrollment } from '../identity/load';
import type { SiteApi } from '../transport/coordinator-client';
import { CrossSiteStep } from './cross-site-step';
import { FederationSession, type ModelOps } from './federation-session';
import { Journal } from './journal';
import type { RunnerProgress } from './progress';
import type { VerifiedModel } from './verified-model';

const FID = 'fed-x';
const coordinator = generateIdentity();
const plan: Plan = PlanSchema.parse({
  name: 'x',
  model: { kind: 'logistic-regression', inputs: 3 },
  data: { features: TEST_FEATURES },
  strategy: { name: 'fedavg' },
  training: { steps: 2, batchSize: 4, optimizer: 'sgd', lr: 0.1 },
  rounds: 2,
  crossSiteEvaluation: { deadlineSeconds: 60 },
});
const GLOBAL = 0.3;

/** Model ops whose training adds `delta` to every weight; evaluation records the weights and scores the global model 0.9. */
function ops(delta: number) {
  const o = {
    trainers: 0,
    evaluated: [] as Float32Array[],
    async createTrainer() {
      o.trainers += 1;
      return {
        stepsPerRound: 1,
        async trainRound(r: TrainRoundOptions) {
          return {
            weights: { layout: r.weights.layout, data: r.weights.data.map((v) => v + delta) },
            numExamples: 40,
            steps: 1,
            meanLoss: 0.5,
          };
        },
        dispose() {},
      };
    },
    async evaluate(e: Parameters<ModelOps['evaluate']>[0]) {
      o.evaluated.push(e.weights.data.slice());
      const auc = e.weights.data.every((v) => v === Math.fround(GLOBAL)) ? 0.9 : 0.6;
      return { n: e.data.n, accuracy: 0.7, auc, loss: 0.5, brier: 0.2 };
    },
  };
  return o;
}

/** The relay the coordinator is to the sites: it routes boxes by recipient and moves the phases as the test says. */
class Relay {
  state: CrossSiteSession['state'] = 'models';
  participants: string[] | null = null;
  readonly answers = new Map<string, CrossSiteAnswer>();
  readonly results = new Map<string, CrossSiteResult>();
  constructor(readonly sites: Map<string, Enrollment>) {}

  candidates() {
    return [...this.sites.values()].map((e) => {
      const body = {
        siteId: e.state.siteId,
        signPublicKey: toB64(e.identity.sign.publicKey),
        boxPublicKey: toB64(e.identity.box.publicKey),
      };
      return { ...body, directorySignature: signSiteDirectoryEntry(body, coordinator.sign.secretKey) };
    });
  }

  /** This relay, for the site API's methods. */
  private view(): Relay {
    return this;
  }

  evaluating(): void {
    this.state = 'evaluating';
    this.participants = [...this.answers].filter(([, a]) => 'boxes' in a).map(([s]) => s);
  }

  api(siteId: string): SiteApi {
    const relay = this.view();
    return {
      async crossSiteSession(): Promise<CrossSiteSession> {
        const boxes = [...relay.answers].flatMap(([sender, a]) =>
          'boxes' in a && relay.state === 'evaluating' && !relay.results.has(siteId)
            ? a.boxes
                .filter((b) => b.recipient === siteId)
                .map((b) => ({ sender, nonce: b.nonce, ciphertext: b.ciphertext }))
            : [],
        );
        return {
          federationId: FID,
          state: relay.state,
          globalVersionId: `${FID}.v2`,
          metric: 'auc',
          candidates: relay.candidates(),
          participants: relay.participants,
          modelsDeadlineAt: new Date().toISOString(),
          resultsDeadlineAt: null,
          answered: relay.answers.has(siteId),
          reported: relay.results.has(siteId),
          boxes,
        };
      },
      async crossSiteAnswer({ body }) {
        relay.answers.set(siteId, body);
        return { federationId: FID, siteId, status: 'accepted' };
      },
      async crossSiteResult({ body }) {
        relay.results.set(siteId, body);
        return { federationId: FID, siteId, status: 'accepted' };
      },
    } as Partial<SiteApi> as SiteApi;
  }
}

const globalModel = async (): Promise<VerifiedModel> => {
  const w = initialWeights(plan.model, plan.seed);
  const weights = { layout: w.layout, data: w.data.map(() => GLOBAL) };
  return { meta: {} as never, weights, signature: '', bytes: serializeWeights(weights) };
};

async function site(
  relay: Relay,
  siteId: string,
  o: { delta?: number; allowed?: boolean; minCell?: number } = {},
): Promise<{ step: CrossSiteStep; ops: ReturnType<typeof ops>; events: RunnerProgress[] }> {
  const modelOps = ops(o.delta ?? 0.5);
  const enrollment = relay.sites.get(siteId)!;
  const session = await FederationSession.create({ plan, dataset: syntheticDataset(), siteId, ops: modelOps });
  const events: RunnerProgress[] = [];
  const step = new CrossSiteStep({
    api: relay.api(siteId),
    federationId: FID,
    enrollment,
    journal: Journal.open(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-xsite-'))),
    session,
    allowed: () => o.allowed ?? true,
    minCell: o.minCell ?? 10,
    verifiedModel: globalModel,
    logger: silentLogger(),
    emit: (e) => events.push(e),
  });
  return { step, ops: modelOps, events };
}

const relayOf = (...ids: string[]) => new Relay(new Map(ids.map((id) => [id, testEnrollment(coordinator, id)])));
/** The local-only model a site with training `delta` trains: the plan's initial weights, `plan.rounds` rounds. */
const localModel = (delta: number) => initialWeights(plan.model, plan.seed).data.map((v) => v + delta * plan.rounds);

describe('CrossSiteStep', () => {
  test('trains a local-only model, seals it to every candidate, then reports the metrics of every model it opened', async () => {
    const relay = relayOf('site-a', 'site-b');
    const a = await site(relay, 'site-a', { delta: 0.5 });
    const b = await site(relay, 'site-b', { delta: 0.25 });
    expect(await a.step.run()).toBe(false);
    expect(await b.step.run()).toBe(false);
    expect(a.events).toEqual([{ type: 'cross-site', step: 'sealed', count: 2 }]);
    // What travels is ciphertext: the serialised local model is not in it.
    const boxes = (relay.answers.get('site-a') as { boxes: { ciphertext: string }[] }).boxes;
    const plain = Buffer.from(
      serializeWeights({ layout: initialWeights(plan.model, plan.seed).layout, data: localModel(0.5) }),
    );
    for (const box of boxes) expect(Buffer.from(fromB64(box.ciphertext)).includes(plain.subarray(16))).toBe(false);
    // An answered site waits for the phase to change.
    expect(await a.step.run()).toBe(false);

    relay.evaluating();
    expect(await a.step.run()).toBe(true);
    expect(relay.results.get('site-a')).toEqual({ n: 20, global: 0.9, local: { 'site-a': 0.6, 'site-b': 0.6 } });
    // It evaluated each site's own local model (the one sealed by that site), and the global model.
    expect(a.ops.evaluated.slice(0, 2)).toEqual([localModel(0.5), localModel(0.25)]);
    expect([...a.ops.evaluated[2]!].every((v) => v === Math.fround(GLOBAL))).toBe(true);
    expect(a.events.at(-1)).toEqual({ type: 'cross-site', step: 'reported', count: 3, n: 20 });
    expect(await a.step.run()).toBe(true); // reported: nothing more
  });

  test('a policy that refuses answers with a refusal and never trains a local model', async () => {
    const relay = relayOf('site-a', 'site-b');
    const a = await site(relay, 'site-a', { allowed: false });
    expect(await a.step.run()).toBe(false);
    expect(relay.answers.get('site-a')).toEqual({ refused: true });
    expect(a.ops.trainers).toBe(1); // the federation's own trainer only
    relay.evaluating();
    expect(await a.step.run()).toBe(true);
    expect(a.events.map((e) => (e.type === 'cross-site' ? e.step : e.type))).toEqual(['refused', 'not-asked']);
    expect(relay.results.has('site-a')).toBe(false);
  });

  test('with fewer test rows than its k a site withholds its column and evaluates nothing', async () => {
    const relay = relayOf('site-a', 'site-b');
    const a = await site(relay, 'site-a', { minCell: 21 });
    const b = await site(relay, 'site-b');
    await a.step.run();
    await b.step.run();
    relay.evaluating();
    expect(await a.step.run()).toBe(true);
    expect(relay.results.get('site-a')).toEqual({ withheld: true });
    expect(a.ops.evaluated).toEqual([]);
  });

  test('a box that does not open (tampered in transit) is reported as null, the others still count', async () => {
    const relay = relayOf('site-a', 'site-b');
    const a = await site(relay, 'site-a');
    const b = await site(relay, 'site-b');
    await a.step.run();
    await b.step.run();
    const fromB = relay.answers.get('site-b') as { boxes: { recipient: string; ciphertext: string }[] };
    const toA = fromB.boxes.find((x) => x.recipient === 'site-a')!;
    const bytes = fromB64(toA.ciphertext);
    bytes[0]! ^= 1;
    toA.ciphertext = toB64(bytes);
    relay.evaluating();
    await a.step.run();
    expect(relay.results.get('site-a')).toEqual({ n: 20, global: 0.9, local: { 'site-a': 0.6, 'site-b': null } });
  });
});
