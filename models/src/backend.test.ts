import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, wasmDistDir } from './backend';

describe('initBackend', () => {
  test('locates the wasm binaries in the package dist directory', () => {
    expect(fs.existsSync(path.join(wasmDistDir(), 'tfjs-backend-wasm.wasm'))).toBe(true);
    expect(fs.existsSync(path.join(wasmDistDir(), 'tfjs-backend-wasm-simd.wasm'))).toBe(true);
  });

  test('falls back from node (tfjs-node is not installed) to wasm, and computes there', async () => {
    expect(await initBackend({ prefer: 'node' })).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const t = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
    expect(Array.from(await t.data())).toEqual([11]);
    t.dispose();
  });

  test('does not re-initialise (or re-require) for the same preference', async () => {
    const calls: string[] = [];
    const name = await initBackend({
      prefer: 'node',
      requireModule: (id) => {
        calls.push(id);
        throw new Error('not installed');
      },
    });
    expect(calls).toEqual([]); // same preference as before: memoised, not re-initialised
    expect(name).toBe('wasm');
  });

  test('is idempotent and switches only on a different explicit preference', async () => {
    const a = initBackend({ prefer: 'wasm' });
    expect(initBackend({ prefer: 'wasm' })).toBe(a);
    expect(await a).toBe('wasm');
    expect(await initBackend({ prefer: 'cpu' })).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await initBackend()).toBe('cpu');
    const calls: string[] = [];
    expect(await initBackend({ prefer: 'node', requireModule: (id) => calls.push(id) })).toBe('wasm'); // loads, but registers no 'tensorflow' backend
    expect(calls).toEqual(['@tensorflow/tfjs-node']);
  });
});
