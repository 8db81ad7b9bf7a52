/** A change of the URL in use: the one that failed and the one used from now on. */
type EndpointChange = (change: { from: string; to: string }) => void;

/**
 * The coordinator's base URLs (replicas behind one consortium, tried in order) and the one in use. Every transport of
 * one site (signed HTTP, the event stream, the population outbox) shares one instance, so they all follow one
 * fail-over: a connection failure (refused, reset, timed out; never an HTTP answer) moves to the next URL, which is then
 * kept for as long as it works. With one URL nothing ever changes.
 */
export class CoordinatorEndpoints {
  private readonly urls: readonly string[];
  private index = 0;
  private readonly listeners = new Set<EndpointChange>();

  constructor(urls: string | readonly string[]) {
    const list = (typeof urls === 'string' ? [urls] : urls).map((u) => u.replace(/\/+$/, ''));
    if (list.length === 0) throw new RangeError('CoordinatorEndpoints needs at least one URL');
    this.urls = [...new Set(list)];
  }

  /** The URL in use (without trailing slash). */
  get current(): string {
    return this.urls[this.index] as string;
  }

  /** Every URL, in the order given. */
  get all(): readonly string[] {
    return this.urls;
  }

  /**
   * Reports a connection failure to `url`. When `url` is still the one in use, the next URL becomes current (and the
   * listeners hear of it); when another transport already moved on, nothing changes. Returns the URL in use.
   */
  failed(url: string): string {
    const from = this.current;
    if (this.urls.length === 1 || url.replace(/\/+$/, '') !== from) return from;
    this.index = (this.index + 1) % this.urls.length;
    for (const l of this.listeners) l({ from, to: this.current });
    return this.current;
  }

  /** Listens to changes of the URL in use; returns the unsubscribe function. */
  onChange(listener: EndpointChange): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
