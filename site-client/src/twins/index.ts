/** The site's digital twins: the TwinSnapshot contract, the twin store (SQLite + memory) and the site secret. */
export type * from './types';
export * from './store';
export { loadOrCreateSiteSecret, SITE_SECRET_FILE } from './site-secret';
export { pseudonymousId } from './pseudonym';
