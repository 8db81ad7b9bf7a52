import { io } from 'socket.io-client';
import { Agent } from 'undici';
import type { EventStream } from '@twinfed/site-client';

/** A fetch-shaped function (what the site's HTTP transport takes). */
type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/** The socket factory an {@link EventStream} takes. */
type SocketFactory = NonNullable<ConstructorParameters<typeof EventStream>[0]['connect']>;

/** Host parts 1 … 254 in each of the last three octets: never a .0 or .255, never 127.0.0.x. */
const PER_OCTET = 254;

/**
 * The loopback address simulated site `i` binds its connections to: 127.x.y.z with x, y, z in 1 … 254, one per site
 * (16 million of them), so the coordinator on 127.0.0.1 sees each site at its own address, as it sees real hospitals.
 * Linux routes all of 127.0.0.0/8 to the loopback interface.
 */
export function siteLoopbackAddress(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= PER_OCTET ** 3) throw new Error(`no loopback address for site ${i}`);
  const x = 1 + Math.floor(i / PER_OCTET ** 2);
  const y = 1 + (Math.floor(i / PER_OCTET) % PER_OCTET);
  const z = 1 + (i % PER_OCTET);
  return `127.${x}.${y}.${z}`;
}

/**
 * One site's connections from `localAddress`, through the site client's own injection points: `fetch` wraps a fetch
 * (the global one by default) so that every request goes through an undici Agent bound to the address (its own
 * keep-alive pool, as a real site has), and `connect` opens the socket.io stream from it (engine.io hands
 * `localAddress` to `ws`, which passes it to `http.request`). `close` releases the Agent's connections.
 */
export function boundToAddress(localAddress: string): {
  fetch: (base?: Fetch) => Fetch;
  connect: SocketFactory;
  close: () => Promise<void>;
} {
  const dispatcher = new Agent({ localAddress });
  return {
    fetch:
      (base = (input, init) => fetch(input, init)) =>
      (input, init) =>
        base(input, { ...init, dispatcher }),
    connect: (url, options) => io(url, { ...options, localAddress } as typeof options),
    close: () => dispatcher.close(),
  };
}
