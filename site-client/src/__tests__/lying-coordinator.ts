/**
 * Test support (not shipped): a coordinator that lies to the sites in secure aggregation (issue 16). It relays
 * honestly what the sites send (signed keys and share boxes, masked updates, consistency signatures, reveals) and
 * builds each site's view of a round from it; a test then rewrites any site's view before it is served (`lie`). It
 * keeps every message it was sent and tries to unmask one site's update from them (`recover`) — what a malicious
 * coordinator would do. It holds the coordinator's keys (so it can sign any directory entry) and may hold Sybil
 * sites' keys (sites it enrolled itself).
 */
import {
  PROTOCOL_VERSION,
  SECAGG_FRACTION_BITS,
  SECAGG_STATE_SECTIONS,
  TwinfedError,
  addRing64,
  decodeRing64,
  expandRing64,
  fingerprint,
  fromB64,
  fromBytesRing64,
  openMaskedUpdate,
  openShares,
  parseUpdate,
  publicPart,
  recoverMaskSecretKey,
  recoverSelfMaskSeed,
  secaggPairKey,
  secaggVectorLength,
  secaggCohortDigest,
  secaggNeighbourhoodStatement,
  shareBoxesDigest,
  signSecaggConsistency,
  signNeighbourhoodDirectory,
  signSecaggNeighbourhood,
  signSiteDirectoryEntry,
  subRing64,
  toB64,
  type CohortMember,
  type Identity,
  type SecaggGraph,
  type SecaggReveal,
  type SecaggRound,
  type SecaggShares,
  type SecaggState,
  type SecaggStateSection,
  type SecaggStateView,
  type UploadAck,
  withoutSecaggSections,
} from '@twinfed/shared';
import type { Enrollment } from '../identity/load';
import type { SiteApi } from '../transport/coordinator-client';
import { FakeCoordinator, testPlan } from './fake-coordinator';

/** One site's view of the round, as the honest relay would serve it. */
export type View = SecaggState;

/** A masked update as received: its envelope and the view its sender was shown when it masked. */
interface Received {
  envelope: Uint8Array;
  view: View;
}

/**
 * The lying coordinator of round 1 of one federation (base version v0). `phase`, U2 and U3 are set by the test (an
 * honest coordinator derives them from what arrived); `lie(siteId, view)` rewrites what a site is shown.
 */
