/**
 * Test support (not shipped: `__tests__` is excluded from the build). An in-memory coordinator that speaks
 * the site API with real signatures, plus a site enrollment to go with it.
 */
import {
  PROTOCOL_VERSION,
  PlanSchema,
  TwinfedError,
  decisionOnPlan,
  decodeSignedDownload,
  fingerprint,
  generateIdentity,
  initialWeights,
  layoutOf,
  signedDownloadHead,
  openUpdate,
  parseUpdate,
  planDigest,
  publicPart,
  serializeWeights,
  sha256Hex,
  signModelVersion,
  signPlan,
  verifyUpdateSignature,
  type CurrentRound,
  type EvaluationReport,
  type FederationState,
  type FederationView,
  type Identity,
  type SignedDownload,
  type ModelVersionMeta,
  type OfferedFederation,
  type PrivacyLedger,
  type Plan,
  type PlanDecision,
  type PlanInput,
  type UploadAck,
  type WeightSet,
} from '@twinfed/shared';
import type { PlanDecisionChannel } from '../governance/channel';
import type { Enrollment } from '../identity/load';
import type { ModelWeightsDownload, SignedModelVersion, SiteApi } from '../transport/coordinator-client';

export const TEST_FEATURES = ['age', 'chol', 'thalach'];

export function testPlan(over: Partial<PlanInput> = {}): Plan {
  return PlanSchema.parse({
    name: 'test plan',
    model: { kind: 'logistic-regression', inputs: 3 },
    data: { features: TEST_FEATURES, normalization: 'per-site' },
    strategy: { name: 'fedavg' },
    training: { steps: 3, batchSize: 4, lr: 0.1 },
    rounds: 2,
    ...over,
  });
}

/** A site enrollment pinned to `coordinator`. */
export function testEnrollment(coordinator: Identity, siteId = 'site-a'): Enrollment {
  const identity = generateIdentity();
  const cpub = publicPart(coordinator);
  return {
    identity,
    coordinator: { signPublicKey: coordinator.sign.publicKey, boxPublicKey: coordinator.box.publicKey },
    state: {
      siteId,
      name: 'Site A',
      coordinatorUrls: ['http://127.0.0.1:1'],
      enrolledAt: new Date(0).toISOString(),
      fingerprint: fingerprint(publicPart(identity)),
      coordinator: { ...cpub, fingerprint: fingerprint(cpub) },
    },
  };
}

interface StoredVersion {
  meta: ModelVersionMeta;
  signature: string;
  bytes: Uint8Array;
}

/** Received update, decrypted with the coordinator key (proves the envelope is well-formed). */
export interface ReceivedUpdate {
  round: number;
  baseVersionId: string;
  numExamples: number;
  weights: WeightSet;
  digest: string;
  /** The evaluation of the base version the header carried, if any. */
  baseEvaluation?: EvaluationReport;
}

/**
 * A one-federation coordinator: round r opens from version v(r-1); an accepted upload publishes v(r) (the
 * uploaded weights) and opens the next round, or completes the federation after `plan.rounds`.
 */
export class FakeCoordinator implements SiteApi, PlanDecisionChannel {
  readonly identity = generateIdentity();
  readonly federationId = 'fed-1';
  readonly versions = new Map<string, StoredVersion>();
  readonly updates: ReceivedUpdate[] = [];
  /** Every evaluation taken: posted (`evaluate:` in {@link calls}) or carried by an update. */
  readonly evaluations: Array<{ versionId: string; report: EvaluationReport }> = [];
  /** False: a coordinator from before `baseEvaluation`, whose header schema refuses an update carrying one. */
  takesBaseEvaluation = true;
  /** Codes to refuse the next uploads with, one per upload (before reading them). */
  readonly refuseUploads: TwinfedError['code'][] = [];
  /** The decisions the site reported, in order (only the decision and the plan hash travel). */
  readonly decisions: Array<{ federationId: string; decision: PlanDecision; planSha256: string }> = [];
  state: FederationState = 'running';
  round = 1;
  baseVersionId = 'v0';
  selected = true;
  /** False for a site enrolled after the federation started and not selected yet: member routes answer NOT_A_MEMBER. */
  member = true;
  /** When false the fake "forgets" submissions in rounds/current (to prove the journal alone prevents re-uploads). */
  reportSubmitted = true;
  /**
   * Hooks to tamper with what is served: `plan` is served in place of the plan the coordinator signed (a tampering
   * proxy), `unsignedPlan` drops the signed plan statement.
   */
  tamper: { signWith?: Identity; flipWeightByte?: boolean; etag?: string; plan?: Plan; unsignedPlan?: boolean } = {};
  /** The federation's creation time (part of its signed plan statement). */
  readonly createdAt = new Date().toISOString();
  readonly calls: string[] = [];
  /** The versions served with `rounds/current` (`currentRoundWithVersion`), in order. */
  readonly servedWithRound: string[] = [];
  /** Round instructions served to the site. */
  clientConfig: Record<string, unknown> = {};
  /** How the "aggregate" is made from the uploaded weights (default: as uploaded). */
  aggregate: (w: WeightSet) => WeightSet = (w) => w;
  siteSignPublicKey: Uint8Array | undefined;
  siteBoxPublicKey: Uint8Array | undefined;

