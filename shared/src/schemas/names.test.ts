import { isPrintableName, lookAlikeProblem, nameKeySchema, nameSchema } from './names';

describe('printable names', () => {
  const unique = nameSchema({ max: 100, unique: true });
  const plain = nameSchema({ max: 100 });
  const parsed = (s: string, schema = unique) => {
    const r = schema.safeParse(s);
    return r.success ? r.data : `refused: ${r.error.issues[0]!.message}`;
  };

  test.each([
    'St Mary Hospital',
    'Clinique Médicale: Nord',
    'site_01.eu-west',
    'Москва Больница 1',
    'Αθήνα',
    '東京病院',
    '東京 Clinic',
    'ソウル',
    '서울 병원',
  ])('accepts %p unchanged', (s) => {
    expect(parsed(s)).toBe(s);
  });

  test('NFKC-normalises full-width letters and ligatures before checking', () => {
    expect(parsed('\uff28\uff4f\uff53\uff50\uff49\uff54\uff41\uff4c')).toBe('Hospital');
    expect(parsed('\ufb01rst clinic')).toBe('first clinic');
  });

  test.each([
    ['', 'Too small'],
    [' leading space', 'letters'],
    ['trailing space ', 'letters'],
    ['-dash first', 'letters'],
    ['esc\u001b[2K', 'letters'],
    ['bel\u0007', 'letters'],
    ['rtl\u202eoverride', 'letters'],
    ['zero\u200bwidth', 'letters'],
    ['new\nline', 'letters'],
    ['at@sign', 'letters'],
    ['Hospit\u0430l', 'mixes scripts (Cyrillic, Latin)'],
    ['\u0410\u0412\u0421', 'looks like the ASCII name "ABC"'],
    ['p\u0430ypal', 'mixes scripts'],
    ['Clinic \u0661', 'mixes scripts (Arabic, Latin)'],
    ['Hosp\u0131tal', 'looks like the ASCII name'],
  ])('refuses %p (%s)', (s, why) => {
    expect(parsed(s)).toContain(`refused: `);
    expect(parsed(s)).toContain(why);
  });

  test('checks look-alikes only for names that must be unique', () => {
    expect(parsed('Hospit\u0430l', plain)).toBe('Hospit\u0430l');
    expect(lookAlikeProblem('Hospital')).toBeNull();
  });

  test('takes map keys (metrics, tiers) only when already NFKC-normalised, never rewriting them', () => {
    const key = nameKeySchema(64);
    expect(key.safeParse('client.trainLoss').success).toBe(true);
    expect(key.safeParse('auc:macro').success).toBe(true);
    expect(key.safeParse('\uff41\uff55\uff43').success).toBe(false);
    expect(key.safeParse('auc\u001b]0;x\u0007').success).toBe(false);
    expect(key.safeParse('x'.repeat(65)).success).toBe(false);
    expect(isPrintableName('high')).toBe(true);
  });

  test('bounds the length after normalisation', () => {
    expect(parsed('a'.repeat(100))).toBe('a'.repeat(100));
    expect(parsed('a'.repeat(101))).toContain('refused');
  });
});
