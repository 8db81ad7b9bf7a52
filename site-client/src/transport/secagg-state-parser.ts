import { z } from 'zod';
import { ID_RE, api, type SecaggState } from '@twinfed/shared';

const SecaggStateSchema = api.secagg.get.response.schema;

/** The state less the lists checked here element by element (see {@link SecaggStateParser}): zod checks the rest. */
const Rest = SecaggStateSchema.omit({
  cohort: true,
  cohortIds: true,
  survivorIds: true,
  maskedBy: true,
  survivors: true,
  sharesForMe: true,
});
const MemberSchema = SecaggStateSchema.shape.cohort.element;
const SurvivorSchema = SecaggStateSchema.shape.survivors.unwrap().element;
const ShareSchema = SecaggStateSchema.shape.sharesForMe.element;

const HEX64_RE = /^[0-9a-f]{64}$/;
const isId = (x: unknown): boolean => typeof x === 'string' && ID_RE.test(x);
/** 1 for each character code of the base64 alphabet (`A–Z a–z 0–9 + /`). */
const B64_ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') B64_ALPHABET[c.charCodeAt(0)] = 1;
/**
 * As the schema's `b64(max)` (`/^[A-Za-z0-9+/]+={0,2}$/`, 1…max characters), by a loop over the character codes:
 * about twice as fast as the regular expression on the keys, signatures and boxes of each read.
 */
export function isB64(x: unknown, max: number): boolean {
  if (typeof x !== 'string' || x.length < 1 || x.length > max) return false;
  let end = x.length;
  if (x.charCodeAt(end - 1) === 61) end--; // '='
  if (end > 0 && x.charCodeAt(end - 1) === 61) end--;
  if (end === 0) return false;
  for (let i = 0; i < end; i++) {
    const c = x.charCodeAt(i);
    if (c > 127 || B64_ALPHABET[c] === 0) return false;
  }
  return true;
}
const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
/** True when `o` has exactly `n` own enumerable keys (the ones the caller then checks). */
const keyCount = (o: object, n: number): boolean => {
  let k = 0;
  for (const _ in o) if (++k > n) return false;
  return k === n;
};

/** A list of ids, or undefined when it is not one. */
function ids(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const x of value) if (!isId(x)) return undefined;
  return value as string[];
}

/**
 * `value` checked element by element with `fast` (true: the element is valid as it is and has only the schema's keys,
 * so zod would give an equal copy) or, for an element `fast` does not take, with the schema's own element schema.
 */
function list<T>(value: unknown, fast: (x: Record<string, unknown>) => boolean, schema: z.ZodType<T>): T[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: T[] = new Array<T>(value.length);
  for (let i = 0; i < value.length; i++) {
    const x: unknown = value[i];
    if (isRecord(x) && fast(x)) out[i] = x as T;
    else {
      const parsed = schema.safeParse(x);
      if (!parsed.success) return undefined;
      out[i] = parsed.data;
    }
  }
  return out;
}

type Member = z.infer<typeof MemberSchema>;
type Survivor = z.infer<typeof SurvivorSchema>;
type Share = z.infer<typeof ShareSchema>;
const survivor = (x: Record<string, unknown>) =>
  keyCount(x, 4) &&
  isId(x.siteId) &&
  isB64(x.maskPublicKey, 64) &&
  typeof x.boxesSha256 === 'string' &&
  HEX64_RE.test(x.boxesSha256) &&
  isB64(x.signature, 100);
const member = (x: Record<string, unknown>) =>
  keyCount(x, 4) &&
  isId(x.siteId) &&
  isB64(x.boxPublicKey, 200) &&
  isB64(x.signPublicKey, 200) &&
  isB64(x.directorySignature, 200);
const share = (x: Record<string, unknown>) =>
  keyCount(x, 3) && isId(x.from) && isB64(x.nonce, 64) && isB64(x.ciphertext, 200);

/**
 * Validates GET …/rounds/:round/secagg answers as `SecaggStateSchema` does, with the same result, but checks its long
 * lists — the ids of S, U2 and U3 (every site of the round), the directory entries, U2's keys and the share boxes for
 * this site — with plain
 * loops over the parsed JSON instead of zod's per-element parse and copy: a site reads this state about five times
 * per secure round, and at 500 sites each read held ≈ 1,500 ids and ≈ 220 keyed entries. An element that has other
 * keys than the schema's is left to the schema's own element check (which drops unknown keys).
 */
export class SecaggStateParser {
  safeParse(value: unknown): { success: true; data: SecaggState } | { success: false } {
    if (!isRecord(value)) return { success: false };
    const rest = Rest.safeParse(value);
    if (!rest.success) return { success: false };
    const data = rest.data as SecaggState;
    const cohort = list<Member>(value.cohort, member, MemberSchema);
    if (!cohort) return { success: false };
    data.cohort = cohort;
    const { cohortIds, survivorIds, maskedBy } = value;
    if (cohortIds !== undefined) {
      const checked = ids(cohortIds);
      if (!checked) return { success: false };
      data.cohortIds = checked;
    }
    if (survivorIds !== undefined) {
      const checked = survivorIds === null ? null : ids(survivorIds);
      if (checked === undefined) return { success: false };
      data.survivorIds = checked;
    }
    const u3 = maskedBy === null ? null : ids(maskedBy);
    if (u3 === undefined) return { success: false };
    data.maskedBy = u3;
    const survivors = value.survivors === null ? null : list<Survivor>(value.survivors, survivor, SurvivorSchema);
    if (survivors === undefined) return { success: false };
    data.survivors = survivors;
    const shares = list<Share>(value.sharesForMe, share, ShareSchema);
    if (!shares) return { success: false };
    data.sharesForMe = shares;
    return { success: true, data };
  }
}
