/** Instants from FHIR and CSV time strings, in milliseconds since epoch (UTC). */

const DATE_TIME =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** Options of {@link parseInstant}. */
interface ParseInstantOptions {
  /** Offset applied to a time of day without a zone ('Z' or ±hh:mm); when absent such times are refused (FHIR rule). */
  defaultZone?: string;
}

/**
 * Parses a FHIR `date`, `dateTime` or `instant` (YYYY, YYYY-MM, YYYY-MM-DD, or a time of day with seconds
 * optional and a zone): a partial date is the start of its period in UTC. A time of day needs a zone
 * unless `defaultZone` is given (CSV exports). Returns null for anything else, including impossible dates.
 */
export function parseInstant(text: string, options: ParseInstantOptions = {}): number | null {
  const m = DATE_TIME.exec(text.trim());
  if (!m) return null;
  const [, y, mo = '01', d = '01', hh, mm, ss = '00', frac = '', zoneGiven] = m;
  if (hh !== undefined && text.trim().charAt(10) === ' ' && options.defaultZone === undefined) return null;
  const zone = hh === undefined ? 'Z' : (zoneGiven ?? options.defaultZone);
  if (zone === undefined || !/^(Z|[+-]\d{2}:\d{2})$/.test(zone)) return null;
  const year = Number(y);
  const month = Number(mo);
  const dayOfMonth = Number(d);
  const hour = Number(hh ?? 0);
  const minute = Number(mm ?? 0);
  const second = Number(ss);
  if (month < 1 || month > 12 || dayOfMonth < 1 || hour > 23 || minute > 59 || second > 60) return null;
  const base = Date.UTC(year, month - 1, dayOfMonth, hour, minute, Math.min(second, 59));
  const check = new Date(base);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== dayOfMonth)
    return null;
  const millis = frac === '' ? 0 : Math.floor(Number(`0${frac}`) * 1000);
  const offset =
    zone === 'Z'
      ? 0
      : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  return base + millis - offset;
}