export class LyingCoordinator {
  /** Models and signatures (v0), with the coordinator's identity. */
  readonly models: FakeCoordinator;
  readonly federationId: string;
  readonly round = 1;
  phase: View['phase'] = 'sharing';
  u2: string[] | null = null;
  u3: string[] | null = null;
  /** The threshold it announces. */
  threshold: number;
  /** The first key-share message of each site (an honest coordinator keeps the first), without its evaluation. */
  readonly shares = new Map<string, SecaggShares>();
  /** The evaluations of the base version the key-share messages carried, by site (every one taken). */
  readonly evaluations = new Map<string, NonNullable<SecaggShares['baseEvaluation']>>();
  /**
   * What it answers to key shares carrying an evaluation: taken; `VALIDATION_FAILED` (a coordinator from before them,
   * whose strict schema refuses the field); `INVALID_BASE_EVALUATION` (a report it does not take).
   */
  baseEvaluations: 'taken' | 'VALIDATION_FAILED' | 'INVALID_BASE_EVALUATION' = 'taken';
  /** Every masked update each site ever sent. */
  readonly masked = new Map<string, Received[]>();
  /** Every consistency signature, in arrival order. */
  readonly consistency: Array<{ siteId: string; signature: string }> = [];
  /** False: a coordinator from before the consistency MACs (its strict schema refuses `macs`). */
  takesMacs = true;
  /** The consistency MACs each signer sent (sparse graph), by signer: relayed to each recipient its own only. */
  readonly macs = new Map<string, Array<{ to: string; mac: string }>>();
  /** Every reveal any site sent (the attacker keeps them all). */
  readonly reveals: Array<{ siteId: string; body: SecaggReveal }> = [];
  /** The last view served to each site. */
  readonly views = new Map<string, View>();
  /** Rewrites a site's view before it is served (default: the truth). */
  lie: (siteId: string, view: View) => View = (_, v) => v;
  /** When set, `shared`/`revealed` always say no (the coordinator "lost" the site's messages). */
  forget = false;
  /** Called after each upload arrives (the test moves the round on). */
  onUpload: (siteId: string, count: number) => void = () => undefined;
  /** Uploads to store and then answer with a network failure (the site never sees the acknowledgement). */
  dropAcks = 0;
  /**
   * The round's graph when it is sparse (SecAgg+; set by the test, as the sites compute it): an honest relay then
   * hands each site only its neighbours' boxes and consistency signatures. Null: the complete graph.
   */
  graph: SecaggGraph | null = null;
  /**
   * Whether a neighbourhood view carries the coordinator's signature over the listed entries (signed over the view as
   * served, after `lie`: it holds the key; a `lie` that sets one of its own keeps it). False: an older coordinator.
   */
  signsNeighbourhoods = true;
  /**
   * How it answers a read naming what the site holds (`have`): `honours` leaves those sections out once fixed, as the
   * coordinator does — except a section `lie` changed (a liar sends what it lies about, and the site checks it);
   * `refuses`: a coordinator from before `have` (its strict query schema: `VALIDATION_FAILED`); `ignores`: sends all.
   */
  have: 'honours' | 'refuses' | 'ignores' = 'honours';
  /** What each site named in `have` on each of its state reads, in order. */
  readonly asked = new Map<string, SecaggStateSection[][]>();

  constructor(
    readonly sites: Enrollment[],
    opts: { threshold: number; models?: FakeCoordinator },
  ) {
    this.models = opts.models ?? new FakeCoordinator(testPlan({ privacy: { secureAggregation: true }, minSites: 2 }));
    this.federationId = this.models.federationId;
    this.threshold = opts.threshold;
  }

  get identity(): Identity {
    return this.models.identity;
  }

  /** The round context the sites bind everything to. */
  get rd(): SecaggRound {
    return {
      federationId: this.federationId,
      round: this.round,
      baseVersionId: 'v0',
      coordinatorFingerprint: fingerprint(publicPart(this.identity)),
    };
  }

  private enrollment(siteId: string): Enrollment {
    const e = this.sites.find((s) => s.state.siteId === siteId);
    if (!e) throw new TwinfedError('UNKNOWN_SITE');
    return e;
  }

  /** A directory entry for `siteId` with the keys of `identity`, signed with the coordinator's key (true or not). */
  directoryEntry(siteId: string, identity: Pick<Identity, 'sign' | 'box'>): CohortMember {
    const entry = {
      siteId,
      signPublicKey: toB64(identity.sign.publicKey),
      boxPublicKey: toB64(identity.box.publicKey),
    };
    return { ...entry, directorySignature: signSiteDirectoryEntry(entry, this.identity.sign.secretKey) };
  }

  /** The consistency signature of a site whose keys the coordinator holds (a Sybil) over any U3 it likes. */
  sybilConsistency(sybil: Enrollment, u3: string[]): { siteId: string; signature: string } {
    const ids = this.sites.map((s) => s.state.siteId).sort();
    const key = sybil.identity.sign.secretKey;
    const g = this.graph;
    const signature = g
      ? signSecaggNeighbourhood(
          secaggNeighbourhoodStatement({
            ...this.rd,
            cohortSha256: secaggCohortDigest(ids),
            degree: g.degree,
            threshold: g.threshold,
            siteId: sybil.state.siteId,
            neighbours: g.neighbours(sybil.state.siteId),
            u2: new Set(this.u2),
            u3: new Set(u3),
          }),
          key,
        )
      : signSecaggConsistency({ ...this.rd, threshold: this.threshold, cohort: ids, u2: this.u2!, u3 }, key);
    return { siteId: sybil.state.siteId, signature };
  }

