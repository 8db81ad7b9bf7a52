/** Builds a {@link TwinSnapshot} from the in-memory store's rows, in the order the SQLite store returns. */
import type { RecordContent, RecordType } from './records';
import type { GetTwinOptions, TwinSex } from './store-types';
import type { ConsentEvent, TwinCondition, TwinObservation, TwinSnapshot } from './types';

/** One stored record of the memory store (`id` = insertion order, like a SQLite rowid). */
export interface StoredRecord {
  id: number;
  type: RecordType;
  pid: string;
  content: RecordContent;
}

const num = (v: string | number | null | undefined): number => v as number;
const str = (v: string | number | null | undefined): string => v as string;
const orNull = (v: string | number | null | undefined): number | null =>
  v === null || v === undefined ? null : (v as number);

/** Time-then-id order; null times first. */
function byTime(get: (r: StoredRecord) => number | null, tie?: (a: StoredRecord, b: StoredRecord) => number) {
  return (a: StoredRecord, b: StoredRecord): number => {
    const ta = get(a);
    const tb = get(b);
    if (ta !== tb) return ta === null ? -1 : tb === null ? 1 : ta - tb;
    return (tie?.(a, b) ?? 0) || a.id - b.id;
  };
}

export function snapshotOf(input: {
  pid: string;
  birthDate: string | null;
  sex: TwinSex;
  records: Iterable<StoredRecord>;
  options: GetTwinOptions;
}): TwinSnapshot {
  const of = (type: RecordType) => [...input.records].filter((r) => r.type === type);
  const { from, to } = input.options;
  const observations: TwinObservation[] = of('observation')
    .filter((r) => (from === undefined || num(r.content[1]) >= from) && (to === undefined || num(r.content[1]) <= to))
    .sort(
      byTime(
        (r) => num(r.content[1]),
        (a, b) => (str(a.content[0]) < str(b.content[0]) ? -1 : str(a.content[0]) > str(b.content[0]) ? 1 : 0),
      ),
    )
    .map((r) => ({
      code: str(r.content[0]),
      t: num(r.content[1]),
      value: num(r.content[2]),
      unit: str(r.content[3]),
      source: str(r.content[4]) as TwinObservation['source'],
    }));
  const conditions: TwinCondition[] = of('condition')
    .sort(byTime((r) => orNull(r.content[2])))
    .map((r) => ({
      system: str(r.content[0]) as TwinCondition['system'],
      code: str(r.content[1]),
      onset: orNull(r.content[2]),
      abatement: orNull(r.content[3]),
    }));
  const immunizations = of('immunization')
    .sort(byTime((r) => num(r.content[1])))
    .map((r) => ({ cvx: str(r.content[0]), t: num(r.content[1]) }));
  const exposures = of('exposure')
    .sort(byTime((r) => num(r.content[1])))
    .map((r) => ({ kind: str(r.content[0]), t: num(r.content[1]) }));
  const consent: ConsentEvent[] = of('consent')
    .sort(byTime((r) => num(r.content[2])))
    .map((r) => ({
      purpose: str(r.content[0]) as ConsentEvent['purpose'],
      decision: str(r.content[1]) as ConsentEvent['decision'],
      t: num(r.content[2]),
    }));
  const labels = of('label').sort(byTime((r) => num(r.content[1])));
  const last = labels[labels.length - 1];
  return {
    pid: input.pid,
    birthDate: input.birthDate,
    sex: input.sex,
    observations,
    conditions,
    immunizations,
    exposures,
    consent,
    label: last ? num(last.content[0]) : null,
  };
}
