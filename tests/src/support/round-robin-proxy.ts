import net from 'node:net';

/** Where the proxy forwards: a replica's address. */
interface Backend {
  host: string;
  port: number;
}

/** What the proxy did so far, per backend index. */
interface RoundRobinStats {
  /** Connections forwarded to each backend. */
  forwarded: number[];
  /** Connection attempts to each backend that failed (refused, reset before connecting, timed out). */
  failed: number[];
  /** Client connections closed because no backend accepted. */
  refused: number;
}

/**
 * A small round-robin TCP load balancer on 127.0.0.1:0, for the replica tests and the cluster demo: each client
 * connection goes to the next backend in turn; when that backend does not accept, the next one is tried, so a dead
 * replica is skipped as a real load balancer's health check would. A connection stays with its backend for its life
 * (HTTP keep-alive and WebSockets are sticky per connection, as behind any TCP balancer); when the backend dies the
 * client's connection is closed and its next connection goes elsewhere.
 */
export async function startRoundRobinProxy(opts: { backends: Backend[]; connectTimeoutMs?: number }) {
  const slots = opts.backends.map((backend) => ({ backend, forwarded: 0, failed: 0 }));
  let refused = 0;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 2000;
  const live = new Set<net.Socket>();
  let next = 0;

  const track = (socket: net.Socket): net.Socket => {
    live.add(socket);
    socket.on('close', () => live.delete(socket));
    return socket;
  };

  /** Connects to the first backend, from the next in turn, that accepts; null when none does. */
  const connectNext = async (): Promise<{ socket: net.Socket; slot: (typeof slots)[number] } | null> => {
    const start = next;
    next = (next + 1) % slots.length;
    for (const slot of [...slots.slice(start), ...slots.slice(0, start)]) {
      const socket = await connect(slot.backend, connectTimeoutMs);
      if (socket) return { socket: track(socket), slot };
      slot.failed++;
    }
    return null;
  };

  const server = net.createServer((client) => {
    track(client);
    client.pause();
    client.on('error', () => undefined);
    void connectNext().then((chosen) => {
      if (!chosen) {
        refused++;
        client.destroy();
        return;
      }
      if (client.destroyed) {
        chosen.socket.destroy();
        return;
      }
      chosen.slot.forwarded++;
      const upstream = chosen.socket;
      upstream.on('error', () => undefined);
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats: (): RoundRobinStats => ({
      forwarded: slots.map((s) => s.forwarded),
      failed: slots.map((s) => s.failed),
      refused,
    }),
    /** Replaces backend `index` (a replica restarted on another port). */
    setBackend(index: number, backend: Backend): void {
      const slot = slots[index];
      if (!slot) throw new RangeError(`no backend ${index}`);
      slot.backend = backend;
    },
    /** Closes every open connection now (as a balancer does when it reloads). */
    cutAll(): void {
      for (const s of live) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of live) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A connected socket to `backend`, or null when it refuses, fails or does not answer within `timeoutMs`. */
function connect(backend: Backend, timeoutMs: number): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const socket = net.connect(backend.port, backend.host);
    const fail = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(null);
    };
    const timer = setTimeout(fail, timeoutMs);
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', fail);
      resolve(socket);
    });
  });
}
