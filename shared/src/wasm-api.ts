/** The part of the WebAssembly JS API twinfed's SIMD kernels use (the lib and @types/node this repo builds with do not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
  Instance: new (mod: object, imports: object) => { readonly exports: unknown };
}

/** The runtime's WebAssembly, or undefined where it has none (the kernels' callers then take their JS fallbacks). */
export const wasmApi: WasmApi | undefined = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
