import type { Identity, Logger } from '@twinfed/shared';
import type { CoordinatorConfig } from '../config';
import type { CrashPoints } from '../rounds/crash-points';
import type { RoundEngine } from '../rounds/engine';
import type { Store } from '../store';
import type { AuthFailureLimiter } from './auth-failures';
import type { Presence } from './presence';
import type { SiteMacKeys } from './site-mac-keys';
import type { UploadGate } from './upload-gate';

/** How push events reach the sites: `local` (one process), `redis` (every replica), `degraded` (Redis is away). */
export type PushMode = 'local' | 'redis' | 'degraded';

/** What HTTP handlers may use. */
export interface HttpDeps {
  config: CoordinatorConfig;
  store: Store;
  engine: RoundEngine;
  identity: Identity;
  logger: Logger;
  now: () => number;
  /** Called after a site is revoked (the socket layer disconnects it). */
  onSiteRevoked?: (siteId: string) => void;
  /** Admission control of uploads (503 + Retry-After beyond its bound); none: unbounded. */
  uploadGate?: UploadGate;
  /** Throttled `lastSeenAt` writes; none: every signed request writes. */
  presence?: Presence;
  /** True while the coordinator shuts down: new requests get 503 NOT_READY. */
  draining?: () => boolean;
  /** The sites' request MAC keys, shared with the socket layer; none: the app derives its own. */
  macKeys?: SiteMacKeys;
  /** The failed-authentication limiter, shared with the socket layer; none: the app makes its own. */
  authFailures?: AuthFailureLimiter;
  /** How push events reach sites: this process only, through Redis, or Redis is away (`/readyz`); default local. */
  pushMode?: () => PushMode;
  /** Test-only crash points. */
  crashPoints?: CrashPoints;
}
