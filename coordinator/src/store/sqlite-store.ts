/**
 * The SQLite implementation of {@link Store} (better-sqlite3; WAL, synchronous=FULL, so every write is on
 * disk before its promise resolves). Multi-statement writes run in BEGIN IMMEDIATE transactions with no
 * await inside, so they are atomic against other connections to the same file too.
 */
import { storeClosed } from './errors';
import type * as R from './records';
import { SqlContext } from './sqlite/context';
import { openDatabase, type OpenDatabaseOptions } from './sqlite/db';
import * as audit from './sqlite/audit';
import * as fed from './sqlite/federations';
import * as id from './sqlite/identity';
import * as upd from './sqlite/updates';
import * as ver from './sqlite/versions';
import * as pop from './sqlite/population';
import * as stats from './sqlite/stats';
import * as secagg from './sqlite/secagg';
import { WriteBatch } from './sqlite/write-batch';
import type * as T from './types';

export type SqliteStoreOptions = Omit<OpenDatabaseOptions, 'migrations'>;

export class SqliteStore implements T.Store {
  private context: SqlContext | null;
  /** Concurrent small writes (nonces, last-seen times, uploads, evaluations) share one commit (see WriteBatch). */
  private readonly batch = new WriteBatch(() => this.c);

  private constructor(context: SqlContext) {
    this.context = context;
  }

