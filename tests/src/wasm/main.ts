import { writeFileSync } from 'node:fs';
import { FOLD_WASM_TS_PATH, foldWasmModuleText } from './fold-wasm';

/** `npm run build:fold-wasm`: recompiles the SIMD fold kernel into coordinator/src/strategies/weighted-fold-wasm.ts. */
void foldWasmModuleText().then((text) => writeFileSync(FOLD_WASM_TS_PATH, text));
