import { writeFileSync } from 'node:fs';
import { WASM_KERNELS, wasmModuleText } from './fold-wasm';

/** `npm run build:fold-wasm`: recompiles the SIMD kernels (the fold's, the ring's) into their TypeScript modules. */
void (async () => {
  for (const kernel of WASM_KERNELS) writeFileSync(kernel.tsPath, await wasmModuleText(kernel));
})();
