import type { SeededRandom } from '@twinfed/shared';

/**
 * Hospital identities of simulated patients: medical record numbers and names. They exist so that tests can
 * prove these never leave a site (pseudonymity): search every request, log line and report for them.
 */

const GIVEN_FEMALE = [
  'Mary',
  'Anna',
  'Sofia',
  'Grace',
  'Amelia',
  'Olivia',
  'Maria',
  'Emma',
  'Lena',
  'Chloe',
  'Nora',
  'Ruth',
  'Ines',
  'Aiko',
  'Fatima',
  'Priya',
];
const GIVEN_MALE = [
  'James',
  'Lucas',
  'Omar',
  'Daniel',
  'Henry',
  'Mateo',
  'Noah',
  'Ivan',
  'Samuel',
  'Arjun',
  'Kenji',
  'Peter',
  'Hugo',
  'Elias',
  'Tomas',
  'Yusuf',
];
const FAMILY = [
  'Miller',
  'Garcia',
  'Nguyen',
  'Kowalski',
  'Okafor',
  'Rossi',
  'Schmidt',
  'Haddad',
  'Silva',
  'Tanaka',
  'Jensen',
  'Moreau',
  'Novak',
  'Kaur',
  'Murphy',
  'Costa',
];

/** Fixed identities at fixed record numbers in every simulated hospital. */
export const SIM_NAMED_PATIENTS = [
  { mrn: 'MRN-00007', given: 'John', family: 'Smith', sex: 'male' },
  { mrn: 'MRN-00042', given: 'Jane', family: 'Doe', sex: 'female' },
] as const;

/** The medical record number of the patient at `index` (0-based): `MRN-00001` for index 0. */
export function mrnOf(index: number): string {
  return `MRN-${String(index + 1).padStart(5, '0')}`;
}

/** A patient's name and sex: a fixed identity at its record number, else drawn from the lists. */
export function identityOf(
  index: number,
  femaleFraction: number,
  rng: SeededRandom,
): { given: string; family: string; sex: 'female' | 'male' } {
  const named = SIM_NAMED_PATIENTS.find((p) => p.mrn === mrnOf(index));
  const sex = rng.next() < femaleFraction ? 'female' : 'male';
  const given = (sex === 'female' ? GIVEN_FEMALE : GIVEN_MALE)[rng.int(16)]!;
  const family = FAMILY[rng.int(16)]!;
  return named ? { given: named.given, family: named.family, sex: named.sex } : { given, family, sex };
}

/** A deterministic UUID-shaped resource id from the patient's random stream. */
export function resourceUuid(rng: SeededRandom): string {
  const hex = Array.from({ length: 4 }, () => rng.nextUint32().toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