  /**
   * The honest view of `siteId`; asked with `view: 'neighbourhood'` and a sparse graph, only the keys of its closed
   * neighbourhood with the ids of S and U2, as the coordinator answers it.
   */
  truth(siteId: string, asked?: SecaggStateView): View {
    const cohort = this.sites.map((s) => this.directoryEntry(s.state.siteId, s.identity));
    const u2 = this.u2;
    const survivors = u2
      ? u2.map((id) => {
          const m = this.shares.get(id)!;
          return {
            siteId: id,
            maskPublicKey: m.maskPublicKey,
            boxesSha256: shareBoxesDigest(m.shares),
            signature: m.signature,
          };
        })
      : null;
    const near = new Set(
      this.graph ? [siteId, ...this.graph.neighbours(siteId)] : this.sites.map((s) => s.state.siteId),
    );
    const sharesForMe = u2
      ? u2.filter((from) => near.has(from)).map((from) => ({ from, ...this.boxFor(from, siteId) }))
      : [];
    const unmasking = this.phase === 'unmasking' || this.phase === 'closed';
    const now = new Date().toISOString();
    const trim = asked === 'neighbourhood' && this.graph !== null;
    return {
      federationId: this.federationId,
      round: this.round,
      phase: this.phase,
      threshold: this.threshold,
      cohort: trim ? cohort.filter((m) => near.has(m.siteId)) : cohort,
      ...(trim
        ? {
            view: 'neighbourhood' as const,
            cohortIds: cohort.map((m) => m.siteId).sort(),
            survivorIds: u2 ? [...u2].sort() : null,
          }
        : {}),
      shared: !this.forget && this.shares.has(siteId),
      revealed: !this.forget && this.reveals.some((r) => r.siteId === siteId),
      survivors: trim && survivors ? survivors.filter((m) => near.has(m.siteId)) : survivors,
      sharesForMe,
      maskedBy: unmasking ? this.u3 : null,
      consistency: unmasking
        ? this.consistency
            .filter((c) => this.u3?.includes(c.siteId) && near.has(c.siteId))
            .map((c) => {
              const mac = this.macs.get(c.siteId)?.find((m) => m.to === siteId)?.mac;
              return mac === undefined ? c : { ...c, mac };
            })
        : [],
      sharesDeadlineAt: now,
      unmaskDeadlineAt: now,
    };
  }

  private boxFor(from: string, to: string): { nonce: string; ciphertext: string } {
    const box = this.shares.get(from)?.shares.find((s) => s.to === to);
    if (!box) throw new Error(`no box ${from} → ${to}`);
    return { nonce: box.nonce, ciphertext: box.ciphertext };
  }

  /** The site API as `siteId` reaches it. */
  apiFor(siteId: string): SiteApi {
    const models = this.models;
    return {
      currentRound: (f) => models.currentRound(f),
      model: (v) => models.model(v),
      modelWeights: (v) => models.modelWeights(v),
      postEvaluation: async () => undefined,
      uploadUpdate: async (o) => this.upload(siteId, o.envelope),
      secaggState: async (o) => {
        const have = [...(o.have ?? [])];
        this.asked.set(siteId, [...(this.asked.get(siteId) ?? []), have]);
        if (this.have === 'refuses' && o.have !== undefined)
          throw new TwinfedError('VALIDATION_FAILED', "Unrecognized key(s) in object: 'have'");
        const truth = this.truth(siteId, o.view);
        const lied = this.lie(siteId, structuredClone(truth));
        const view =
          this.signsNeighbourhoods && lied.view === 'neighbourhood' && lied.neighbourhoodSignature === undefined
            ? {
                ...lied,
                neighbourhoodSignature: signNeighbourhoodDirectory(
                  { ...this.rd, siteId, entries: lied.cohort },
                  this.identity.sign.secretKey,
                ),
              }
            : lied;
        this.views.set(siteId, view);
        return structuredClone(this.have === 'honours' ? withoutHeld(view, truth, have) : view);
      },
      secaggShares: async (o) => {
        const { baseEvaluation, ...body } = o.body;
        if (baseEvaluation && this.baseEvaluations !== 'taken')
          throw new TwinfedError(this.baseEvaluations, 'refused: baseEvaluation');
        if (!this.shares.has(siteId)) this.shares.set(siteId, structuredClone(body));
        if (baseEvaluation) this.evaluations.set(siteId, structuredClone(baseEvaluation));
        return { status: 'accepted' };
      },
      secaggConsistency: async (o) => {
        if (!this.takesMacs && o.body.macs !== undefined)
          throw new TwinfedError('VALIDATION_FAILED', 'Unrecognized key');
        if (!this.consistency.some((c) => c.siteId === siteId)) {
          this.consistency.push({ siteId, signature: o.body.signature });
          if (o.body.macs) this.macs.set(siteId, structuredClone(o.body.macs));
        }
        return { status: 'accepted' };
      },
      secaggReveal: async (o) => {
        this.reveals.push({ siteId, body: structuredClone(o.body) });
        return { status: 'accepted' };
      },
    };
  }

