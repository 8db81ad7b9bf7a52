import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadLocalData } from './load-data';

function files(csv: string, mapping: unknown) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-data-'));
  fs.writeFileSync(path.join(dir, 'p.csv'), csv);
  fs.writeFileSync(path.join(dir, 'm.json'), JSON.stringify(mapping));
  return { csvPath: path.join(dir, 'p.csv'), mappingPath: path.join(dir, 'm.json') };
}

const mapping = {
  features: [
    { column: 'Age', name: 'age' },
    { column: 'Chol', name: 'chol' },
  ],
  label: { column: 'Dx', positive: ['yes'], negative: ['no'] },
};

describe('loadLocalData', () => {
  test('CSV + mapping: features in mapping order, bad rows counted by reason, seeded split', () => {
    const rows = ['Chol,Age,Dx,Name'];
    for (let i = 0; i < 20; i++) rows.push(`${200 + i},${40 + i},${i % 2 ? 'yes' : 'no'},Patient ${i}`);
    rows.push('210,?,yes,Missing Age', '220,50,maybe,Odd Label');
    const f = files(rows.join('\n'), mapping);
    const a = loadLocalData({ kind: 'csv', ...f, testFraction: 0.3, splitSeed: 1 });
    expect(a.dataset.features).toEqual(['age', 'chol']);
    expect(a.dataset.train.n + a.dataset.test.n).toBe(20);
    expect(a.dataset.test.n).toBe(6);
    expect(a.rejectedRows).toBe(2);
    expect(a.rejectedReasons).toEqual({ 'missing value in Age': 1, 'unknown label value in Dx': 1 });
    expect(a.dataset.train.x[0]! >= 40 && a.dataset.train.x[0]! < 60).toBe(true); // first column is age, not chol
    expect(loadLocalData({ kind: 'csv', ...f, testFraction: 0.3, splitSeed: 1 }).dataset).toEqual(a.dataset);
  });

  test('readable CONFIG_INVALID errors for a bad mapping, a missing column or file', () => {
    const bad = files('a,b\n1,2', { features: [], label: { column: 'b', positive: [1] } });
    expect(() => loadLocalData({ kind: 'csv', ...bad, testFraction: 0.3, splitSeed: 1 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('features') }),
    );
    const missing = files('a,b\n1,2', mapping);
    expect(() => loadLocalData({ kind: 'csv', ...missing, testFraction: 0.3, splitSeed: 1 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('Age') }),
    );
    expect(() =>
      loadLocalData({
        kind: 'csv',
        csvPath: '/nonexistent.csv',
        mappingPath: missing.mappingPath,
        testFraction: 0.3,
        splitSeed: 1,
      }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('ENOENT') }));
  });

  test('the bundled heart-disease center keeps FLamby’s split and raw values', () => {
    const d = loadLocalData({ kind: 'heart-disease', center: 2 });
    expect([d.dataset.train.n, d.dataset.test.n]).toEqual([30, 16]);
    expect(d.dataset.features).toHaveLength(13);
    expect(d.dataset.train.x[0]!).toBeGreaterThan(20); // age, not z-scored: the runner normalises per the plan
  });

  test('--rejects: every rejected row with line, column and reason (no cell value), written even when the data are refused', () => {
    const rows = ['Chol,Age,Dx,Name'];
    for (let i = 0; i < 30; i++) rows.push(`${200 + i},${i % 3 === 0 ? '?' : 40 + i},no,Patient ${i}`);
    const f = files(rows.join('\n'), mapping);
    const dir = path.dirname(f.csvPath);
    for (const name of ['rejects.ndjson', 'rejects.csv']) {
      const rejectsFile = path.join(dir, name);
      // every accepted row is negative: the site is refused, but the rejects file is there to explain the data
      expect(() => loadLocalData({ kind: 'csv', ...f, testFraction: 0.3, splitSeed: 1 }, { rejectsFile })).toThrow(
        expect.objectContaining({ code: 'DATA_SINGLE_CLASS' }),
      );
      const text = fs.readFileSync(rejectsFile, 'utf8');
      expect(text).not.toMatch(/Patient|\b2\d\d\b/); // neither the names nor the cholesterol values of the rows
      const lines = text.trim().split('\n');
      if (name.endsWith('.csv')) {
        expect(lines[0]).toBe('line,column,reason');
        expect(lines.slice(1)).toHaveLength(10);
        expect(lines[1]).toBe('2,Age,missing value in Age');
      } else {
        expect(lines.map((l) => JSON.parse(l))).toHaveLength(10);
        expect(JSON.parse(lines[9]!)).toEqual({ line: 29, column: 'Age', reason: 'missing value in Age' });
      }
    }
  });

  test('the CSV guardrails stop the site with their codes', () => {
    const constant = ['Chol,Age,Dx'];
    for (let i = 0; i < 30; i++) constant.push(`0,${40 + i},${i % 2 ? 'yes' : 'no'}`);
    expect(() =>
      loadLocalData({ kind: 'csv', ...files(constant.join('\n'), mapping), testFraction: 0.3, splitSeed: 1 }),
    ).toThrow(expect.objectContaining({ code: 'DATA_FEATURE_CONSTANT', message: expect.stringContaining('"Chol"') }));
    const empty = ['Chol,Age,Dx'];
    for (let i = 0; i < 30; i++) empty.push(`${200 + i},,${i % 2 ? 'yes' : 'no'}`);
    expect(() =>
      loadLocalData({ kind: 'csv', ...files(empty.join('\n'), mapping), testFraction: 0.3, splitSeed: 1 }),
    ).toThrow(expect.objectContaining({ code: 'DATA_FEATURE_MISSING', message: expect.stringContaining('"Age"') }));
  });
});
