import type { CodeSet } from '@twinfed/shared';
import type { TwinCondition } from '../twins/types';

function normalize(system: CodeSet['system'], code: string): string {
  const trimmed = code.trim();
  return system === 'icd10' ? trimmed.toUpperCase().replace(/\./g, '') : trimmed;
}

/**
 * True when a condition's code is in one of the code sets of its system. A set code ending in `*` matches by
 * prefix; ICD-10 codes compare upper-case without dots (`J18.9` ≡ `J189`, `J18*` matches both).
 */
export function conditionMatches(condition: Pick<TwinCondition, 'system' | 'code'>, sets: readonly CodeSet[]): boolean {
  for (const set of sets) {
    if (set.system !== condition.system) continue;
    const have = normalize(set.system, condition.code);
    for (const want of set.codes) {
      if (want.endsWith('*')) {
        if (have.startsWith(normalize(set.system, want.slice(0, -1)))) return true;
      } else if (have === normalize(set.system, want)) return true;
    }
  }
  return false;
}
