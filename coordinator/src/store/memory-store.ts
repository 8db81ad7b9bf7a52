/**
 * The in-memory implementation of {@link Store}: same semantics as SQLite (the shared contract suite proves
 * it), nothing durable. Its methods live in memory/<domain>.ts, one part per domain of the interface.
 */
import { storeClass } from './compose';
import { audit } from './memory/audit';
import { cohort } from './memory/cohort';
import { cohortPool } from './memory/cohort-pool';
import { crossSite } from './memory/cross-site';
import { lifecycle, MemoryContext } from './memory/context';
import { decisions } from './memory/decisions';
import { federations } from './memory/federations';
import { identity } from './memory/identity';
import { counts } from './memory/counts';
import { leases } from './memory/leases';
import { population } from './memory/population';
import { secagg } from './memory/secagg';
import { recalibration } from './memory/recalibration';
import { stats } from './memory/stats';
import { studies } from './memory/studies';
import { updates } from './memory/updates';
import { versions } from './memory/versions';

export class MemoryStore extends storeClass(() => new MemoryContext(), {
  identity,
  studies,
  federations,
  updates,
  versions,
  population,
  cohort,
  cohortPool,
  crossSite,
  stats,
  recalibration,
  secagg,
  decisions,
  audit,
  leases,
  counts,
  lifecycle,
}) {}
