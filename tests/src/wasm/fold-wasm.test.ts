import { readFileSync } from 'node:fs';
import { FOLD_WASM_TS_PATH, foldWasmModuleText } from './fold-wasm';

test('the committed SIMD fold module is what weighted-fold.wat compiles to (else run npm run build:fold-wasm)', async () => {
  expect(await foldWasmModuleText()).toBe(readFileSync(FOLD_WASM_TS_PATH, 'utf8'));
});
