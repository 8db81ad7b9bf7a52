import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/** A backend the caller may ask for. `node` is tfjs-node (native TensorFlow), used only when it is installed. */
export type BackendPreference = 'wasm' | 'cpu' | 'node';

/** Options of {@link initBackend}. */
interface InitBackendOptions {
  /** Backend to try first; the fall-back order is node → wasm → cpu from there. Default `wasm`. */
  prefer?: BackendPreference;
  /** Loads a module by name; tests inject a failing one. Default: Node's `require`. */
  requireModule?: (name: string) => unknown;
}

const FALLBACK: Record<BackendPreference, BackendPreference[]> = {
  node: ['node', 'wasm', 'cpu'],
  wasm: ['wasm', 'cpu'],
  cpu: ['cpu'],
};

/**
 * The backend state is tfjs's own global (its engine is one per process); this memo only mirrors it
 * so that concurrent and repeated calls agree on one initialisation.
 */
let chosen: { prefer: BackendPreference; name: Promise<string> } | undefined;

/**
 * Chooses and initialises the tfjs backend. Idempotent: repeated calls with the same (or no)
 * preference return the backend chosen first, without re-initialising; a call with a different
 * explicit preference switches backend (tfjs moves live tensors lazily).
 *
 * - `node`: only if `@tensorflow/tfjs-node` can be required (it is an optional, uninstalled extra;
 *   it is never required at module load).
 * - `wasm`: `@tensorflow/tfjs-backend-wasm`, its `.wasm` binaries located in the package's `dist/`.
 * - `cpu`: plain JavaScript, always available. For tiny models (the FLamby logistic regression, batch 4)
 *   it is the fastest of the three here, because per-op dispatch dominates.
 *
 * Also puts tfjs in production mode, which silences its console warnings (library code must not print).
 * Returns the active backend name (`tensorflow`, `wasm` or `cpu`).
 */
export function initBackend(options: InitBackendOptions = {}): Promise<string> {
  const prefer = options.prefer ?? chosen?.prefer ?? 'wasm';
  if (chosen && chosen.prefer === prefer) return chosen.name;
  const name = pick(prefer, options.requireModule ?? defaultRequire);
  chosen = { prefer, name };
  return name;
}

async function pick(prefer: BackendPreference, requireModule: (name: string) => unknown): Promise<string> {
  tf.enableProdMode();
  for (const candidate of FALLBACK[prefer]) {
    if (await tryBackend(candidate, requireModule)) {
      await tf.ready();
      return tf.getBackend();
    }
  }
  throw new Error('no tfjs backend could be initialised');
}

async function tryBackend(candidate: BackendPreference, requireModule: (name: string) => unknown): Promise<boolean> {
  try {
    if (candidate === 'node') {
      requireModule('@tensorflow/tfjs-node');
      return await tf.setBackend('tensorflow');
    }
    if (candidate === 'wasm') {
      locateWasmBinaries();
      return await tf.setBackend('wasm');
    }
    return await tf.setBackend('cpu');
  } catch {
    return false;
  }
}

let wasmLocated = false;

/** Points the wasm backend at its binaries; must run before the backend's first initialisation. */
function locateWasmBinaries(): void {
  if (wasmLocated) return;
  wasmLocated = true;
  try {
    setWasmPaths(wasmDistDir());
  } catch {
    // Already initialised (by an earlier caller): it found its binaries then, so nothing to do.
  }
}

/** The `dist/` directory of `@tensorflow/tfjs-backend-wasm` (where its `.wasm` files live), with a trailing slash. */
export function wasmDistDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

function defaultRequire(name: string): unknown {
  // A variable module name: bundlers and TypeScript must not try to resolve this optional dependency.
  const load: (id: string) => unknown = require;
  return load(name);
}
