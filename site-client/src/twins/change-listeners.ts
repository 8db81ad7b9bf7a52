import type { PatientChange } from './store-types';

/** Listeners notified after a commit that changed twins (one set per store instance). */
export class ChangeListeners {
  private readonly listeners = new Set<(changes: readonly PatientChange[]) => void>();

  /** Registers a listener; returns its unsubscribe function. */
  add(listener: (changes: readonly PatientChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /**
   * Calls every listener with the changes (nothing when empty). A listener that throws does not stop the
   * others and cannot fail the write that already committed; its error is dropped, so listeners must
   * handle their own failures (e.g. log and fall back to `changedSince`).
   */
  emit(changes: readonly PatientChange[]): void {
    if (changes.length === 0) return;
    const frozen = Object.freeze(changes.map((c) => Object.freeze({ ...c })));
    for (const listener of [...this.listeners]) {
      try {
        listener(frozen);
      } catch {
        // See the method comment: the write is committed; the listener owns its failure.
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
