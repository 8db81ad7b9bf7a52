import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crashPointsFrom, crashPointsFromFile } from './crash-points';

describe('crash points', () => {
  test('a spec kills at the nth hit of its point only', () => {
    let kills = 0;
    const cp = crashPointsFrom('round.aggregating:2', () => kills++)!;
    cp.hit('upload.stored');
    cp.hit('round.aggregating');
    expect(kills).toBe(0);
    cp.hit('round.aggregating');
    expect(kills).toBe(1);
    cp.hit('round.aggregating');
    expect(kills).toBe(1);
    expect(crashPointsFrom(undefined, () => kills++)).toBeNull();
    expect(() => crashPointsFrom('round.nowhere', () => kills++)).toThrow(/unknown crash point/);
  });

  test('a file arms a running process when a spec is written into it, counting from then', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-crash-'));
    try {
      const file = path.join(dir, 'crash');
      let kills = 0;
      const cp = crashPointsFromFile(file, () => kills++)!;
      cp.hit('version.published'); // no file yet: nothing armed
      fs.writeFileSync(file, '');
      cp.hit('version.published');
      expect(kills).toBe(0);
      fs.writeFileSync(file, 'version.published:2\n');
      cp.hit('version.published');
      expect(kills).toBe(0);
      cp.hit('version.published');
      expect(kills).toBe(1);
      fs.writeFileSync(file, 'upload.stored');
      cp.hit('version.published');
      cp.hit('upload.stored');
      expect(kills).toBe(2);
      expect(crashPointsFromFile(undefined, () => kills++)).toBeNull();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