  private async upload(siteId: string, envelope: Uint8Array): Promise<UploadAck> {
    const list = this.masked.get(siteId) ?? [];
    list.push({ envelope: envelope.slice(), view: structuredClone(this.views.get(siteId)!) });
    this.masked.set(siteId, list);
    this.onUpload(siteId, list.length);
    if (this.dropAcks > 0) {
      this.dropAcks -= 1;
      throw new TwinfedError('NETWORK', 'connection reset');
    }
    return {
      federationId: this.federationId,
      round: this.round,
      siteId,
      digest: 'ab'.repeat(32),
      status: 'accepted',
      receivedAt: new Date().toISOString(),
    };
  }

  /** The plaintext ring vector of a site's `i`-th masked update (the coordinator can open every envelope). */
  maskedVector(siteId: string, i = 0): { y: Uint32Array; commitment: string; numExamples: number; view: View } {
    const got = this.masked.get(siteId)?.[i];
    if (!got) throw new Error(`no masked update ${i} from ${siteId}`);
    const { header, ciphertext } = parseUpdate(got.envelope);
    const bytes = openMaskedUpdate({
      header,
      ciphertext,
      siteBoxPublicKey: this.enrollment(siteId).identity.box.publicKey,
      coordinatorBoxSecretKey: this.identity.box.secretKey,
      expectedElements: this.elements,
    });
    return {
      y: fromBytesRing64(bytes, this.elements),
      commitment: header.secagg!.commitment,
      numExamples: header.numExamples,
      view: got.view,
    };
  }

  /** Ring elements per masked update in the tests: a 2-element layout and the side facts (n, n·loss, n_loss). */
  elements = secaggVectorLength(2);

  /** The distinct shares of `v`'s `kind` secret among everything revealed (a share's last byte is its x coordinate). */
  private revealedShares(v: string, kind: 'seedShares' | 'maskKeyShares', extra: Uint8Array[] = []): Uint8Array[] {
    const byX = new Map<number, Uint8Array>();
    for (const r of this.reveals) {
      for (const s of r.body[kind]) {
        if (s.of !== v) continue;
        const b = fromB64(s.share);
        byX.set(b[b.length - 1]!, b);
      }
    }
    for (const b of extra) byX.set(b[b.length - 1]!, b);
    return [...byX.values()];
  }

  /** Shares a Sybil site (whose keys the coordinator holds) can open from `v`'s box to it. */
  sybilShares(v: string, sybil: Enrollment): { seed: Uint8Array; maskKey: Uint8Array } {
    const msg = this.shares.get(v)!;
    const box = msg.shares.find((s) => s.to === sybil.state.siteId)!;
    return openShares({
      ...this.rd,
      boxSecretKey: sybil.identity.box.secretKey,
      share: box,
      from: { siteId: v, boxPublicKey: this.enrollment(v).identity.box.publicKey },
      fromMaskPublicKey: fromB64(msg.maskPublicKey),
      siteId: sybil.state.siteId,
    });
  }

