/**
 * Identifiers: sites, federations, versions, tokens, invitations. One grammar everywhere an id is read (API
 * bodies and route parameters, signed envelopes, request-signing headers): 1–128 ASCII characters, letters,
 * digits, `.`, `_`, `:` and `-`, starting with a letter or digit. Every id the coordinator mints (`fed-…`,
 * `fed-….v3`, `site-<slug>-…`, `tok-…`, `inv-…`) is in it; no whitespace, quote, comma or `=`, so an id can never
 * break a header, a log line or a signed statement.
 */
import { z } from 'zod';

/** The identifier grammar (see the module comment). */
export const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** An identifier (site, federation, version, token, invitation). */
export const IdSchema = z.string().regex(ID_RE, 'identifier');
