/** Small zod building blocks shared by the envelope and model-version schemas. */
import { z } from 'zod';
import { fromB64 } from '../crypto/encoding';
import { nameKeySchema } from '../schemas/names';

/** Canonical standard base64 that decodes to exactly `n` bytes. */
export function b64OfLength(n: number) {
  return z.string().refine(
    (s) => {
      try {
        return fromB64(s).byteLength === n;
      } catch {
        return false;
      }
    },
    { message: `must be canonical base64 of ${n} bytes` },
  );
}

/** A metrics map: at most `maxKeys` printable names (1–128 chars, see schemas/names) to finite numbers. */
export function metricsSchema(maxKeys: number) {
  return z
    .record(nameKeySchema(128), z.number())
    .refine((m) => Object.keys(m).length <= maxKeys, { message: `at most ${maxKeys} metrics` });
}

/** Lowercase hex SHA-256. */
export const Sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/);
