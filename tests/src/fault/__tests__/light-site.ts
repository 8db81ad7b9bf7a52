import {
  PROTOCOL_VERSION,
  SeededRandom,
  deserializeWeights,
  fromB64,
  generateIdentity,
  publicPart,
  routes,
  sealUpdate,
  signEnrollProof,
  signRequest,
  type CurrentRound,
  type Identity,
  type PlanInput,
  type UploadAck,
} from '@twinfed/shared';

/** A plan light sites can take part in (logistic regression over three features, one step); `over` sets the rest. */
export function lightPlan(over: Partial<PlanInput> & Pick<PlanInput, 'name' | 'rounds'>): PlanInput {
  return {
    model: { kind: 'logistic-regression', inputs: 3 },
    data: { features: ['a', 'b', 'c'] },
    strategy: { name: 'fedavg' },
    training: { steps: 1 },
    ...over,
  };
}

/** An upload the coordinator acknowledged, as the site saw it. */
export interface Ack {
  federationId: string;
  round: number;
  siteId: string;
  digest: string;
  status: UploadAck['status'];
}

/** The weights site `index` uploads in `round`: a seeded step away from the base (a pure function of its inputs). */
export function lightWeights(base: Float32Array, index: number, round: number): Float32Array {
  const rng = new SeededRandom(7919 * (index + 1) + round);
  return base.map((w) => 0.8 * w + 0.5 * rng.normal() + 0.05 * index);
}

/**
 * A site without tfjs for fault tests: real enrollment, signed HTTP and sealed envelopes, deterministic
 * "training" ({@link lightWeights}). It seals each round's update once and re-sends the same bytes on every
 * retry, like the real client, so a retried upload is recognised as a duplicate.
 */
export class LightSite {
  readonly acks: Ack[] = [];
  private readonly sealed = new Map<string, Uint8Array>();
  private stopped = false;

  private constructor(
    readonly index: number,
    readonly siteId: string,
    private readonly identity: Identity,
    private readonly coordinatorBoxPublicKey: Uint8Array,
    private readonly url: () => string,
  ) {}

