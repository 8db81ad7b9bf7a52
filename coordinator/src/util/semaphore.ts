/** A counting semaphore bounding concurrent CPU-heavy work (update verification and decryption). */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly capacity: number) {}

  /** Number of tasks waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `fn` when a slot is free. A finishing task hands its slot straight to the next waiter. */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.active >= this.capacity) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