  constructor(public plan: Plan = testPlan()) {
    this.publish({ versionId: 'v0', round: 0, weights: initialWeights(plan.model, 1), parent: null });
  }

  /** Lets the fake decrypt uploads from this site. */
  trust(enrollment: Enrollment): void {
    this.siteSignPublicKey = enrollment.identity.sign.publicKey;
    this.siteBoxPublicKey = enrollment.identity.box.publicKey;
  }

  /** Publishes a signed version (`planSha256`: sign another plan's digest into it, as a lying coordinator could). */
  publish(opts: {
    versionId: string;
    round: number;
    weights: WeightSet;
    parent: string | null;
    planSha256?: string;
  }): void {
    const bytes = serializeWeights(opts.weights);
    const meta: ModelVersionMeta = {
      protocol: PROTOCOL_VERSION,
      federationId: this.federationId,
      versionId: opts.versionId,
      parentVersionId: opts.parent,
      round: opts.round,
      strategy: 'fedavg',
      layout: layoutOf(this.plan.model).map((t) => ({ name: t.name, shape: [...t.shape], dtype: t.dtype })),
      weightsSha256: sha256Hex(bytes),
      contributors: [],
      metrics: {},
      planSha256: opts.planSha256 ?? planDigest(this.plan),
      createdAt: new Date().toISOString(),
    };
    this.versions.set(opts.versionId, { meta, signature: signModelVersion(meta, this.identity.sign.secretKey), bytes });
  }

  async currentRound(federationId: string): Promise<CurrentRound> {
    this.calls.push('currentRound');
    if (federationId !== this.federationId) throw new TwinfedError('UNKNOWN_FEDERATION');
    if (!this.member) throw new TwinfedError('NOT_A_MEMBER');
    return this.served();
  }

  /** What rounds/current serves a member. */
  private served(): CurrentRound {
    const submitted = this.reportSubmitted && this.updates.some((u) => u.round === this.round);
    const now = new Date().toISOString();
    return {
      federation: {
        id: this.federationId,
        name: 'fed',
        state: this.state,
        plan: JSON.parse(JSON.stringify(this.tamper.plan ?? this.plan)) as Plan,
        ...(this.tamper.unsignedPlan
          ? {}
          : {
              signedPlan: signPlan({
                federationId: this.federationId,
                plan: this.plan,
                createdAt: this.createdAt,
                coordinatorSignSecretKey: this.identity.sign.secretKey,
              }),
            }),
        currentRound: this.round,
        latestVersionId: [...this.versions.keys()].pop() ?? null,
        createdAt: this.createdAt,
        updatedAt: now,
      },
      round: {
        federationId: this.federationId,
        round: this.round,
        state: this.state === 'running' ? 'open' : 'published',
        baseVersionId: this.baseVersionId,
        selectedSiteIds: this.selected ? ['site-a'] : [],
        selectedCount: this.selected ? 1 : 0,
        received: this.updates.filter((u) => u.round === this.round).length,
        openedAt: now,
        deadlineAt: now,
        closedAt: null,
        failureReason: null,
        versionId: null,
      },
      selected: this.selected,
      submitted,
      clientConfig: this.clientConfig,
    };
  }

  /** A stored version, or UNKNOWN_MODEL_VERSION. */
  private storedVersion(versionId: string) {
    const v = this.versions.get(versionId);
    if (!v) throw new TwinfedError('UNKNOWN_MODEL_VERSION');
    return v;
  }

  /** The signature served with a version (re-signed with another key when tampering says so). */
  private servedSignature(v: ReturnType<FakeCoordinator['storedVersion']>): string {
    return this.tamper.signWith ? signModelVersion(v.meta, this.tamper.signWith.sign.secretKey) : v.signature;
  }

  /** The weights served with a version (one byte flipped when tampering says so). */
  private servedWeights(v: ReturnType<FakeCoordinator['storedVersion']>): Uint8Array {
    const bytes = v.bytes.slice();
    if (this.tamper.flipWeightByte) bytes[bytes.length - 1]! ^= 0x01;
    return bytes;
  }

  async model(versionId: string): Promise<SignedModelVersion> {
    this.calls.push(`model:${versionId}`);
    const v = this.storedVersion(versionId);
    return { meta: JSON.parse(JSON.stringify(v.meta)) as unknown, signature: this.servedSignature(v) };
  }

  async modelWeights(versionId: string): Promise<ModelWeightsDownload> {
    this.calls.push(`weights:${versionId}`);
    const v = this.storedVersion(versionId);
    return { bytes: this.servedWeights(v), etag: this.tamper.etag ?? v.meta.weightsSha256 };
  }

