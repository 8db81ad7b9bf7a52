/**
 * The rows of the cross-site tables as the SQLite and PostgreSQL stores read them (JSON as text, binary as a Buffer),
 * and their records: one mapping for both engines (each keeps its own SELECT, its aliases quoted its way).
 */
import type { CrossSiteBoxRecord, CrossSiteMessageRecord, CrossSiteRecord } from './records';
import { jsonOrNull } from './util';

export interface CrossSiteSessionRow extends Omit<CrossSiteRecord, 'candidates' | 'participants' | 'matrix'> {
  candidates: string;
  participants: string | null;
  matrix: string | null;
}
export interface CrossSiteMessageRow extends Omit<CrossSiteMessageRecord, 'payload'> {
  payload: string;
}
export interface CrossSiteBoxRow extends Omit<CrossSiteBoxRecord, 'nonce' | 'ciphertext'> {
  nonce: Buffer;
  ciphertext: Buffer;
}

const json = <T>(text: string): T => JSON.parse(text) as T;

const toSession = (r: CrossSiteSessionRow): CrossSiteRecord => ({
  ...r,
  candidates: json<string[]>(r.candidates),
  participants: r.participants === null ? null : json<string[]>(r.participants),
  matrix: r.matrix === null ? null : json<NonNullable<CrossSiteRecord['matrix']>>(r.matrix),
});

const toMessage = (r: CrossSiteMessageRow): CrossSiteMessageRecord => ({
  ...r,
  payload: json<CrossSiteMessageRecord['payload']>(r.payload),
});

const toBox = (r: CrossSiteBoxRow): CrossSiteBoxRecord => ({
  ...r,
  nonce: new Uint8Array(r.nonce),
  ciphertext: new Uint8Array(r.ciphertext),
});

/** The values of a session row, in the order of the columns both stores insert. */
const sessionValues = (r: CrossSiteRecord) => [
  r.federationId,
  r.globalVersionId,
  JSON.stringify(r.candidates),
  r.state,
  r.openedAt,
  r.modelsDeadlineAt,
  jsonOrNull(r.participants),
  r.resultsDeadlineAt,
  jsonOrNull(r.matrix),
  r.closedAt,
];

/** Rows to records (and a session to its row's values), for both SQL stores. */
export const crossSiteRows = { toSession, toMessage, toBox, sessionValues };
