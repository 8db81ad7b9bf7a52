import type { Identity } from '@twinfed/shared';
import type { CoordinatorConfig } from '../config';
import type { Logger } from '../logger';
import type { RoundEngine } from '../rounds/engine';
import type { Store } from '../store';

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
}
