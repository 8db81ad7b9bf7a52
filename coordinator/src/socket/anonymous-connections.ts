import type { IncomingMessage } from 'node:http';
import { addressKey } from '../http/client-address';

/** The part of an engine.io connection the count uses. */
export interface EngineSocket {
  readonly request: IncomingMessage;
  close(): unknown;
  once(event: 'close', listener: () => void): unknown;
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
