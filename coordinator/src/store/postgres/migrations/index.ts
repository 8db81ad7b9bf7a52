import { migration001 } from './001-initial';
import { migration002 } from './002-cohort-pools';
import { migration003 } from './003-leases';
import { migration004 } from './004-metric-counts';
import { migration005 } from './005-evaluation-calibration';
import { migration006 } from './006-baseline-contributions';
import { migration007 } from './007-cross-site-evaluation';
import { migration008 } from './008-recalibration-contributions';
import { migration009 } from './009-secagg-messages-by-kind';
import type { PgMigration } from './types';

export type { PgMigration } from './types';

/** Every PostgreSQL migration, in order. Append new ones; never edit an applied one. */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  migration001,
  migration002,
  migration003,
  migration004,
  migration005,
  migration006,
  migration007,
  migration008,
  migration009,
];
