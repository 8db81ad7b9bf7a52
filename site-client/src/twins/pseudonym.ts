import { createHmac } from 'node:crypto';

/**
 * The pseudonymous patient id: HMAC-SHA256 of the hospital's own patient id, keyed with the site secret,
 * in hex. Stable for a site (same secret), unlinkable across sites, not reversible without the mapping table.
 */
export function pseudonymousId(secret: Uint8Array, hospitalId: string): string {
  return createHmac('sha256', secret).update(hospitalId, 'utf8').digest('hex');
}

/**
 * The stored idempotency key of a record: a keyed hash (128 bits, hex) of its type and source id, so that
 * source ids (FHIR resource ids, CSV row keys, device sample ids), which may embed hospital identifiers,
 * never reach the twin tables themselves.
 */
export function sourceKey(secret: Uint8Array, type: string, sourceId: string): string {
  return createHmac('sha256', secret).update(`source\u0000${type}\u0000${sourceId}`, 'utf8').digest('hex').slice(0, 32);
}