  /**
   * Tries to unmask `v`'s first masked update from what it holds: v's self-mask seed from the revealed seed shares,
   * and each pairwise mask from v's revealed mask key, or from the secret of a mask key it substituted in v's view
   * (`known`). Returns n_v · w_v, or null when it cannot.
   */
  async recover(
    v: string,
    opts: { known?: Map<string, Uint8Array>; sybils?: Enrollment[] } = {},
  ): Promise<Float64Array | null> {
    if (!this.masked.has(v)) return null;
    const { y, commitment, view } = this.maskedVector(v);
    const sybil = (opts.sybils ?? []).map((s) => this.sybilShares(v, s));
    let seed: Uint8Array;
    try {
      seed = await recoverSelfMaskSeed({
        ...this.rd,
        shares: this.revealedShares(
          v,
          'seedShares',
          sybil.map((s) => s.seed),
        ),
        commitment,
        siteId: v,
      });
    } catch {
      return null;
    }
    let maskKey: Uint8Array | null;
    try {
      maskKey = await recoverMaskSecretKey({
        shares: this.revealedShares(
          v,
          'maskKeyShares',
          sybil.map((s) => s.maskKey),
        ),
        publicKey: fromB64(this.shares.get(v)!.maskPublicKey),
        siteId: v,
      });
    } catch {
      maskKey = null;
    }
    const x = y.slice();
    subRing64(x, expandRing64(seed, this.elements));
    for (const w of view.survivors ?? []) {
      if (w.siteId === v || (this.graph && !this.graph.neighbours(v).includes(w.siteId))) continue;
      let key: Uint8Array;
      if (maskKey)
        key = secaggPairKey({
          ...this.rd,
          maskSecretKey: maskKey,
          siteId: v,
          peer: { siteId: w.siteId, boxPublicKey: fromB64(w.maskPublicKey) },
        });
      else if (opts.known?.has(w.maskPublicKey))
        key = secaggPairKey({
          ...this.rd,
          maskSecretKey: opts.known.get(w.maskPublicKey)!,
          siteId: w.siteId,
          peer: { siteId: v, boxPublicKey: fromB64(this.shares.get(v)!.maskPublicKey) },
        });
      else return null;
      const mask = expandRing64(key, this.elements);
      if (v < w.siteId) subRing64(x, mask);
      else addRing64(x, mask);
    }
    return decodeRing64(x, SECAGG_FRACTION_BITS);
  }
}

/** An update header for `siteId` in round 1 of `federationId`, trained from v0. */
export function secureHeader(federationId: string, siteId: string, numExamples: number) {
  return {
    protocol: PROTOCOL_VERSION,
    federationId,
    round: 1,
    siteId,
    baseVersionId: 'v0',
    numExamples,
    metrics: {},
    sentAt: new Date().toISOString(),
  };
}

/**
 * `view` less the sections named in `have` that are fixed (the directory always, U2 and U3 once set) and that the
 * served view shows as the truth does; a view that already says what it left out (a `lie`) is served as it is.
 */
function withoutHeld(view: View, truth: View, have: readonly SecaggStateSection[]): View {
  if (view.omitted !== undefined) return view;
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const sections = {
    directory: (v: View) => [v.cohort, v.cohortIds],
    survivors: (v: View) => [v.survivors, v.survivorIds, v.sharesForMe],
    maskedBy: (v: View) => v.maskedBy,
  };
  const fixed = { directory: true, survivors: truth.survivors !== null, maskedBy: truth.maskedBy !== null };
  const omitted = SECAGG_STATE_SECTIONS.filter(
    (x) => have.includes(x) && fixed[x] && same(sections[x](view), sections[x](truth)),
  );
  return withoutSecaggSections(view, omitted);
}
