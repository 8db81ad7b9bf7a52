import { migration001 } from './001-initial';
import { migration002 } from './002-population-reports';
import { migration003 } from './003-stats-contributions';
import { migration004 } from './004-secure-aggregation';
import { migration005 } from './005-unique-site-keys';
import { migration006 } from './006-audit-chain';
import { migration007 } from './007-secagg-consistency';
import { migration008 } from './008-studies';
import { migration009 } from './009-site-decisions';
import { migration010 } from './010-cohort-queries';
import { migration011 } from './011-coordinator-key';
import { migration012 } from './012-cohort-pools';
import { migration013 } from './013-leases';
import { migration014 } from './014-metric-counts';
import { migration015 } from './015-evaluation-calibration';
import { migration016 } from './016-baseline-contributions';
import { migration017 } from './017-cross-site-evaluation';
import { migration018 } from './018-recalibration-contributions';
import { migration019 } from './019-secagg-messages-by-kind';
import { migration020 } from './020-update-summaries';
import type { Migration } from './types';

/** Every migration, in order. Append new ones; never edit an applied one. */
export const MIGRATIONS: readonly Migration[] = [
  migration001,
  migration002,
  migration003,
  migration004,
  migration005,
  migration006,
  migration007,
  migration008,
  migration009,
  migration010,
  migration011,
  migration012,
  migration013,
  migration014,
  migration015,
  migration016,
  migration017,
  migration018,
  migration019,
  migration020,
];
