/** Joins the per-domain parts of a store implementation into one {@link Store} (no hand-written forwarding). */
import type { Store, StoreDomains } from './types';

/** One factory per domain, each building that domain's part of the store over the implementation's context `X`. */
type StoreParts<X> = { [K in keyof StoreDomains]: (x: X) => StoreDomains[K] };

/** The parts built over one context, as one object (method names are unique across domains, so nothing is shadowed). */
function composeStore<X>(x: X, parts: StoreParts<X>): Store {
  return Object.assign({}, ...Object.values(parts).map((part: (x: X) => object) => part(x))) as Store;
}

/**
 * A base class whose instances are the Store composed of `parts` over the context that `context(...args)` makes, so
 * an implementation stays a class (`new MemoryStore()`, `instanceof SqliteStore`) while its methods live in its
 * per-domain modules.
 */
export function storeClass<A extends unknown[], X>(
  context: (...args: A) => X,
  parts: StoreParts<X>,
): new (...args: A) => Store {
  class Composed {
    constructor(...args: A) {
      Object.assign(this, composeStore(context(...args), parts));
    }
  }
  return Composed as unknown as new (...args: A) => Store;
}
