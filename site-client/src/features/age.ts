/**
 * Completed years of age at `at` (ms since epoch, UTC calendar) for a FHIR birth date `YYYY`, `YYYY-MM` or
 * `YYYY-MM-DD`. A year alone counts from 1 July, a year and month from the 15th. Null when the date is
 * absent, malformed or after `at`.
 */
export function ageAt(birthDate: string | null, at: number): number | null {
  if (birthDate === null) return null;
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(birthDate.trim());
  if (!m) return null;
  const year = Number(m[1]);
  const month = m[2] === undefined ? 7 : Number(m[2]);
  const day = m[3] === undefined ? (m[2] === undefined ? 1 : 15) : Number(m[3]);
  const birth = Date.UTC(year, month - 1, day);
  const check = new Date(birth);
  if (month < 1 || month > 12 || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  if (!Number.isFinite(at) || birth > at) return null;
  const now = new Date(at);
  let years = now.getUTCFullYear() - year;
  const beforeBirthday = now.getUTCMonth() + 1 < month || (now.getUTCMonth() + 1 === month && now.getUTCDate() < day);
  if (beforeBirthday) years--;
  return years;
}