  /**
   * `rounds/current` and, unless `have` names it, the latest version as `modelDownload` serves it (same tampering), in
   * one answer (one request: recorded as `currentRound`, the version in `servedWithRound`); `undefined` makes this fake
   * a coordinator without it.
   */
  currentRoundWithVersion: SiteApi['currentRoundWithVersion'] = async (federationId, options = {}) => {
    const current = await this.currentRound(federationId);
    const latest = current.federation.latestVersionId;
    if (latest === null || latest === options.have) return { current };
    this.servedWithRound.push(latest);
    const v = this.storedVersion(latest);
    const head = signedDownloadHead({ meta: v.meta, signature: this.servedSignature(v) });
    return { current, version: Buffer.concat([head, this.servedWeights(v)]) };
  };

  /** Both answers above in one (with the same tampering); `undefined` makes this fake a coordinator without signed downloads. */
  modelDownload: SiteApi['modelDownload'] = async (versionId: string): Promise<SignedDownload> => {
    this.calls.push(`download:${versionId}`);
    const v = this.storedVersion(versionId);
    const head = signedDownloadHead({ meta: v.meta, signature: this.servedSignature(v) });
    return decodeSignedDownload(Buffer.concat([head, this.servedWeights(v)]));
  };

  async uploadUpdate(opts: { federationId: string; round: number; envelope: Uint8Array }): Promise<UploadAck> {
    this.calls.push(`upload:${opts.round}`);
    if (opts.round !== this.round || this.state !== 'running') throw new TwinfedError('ROUND_CLOSED');
    const refusal = this.refuseUploads.shift();
    if (refusal) throw new TwinfedError(refusal);
    const { header, ciphertext } = parseUpdate(opts.envelope);
    if (header.baseEvaluation && !this.takesBaseEvaluation)
      throw new TwinfedError('INVALID_ENVELOPE', 'The envelope header does not match its schema.');
    verifyUpdateSignature({ header, ciphertext, siteSignPublicKey: this.siteSignPublicKey! });
    const weights = openUpdate({
      header,
      ciphertext,
      siteBoxPublicKey: this.siteBoxPublicKey!,
      coordinatorBoxSecretKey: this.identity.box.secretKey,
      expectedLayout: layoutOf(this.plan.model),
    });
    const digest = sha256Hex(opts.envelope);
    this.updates.push({
      round: header.round,
      baseVersionId: header.baseVersionId,
      numExamples: header.numExamples,
      weights,
      digest,
      ...(header.baseEvaluation ? { baseEvaluation: header.baseEvaluation } : {}),
    });
    if (header.baseEvaluation)
      this.evaluations.push({ versionId: header.baseVersionId, report: header.baseEvaluation });
    const ack: UploadAck = {
      federationId: this.federationId,
      round: opts.round,
      siteId: header.siteId,
      digest,
      status: 'accepted',
      receivedAt: new Date().toISOString(),
    };
    const versionId = `v${this.round}`;
    this.publish({ versionId, round: this.round, weights: this.aggregate(weights), parent: this.baseVersionId });
    if (this.round >= this.plan.rounds) this.state = 'completed';
    else {
      this.round += 1;
      this.baseVersionId = versionId;
    }
    return ack;
  }

  async postEvaluation(opts: { versionId: string; report: EvaluationReport }): Promise<void> {
    this.calls.push(`evaluate:${opts.versionId}`);
    this.evaluations.push({ versionId: opts.versionId, report: opts.report });
  }

  /** `GET /v1/federations/:fid`: the federation as a member site reads it (in the default study). */
  async federation(): Promise<FederationView> {
    const { federation } = await this.currentRound(this.federationId);
    return { ...federation, studyId: 'study-default' };
  }

  /** The one federation, while it runs, with the decision the site last reported about it (pending for another hash). */
  async offered(): Promise<OfferedFederation[]> {
    this.calls.push('offered');
    if (this.state !== 'running') return [];
    const last = this.decisions.at(-1) ?? null;
    return [
      {
        federation: { ...this.served().federation, studyId: 'study-default' },
        decision: {
          federationId: this.federationId,
          siteId: 'site-a',
          siteName: 'Site A',
          decision: decisionOnPlan(last, planDigest(this.plan)),
          planSha256: last?.planSha256 ?? null,
          decidedAt: last ? new Date().toISOString() : null,
        },
      },
    ];
  }

  /** `GET /v1/sites/self/privacy`: the site's ledger (set `ledger` to serve one; default: nothing contributed). */
  ledger: PrivacyLedger = { composition: 'basic', scope: 'site', sites: [] };
  privacyLedger(): PrivacyLedger {
    this.calls.push('privacyLedger');
    return this.ledger;
  }

  async report(federationId: string, decision: PlanDecision, planSha256: string): Promise<void> {
    this.calls.push(`decision:${decision}`);
    if (federationId !== this.federationId) throw new TwinfedError('UNKNOWN_FEDERATION');
    this.decisions.push({ federationId, decision, planSha256 });
  }
}
