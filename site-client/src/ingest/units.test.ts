import { CODE_UNITS, normalizeQuantity, UNIT_RULES } from './units';

const ok = (code: string, value: number, unit: string | undefined) => {
  const r = normalizeQuantity({ code, value, unit });
  if (!r.ok) throw new Error(r.reason);
  return [r.value, r.unit];
};
const reason = (code: string, value: number, unit: string | undefined): string => {
  const r = normalizeQuantity({ code, value, unit });
  if (r.ok) throw new Error(`expected a rejection, got ${r.value} ${r.unit}`);
  return r.reason;
};

describe('normalizeQuantity', () => {
  test.each([
    ['8310-5', 98.6, '[degF]', 37, 'Cel'],
    ['8310-5', 100.4, '°F', 38, 'Cel'],
    ['8310-5', 99.6, 'degF', 37.5555555556, 'Cel'],
    ['8310-5', 37.2, 'Cel', 37.2, 'Cel'],
    ['8310-5', 310.15, 'K', 37, 'Cel'],
    ['8867-4', 72, '/min', 72, '/min'],
    ['8867-4', 72, '{beats}/min', 72, '/min'],
    ['8867-4', 72, 'beats/min', 72, '/min'],
    ['9279-1', 16, '{breaths}/min', 16, '/min'],
    ['59408-5', 97, '%', 97, '%'],
    ['2708-6', 0.94, '1', 94, '%'],
    ['8480-6', 120, 'mm[Hg]', 120, 'mm[Hg]'],
    ['8462-4', 80, 'mmHg', 80, 'mm[Hg]'],
    ['8480-6', 16, 'kPa', 120.0098692, 'mm[Hg]'],
    ['39156-5', 27.4, 'kg/m2', 27.4, 'kg/m2'],
    ['29463-7', 154, '[lb_av]', 69.85322498, 'kg'],
    ['29463-7', 70000, 'g', 70, 'kg'],
    ['8302-2', 70, '[in_i]', 177.8, 'cm'],
    ['8302-2', 1.8, 'm', 180, 'cm'],
    ['55423-8', 8000, '{steps}', 8000, '{steps}'],
    ['55423-8', 8000, '1', 8000, '{steps}'],
  ])('%s %d %s → %d %s', (code, value, unit, want, canonical) => {
    const [v, u] = ok(code, value, unit);
    expect(u).toBe(canonical);
    expect(v).toBeCloseTo(want, 6);
  });

  test('rejects a unit of the wrong dimension for a known code, naming the unit and the code', () => {
    expect(reason('8867-4', 70, 'kg')).toBe(
      "unit 'kg' is not a unit of heart rate (LOINC 8867-4, expected /min or a convertible unit)",
    );
    expect(reason('8310-5', 37, undefined)).toMatch(/^no unit is not a unit of body temperature/);
    expect(reason('8310-5', 37, 'furlongs')).toMatch(/'furlongs'/);
    // A fraction is only accepted for SpO2, not for heart rate.
    expect(reason('8867-4', 0.5, '1')).toMatch(/heart rate/);
  });

  test('rejects implausible values after conversion (e.g. Fahrenheit mislabelled as Celsius)', () => {
    expect(reason('8310-5', 98.6, 'Cel')).toBe('body temperature 98.6 Cel is outside the plausible range 20-46');
    expect(reason('59408-5', 97, '1')).toMatch(/outside the plausible range/);
    expect(reason('8867-4', -1, '/min')).toMatch(/outside/);
    expect(reason('8867-4', Number.NaN, '/min')).toBe('value is not a finite number');
  });

  test('converts known units of unknown codes and keeps unknown units as given', () => {
    expect(ok('1234-5', 212, '[degF]')).toEqual([100, 'Cel']);
    expect(ok('1234-5', 5, 'mmol/L')).toEqual([5, 'mmol/L']);
    expect(ok('1234-5', 5, undefined)).toEqual([5, '1']);
    expect(ok('1234-5', 5, ' mg/dL ')).toEqual([5, 'mg/dL']);
  });

  test('takes a replacement code table', () => {
    const codes = {
      '2339-0': {
        name: 'glucose',
        canonical: 'mg/dL',
        extra: { 'mg/dL': { canonical: 'mg/dL', convert: (v: number) => v } },
        min: 10,
        max: 2000,
      },
    };
    expect(normalizeQuantity({ code: '2339-0', value: 90, unit: 'mg/dL' }, { codes })).toEqual({
      ok: true,
      value: 90,
      unit: 'mg/dL',
    });
    expect(normalizeQuantity({ code: '2339-0', value: 5, unit: 'mmol/L' }, { codes }).ok).toBe(false);
    // Without the default table, heart rate is an unknown code and keeps any unit.
    expect(normalizeQuantity({ code: '8867-4', value: 70, unit: 'kg' }, { codes })).toEqual({
      ok: true,
      value: 70,
      unit: 'kg',
    });
  });

  test('every known code accepts its own canonical unit and every table rule converts to a canonical unit of the table', () => {
    for (const [code, rule] of Object.entries(CODE_UNITS)) {
      const mid = (rule.min + rule.max) / 2;
      expect(normalizeQuantity({ code, value: mid, unit: rule.canonical })).toEqual({
        ok: true,
        value: mid,
        unit: rule.canonical,
      });
    }
    const canonicals = new Set(Object.values(UNIT_RULES).map((r) => r.canonical));
    for (const c of canonicals) expect(UNIT_RULES[c]?.canonical).toBe(c);
  });
});