  /** Enrolls through the public API with a token the operator created. */
  static async enroll(o: { index: number; token: string; url: () => string }): Promise<LightSite> {
    const identity = generateIdentity();
    const coordinator = (await (await fetch(o.url() + routes.coordinatorKeys)).json()) as {
      signPublicKey: string;
      boxPublicKey: string;
    };
    const res = await fetch(o.url() + routes.enroll, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        protocol: PROTOCOL_VERSION,
        token: o.token,
        ...publicPart(identity),
        proof: signEnrollProof({ token: o.token, coordinator, identity }),
      }),
    });
    if (res.status !== 201) throw new Error(`enroll failed: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { siteId: string; coordinator: { boxPublicKey: string } };
    return new LightSite(o.index, body.siteId, identity, fromB64(body.coordinator.boxPublicKey), o.url);
  }

  /** The signature headers of a request (for tests that send it themselves). */
  sign(method: 'GET' | 'POST', p: string, body: Uint8Array): Record<string, string> {
    return signRequest({ method, path: p, body, siteId: this.siteId, signSecretKey: this.identity.sign.secretKey });
  }

  /** The sealed update of a round, if {@link prepare} made it. */
  sealedFor(federationId: string, round: number): Uint8Array | undefined {
    return this.sealed.get(`${federationId}/${round}`);
  }

  /** A signed request. */
  async request(method: 'GET' | 'POST', p: string, body?: Uint8Array): Promise<Response> {
    const bytes = body ?? new Uint8Array(0);
    const headers: Record<string, string> = signRequest({
      method,
      path: p,
      body: bytes,
      siteId: this.siteId,
      signSecretKey: this.identity.sign.secretKey,
    });
    if (body) headers['content-type'] = 'application/octet-stream';
    return fetch(this.url() + p, { method, headers, ...(body ? { body } : {}), signal: AbortSignal.timeout(10_000) });
  }

  /** One look at the federation: uploads if selected and not yet submitted. Network errors propagate. */
  async step(federationId: string): Promise<'uploaded' | 'idle' | 'ended'> {
    const res = await this.request('GET', routes.currentRound(federationId));
    if (res.status !== 200) throw new Error(`current round: HTTP ${res.status}`);
    const cur = (await res.json()) as CurrentRound;
    if (cur.federation.state !== 'running') return 'ended';
    const r = cur.round;
    if (!r || !cur.selected || cur.submitted || (r.state !== 'open' && r.state !== 'collecting')) return 'idle';
    await this.prepare(federationId, r);
    const up = await this.deliver(federationId, r.round);
    if (up.status === 200 || up.status === 201) return 'uploaded';
    const text = await up.text();
    if (up.status === 409 || up.status === 503) return 'idle'; // closed meanwhile, or busy: look again later
    throw new Error(`upload: HTTP ${up.status} ${text}`);
  }

  /** True when the coordinator holds this site's update of `round` (acknowledged to the site or not). */
  async submitted(federationId: string, round: number): Promise<boolean> {
    const res = await this.request('GET', routes.currentRound(federationId));
    if (res.status !== 200) return false;
    const cur = (await res.json()) as CurrentRound;
    const now = cur.round?.round ?? 0;
    return now > round || cur.federation.state === 'completed' || (now === round && cur.submitted === true);
  }

  /** "Trains" and seals the update of a round (once). */
  async prepare(federationId: string, r: { round: number; baseVersionId: string }): Promise<void> {
    const key = `${federationId}/${r.round}`;
    if (this.sealed.has(key)) return;
    const wres = await this.request('GET', routes.modelWeights(r.baseVersionId));
    if (wres.status !== 200) throw new Error(`weights: HTTP ${wres.status}`);
    const base = deserializeWeights(new Uint8Array(await wres.arrayBuffer()));
    this.sealed.set(
      key,
      sealUpdate({
        header: {
          protocol: PROTOCOL_VERSION,
          federationId,
          round: r.round,
          siteId: this.siteId,
          baseVersionId: r.baseVersionId,
          numExamples: 10 + 5 * this.index,
          metrics: { trainLoss: 1 / (1 + this.index) },
          sentAt: new Date().toISOString(),
        },
        weights: { layout: base.layout, data: lightWeights(base.data, this.index, r.round) },
        identity: this.identity,
        coordinatorBoxPublicKey: this.coordinatorBoxPublicKey,
      }),
    );
  }

  /** Uploads the sealed update of a round (the same bytes every time); records an acknowledgement. */
  async deliver(federationId: string, round: number): Promise<Response> {
    const bytes = this.sealed.get(`${federationId}/${round}`);
    if (!bytes) throw new Error(`nothing sealed for round ${round}`);
    const up = await this.request('POST', routes.updates(federationId, round), bytes);
    if (up.status === 200 || up.status === 201) {
      const ack = (await up.clone().json()) as UploadAck;
      this.acks.push({ federationId, round: ack.round, siteId: ack.siteId, digest: ack.digest, status: ack.status });
    }
    return up;
  }

  /** Steps until the federation ends or {@link stop}; errors (a dead coordinator) are retried after `errorDelayMs`. */
  async run(
    federationId: string,
    o: { intervalMs?: number; errorDelayMs?: number; onError?: (e: unknown) => void } = {},
  ): Promise<'ended' | 'stopped'> {
    while (!this.stopped) {
      try {
        if ((await this.step(federationId)) === 'ended') return 'ended';
        await sleep(o.intervalMs ?? 25);
      } catch (e) {
        o.onError?.(e);
        await sleep(o.errorDelayMs ?? 50);
      }
    }
    return 'stopped';
  }

  /** Stops {@link run} (the site "dies"). */
  stop(): void {
    this.stopped = true;
  }

  /** Lets a stopped site run again (it "comes back"). */
  revive(): void {
    this.stopped = false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
