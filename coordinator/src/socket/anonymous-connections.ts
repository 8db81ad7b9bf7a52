import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** The part of an engine.io connection the count uses. */
export interface EngineSocket {
  readonly request: IncomingMessage;
  close(): unknown;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * The key an address is counted under: IPv4 as is (IPv4-mapped IPv6 as IPv4), IPv6 by its /64 (one subscriber's
 * prefix: a client with a /64 would otherwise have 2^64 caps).
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  const bare = address.split('%')[0]!;
  if (isIP(bare) !== 6) return address;
  const [head = '', tail] = bare.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return `${all.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

/**
 * Counts, per client address (per {@link addressKey}), the open connections that have not authenticated a site (yet), and refuses more
 * than `cap` of them. A connection leaves the count when it authenticates or closes. Memory: one entry per
 * anonymous connection, at most `cap` per address.
 */
export class AnonymousConnections {
  private readonly perAddress = new Map<string, number>();
  private readonly pending = new Map<EngineSocket, string>();

  constructor(private readonly cap: number) {}

  /** True when `address` already holds `cap` anonymous connections. */
  full(address: string): boolean {
    return this.count(address) >= this.cap;
  }

  /** Counts a new connection from `address`; false (not counted: close it) when the address is full. */
  admit(conn: EngineSocket, address: string): boolean {
    if (this.full(address)) return false;
    const key = addressKey(address);
    this.pending.set(conn, key);
    this.perAddress.set(key, (this.perAddress.get(key) ?? 0) + 1);
    conn.once('close', () => this.release(conn));
    return true;
  }

  /** The connection authenticated a site: it no longer counts. */
  authenticated(conn: EngineSocket): void {
    this.release(conn);
  }

  /** Anonymous connections open from `address`. */
  count(address: string): number {
    return this.perAddress.get(addressKey(address)) ?? 0;
  }

  private release(conn: EngineSocket): void {
    const address = this.pending.get(conn);
    if (address === undefined) return;
    this.pending.delete(conn);
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(address, left);
    else this.perAddress.delete(address);
  }
}
