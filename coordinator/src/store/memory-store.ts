/**
 * The in-memory implementation of {@link Store}: same semantics as SQLite (the shared contract suite proves
 * it), nothing durable. Records are deep-copied on the way in and out, so callers cannot mutate stored state.
 * Each method runs synchronously inside its promise, so multi-step writes are atomic.
 */
import { storeClosed } from './errors';
import * as fed from './memory/federations';
import * as id from './memory/identity';
import { emptyState, type MemoryState } from './memory/state';
import * as ver from './memory/versions';
import * as pop from './memory/population';
import * as stats from './memory/stats';
import * as secagg from './memory/secagg';
import type * as R from './records';
import type * as T from './types';

export class MemoryStore implements T.Store {
  private state: MemoryState | null = emptyState();

  private get s(): MemoryState {
    if (!this.state) throw storeClosed();
    return this.state;
  }

  /** Runs a write and, when `done(result)` says it took effect, appends `entry` (synchronously, so atomically). */
  private audited<X>(entry: R.NewAuditEntry | undefined, write: (s: MemoryState) => X, done: (result: X) => boolean = () => true): X {
    const s = this.s;
    const result = write(s);
    if (entry && done(result)) ver.appendAudit(s, entry);
    return result;
  }

  async createApiToken(t: R.NewApiToken, e?: R.NewAuditEntry) { return this.audited(e, (s) => id.createApiToken(s, t)); }
  async findApiTokenByHash(tokenHash: string) { return id.findApiTokenByHash(this.s, tokenHash); }
  async listApiTokens() { return id.listApiTokens(this.s); }
  async revokeApiToken(tokenId: string, at: string, e?: R.NewAuditEntry) { return this.audited(e, (s) => id.revokeApiToken(s, tokenId, at), (ok) => ok); }

  async createInvitation(i: R.NewInvitation, e?: R.NewAuditEntry) { return this.audited(e, (s) => id.createInvitation(s, i)); }
  async listInvitations() { return id.listInvitations(this.s); }
  async enrollSite(input: T.EnrollSiteInput) { return this.audited(input.audit, (s) => id.enrollSite(s, input), (site) => site !== null); }
  async getSite(siteId: string) { return id.getSite(this.s, siteId); }
  async listSites() { return id.listSites(this.s); }
  async revokeSite(siteId: string, at: string, e?: R.NewAuditEntry) {
    let first = false;
    return this.audited(e, (s) => {
      first = id.getSite(s, siteId)?.revokedAt === null;
      return id.revokeSite(s, siteId, at);
    }, () => first);
  }
  async touchSite(siteId: string, at: string) { return id.touchSite(this.s, siteId, at); }
  async setMissedRounds(siteId: string, n: number) { return id.setMissedRounds(this.s, siteId, n); }
  async useNonce(input: T.UseNonceInput) { return id.useNonce(this.s, input); }
  async pruneNonces(now: string) { return id.pruneNonces(this.s, now); }

  async createFederation(f: R.NewFederation, e?: R.NewAuditEntry) { return this.audited(e, (s) => fed.createFederation(s, f)); }
  async getFederation(fid: string) { return fed.getFederation(this.s, fid); }
  async listFederations() { return fed.listFederations(this.s); }
  async updateFederation(fid: string, patch: R.FederationPatch) { return fed.updateFederation(this.s, fid, patch); }
  async createRound(r: R.NewRound, e?: R.NewAuditEntry) { return this.audited(e, (s) => fed.createRound(s, r)); }
  async getRound(fid: string, round: number) { return fed.getRound(this.s, fid, round); }
  async listRounds(fid: string) { return fed.listRounds(this.s, fid); }
  async transitionRound(input: T.TransitionRoundInput) { return this.audited(input.audit, (s) => fed.transitionRound(s, input), (r) => r !== null); }

  async putUpdate(u: R.Update, options?: T.PutUpdateOptions) { return fed.putUpdate(this.s, u, options); }
  async getUpdate(fid: string, round: number, siteId: string) { return fed.getUpdate(this.s, fid, round, siteId); }
  async listUpdates(fid: string, round: number) { return fed.listUpdates(this.s, fid, round); }
  async listUpdateSummaries(fid: string, round: number) { return fed.listUpdateSummaries(this.s, fid, round); }
  async countUpdates(fid: string, round: number) { return fed.countUpdates(this.s, fid, round); }

  async publishVersion(input: T.PublishVersionInput) {
    const s = this.s;
    const published = ver.publishVersion(s, input);
    if (published && input.audit) {
      const entry = ver.appendAudit(s, input.audit);
      if (input.signAuditHead) ver.signHead(s, entry, input.signAuditHead);
    }
    return published;
  }
  async getVersion(vid: string) { return ver.getVersion(this.s, vid); }
  async getVersionWeights(vid: string) { return ver.getVersionWeights(this.s, vid); }
  async listVersions(filter?: { federationId?: string }) { return ver.listVersions(this.s, filter); }
  async latestVersion(fid: string) { return ver.latestVersion(this.s, fid); }
  async getStrategyState(fid: string) { return ver.getStrategyState(this.s, fid); }
  async putEvaluation(e: R.Evaluation) { return ver.putEvaluation(this.s, e); }
  async listEvaluations(vid: string) { return ver.listEvaluations(this.s, vid); }
  async listFederationEvaluations(fid: string) { return ver.listFederationEvaluations(this.s, fid); }
  async putPopulationReport(r: R.PopulationReportRecord) { return pop.putPopulationReport(this.s, r); }
  async listPopulationReports(f?: { versionId?: string; federationId?: string }) { return pop.listPopulationReports(this.s, f); }
  async putStatsContribution(c: R.StatsContributionRecord) { return stats.putStatsContribution(this.s, c); }
  async listStatsContributions(fid: string) { return stats.listStatsContributions(this.s, fid); }
  async putSecaggMessage(m: R.SecaggMessageRecord) { return secagg.putSecaggMessage(this.s, m); }
  async listSecaggMessages(fid: string, round: number, kind: R.SecaggKind) { return secagg.listSecaggMessages(this.s, fid, round, kind); }
  async fixSecaggCohort(c: R.SecaggCohortRecord) { return secagg.fixSecaggCohort(this.s, c); }
  async getSecaggCohort(fid: string, round: number) { return secagg.getSecaggCohort(this.s, fid, round); }

  async appendAudit(e: R.NewAuditEntry) { return ver.appendAudit(this.s, e); }
  async listAudit(options: T.ListAuditOptions) { return ver.listAudit(this.s, options); }
  async listAuditHeads() { return ver.listAuditHeads(this.s); }
  async auditSequenceEnd() { return this.s.audit.length === 0 ? 0 : this.s.audit[this.s.audit.length - 1]!.seq; }

  async health(): Promise<boolean> {
    return this.state !== null;
  }

  async close(): Promise<void> {
    this.state = null;
  }
}
