/**
 * The rows of the cross-site tables as the SQLite and PostgreSQL stores read them (JSON as text, binary as a Buffer),
 * and their records: one mapping for both engines (each keeps its own SELECT, its aliases quoted its way).
 */
import type { CrossSiteBoxRecord, CrossSiteMessageRecord, CrossSiteRecord } from './records';

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

export const toCrossSiteSession = (r: CrossSiteSessionRow): CrossSiteRecord => ({
  ...r,
  candidates: json<string[]>(r.candidates),
  participants: r.participants === null ? null : json<string[]>(r.participants),
  matrix: r.matrix === null ? null : json<NonNullable<CrossSiteRecord['matrix']>>(r.matrix),
});

export const toCrossSiteMessage = (r: CrossSiteMessageRow): CrossSiteMessageRecord => ({
  ...r,
  payload: json<CrossSiteMessageRecord['payload']>(r.payload),
});

export const toCrossSiteBox = (r: CrossSiteBoxRow): CrossSiteBoxRecord => ({
  ...r,
  nonce: new Uint8Array(r.nonce),
  ciphertext: new Uint8Array(r.ciphertext),
});
