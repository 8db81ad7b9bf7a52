import { readFileSync } from 'node:fs';
import path from 'node:path';
import { WASM_KERNELS, wasmModuleText } from './fold-wasm';

test.each(WASM_KERNELS.map((k) => [path.basename(k.watPath), k] as const))(
  'the committed SIMD module of %s is what it compiles to (else run npm run build:fold-wasm)',
  async (_, kernel) => {
    expect(await wasmModuleText(kernel)).toBe(readFileSync(kernel.tsPath, 'utf8'));
  },
);
