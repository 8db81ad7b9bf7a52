/**
 * Concrete paths of the API, derived from the contract: `routes.federations` is `'/v1/federations'`,
 * `routes.currentRound(fid)` builds `/v1/federations/<fid>/rounds/current` (parameters URI-encoded, in pattern order).
 */
import { api, type Api } from './contract';
import { pathBuilder, type PathBuilder } from './endpoint';

/** A path builder per resource of {@link api}. */
type Routes = { readonly [K in keyof Api]: PathBuilder<Api[K]['path']> };

/** Paths relative to the coordinator's base URL, one builder per resource of the contract. */
export const routes: Routes = Object.fromEntries(
  Object.entries(api).map(([name, r]) => [name, pathBuilder(r.path)]),
) as unknown as Routes;

/** Every resource's path pattern by name (`:param` segments), e.g. for the dashboard, which builds paths itself. */
export function pathPatterns(): Record<keyof Api, string> {
  return Object.fromEntries(Object.entries(api).map(([name, r]) => [name, r.path])) as Record<keyof Api, string>;
}
