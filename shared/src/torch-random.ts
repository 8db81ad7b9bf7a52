/**
 * PyTorch's CPU random stream, so that a seed means the same initial model here as in PyTorch:
 * `torch.manual_seed(s)` seeds a standard MT19937 (init_genrand), and a float32 `uniform_(a, b)`
 * takes the low 24 bits of one 32-bit draw, `x = (u & 0xffffff) / 2^24`, then `x * (b - a) + a`
 * in float32 arithmetic (ATen's `uniform_real_distribution` on CPU).
 *
 * Why by hand: it is ~30 lines, and it lets a federation reproduce a PyTorch baseline seed for seed
 * (FLamby builds every method's start model with `torch.manual_seed(seed); nn.Linear(13, 1)`).
 * Checked against PyTorch's documented outputs: `torch.manual_seed(42); torch.rand(3)` →
 * 0.8823, 0.9150, 0.3829. Not for cryptography.
 */
export class TorchCpuGenerator {
  private readonly state = new Uint32Array(624);
  private index = 624;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
    }
    const mt = this.state;
    mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  /** Next 32-bit output of MT19937 (`generator->random()` in ATen). */
  nextUint32(): number {
    if (this.index >= 624) this.twist();
    let y = this.state[this.index++]!;
    y ^= y >>> 11;
    y = (y ^ ((y << 7) & 0x9d2c5680)) >>> 0;
    y = (y ^ ((y << 15) & 0xefc60000)) >>> 0;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** One float32 draw of `tensor.uniform_(from, to)`. */
  uniformFloat32(from: number, to: number): number {
    const f = Math.fround;
    const lo = f(from);
    const x = f((this.nextUint32() & 0xffffff) / 16777216);
    return f(f(x * f(f(to) - lo)) + lo);
  }

  private twist(): void {
    const mt = this.state;
    for (let k = 0; k < 624; k++) {
      const y = (mt[k]! & 0x80000000) | (mt[(k + 1) % 624]! & 0x7fffffff);
      let v = mt[(k + 397) % 624]! ^ (y >>> 1);
      if (y & 1) v ^= 0x9908b0df;
      mt[k] = v >>> 0;
    }
    this.index = 0;
  }
}
