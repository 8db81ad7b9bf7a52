import { initialWeights } from './model-spec';
import { TorchCpuGenerator } from './torch-random';

describe('TorchCpuGenerator', () => {
  test('reproduces torch.rand after torch.manual_seed (PyTorch documented outputs)', () => {
    const rand = (seed: number, n: number): number[] => {
      const g = new TorchCpuGenerator(seed);
      return Array.from({ length: n }, () => g.uniformFloat32(0, 1));
    };
    // torch.manual_seed(42); torch.rand(3) -> tensor([0.8823, 0.9150, 0.3829])
    expect(rand(42, 3).map((v) => v.toFixed(4))).toEqual(['0.8823', '0.9150', '0.3829']);
    // torch.manual_seed(0); torch.rand(2) -> tensor([0.4963, 0.7682])
    expect(rand(0, 2).map((v) => v.toFixed(4))).toEqual(['0.4963', '0.7682']);
  });

  test('is the standard MT19937 stream (std::mt19937(5489) 10,000th output is 4123659995)', () => {
    const g = new TorchCpuGenerator(5489);
    let v = 0;
    for (let i = 0; i < 10_000; i++) v = g.nextUint32();
    expect(v).toBe(4123659995);
  });

  test('rejects seeds outside 32 bits', () => {
    expect(() => new TorchCpuGenerator(-1)).toThrow(RangeError);
    expect(() => new TorchCpuGenerator(2 ** 32)).toThrow(RangeError);
    expect(() => new TorchCpuGenerator(1.5)).toThrow(RangeError);
  });
});

describe('initialWeights', () => {
  test('equals torch.manual_seed(42); nn.Linear(2, 1)', () => {
    // PyTorch: weight [[0.5406, 0.5869]], bias [-0.1657]
    const w = initialWeights({ kind: 'logistic-regression', inputs: 2 }, 42);
    expect(Array.from(w.data, (v) => v.toFixed(4))).toEqual(['0.5406', '0.5869', '-0.1657']);
  });

  test('places PyTorch [out, in] draws into our [in, out] kernels, layer by layer, kernel then bias', () => {
    const w = initialWeights({ kind: 'mlp', inputs: 2, hidden: [3], activation: 'relu' }, 7);
    const g = new TorchCpuGenerator(7);
    const b1 = 1 / Math.sqrt(2);
    const b2 = 1 / Math.sqrt(3);
    const torchW1 = Array.from({ length: 6 }, () => g.uniformFloat32(-b1, b1)); // [3 out][2 in]
    const torchB1 = Array.from({ length: 3 }, () => g.uniformFloat32(-b1, b1));
    const torchW2 = Array.from({ length: 3 }, () => g.uniformFloat32(-b2, b2)); // [1 out][3 in]
    const torchB2 = g.uniformFloat32(-b2, b2);
    const kernel1 = Array.from(w.data.subarray(0, 6));
    for (let o = 0; o < 3; o++) for (let i = 0; i < 2; i++) expect(kernel1[i * 3 + o]).toBe(torchW1[o * 2 + i]);
    expect(Array.from(w.data.subarray(6, 9))).toEqual(torchB1);
    expect(Array.from(w.data.subarray(9, 12))).toEqual(torchW2);
    expect(w.data[12]).toBe(torchB2);
    for (const v of w.data.subarray(0, 9)) expect(Math.abs(v)).toBeLessThanOrEqual(b1);
  });

  test('is deterministic per seed and differs across seeds', () => {
    const spec = { kind: 'logistic-regression', inputs: 13 } as const;
    expect(initialWeights(spec, 43).data).toEqual(initialWeights(spec, 43).data);
    expect(initialWeights(spec, 43).data).not.toEqual(initialWeights(spec, 44).data);
  });
});
