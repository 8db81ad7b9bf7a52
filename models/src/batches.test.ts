import { BatchSchedule } from './batches';

function take(s: BatchSchedule, k: number): number[][] {
  return Array.from({ length: k }, () => {
    const b = s.next();
    return Array.from(b.perm.subarray(b.start, b.start + b.size));
  });
}

describe('BatchSchedule', () => {
  test('cuts each epoch into batches, keeps the last partial batch, reshuffles when exhausted', () => {
    const s = new BatchSchedule({ n: 10, batchSize: 4, seed: 1 });
    expect(s.batchesPerEpoch).toBe(3);
    const first = take(s, 3);
    const second = take(s, 3);
    expect(first.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(second.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(first.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(second.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(second.flat()).not.toEqual(first.flat());
  });

  test('continues mid-epoch: two rounds of 2 steps equal one run of 4 steps', () => {
    const a = new BatchSchedule({ n: 10, batchSize: 4, seed: 9 });
    const b = new BatchSchedule({ n: 10, batchSize: 4, seed: 9 });
    expect([...take(a, 2), ...take(a, 2)]).toEqual(take(b, 4));
    const c = new BatchSchedule({ n: 10, batchSize: 4, seed: 10 });
    expect(take(c, 4)).not.toEqual(take(new BatchSchedule({ n: 10, batchSize: 4, seed: 9 }), 4));
  });

  test('marks new epochs and rejects empty data', () => {
    const s = new BatchSchedule({ n: 3, batchSize: 5, seed: 0 });
    expect([s.next().newEpoch, s.next().newEpoch]).toEqual([true, true]);
    expect(() => new BatchSchedule({ n: 0, batchSize: 4, seed: 0 })).toThrow(RangeError);
    expect(() => new BatchSchedule({ n: 3, batchSize: 0, seed: 0 })).toThrow(RangeError);
  });
});
