import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  dataDir,
  HEART_DISEASE_FEATURES,
  loadHeartDisease,
  loadHeartDiseasePooled,
  readRawCenter,
} from './heart-disease';

const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0);

describe('Fed-Heart-Disease loader (FLamby recipe)', () => {
  const clients = loadHeartDisease();

  test('finds the data directory from the source tree', () => {
    expect(fs.existsSync(path.join(dataDir(), 'processed.va.data'))).toBe(true);
    expect(() => dataDir(os.tmpdir())).toThrow(/not found/);
  });

  test('reproduces FLamby train/test counts and positives per client', () => {
    expect(clients.map((c) => [c.name, c.train.n, c.test.n])).toEqual([
      ['cleveland', 199, 104],
      ['hungarian', 172, 89],
      ['switzerland', 30, 16],
      ['va', 85, 45],
    ]);
    expect(clients.map((c) => [sum(c.train.y), sum(c.test.y)])).toEqual([
      [91, 48],
      [65, 33],
      [30, 15],
      [66, 35],
    ]);
  });

  test('has the 13 features in FLamby order', () => {
    expect(HEART_DISEASE_FEATURES).toEqual([
      'age',
      'sex',
      'trestbps',
      'chol',
      'fbs',
      'thalach',
      'exang',
      'oldpeak',
      'cp_2',
      'cp_3',
      'cp_4',
      'restecg_1',
      'restecg_2',
    ]);
    for (const c of clients) {
      expect(c.featureNames).toEqual([...HEART_DISEASE_FEATURES]);
      expect(c.train.d).toBe(13);
      expect(c.train.x.length).toBe(c.train.n * 13);
    }
  });

  test('z-scores with the client train statistics (values cross-checked in Python)', () => {
    const cle = clients[0]!;
    // Cleveland line 1: 63,1,cp 1,145,233,1,restecg 2,150,0,2.3 (first train row).
    const row0 = Array.from(cle.train.x.subarray(0, 13));
    expect(row0[0]).toBeCloseTo(0.9649731932911207, 6);
    expect(row0[7]).toBeCloseTo(1.1316296897479123, 6);
    expect(row0[8]).toBeCloseTo(-0.39520616824123816, 6); // cp_2 = 0
    expect(row0[12]).toBeCloseTo(0.9924843181118295, 6); // restecg_2 = 1
    expect(cle.stats!.mean[0]).toBeCloseTo(54.175879396984925, 10);
    expect(cle.stats!.std[3]).toBeCloseTo(48.651978108389336, 10);
    // Cleveland test rows use the same train statistics: line 6 is the first test row.
    expect(cle.test.x[0]).toBeCloseTo(0.19947908266781136, 6);
    // Train columns have mean 0 and unbiased std 1.
    for (let j = 0; j < 13; j++) {
      const col = Array.from({ length: cle.train.n }, (_, i) => cle.train.x[i * 13 + j]!);
      const m = sum(col) / col.length;
      const sd = Math.sqrt(col.reduce((s, v) => s + (v - m) ** 2, 0) / (col.length - 1));
      expect(m).toBeCloseTo(0, 5);
      expect(sd).toBeCloseTo(1, 5);
    }
  });

  test('maps Switzerland chol (constant 0) to 0 everywhere', () => {
    const ch = clients[2]!;
    for (const split of [ch.train, ch.test]) for (let i = 0; i < split.n; i++) expect(split.x[i * 13 + 3]).toBe(0);
    expect(ch.train.x[0]).toBeCloseTo(-2.0183794912045236, 5);
  });

  test('keeps raw values with normalization none', () => {
    const raw = loadHeartDisease({ normalization: 'none' });
    expect(Array.from(raw[0]!.train.x.subarray(0, 13))).toEqual([
      63,
      1,
      145,
      233,
      1,
      150,
      0,
      Math.fround(2.3),
      0,
      0,
      0,
      0,
      1,
    ]);
  });

  test('pools 486 train and 254 test rows with pooled statistics', () => {
    const pooled = loadHeartDiseasePooled();
    expect([pooled.train.n, pooled.test.n, sum(pooled.train.y)]).toEqual([486, 254, 252]);
    const mean0 = sum(Array.from({ length: 486 }, (_, i) => pooled.train.x[i * 13]!)) / 486;
    expect(mean0).toBeCloseTo(0, 5);
    const perPooled = loadHeartDisease({ normalization: 'federated' });
    expect(perPooled[1]!.test.x[0]).toBeCloseTo(pooled.test.x[104 * 13]!, 6);
    expect(perPooled[1]!.stats).toEqual(pooled.stats);
  });

  test('drops columns 10-12 before dropping rows with missing values', () => {
    const rows = readRawCenter('63,1,1,145,233,1,2,150,0,2.3,?,?,?,2\n60,1,1,?,233,1,2,150,0,2.3,3,0,6,0\n');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ line: 1, label: 1 });
    expect(() => readRawCenter('1,2,3\n')).toThrow(/14 fields/);
  });

  test('refuses a split file that does not match the raw rows', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hd-'));
    for (const f of fs.readdirSync(dataDir())) fs.copyFileSync(path.join(dataDir(), f), path.join(dir, f));
    const split = fs.readFileSync(path.join(dir, 'flamby_split.csv'), 'utf8');
    fs.writeFileSync(
      path.join(dir, 'flamby_split.csv'),
      split.replace('0,cleveland,1,0,train,0,0', '0,cleveland,1,0,test,0,0'),
    );
    expect(() => loadHeartDisease({ dir })).toThrow(/FLamby has 199\/104/);
    fs.writeFileSync(
      path.join(dir, 'flamby_split.csv'),
      split.replace('0,cleveland,1,0,train,0,0', '0,cleveland,1,0,train,0,1'),
    );
    expect(() => loadHeartDisease({ dir })).toThrow(/not in flamby_split/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
