/**
 * JSON columns read at every request whose text rarely changes (a federation's plan: every signed site request reads
 * its federation) are parsed once per text: {@link FrozenJsonCache} keeps the deep-frozen values of the texts it saw
 * lately and hands out the same object again, so callers cannot change what the next caller gets (they would throw),
 * and a caller may recognise a value it already validated by identity. Keyed by the text itself, a changed column is
 * another key: nothing to invalidate, and every replica still reads the row itself.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Deep-frozen `JSON.parse` results of the texts read lately (least recently used out first). */
export class FrozenJsonCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly capacity = 64) {}

  /** `JSON.parse(text)`, deep-frozen: the same object for the same text while it is cached. */
  parse(text: string): T {
    let value = this.entries.get(text);
    if (value !== undefined) this.entries.delete(text);
    else {
      value = deepFreeze(JSON.parse(text) as T);
      if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(text, value);
    return value;
  }
}
