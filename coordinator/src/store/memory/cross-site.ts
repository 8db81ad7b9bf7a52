/** In memory: cross-site evaluations, the sites' messages and the sealed local models in transit. */
import { unknownCrossSite, unknownFederation } from '../errors';
import { CROSS_SITE_BOX_KEYS, CROSS_SITE_KEYS, CROSS_SITE_MESSAGE_KEYS } from '../keys';
import { CROSS_SITE_PHASE_OF, fixedSession, modelSenders, sameIds, samePayload } from '../cross-site-rules';
import type { CrossSiteBoxRecord, CrossSiteMessageRecord, CrossSiteRecord } from '../records';
import type { CrossSiteStore } from '../types';
import { cloneRecord, compareStrings } from '../util';
import type { MemoryContext } from './context';
import { key } from './state';

const copySession = (r: CrossSiteRecord): CrossSiteRecord => cloneRecord(r, CROSS_SITE_KEYS);
const copyMessage = (r: CrossSiteMessageRecord): CrossSiteMessageRecord => cloneRecord(r, CROSS_SITE_MESSAGE_KEYS);
const copyBox = (r: CrossSiteBoxRecord): CrossSiteBoxRecord => cloneRecord(r, CROSS_SITE_BOX_KEYS);

export function crossSite(x: MemoryContext): CrossSiteStore {
  const session = (federationId: string): CrossSiteRecord => {
    const s = x.s.crossSites.get(federationId);
    if (!s) throw unknownCrossSite();
    return s;
  };
  const messages = (federationId: string, kind: CrossSiteMessageRecord['kind']): CrossSiteMessageRecord[] =>
    [...x.s.crossSiteMessages.values()]
      .filter((m) => m.federationId === federationId && m.kind === kind)
      .sort((a, b) => compareStrings(a.siteId, b.siteId));
  const deleteBoxes = (federationId: string, to: (recipient: string) => boolean): void => {
    for (const [k, b] of x.s.crossSiteBoxes)
      if (b.federationId === federationId && to(b.recipient)) x.s.crossSiteBoxes.delete(k);
  };
  return {
    async openCrossSite(r) {
      if (!x.s.federations.has(r.federationId)) throw unknownFederation();
      const existing = x.s.crossSites.get(r.federationId);
      if (existing) return copySession(existing);
      x.s.crossSites.set(r.federationId, copySession(r));
      return copySession(r);
    },

    async getCrossSite(federationId) {
      const s = x.s.crossSites.get(federationId);
      return s ? copySession(s) : null;
    },

    async putCrossSiteMessage(m, boxes = []) {
      const s = session(m.federationId);
      const k = key(m.federationId, m.siteId, m.kind);
      const existing = x.s.crossSiteMessages.get(k);
      if (existing)
        return { status: samePayload(existing, m) ? 'duplicate' : 'conflict', existing: copyMessage(existing) };
      if (s.state !== CROSS_SITE_PHASE_OF[m.kind]) return { status: 'closed', session: copySession(s) };
      x.s.crossSiteMessages.set(k, copyMessage(m));
      for (const b of boxes) x.s.crossSiteBoxes.set(key(b.federationId, b.sender, b.recipient), copyBox(b));
      if (m.kind === 'result') deleteBoxes(m.federationId, (r) => r === m.siteId);
      return { status: 'accepted' };
    },

    async listCrossSiteMessages(federationId, kind) {
      return messages(federationId, kind).map(copyMessage);
    },

    async listCrossSiteBoxes(federationId, recipient) {
      return [...x.s.crossSiteBoxes.values()]
        .filter((b) => b.federationId === federationId && b.recipient === recipient)
        .sort((a, b) => compareStrings(a.sender, b.sender))
        .map(copyBox);
    },

    async fixCrossSiteParticipants(federationId, participants, resultsDeadlineAt) {
      const s = session(federationId);
      if (s.state === 'models' && sameIds(modelSenders(messages(federationId, 'answer')), participants)) {
        x.s.crossSites.set(federationId, copySession(fixedSession(s, participants, resultsDeadlineAt)));
        const keep = new Set(participants);
        deleteBoxes(federationId, (r) => !keep.has(r));
      }
      return copySession(x.s.crossSites.get(federationId)!);
    },

    async closeCrossSite(federationId, o, audit) {
      return x.audited(
        audit,
        () => {
          const s = session(federationId);
          const reported = messages(federationId, 'result').map((m) => m.siteId);
          const closed = s.state === 'evaluating' && sameIds(reported, o.reported);
          if (closed) {
            x.s.crossSites.set(
              federationId,
              copySession({ ...s, state: 'complete', matrix: o.matrix, closedAt: o.closedAt }),
            );
            deleteBoxes(federationId, () => true);
          }
          return { closed, session: copySession(x.s.crossSites.get(federationId)!) };
        },
        (r) => r.closed,
      );
    },
  };
}
