/**
 * The TensorFlow.js layers files of a model bundle (written without tfjs, in @twinfed/shared) load with
 * `tf.loadLayersModel` — over HTTP from a local server, as a browser would, and from memory — and predict what
 * the product's own `predict` does.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  LAYERS_SHARD_FILE,
  SeededRandom,
  initialWeights,
  layersModelJson,
  layersShard,
  type ModelSpec,
  type WeightSet,
} from '@twinfed/shared';
import { initBackend } from './backend';
import { predict } from './predict';

const SPECS: ModelSpec[] = [
  { kind: 'logistic-regression', inputs: 13 },
  { kind: 'mlp', inputs: 13, hidden: [16, 8], activation: 'relu' },
  { kind: 'mlp', inputs: 5, hidden: [7], activation: 'tanh' },
];

/** Seeded weights moved off their initial values (a trained-looking model, biases not zero). */
function weightsOf(spec: ModelSpec, seed: number): WeightSet {
  const w = initialWeights(spec, seed);
  const rng = new SeededRandom(seed + 100);
  const data = Float32Array.from(w.data, (v) => v * 3 + (rng.next() - 0.5));
  return { layout: w.layout, data };
}

function inputs(n: number, d: number, seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: n * d }, () => (rng.next() - 0.5) * 6);
}

/**
 * Node's fetch parses JSON in Node's own realm; under jest's sandbox its arrays fail tfjs's `instanceof Array`
 * checks (not a problem in a browser or plain Node). This fetch is the real one, with the body parsed here.
 */
const sandboxFetch = async (url: string | URL | Request, init?: RequestInit) => {
  const res = await fetch(url, init);
  const bytes = new Uint8Array(await res.arrayBuffer());
  return {
    ok: res.ok,
    status: res.status,
    headers: res.headers,
    json: async () => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
    arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  } as unknown as Response;
};

let dir: string;
let server: http.Server;
let base: string;

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  dir = mkdtempSync(path.join(os.tmpdir(), 'twinfed-layers-'));
  server = http.createServer((req, res) => {
    const file = path.join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname));
    if (!file.startsWith(dir)) return void res.writeHead(404).end();
    try {
      const body = readFileSync(file);
      res
        .writeHead(200, { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' })
        .end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('TensorFlow.js layers export', () => {
  SPECS.forEach((spec, k) => {
    const name = spec.kind === 'mlp' ? `mlp ${spec.hidden.join('×')} ${spec.activation}` : spec.kind;
    test(`${name}: tf.loadLayersModel over HTTP predicts what predict() does (within 1e-6)`, async () => {
      const weights = weightsOf(spec, 11 + k);
      const sub = path.join(dir, `m${k}`);
      mkdirSync(sub);
      writeFileSync(path.join(sub, 'model.json'), JSON.stringify(layersModelJson(spec)));
      writeFileSync(path.join(sub, LAYERS_SHARD_FILE), layersShard(weights));
      const model = await tf.loadLayersModel(`${base}/m${k}/model.json`, { fetchFunc: sandboxFetch });
      const n = 64;
      const x = inputs(n, spec.inputs, 7 + k);
      const ours = await predict({ spec, weights, x, n });
      const out = model.predict(tf.tensor2d(x, [n, spec.inputs])) as tf.Tensor;
      expect(out.shape).toEqual([n, 1]);
      const theirs = (await out.data()) as Float32Array;
      out.dispose();
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(theirs[i]! - ours[i]!));
      expect(worst).toBeLessThanOrEqual(1e-6);
      // The scores are not all the same (the comparison would prove nothing).
      expect(Math.max(...ours) - Math.min(...ours)).toBeGreaterThan(0.1);
      // The weights tfjs loaded are the layout's tensors by name.
      expect(model.weights.map((w) => w.originalName)).toEqual(weights.layout.map((t) => t.name));
      model.dispose();
    });
  });

  test('loads from memory (io.fromMemory) with the same predictions', async () => {
    const spec = SPECS[1]!;
    const weights = weightsOf(spec, 3);
    const json = layersModelJson(spec) as {
      modelTopology: object;
      weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }>;
    };
    const shard = layersShard(weights);
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0]!.weights,
        weightData: shard.buffer.slice(shard.byteOffset, shard.byteOffset + shard.byteLength) as ArrayBuffer,
      }),
    );
    const x = inputs(10, spec.inputs, 5);
    const ours = await predict({ spec, weights, x, n: 10 });
    const out = model.predict(tf.tensor2d(x, [10, spec.inputs])) as tf.Tensor;
    const theirs = (await out.data()) as Float32Array;
    out.dispose();
    theirs.forEach((v, i) => expect(Math.abs(v - ours[i]!)).toBeLessThanOrEqual(1e-6));
    model.dispose();
  });
});