  /** Opens (creating with mode 0600 if needed) and migrates the database file. */
  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    const context = new SqlContext(openDatabase(options));
    audit.sealLegacyAudit(context);
    return new SqliteStore(context);
  }

  private get c(): SqlContext {
    if (!this.context) throw storeClosed();
    return this.context;
  }

  /** Runs a write and, when `done(result)` says it took effect, appends `entry` in the same immediate transaction. */
  private audited<X>(entry: R.NewAuditEntry | undefined, write: (c: SqlContext) => X, done: (result: X) => boolean = () => true): X {
    const c = this.c;
    if (!entry) return write(c);
    return c.tx(() => {
      const result = write(c);
      if (done(result)) audit.appendAudit(c, entry);
      return result;
    });
  }

  async createApiToken(t: R.NewApiToken, e?: R.NewAuditEntry) { return this.audited(e, (c) => id.createApiToken(c, t)); }
  async findApiTokenByHash(tokenHash: string) { return id.findApiTokenByHash(this.c, tokenHash); }
  async listApiTokens() { return id.listApiTokens(this.c); }
  async revokeApiToken(tokenId: string, at: string, e?: R.NewAuditEntry) { return this.audited(e, (c) => id.revokeApiToken(c, tokenId, at), (ok) => ok); }

  async createInvitation(i: R.NewInvitation, e?: R.NewAuditEntry) { return this.audited(e, (c) => id.createInvitation(c, i)); }
  async listInvitations() { return id.listInvitations(this.c); }
  async enrollSite(input: T.EnrollSiteInput) { return this.audited(input.audit, (c) => id.enrollSite(c, input), (site) => site !== null); }
  async getSite(siteId: string) { return id.getSite(this.c, siteId); }
  async listSites() { return id.listSites(this.c); }
  async revokeSite(siteId: string, at: string, e?: R.NewAuditEntry) {
    let first = false;
    return this.audited(e, (c) => {
      first = id.getSite(c, siteId)?.revokedAt === null;
      return id.revokeSite(c, siteId, at);
    }, () => first);
  }
  async touchSite(siteId: string, at: string) { return this.batch.run((c) => id.touchSite(c, siteId, at)); }
  async setMissedRounds(siteId: string, n: number) { return id.setMissedRounds(this.c, siteId, n); }
  async useNonce(input: T.UseNonceInput) { return this.batch.run((c) => id.useNonce(c, input)); }
  async pruneNonces(now: string) { return id.pruneNonces(this.c, now); }

  async createFederation(f: R.NewFederation, e?: R.NewAuditEntry) { return this.audited(e, (c) => fed.createFederation(c, f)); }
  async getFederation(fid: string) { return fed.getFederation(this.c, fid); }
  async listFederations() { return fed.listFederations(this.c); }
  async updateFederation(fid: string, patch: R.FederationPatch) { return fed.updateFederation(this.c, fid, patch); }
  async createRound(r: R.NewRound, e?: R.NewAuditEntry) { return this.audited(e, (c) => fed.createRound(c, r)); }
  async getRound(fid: string, round: number) { return fed.getRound(this.c, fid, round); }
  async listRounds(fid: string) { return fed.listRounds(this.c, fid); }
  async transitionRound(input: T.TransitionRoundInput) { return this.audited(input.audit, (c) => fed.transitionRound(c, input), (r) => r !== null); }

  async putUpdate(u: R.Update, options?: T.PutUpdateOptions) { return this.batch.run((c) => upd.putUpdate(c, u, options)); }
  async getUpdate(fid: string, round: number, siteId: string) { return upd.getUpdate(this.c, fid, round, siteId); }
  async listUpdates(fid: string, round: number) { return upd.listUpdates(this.c, fid, round); }
  async listUpdateSummaries(fid: string, round: number) { return upd.listUpdateSummaries(this.c, fid, round); }
  async countUpdates(fid: string, round: number) { return upd.countUpdates(this.c, fid, round); }

  async publishVersion(input: T.PublishVersionInput) {
    const c = this.c;
    if (!input.audit) return ver.publishVersion(c, input);
    const entry = input.audit;
    return c.tx(() => {
      const published = ver.publishVersion(c, input);
      if (published) {
        const appended = audit.appendAudit(c, entry);
        if (input.signAuditHead) audit.signHead(c, { seq: appended.seq, hash: appended.hash, at: appended.at }, input.signAuditHead);
      }
      return published;
    });
  }
  async getVersion(vid: string) { return ver.getVersion(this.c, vid); }
  async getVersionWeights(vid: string) { return ver.getVersionWeights(this.c, vid); }
  async listVersions(filter?: { federationId?: string }) { return ver.listVersions(this.c, filter); }
  async latestVersion(fid: string) { return ver.latestVersion(this.c, fid); }
  async getStrategyState(fid: string) { return ver.getStrategyState(this.c, fid); }
  async putEvaluation(e: R.Evaluation) { return this.batch.run((c) => ver.putEvaluation(c, e)); }
  async listEvaluations(vid: string) { return ver.listEvaluations(this.c, vid); }
  async listFederationEvaluations(fid: string) { return ver.listFederationEvaluations(this.c, fid); }
  async putPopulationReport(r: R.PopulationReportRecord) { return pop.putPopulationReport(this.c, r); }
  async listPopulationReports(f?: { versionId?: string; federationId?: string }) { return pop.listPopulationReports(this.c, f); }
  async putStatsContribution(c: R.StatsContributionRecord) { return stats.putStatsContribution(this.c, c); }
  async listStatsContributions(fid: string) { return stats.listStatsContributions(this.c, fid); }
  async putSecaggMessage(m: R.SecaggMessageRecord) { return secagg.putSecaggMessage(this.c, m); }
  async listSecaggMessages(fid: string, round: number, kind: R.SecaggKind) { return secagg.listSecaggMessages(this.c, fid, round, kind); }
  async fixSecaggCohort(co: R.SecaggCohortRecord) { return secagg.fixSecaggCohort(this.c, co); }
  async getSecaggCohort(fid: string, round: number) { return secagg.getSecaggCohort(this.c, fid, round); }

  async appendAudit(e: R.NewAuditEntry) { return audit.appendAudit(this.c, e); }
  async listAudit(options: T.ListAuditOptions) { return audit.listAudit(this.c, options); }
  async listAuditHeads() { return audit.listAuditHeads(this.c); }
  async auditSequenceEnd() { return audit.auditSequenceEnd(this.c); }

  async health(): Promise<boolean> {
    return this.context !== null && audit.probe(this.context);
  }

  async close(): Promise<void> {
    if (this.context) this.batch.flush();
    const context = this.context;
    this.context = null;
    context?.db.close();
  }
}
