import { runFlambyBench } from './run';
import { published } from './published';

/**
 * Keeps `npm run bench:flamby` alive: the quick mode on FedAvg alone (seed 42) runs a real federation — the
 * coordinator and four site runners over loopback HTTP and socket.io — and its 4-center average accuracy must fall
 * in the tolerance band of FLamby's published FedAvg (0.685 ± 0.03).
 */
describe('bench:flamby quick (FedAvg, one seed)', () => {
  test("lands in the tolerance band of FLamby's published FedAvg", async () => {
    const result = await runFlambyBench({ seeds: [42], keys: ['fedavg'] });
    expect(result.rows).toHaveLength(1);
    const row = result.rows[0]!;
    expect(row.method).toBe('FedAvg');
    expect(row.published).toBeCloseTo(published('FedAvg')!.average, 10);
    expect(row.published).toBeCloseTo(0.685, 3);
    expect(row.perCentre).toHaveLength(4);
    expect(Math.abs(row.average - 0.685)).toBeLessThanOrEqual(0.03);
    expect(row.pass).toBe(true);
    // Every round published a version that all four sites evaluated.
    const seed = result.perSeed[0]!;
    expect(seed.curve).toHaveLength(15);
    expect(row.roundsToFinal).toBeGreaterThanOrEqual(1);
    expect(row.roundsToFinal).toBeLessThanOrEqual(15);
    expect(row.auc).toBeGreaterThan(0.5);
  }, 120_000);

  test("federated z-score through the secure sum (one seed) reaches FLamby's Pooled average", async () => {
    const result = await runFlambyBench({ seeds: [42], keys: ['fedyogi-fednorm'] });
    const row = result.rows[0]!;
    expect(row.method).toBe('FedYogi + federated z-score');
    expect(row.published).toBeCloseTo(published('Pooled')!.average, 10);
    expect(row.average).toBeGreaterThanOrEqual(0.735 - 0.01);
    expect(row.pass).toBe(true);
  }, 120_000);
});
