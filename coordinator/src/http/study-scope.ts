/**
 * What a caller may read of the consortium's studies, decided here and nowhere else. Operators read every study. A
 * researcher reads the federations of its token's studies — their rounds, versions, weights, evaluations, pooled
 * statistics and population views — the sites that take part in them, and those studies; anything outside answers
 * exactly as if it did not exist (404 with the code of a missing one, lists without it), never 403, so ids do not leak.
 * Sites are not scoped by studies (their federation membership checks apply). Routes get it in two ways: the router
 * puts {@link studyScopeGuard} before every handler whose path names a federation, a version, a study or a cohort
 * query, and the list handlers filter with the `visible…` functions.
 * Cohort statistics queries belong to a study too: a researcher posts and reads only its studies' queries.
 */
import type { NextFunction, Request, Response } from 'express';
import { TwinfedError } from '@twinfed/shared';
import type { CohortQueryRecord, Federation, Site, Store, Study } from '../store';
import { foundingMember } from '../rounds/membership';
import { principalOf } from './auth';
import { idParam } from './body';

/** Whether the caller may read a study's federations; `all` for callers no study limits. */
interface StudyScope {
  readonly all: boolean;
  sees(studyId: string): boolean;
}

const EVERY_STUDY: StudyScope = { all: true, sees: () => true };

/** The caller's scope: a researcher token's studies; every study for operators (and for sites and public routes). */
function scopeOf(req: Request): StudyScope {
  const p = principalOf(req);
  if (p.kind !== 'token' || p.role === 'operator') return EVERY_STUDY;
  const ids = new Set(p.studies);
  return { all: false, sees: (id) => ids.has(id) };
}

type Deps = { store: Store };

/** The federation when the caller may read it; UNKNOWN_FEDERATION when it does not exist or lies outside its scope. */
async function visibleFederation(req: Request, deps: Deps, federationId: string): Promise<Federation> {
  const federation = await deps.store.getFederation(federationId);
  if (!federation || !scopeOf(req).sees(federation.studyId)) throw new TwinfedError('UNKNOWN_FEDERATION');
  return federation;
}

/** The federations the caller may read, in the store's order. */
export async function visibleFederations(req: Request, deps: Deps): Promise<Federation[]> {
  const scope = scopeOf(req);
  const all = await deps.store.listFederations();
  return scope.all ? all : all.filter((f) => scope.sees(f.studyId));
}

/** The ids of the federations the caller may read; null when it may read every federation. */
export async function visibleFederationIds(req: Request, deps: Deps): Promise<ReadonlySet<string> | null> {
  if (scopeOf(req).all) return null;
  return new Set((await visibleFederations(req, deps)).map((f) => f.id));
}

/** The studies the caller may read. */
export async function visibleStudies(req: Request, deps: Deps): Promise<Study[]> {
  const scope = scopeOf(req);
  return (await deps.store.listStudies()).filter((s) => scope.sees(s.id));
}

/** The study when the caller may read it (and so post cohort queries for it); UNKNOWN_STUDY otherwise. */
export async function visibleStudy(req: Request, deps: Deps, studyId: string): Promise<Study> {
  const study = await deps.store.getStudy(studyId);
  if (!study || !scopeOf(req).sees(study.id)) throw new TwinfedError('UNKNOWN_STUDY');
  return study;
}

/** The cohort queries the caller may read (of one study, or of all its studies), in the store's order. */
export async function visibleCohortQueries(req: Request, deps: Deps, studyId?: string): Promise<CohortQueryRecord[]> {
  if (studyId !== undefined) await visibleStudy(req, deps, studyId);
  const scope = scopeOf(req);
  const all = await deps.store.listCohortQueries(studyId === undefined ? {} : { studyId });
  return scope.all ? all : all.filter((q) => scope.sees(q.studyId));
}

/**
 * The sites the caller may read: every site, or for a researcher those that take part in a federation it may read
 * (its founding cohort, or selected for one of its rounds; see rounds/membership).
 */
export async function visibleSites(req: Request, deps: Deps): Promise<Site[]> {
  const sites = await deps.store.listSites();
  if (scopeOf(req).all) return sites;
  const taking = new Set<string>();
  for (const f of await visibleFederations(req, deps)) {
    for (const s of sites) if (foundingMember(f, s)) taking.add(s.id);
    for (const r of await deps.store.listRounds(f.id)) for (const id of r.selectedSiteIds) taking.add(id);
  }
  return sites.filter((s) => taking.has(s.id));
}

/** The path parameters the guard checks, and how. */
const CHECKS: Record<string, (req: Request, deps: Deps, scope: StudyScope) => Promise<void>> = {
  fid: async (req, deps) => void (await visibleFederation(req, deps, idParam(req, 'fid'))),
  vid: async (req, deps, scope) => {
    const version = await deps.store.getVersion(idParam(req, 'vid'));
    const federation = version && (await deps.store.getFederation(version.federationId));
    if (!federation || !scope.sees(federation.studyId)) throw new TwinfedError('UNKNOWN_MODEL_VERSION');
  },
  studyId: async (req, _deps, scope) => {
    if (!scope.sees(idParam(req, 'studyId'))) throw new TwinfedError('UNKNOWN_STUDY');
  },
  qid: async (req, deps, scope) => {
    const query = await deps.store.getCohortQuery(idParam(req, 'qid'));
    if (!query || !scope.sees(query.studyId)) throw new TwinfedError('NOT_FOUND', 'The cohort query does not exist.');
  },
};

/**
 * The router's check for a route whose path names a federation (`:fid`), a version (`:vid`), a study (`:studyId`) or
 * a cohort query (`:qid`), run before its handler: a scoped caller gets the missing resource's 404 for anything outside its
 * studies. Empty for a route without such a parameter or that no researcher may call.
 */
export function studyScopeGuard(
  route: { path: string; roles: readonly string[] },
  deps: Deps,
): Array<(req: Request, res: Response, next: NextFunction) => Promise<void>> {
  const checks = route.path
    .split('/')
    .filter((segment) => segment.startsWith(':') && Object.hasOwn(CHECKS, segment.slice(1)))
    .map((segment) => CHECKS[segment.slice(1)]!);
  if (checks.length === 0 || !route.roles.includes('researcher')) return [];
  return [
    async (req, _res, next) => {
      const scope = scopeOf(req);
      if (!scope.all) for (const check of checks) await check(req, deps, scope);
      next();
    },
  ];
}
